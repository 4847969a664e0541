"""The digest sidecar: a rerun must not hash the same gigabytes again, and must notice any change."""
import hashlib
import json
import os
import tempfile
import time

import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache as dc

CONTENT = b"model bytes " * 5000


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(CONTENT)
    return str(path)


def test_file_sha256_streams_in_chunks(model):
    assert dc.file_sha256(model, chunk=4096) == hashlib.sha256(CONTENT).hexdigest()


def test_file_digests_hashes_once_for_both(model):
    digests = dc.file_digests(model, ("sha256", "md5"), chunk=1000)
    assert digests == {"sha256": hashlib.sha256(CONTENT).hexdigest(), "md5": hashlib.md5(CONTENT).hexdigest()}


def test_record_then_lookup(model, tmp_path):
    assert dc.lookup(model) is None
    assert dc.record(model, "a" * 64, md5="b" * 32) is True
    assert dc.lookup(model) == "a" * 64
    assert dc.lookup(model, "md5") == "b" * 32
    entry = json.loads((tmp_path / dc.SIDECAR).read_text())["m.gguf"]
    assert entry["size"] == len(CONTENT) and entry["mtime_ns"] == os.stat(model).st_mtime_ns


def test_a_rewrite_with_the_same_size_invalidates(model):
    dc.record(model, "a" * 64)
    st = os.stat(model)
    with open(model, "r+b") as fh:
        fh.write(b"X")
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    assert dc.lookup(model) is None


def test_a_size_change_invalidates_even_with_the_old_mtime(model):
    dc.record(model, "a" * 64)
    st = os.stat(model)
    with open(model, "ab") as fh:
        fh.write(b"more")
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert dc.lookup(model) is None


def test_a_rename_keeps_the_entry_valid_under_the_new_name(tmp_path):
    part = tmp_path / ".m.gguf.part"
    part.write_bytes(CONTENT)
    dest = tmp_path / "m.gguf"
    os.replace(str(part), str(dest))
    dc.record(str(dest), "c" * 64)
    assert dc.lookup(str(dest)) == "c" * 64


@pytest.mark.parametrize("garbage", [b"not json", b"[1, 2]", b'{"m.gguf": "oops"}', b"\xff\xfe"])
def test_a_garbled_sidecar_is_an_empty_cache(model, tmp_path, garbage):
    (tmp_path / dc.SIDECAR).write_bytes(garbage)
    assert dc.lookup(model) is None
    assert dc.record(model, "d" * 64)
    assert dc.lookup(model) == "d" * 64


def test_entries_of_removed_files_are_pruned(model, tmp_path):
    other = tmp_path / "old.gguf"
    other.write_bytes(b"x")
    dc.record(str(other), "e" * 64)
    other.unlink()
    dc.record(model, "f" * 64)
    assert list(json.loads((tmp_path / dc.SIDECAR).read_text())) == ["m.gguf"]


def test_an_unwritable_directory_only_skips_the_cache(model, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert dc.record(model, "a" * 64) is False
    assert dc.lookup(model) is None


def test_the_sidecar_is_written_atomically(model, tmp_path):
    dc.record(model, "a" * 64)
    assert sorted(os.listdir(str(tmp_path))) == [dc.SIDECAR, "m.gguf"]
    assert oct(os.stat(str(tmp_path / dc.SIDECAR)).st_mode & 0o777) == oct(0o644)


def test_cached_digests_hash_once_then_answer_from_the_cache(model, monkeypatch):
    first, cached = dc.cached_digests(model, ("sha256", "md5"))
    assert cached is False and first["sha256"] == hashlib.sha256(CONTENT).hexdigest()

    def no_hashing(*args, **kwargs):
        raise AssertionError("hashed again")
    monkeypatch.setattr(dc, "file_digests", no_hashing)
    second, cached = dc.cached_digests(model, ("sha256", "md5"))
    assert cached is True and second == first


def test_cached_digests_without_write_leave_no_sidecar(model, tmp_path):
    dc.cached_digests(model, write=False)
    assert not (tmp_path / dc.SIDECAR).exists()


def test_forget_drops_one_entry(model):
    dc.record(model, "a" * 64)
    assert dc.forget(model) is True
    assert dc.lookup(model) is None


def test_a_rewrite_with_the_mtime_set_back_is_hashed_again(tmp_path):
    # The agent's user owns the model and can restore the mtime (touch -d), but not the ctime.
    path = tmp_path / "model.gguf"
    path.write_bytes(b"A" * 4096)
    digest = dc.file_sha256(str(path))
    assert dc.record(str(path), digest)
    before = os.stat(str(path))
    time.sleep(0.01)
    with open(str(path), "r+b") as handle:
        handle.write(b"B" * 4096)
    os.utime(str(path), ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(str(path))
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert dc.lookup(str(path)) is None


def test_a_chmod_after_recording_makes_the_entry_stale(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"A")
    dc.record(str(path), dc.file_sha256(str(path)))
    time.sleep(0.01)
    os.chmod(str(path), 0o600)
    assert dc.lookup(str(path)) is None


def test_an_entry_written_before_ctime_was_recorded_is_stale(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"A")
    st = os.stat(str(path))
    sidecar = tmp_path / dc.SIDECAR
    sidecar.write_text(json.dumps({"model.gguf": {"size": 1, "mtime_ns": st.st_mtime_ns, "sha256": "0" * 64}}))
    assert dc.lookup(str(path)) is None
