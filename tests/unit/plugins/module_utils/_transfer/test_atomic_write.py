"""Atomic replacement: mode for new files, mode and owner carried over, nothing left behind."""
import os

import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import atomic_write


def test_a_new_file_gets_the_given_mode(tmp_path):
    path = tmp_path / "new"
    atomic_write.write_atomically(str(path), b"data", 0o600)
    assert path.read_bytes() == b"data"
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o600"


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "old"
    path.write_bytes(b"old")
    os.chmod(str(path), 0o640)
    atomic_write.write_atomically(str(path), b"new", 0o600, like=os.stat(str(path)))
    assert path.read_bytes() == b"new"
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o640"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "old"
    path.write_bytes(b"old")

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "replace", broken)
    with pytest.raises(OSError):
        atomic_write.write_atomically(str(path), b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(str(tmp_path)) == ["old"]


@pytest.mark.parametrize("given, expected", [("0644", 0o644), ("600", 0o600), ("0o640", 0o640), (0o600, 0o600)])
def test_modes_are_read_as_octal(given, expected):
    assert atomic_write.parse_mode(given) == expected


@pytest.mark.parametrize("bad", ["u+rw", "0999", True, 0o10000])
def test_a_bad_mode_names_the_value(bad):
    with pytest.raises(ValueError, match="mode must be"):
        atomic_write.parse_mode(bad)


def test_leftover_temps_of_this_file_only_are_removed(tmp_path):
    target = tmp_path / ".env"
    target.write_text("A=1\n")
    ours = [tmp_path / "..env.ab_12cd3.tmp", tmp_path / "..env.zz99zz99.tmp"]
    for path in ours:
        path.write_text("secret")
    kept = [tmp_path / ".other.ab_12cd3.tmp", tmp_path / "..env.short.tmp", tmp_path / "..env.ab_12cd3.tmp.keep"]
    for path in kept:
        path.write_text("x")
    (tmp_path / "..env.dir_0000.tmp").mkdir()
    removed = atomic_write.remove_leftover_temps(str(target))
    assert sorted(removed) == sorted(str(p) for p in ours)
    assert all(p.exists() for p in kept) and target.read_text() == "A=1\n"
    assert (tmp_path / "..env.dir_0000.tmp").is_dir()


def test_a_real_mkstemp_name_matches_the_leftover_pattern(tmp_path):
    import tempfile
    target = tmp_path / ".env"
    fd, name = tempfile.mkstemp(prefix=".%s." % target.name, suffix=".tmp", dir=str(tmp_path))
    os.close(fd)
    assert atomic_write.remove_leftover_temps(str(target)) == [name]
