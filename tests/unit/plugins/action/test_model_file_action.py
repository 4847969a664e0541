"""The model_file action on the controller: lock file digests, progress slices and the controller cache.

The module itself is replaced by a scripted stand-in (``FakeModule``), so these tests only see what the
action decides: which arguments reach the host, how the results of the slices add up, and what it
records in the lock file and the controller cache.
"""
import hashlib
import json
import os

import pytest
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.voiceagent.models.plugins.action import model_file as action_module
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import controller_part_path

URL = "https://models.example.org/llm/tiny.gguf"
DATA = b"GGUF" + b"\x00" * 4096
SHA256 = hashlib.sha256(DATA).hexdigest()
MD5 = hashlib.md5(DATA).hexdigest()


class FakeTask(object):
    def __init__(self, args, check_mode=False):
        self.args = args
        self.check_mode = check_mode


class FakeModule(object):
    """Answers _execute_module calls from a list of results, and keeps the arguments it was called with."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, module_name=None, module_args=None, task_vars=None):
        assert module_name == "voiceagent.models.model_file"
        self.calls.append(dict(module_args))
        return dict(self.answers.pop(0))


@pytest.fixture(autouse=True)
def no_base_run(monkeypatch):
    # ActionBase.run checks the connection and the task; nothing of that matters here.
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})


@pytest.fixture
def shown(monkeypatch):
    lines = []
    monkeypatch.setattr(action_module.display, "display", lambda msg, *a, **k: lines.append(msg))
    return lines


def make_action(args, answers, check_mode=False):
    action = action_module.ActionModule.__new__(action_module.ActionModule)
    action._task = FakeTask(args, check_mode)
    action._execute_module = FakeModule(answers)
    action.pushed = []
    action._transfer_file = lambda local, remote: action.pushed.append((local, remote)) or remote
    action._fixup_perms2 = lambda paths: None
    return action


def run(action):
    return action.run(task_vars={"inventory_hostname": "voice1"})


def downloaded(**values):
    out = {"changed": True, "state": "downloaded", "sha256": SHA256, "size": len(DATA), "bytes_downloaded": len(DATA),
           "bytes_done": len(DATA), "bytes_total": len(DATA), "seconds": 0.5}
    out.update(values)
    return out


def test_the_action_options_never_reach_the_module(tmp_path):
    args = {"url": URL, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "sha256": SHA256,
            "upstream_url": URL, "lock_file": str(tmp_path / "lock.json"), "progress_interval": 5,
            "via_controller": False, "controller_cache": str(tmp_path / "cache"), "digest_source": "registry"}
    action = make_action(args, [downloaded()])
    result = run(action)
    sent = action._execute_module.calls[0]
    assert not set(action_module.ACTION_ARGS) & set(sent)
    assert sent["max_seconds"] == 5.0
    assert result["digest_source"] == "registry"
    assert result["name"] == "tiny.gguf"
    assert not (tmp_path / "lock.json").exists()  # a digest from the registry is not pinned again


def test_partial_slices_print_progress_and_add_up(shown):
    args = {"url": URL, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "progress_interval": 1}
    slices = [
        {"changed": True, "state": "partial", "bytes_downloaded": 1000, "bytes_done": 1000, "bytes_total": 4000,
         "seconds": 1.0},
        {"changed": True, "state": "partial", "bytes_downloaded": 2000, "bytes_done": 3000, "bytes_total": 4000,
         "seconds": 1.0},
        downloaded(changed=False, bytes_downloaded=1000, seconds=0.25),
    ]
    action = make_action(args, slices)
    result = run(action)
    assert len(action._execute_module.calls) == 3
    assert result["changed"] is True
    assert result["bytes_downloaded"] == 4000
    assert result["seconds"] == 2.25
    assert shown == ["voice1: tiny.gguf 1 kB of 4 kB (25%)", "voice1: tiny.gguf 3 kB of 4 kB (75%)"]
    assert result["digest_source"] is None


def test_a_failed_slice_ends_the_loop_and_is_returned():
    args = {"url": URL, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf"}
    action = make_action(args, [{"failed": True, "msg": "404 Not Found", "bytes_downloaded": 0}])
    result = run(action)
    assert result["failed"] is True and result["msg"] == "404 Not Found"
    assert "digest_source" not in result


def test_a_new_digest_is_recorded_in_the_lock_file_then_used(tmp_path):
    lock = tmp_path / "lock.json"
    args = {"url": "http://mirror.internal/tiny.gguf", "upstream_url": URL, "dest": "/opt/models/llm/tiny.gguf",
            "format": "gguf", "lock_file": str(lock)}
    first = run(make_action(dict(args), [downloaded()]))
    assert first["digest_source"] == "recorded"
    entry = json.loads(lock.read_text())["files"][URL]
    assert entry["sha256"] == SHA256 and entry["size"] == len(DATA) and entry["recorded_by"] == "voice1"

    again = make_action(dict(args), [downloaded(changed=False, state="present")])
    second = run(again)
    assert again._execute_module.calls[0]["sha256"] == SHA256
    assert second["digest_source"] == "lock"


def test_a_pinned_digest_goes_to_every_host(tmp_path):
    lock = tmp_path / "lock.json"
    lock.write_text(json.dumps({"version": 1, "files": {URL: {"sha256": "c" * 64}}}))
    action = make_action({"url": URL, "dest": "/opt/x.gguf", "format": "gguf", "lock_file": str(lock),
                          "sha256": None}, [downloaded(sha256="c" * 64)])
    result = run(action)
    assert action._execute_module.calls[0]["sha256"] == "c" * 64
    assert result["digest_source"] == "lock"


def test_a_conflicting_digest_from_a_run_without_pin_fails(tmp_path, monkeypatch):
    lock = tmp_path / "lock.json"
    lock.write_text(json.dumps({"version": 1, "files": {}}))
    args = {"url": URL, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "lock_file": str(lock)}
    # Another run pins a digest between this run's read of the lock and its own record.
    monkeypatch.setattr(action_module, "pinned", lambda path, url: None)
    run(make_action(dict(args), [downloaded(sha256="d" * 64)]))
    result = run(make_action(dict(args), [downloaded()]))
    assert result["failed"] is True
    assert SHA256 in result["msg"] and "d" * 64 in result["msg"]


def test_a_corrupt_lock_file_fails_the_task(tmp_path):
    lock = tmp_path / "lock.json"
    lock.write_text("{not json")
    action = make_action({"url": URL, "dest": "/opt/x.gguf", "format": "gguf", "lock_file": str(lock)}, [])
    with pytest.raises(AnsibleActionFail):
        run(action)


@pytest.fixture
def upstream(tmp_path):
    path = tmp_path / "mirror" / "tiny.gguf"
    path.parent.mkdir()
    path.write_bytes(DATA)
    return "file://%s" % path


def test_via_controller_a_present_file_is_neither_fetched_nor_pushed(tmp_path, upstream):
    args = {"url": upstream, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "via_controller": True,
            "controller_cache": str(tmp_path / "cache")}
    action = make_action(args, [downloaded(changed=False, state="present")])
    result = run(action)
    assert action._execute_module.calls[0]["present_only"] is True
    assert result["state"] == "present"
    assert action.pushed == [] and not (tmp_path / "cache").exists()


def test_via_controller_fetches_once_pushes_and_the_host_takes_the_push(tmp_path, upstream, shown):
    cache = tmp_path / "cache"
    args = {"url": upstream, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "via_controller": True,
            "controller_cache": str(cache), "size": len(DATA), "md5": MD5}
    absent = {"changed": False, "state": "absent", "would_download_bytes": len(DATA)}
    action = make_action(dict(args), [absent, downloaded(bytes_downloaded=len(DATA))])
    result = run(action)
    blob = cache / "sha256" / SHA256
    assert blob.read_bytes() == DATA
    assert action.pushed == [(str(blob), controller_part_path("/opt/models/llm/tiny.gguf"))]
    final = action._execute_module.calls[1]
    assert final["src"] == controller_part_path("/opt/models/llm/tiny.gguf") and final["sha256"] == SHA256
    assert result["bytes_downloaded"] == 0 and result["bytes_pushed"] == len(DATA)
    url_key = hashlib.sha256(upstream.encode("utf-8")).hexdigest()
    assert (cache / "by-url" / url_key).read_text() == SHA256 + "\n"
    assert "pushed from the controller" in shown[0]

    # A second host finds the blob through the by-url index: no second fetch.
    os.unlink(upstream[len("file://"):])
    again = make_action(dict(args), [absent, downloaded()])
    run(again)
    assert again.pushed == [(str(blob), controller_part_path("/opt/models/llm/tiny.gguf"))]


def test_via_controller_a_wrong_download_is_removed_and_named(tmp_path, upstream):
    cache = tmp_path / "cache"
    args = {"url": upstream, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "via_controller": True,
            "controller_cache": str(cache), "size": len(DATA), "md5": "0" * 32, "sha256": "e" * 64}
    action = make_action(args, [{"changed": False, "state": "absent"}])
    with pytest.raises(AnsibleActionFail) as failure:
        run(action)
    message = str(failure.value)
    assert "md5 %s, expected %s; sha256 %s, expected %s" % (MD5, "0" * 32, SHA256, "e" * 64) in message
    assert "the partial file was removed" in message
    assert not [name for name in os.listdir(str(cache)) if name.endswith(".part")]
    assert action.pushed == []


def test_via_controller_is_left_out_in_check_mode(tmp_path, upstream):
    args = {"url": upstream, "dest": "/opt/models/llm/tiny.gguf", "format": "gguf", "via_controller": True,
            "controller_cache": str(tmp_path / "cache")}
    action = make_action(args, [{"changed": True, "state": "absent"}], check_mode=True)
    result = run(action)
    assert "present_only" not in action._execute_module.calls[0]
    assert result["state"] == "absent" and action.pushed == []
