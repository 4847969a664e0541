"""model_file run in-process against the local mirror: verify, resume, rename, and never a partial dest."""
import errno
import hashlib
import json
import os
import signal
import stat
import time
import subprocess
import sys
import zipfile

import gguf
import numpy as np
import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import digest_cache
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import host_lock
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import leftovers
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import model_formats as mf
from ansible_collections.voiceagent.models.plugins.modules import model_file
from ansible_collections.voiceagent.models.tests.support.mirror_server import MirrorServer

VOSK_FILES = {
    "am/final.mdl": b"acoustic model " * 300,
    "conf/model.conf": b"--sample-frequency=16000\n",
    "graph/HCLr.fst": b"fst " * 500,
    "graph/phones/word_boundary.int": b"1 nonword\n",
    "ivector/final.ie": b"ivector " * 100,
    "README": b"Vosk test model\n",
}
PIPER_CONFIG = {"audio": {"sample_rate": 22050}, "phoneme_id_map": {"_": [0], "a": [14]}}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_gguf(path, name="tiny", rows=64):
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.name", name)
    writer.add_uint32("llama.context_length", 512)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "hi"])
    writer.add_tensor("tok_embd.weight", np.full((rows, 1024), 0.5, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def write_vosk_zip(path, root, extra=None):
    with zipfile.ZipFile(str(path), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in VOSK_FILES.items():
            archive.writestr(root + name, content)
        for name, (content, mode) in (extra or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, content)
    return path.read_bytes()


def onnx_bytes():
    graph = b"\x0a\x04node" * 100
    return b"\x08\x07\x12\x05piper" + b"\x3a" + bytes([len(graph) & 0x7F | 0x80, len(graph) >> 7]) + graph


class Mirror(object):
    """The mirror server plus the bytes it serves, by name."""

    def __init__(self, root):
        self.root = root
        self.files = {}
        self.server = MirrorServer(root)

    def add(self, name, data):
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files[name] = data

    def url(self, name):
        return "%s/%s" % (self.server.url, name)

    def gets(self):
        return [entry for entry in self.server.requests if entry[0] == "GET"]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    built = tmp_path_factory.mktemp("built")
    site = Mirror(root)
    site.add("llm/tiny.gguf", write_gguf(built / "tiny.gguf"))
    site.add("llm/other.gguf", write_gguf(built / "other.gguf", name="other", rows=8))
    site.add("llm/error.gguf", b"<!DOCTYPE html>\n<html><body>Rate limited</body></html>\n")
    site.add("tts/voice.onnx", onnx_bytes())
    site.add("tts/voice.onnx.json", json.dumps(PIPER_CONFIG).encode())
    site.add("stt/vosk-model-x.zip", write_vosk_zip(built / "a.zip", "vosk-model-x/"))
    site.add("stt/nested.zip", write_vosk_zip(built / "b.zip", "nested/nested/"))
    site.add("stt/slip.zip", write_vosk_zip(built / "c.zip", "m/", {"m/../../evil": (b"x", 0o100644)}))
    site.server.start()
    yield site
    site.server.stop()


@pytest.fixture(autouse=True)
def clean_mirror(mirror):
    for faults in (mirror.server.drop_after, mirror.server.status, mirror.server.ignore_range,
                   mirror.server.throttle):
        faults.clear()
    del mirror.server.requests[:]


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models"
    path.mkdir()
    return path


def run(args, capsys, check_mode=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            model_file.main()
    result = json.loads(capsys.readouterr().out)
    assert (exit_info.value.code == 0) != bool(result.get("failed"))
    return result


def gguf_args(mirror, models, name="llm/tiny.gguf", **extra):
    data = mirror.files[name]
    args = {"url": mirror.url(name), "dest": str(models / "tiny.gguf"), "format": "gguf",
            "sha256": sha256(data), "size": len(data)}
    args.update(extra)
    return args


# ---------------------------------------------------------------- single files


def test_first_download_then_a_rerun_without_any_request(mirror, models, capsys):
    args = gguf_args(mirror, models)
    first = run(args, capsys)
    data = mirror.files["llm/tiny.gguf"]
    assert first["changed"] is True and first["state"] == "downloaded"
    assert first["sha256"] == sha256(data) and first["size"] == len(data)
    assert first["bytes_downloaded"] == len(data) and first["resumed_from"] == 0
    assert (models / "tiny.gguf").read_bytes() == data
    assert stat.S_IMODE(os.stat(str(models / "tiny.gguf")).st_mode) == 0o644
    assert sorted(os.listdir(str(models))) == [digest_cache.SIDECAR, "tiny.gguf"]

    del mirror.server.requests[:]
    second = run(args, capsys)
    assert second["changed"] is False and second["state"] == "present"
    assert second["sha256"] == sha256(data) and second["bytes_downloaded"] == 0
    assert mirror.server.requests == []


def test_a_rerun_answers_from_the_digest_cache(mirror, models, capsys, monkeypatch):
    args = gguf_args(mirror, models)
    run(args, capsys)

    def no_hashing(*a, **k):
        raise AssertionError("hashed the file again")
    monkeypatch.setattr(digest_cache, "file_digests", no_hashing)
    assert run(args, capsys)["state"] == "present"


def test_a_fresh_download_is_verified_without_reading_the_file_again(mirror, models, capsys, monkeypatch):
    # The digests are hashed while the bytes are written (http_download's digests=...).
    def no_hashing(*a, **k):
        raise AssertionError("read the part file again to hash it")
    monkeypatch.setattr(digest_cache, "file_digests", no_hashing)
    result = run(gguf_args(mirror, models), capsys)
    assert result["state"] == "downloaded" and result["sha256"] == sha256(mirror.files["llm/tiny.gguf"])


def test_a_resumed_download_is_hashed_from_the_file(mirror, models, capsys, monkeypatch):
    data = mirror.files["llm/tiny.gguf"]
    (models / ".tiny.gguf.part").write_bytes(data[:100])
    calls = []
    real = digest_cache.file_digests
    monkeypatch.setattr(digest_cache, "file_digests", lambda *a, **k: calls.append(a) or real(*a, **k))
    result = run(gguf_args(mirror, models), capsys)
    assert result["state"] == "downloaded" and result["resumed_from"] == 100 and len(calls) == 1


def test_a_digest_mismatch_removes_the_part_and_keeps_the_old_file(mirror, models, capsys):
    (models / "tiny.gguf").write_bytes(b"the previous, working model")
    wrong = "0" * 64
    result = run(gguf_args(mirror, models, sha256=wrong), capsys)
    actual = sha256(mirror.files["llm/tiny.gguf"])
    assert result["failed"] and wrong in result["msg"] and actual in result["msg"]
    assert "left untouched" in result["msg"]
    assert (models / "tiny.gguf").read_bytes() == b"the previous, working model"
    assert not (models / ".tiny.gguf.part").exists()


def test_a_dropped_connection_resumes_on_the_rerun(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    half = len(data) // 2
    mirror.server.drop_after["/llm/tiny.gguf"] = half
    args = gguf_args(mirror, models)
    failed = run(args, capsys)
    assert failed["failed"] and "resume" in failed["msg"] and failed["state"] == "partial"
    assert failed["bytes_done"] == half
    assert not (models / "tiny.gguf").exists()
    assert os.path.getsize(str(models / ".tiny.gguf.part")) == half

    del mirror.server.drop_after["/llm/tiny.gguf"]
    result = run(args, capsys)
    assert result["state"] == "downloaded" and result["resumed_from"] == half
    assert result["bytes_downloaded"] == len(data) - half
    assert mirror.gets()[-1] == ("GET", "/llm/tiny.gguf", "bytes=%d-" % half)
    assert (models / "tiny.gguf").read_bytes() == data
    assert not (models / ".tiny.gguf.part").exists()


def test_a_404_fails_with_the_url_and_status(mirror, models, capsys):
    args = gguf_args(mirror, models)
    args["url"] = mirror.url("llm/gone.gguf")
    result = run(args, capsys)
    assert result["failed"] and "HTTP 404" in result["msg"] and "/llm/gone.gguf" in result["msg"]
    assert os.listdir(str(models)) == []


def test_a_server_ignoring_range_still_gives_the_right_file(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    (models / ".tiny.gguf.part").write_bytes(data[:5000])
    mirror.server.ignore_range["/llm/tiny.gguf"] = True
    result = run(gguf_args(mirror, models), capsys)
    assert result["state"] == "downloaded" and result["bytes_downloaded"] == len(data)
    assert (models / "tiny.gguf").read_bytes() == data


def test_an_html_error_page_served_as_gguf_is_caught(mirror, models, capsys):
    args = {"url": mirror.url("llm/error.gguf"), "dest": str(models / "tiny.gguf"), "format": "gguf"}
    result = run(args, capsys)
    assert result["failed"]
    assert "starts with '<!DOCTYPE html', not GGUF: probably an error page saved as a model" in result["msg"]
    assert os.listdir(str(models)) == []


def test_check_mode_writes_nothing_and_requests_nothing(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    (models / ".tiny.gguf.part").write_bytes(data[:1000])
    result = run(gguf_args(mirror, models), capsys, check_mode=True)
    assert result["changed"] is True and result["state"] == "absent"
    assert result["would_download_bytes"] == len(data) - 1000
    assert os.listdir(str(models)) == [".tiny.gguf.part"]
    assert mirror.server.requests == []


def test_check_mode_reports_no_change_when_present(mirror, models, capsys):
    args = gguf_args(mirror, models)
    run(args, capsys)
    result = run(args, capsys, check_mode=True)
    assert result["changed"] is False and result["would_download_bytes"] == 0


def test_present_only_never_downloads(mirror, models, capsys):
    result = run(gguf_args(mirror, models, present_only=True), capsys)
    assert result["changed"] is False and result["state"] == "absent"
    assert mirror.server.requests == [] and os.listdir(str(models)) == []


def test_an_unknown_sha256_is_computed_and_returned(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    args = gguf_args(mirror, models, sha256=None)
    first = run(args, capsys)
    assert first["state"] == "downloaded" and first["sha256"] == sha256(data)
    del mirror.server.requests[:]
    second = run(args, capsys)
    assert second["state"] == "present" and second["changed"] is False
    assert second["sha256"] == sha256(data) and mirror.server.requests == []


def test_without_any_pin_a_truncated_old_file_is_replaced(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    (models / "tiny.gguf").write_bytes(data[:len(data) // 3])  # what upstream's curl left behind
    result = run({"url": mirror.url("llm/tiny.gguf"), "dest": str(models / "tiny.gguf"), "format": "gguf"}, capsys)
    assert result["state"] == "downloaded" and "truncated" in result["msg"]
    assert (models / "tiny.gguf").read_bytes() == data


def test_max_seconds_returns_partial_then_completes(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    mirror.server.throttle["/llm/tiny.gguf"] = len(data) // 4  # the whole file would take 4 s
    partial = run(gguf_args(mirror, models, max_seconds=0.1), capsys)
    assert partial["state"] == "partial" and partial["changed"] is True and partial["sha256"] is None
    assert 0 < partial["bytes_done"] < len(data) and partial["bytes_total"] == len(data)
    assert not (models / "tiny.gguf").exists()
    mirror.server.throttle.clear()
    done = run(gguf_args(mirror, models), capsys)
    assert done["state"] == "downloaded" and done["resumed_from"] == partial["bytes_done"]
    assert (models / "tiny.gguf").read_bytes() == data


def test_a_file_url_works(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    args = gguf_args(mirror, models, url="file://" + str(mirror.root / "llm" / "tiny.gguf"))
    result = run(args, capsys)
    assert result["state"] == "downloaded" and (models / "tiny.gguf").read_bytes() == data
    assert mirror.server.requests == []


def test_src_on_the_same_filesystem_is_moved_into_place(mirror, models, capsys, tmp_path):
    data = mirror.files["llm/tiny.gguf"]
    src = models / ".tiny.gguf.controller-part"
    src.write_bytes(data)
    args = gguf_args(mirror, models, src=str(src))
    del args["url"]
    result = run(args, capsys)
    assert result["state"] == "downloaded" and (models / "tiny.gguf").read_bytes() == data
    assert not src.exists() and mirror.server.requests == []


def test_a_new_version_replaces_the_old_file_and_mode_owner_apply(mirror, models, capsys):
    (models / "tiny.gguf").write_bytes(mirror.files["llm/other.gguf"])
    args = gguf_args(mirror, models, mode="0640", owner=str(os.getuid()), group=str(os.getgid()))
    result = run(args, capsys)
    assert result["state"] == "downloaded" and "has " in result["msg"]
    st = os.stat(str(models / "tiny.gguf"))
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == os.getuid()
    os.chmod(str(models / "tiny.gguf"), 0o600)
    fixed = run(args, capsys)
    assert fixed["state"] == "present" and fixed["changed"] is True
    assert stat.S_IMODE(os.stat(str(models / "tiny.gguf")).st_mode) == 0o640


def test_the_server_size_is_checked_before_downloading(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    result = run(gguf_args(mirror, models, size=len(data) + 1, sha256=None), capsys)
    assert result["failed"] and "%d were expected" % (len(data) + 1) in result["msg"]
    assert mirror.gets()[0][0] == "GET" and os.listdir(str(models)) in ([], [".tiny.gguf.part"])
    assert not (models / "tiny.gguf").exists()


@pytest.mark.parametrize("change, words", [
    ({"sha256": "xyz"}, "sha256 must be 64 hex digits"),
    ({"md5": "abc"}, "md5 must be 32 hex digits"),
    ({"mode": "u+rw"}, "mode must be an octal number"),
    ({"owner": "no-such-user-here"}, "does not exist on this host"),
    ({"max_seconds": -1}, "max_seconds"),
])
def test_bad_options_are_refused(mirror, models, capsys, change, words):
    result = run(gguf_args(mirror, models, **change), capsys)
    assert result["failed"] and words in result["msg"]


def test_a_missing_directory_is_named(mirror, models, capsys):
    result = run(gguf_args(mirror, models, dest=str(models / "llm" / "tiny.gguf")), capsys)
    assert result["failed"] and "%s does not exist" % (models / "llm") in result["msg"]


def test_piper_voice_and_config(mirror, models, capsys):
    onnx = run({"url": mirror.url("tts/voice.onnx"), "dest": str(models / "v.onnx"), "format": "piper-onnx",
                "md5": hashlib.md5(mirror.files["tts/voice.onnx"]).hexdigest()}, capsys)
    assert onnx["state"] == "downloaded" and onnx["sha256"] == sha256(mirror.files["tts/voice.onnx"])
    config = run({"url": mirror.url("tts/voice.onnx.json"), "dest": str(models / "v.onnx.json"),
                  "format": "piper-config"}, capsys)
    assert config["state"] == "downloaded"
    wrong = run({"url": mirror.url("tts/voice.onnx.json"), "dest": str(models / "w.onnx"),
                 "format": "piper-onnx"}, capsys)
    assert wrong["failed"] and "not an ONNX model" in wrong["msg"]


# ---------------------------------------------------------------- Vosk


def vosk_args(mirror, models, name="stt/vosk-model-x.zip", dirname="vosk-model-x", **extra):
    data = mirror.files[name]
    args = {"url": mirror.url(name), "dest": str(models / dirname), "format": "vosk-zip",
            "sha256": sha256(data), "size": len(data)}
    args.update(extra)
    return args


def test_vosk_zip_is_unpacked_with_a_marker_then_present(mirror, models, capsys):
    args = vosk_args(mirror, models)
    first = run(args, capsys)
    target = models / "vosk-model-x"
    assert first["state"] == "downloaded" and first["changed"] is True
    assert (target / "am" / "final.mdl").read_bytes() == VOSK_FILES["am/final.mdl"]
    marker = json.loads((target / mf.VOSK_MARKER).read_text())
    assert marker["sha256"] == args["sha256"] and marker["size"] == args["size"]
    assert os.listdir(str(models)) == ["vosk-model-x"]  # the zip part is gone

    del mirror.server.requests[:]
    second = run(args, capsys)
    assert second["state"] == "present" and second["changed"] is False and second["sha256"] == args["sha256"]
    assert mirror.server.requests == []


def test_a_nested_vosk_folder_is_flattened(mirror, models, capsys):
    result = run(vosk_args(mirror, models, name="stt/nested.zip", dirname="nested"), capsys)
    assert result["state"] == "downloaded"
    assert sorted(os.listdir(str(models / "nested"))) == sorted(
        ["am", "conf", "graph", "ivector", "README", mf.VOSK_MARKER])


def test_an_unpacked_directory_without_marker_is_replaced(mirror, models, capsys):
    old = models / "vosk-model-x"
    (old / "am").mkdir(parents=True)
    (old / "half-unzipped").write_bytes(b"x")
    result = run(vosk_args(mirror, models), capsys)
    assert result["state"] == "downloaded" and not (old / "half-unzipped").exists()
    assert (old / "conf" / "model.conf").exists()


def test_a_zip_slip_archive_is_refused_and_removed(mirror, models, capsys):
    (models / "m").mkdir()
    result = run(vosk_args(mirror, models, name="stt/slip.zip", dirname="m"), capsys)
    assert result["failed"] and "climbs out" in result["msg"]
    assert os.listdir(str(models)) == ["m"] and os.listdir(str(models / "m")) == []
    assert not (models.parent / "evil").exists()


def test_vosk_check_mode_writes_nothing(mirror, models, capsys):
    args = vosk_args(mirror, models)
    result = run(args, capsys, check_mode=True)
    assert result["changed"] is True and result["would_download_bytes"] == args["size"]
    assert os.listdir(str(models)) == [] and mirror.server.requests == []


def test_a_stale_part_beside_a_present_file_is_removed(mirror, models, capsys):
    args = gguf_args(mirror, models)
    run(args, capsys)
    (models / ".tiny.gguf.part").write_bytes(b"left over from an old attempt")
    result = run(args, capsys)
    assert result["state"] == "present" and result["changed"] is True
    assert not (models / ".tiny.gguf.part").exists()
    assert run(args, capsys)["changed"] is False


def test_a_link_planted_at_the_part_name_is_not_followed(mirror, models, capsys, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    os.symlink(str(victim), str(models / ".tiny.gguf.part"))
    result = run(gguf_args(mirror, models), capsys)
    assert result["state"] == "downloaded"
    assert victim.read_bytes() == b"precious"
    assert (models / "tiny.gguf").read_bytes() == mirror.files["llm/tiny.gguf"]


# ---------------------------------------------------------------- host lock, full disk, killed runs


def test_a_run_holding_the_host_lock_makes_the_second_fail_clearly(mirror, models, capsys, tmp_path):
    lock = str(tmp_path / ".voiceagent.lock")
    (models / "tiny.gguf").write_bytes(b"the previous, working model")
    holder = host_lock.acquire(lock, 1, "model_file /elsewhere")
    try:
        result = run(gguf_args(mirror, models, host_lock=lock, lock_timeout=0.5), capsys)
    finally:
        host_lock.release(holder)
    assert result["failed"] and lock in result["msg"] and "pid %d" % os.getpid() in result["msg"]
    assert "Waited 0 s (lock_timeout 0.5)" in result["msg"] or "Waited 1 s (lock_timeout 0.5)" in result["msg"]
    assert (models / "tiny.gguf").read_bytes() == b"the previous, working model"
    assert mirror.server.requests == []
    assert run(gguf_args(mirror, models, host_lock=lock), capsys)["state"] == "downloaded"


def test_the_lock_is_held_during_the_write_and_released_after(mirror, models, capsys, tmp_path, monkeypatch):
    lock = str(tmp_path / ".voiceagent.lock")
    seen = []
    real_replace = os.replace

    def replace(src, dst):
        # Another writer trying now must find the lock taken, signed by this run.
        with pytest.raises(host_lock.LockTimeout):
            host_lock.acquire(lock, 0)
        seen.append(json.loads(open(lock).read())["what"])
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    assert run(gguf_args(mirror, models, host_lock=lock), capsys)["state"] == "downloaded"
    monkeypatch.undo()
    assert seen and set(seen) == {"model_file %s" % (models / "tiny.gguf")}
    host_lock.release(host_lock.acquire(lock, 0))


def test_check_mode_neither_creates_nor_waits_for_the_lock(mirror, models, capsys, tmp_path):
    lock = tmp_path / "install" / ".voiceagent.lock"
    result = run(gguf_args(mirror, models, host_lock=str(lock), lock_timeout=0), capsys, check_mode=True)
    assert result["state"] == "absent" and not lock.parent.exists()


def test_a_lock_path_that_is_a_link_is_refused(mirror, models, capsys, tmp_path):
    (tmp_path / "target").write_text("x")
    os.symlink(str(tmp_path / "target"), str(tmp_path / ".voiceagent.lock"))
    result = run(gguf_args(mirror, models, host_lock=str(tmp_path / ".voiceagent.lock")), capsys)
    assert result["failed"] and "symbolic link" in result["msg"] and not (models / "tiny.gguf").exists()


def test_a_full_disk_removes_the_part_and_keeps_the_old_file(mirror, models, capsys, monkeypatch):
    (models / "tiny.gguf").write_bytes(b"the previous, working model")

    def fill_up(url, part, **kwargs):
        with open(part, "ab") as out:
            out.write(b"x" * 4096)
        raise http_download.DownloadError("Writing %s failed after 4096 bytes: No space left on device." % part,
                                          resumable=True, bytes_now=4096, errno=errno.ENOSPC)
    monkeypatch.setattr(http_download, "download", fill_up)
    result = run(gguf_args(mirror, models), capsys)
    assert result["failed"] and result["disk_full"] is True and result.get("state") != "partial"
    assert "The disk filled up" in result["msg"] and "after 4096 bytes" in result["msg"]
    assert "the previous %s is kept unchanged" % (models / "tiny.gguf") in result["msg"]
    assert not (models / ".tiny.gguf.part").exists()
    assert (models / "tiny.gguf").read_bytes() == b"the previous, working model"


KILL_AT_SWAP = """
import json, os, signal, sys
from module_args import patch_module_args  # tests/unit/module_args.py: the same on every ansible-core
from ansible_collections.voiceagent.models.plugins.modules import model_file
real_rename = os.rename
def rename(src, dst):
    real_rename(src, dst)
    if ".old-" in dst:  # the old folder was just moved aside: the power goes out now
        os.kill(os.getpid(), signal.SIGKILL)
os.rename = rename
with patch_module_args(json.loads(sys.argv[1])):
    model_file.main()
"""


def run_killed_at_swap(args):
    # tests/unit holds module_args.py, which the child imports on every ansible-core.
    unit = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([unit] + [p for p in sys.path if p]))
    proc = subprocess.run([sys.executable, "-c", KILL_AT_SWAP, json.dumps(args)], env=env, capture_output=True,
                          check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def test_a_kill_9_between_the_vosk_renames_is_repaired_by_the_next_run(mirror, models, capsys):
    old_args = vosk_args(mirror, models, name="stt/nested.zip")
    assert run(old_args, capsys)["state"] == "downloaded"
    new_args = vosk_args(mirror, models)
    run_killed_at_swap(new_args)
    target = models / "vosk-model-x"
    leftovers = sorted(p.name for p in models.iterdir() if p.name.startswith(".vosk-model-x."))
    assert any(".old-" in n for n in leftovers) and ".vosk-model-x.zip.part" in leftovers
    assert not target.exists()  # between the two renames: neither old nor new, never a mix

    del mirror.server.requests[:]
    result = run(new_args, capsys)
    assert result["state"] == "downloaded" and str(target) in result["cleaned_up"]
    assert json.loads((target / mf.VOSK_MARKER).read_text())["sha256"] == new_args["sha256"]
    assert os.listdir(str(models)) == ["vosk-model-x"]
    assert mirror.gets() == []  # the complete zip part was verified again and reused


def test_after_a_kill_9_mid_swap_the_old_model_is_back_when_it_is_still_wanted(mirror, models, capsys):
    old_args = vosk_args(mirror, models, name="stt/nested.zip")
    run(old_args, capsys)
    run_killed_at_swap(vosk_args(mirror, models))
    del mirror.server.requests[:]
    result = run(old_args, capsys)
    assert result["state"] == "present" and result["changed"] is True and result["cleaned_up"]
    assert json.loads((models / "vosk-model-x" / mf.VOSK_MARKER).read_text())["sha256"] == old_args["sha256"]
    assert os.listdir(str(models)) == ["vosk-model-x"] and mirror.server.requests == []


def test_a_half_unpacked_temporary_folder_is_removed(mirror, models, capsys):
    args = vosk_args(mirror, models)
    run(args, capsys)
    tmp = models / ".vosk-model-x.tmp-abc123"
    (tmp / "am").mkdir(parents=True)
    (tmp / "am" / "final.mdl").write_bytes(b"half")
    result = run(args, capsys)
    assert result["state"] == "present" and result["cleaned_up"] == [str(tmp)]
    assert os.listdir(str(models)) == ["vosk-model-x"]


def test_check_mode_leaves_leftovers_alone(mirror, models, capsys):
    args = vosk_args(mirror, models)
    run(args, capsys)
    (models / ".vosk-model-x.tmp-abc123").mkdir()
    run(args, capsys, check_mode=True)
    assert (models / ".vosk-model-x.tmp-abc123").is_dir()


# ---------------------------------------------------------------- pushes from the controller left behind

def _push(models, age_seconds):
    pushed = models / ".tiny.gguf.controller-part"
    pushed.write_bytes(b"half of a pushed file")
    old = time.time() - age_seconds
    os.utime(str(pushed), (old, old))
    return pushed


def test_a_push_left_by_a_killed_run_is_removed_once_it_is_stale(mirror, models, capsys):
    pushed = _push(models, leftovers.STALE_PUSH_SECONDS + 60)
    first = run(gguf_args(mirror, models), capsys)
    assert first["state"] == "downloaded" and first["cleaned_up"] == [str(pushed)] and not pushed.exists()
    pushed = _push(models, leftovers.STALE_PUSH_SECONDS + 60)
    second = run(gguf_args(mirror, models), capsys)
    assert second["state"] == "present" and second["changed"] is True and not pushed.exists()


def test_a_recent_push_may_be_another_runs_transfer_and_stays(mirror, models, capsys):
    pushed = _push(models, 5)
    result = run(gguf_args(mirror, models), capsys)
    assert result["cleaned_up"] == [] and pushed.exists()


def test_check_mode_leaves_a_stale_push_alone(mirror, models, capsys):
    pushed = _push(models, leftovers.STALE_PUSH_SECONDS + 60)
    result = run(gguf_args(mirror, models), capsys, check_mode=True)
    assert result["cleaned_up"] == [] and pushed.exists()


def test_the_push_given_as_src_is_taken_not_removed(mirror, models, capsys):
    data = mirror.files["llm/tiny.gguf"]
    pushed = models / ".tiny.gguf.controller-part"
    pushed.write_bytes(data)
    old = time.time() - leftovers.STALE_PUSH_SECONDS - 60
    os.utime(str(pushed), (old, old))
    result = run(gguf_args(mirror, models, src=str(pushed)), capsys)
    assert result["state"] == "downloaded" and (models / "tiny.gguf").read_bytes() == data
