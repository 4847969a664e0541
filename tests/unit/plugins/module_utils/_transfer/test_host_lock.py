"""The host lock: one writer at a time, a bounded wait, a clear message, and no stale lock after kill -9."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import host_lock

HOLD = """
import sys, time
from ansible_collections.voiceagent.models.plugins.module_utils._transfer import host_lock
fd = host_lock.acquire(sys.argv[1], 5, "writing /opt/x.gguf")
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """A separate process that holds the lock until killed."""
    path = str(tmp_path / ".voiceagent.lock")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-c", HOLD, path], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "held"
    yield path, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


def test_the_lock_is_created_signed_and_unsigned_on_release(tmp_path):
    path = str(tmp_path / ".voiceagent.lock")
    with host_lock.held(path, 1, "writing /opt/a") as fd:
        assert fd is not None
        holder = json.loads(open(path).read())
        assert holder["pid"] == os.getpid() and holder["what"] == "writing /opt/a" and holder["since"].endswith("Z")
    assert os.path.getsize(path) == 0
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


def test_a_second_writer_times_out_naming_the_file_the_wait_and_the_holder(holder):
    path, proc = holder
    started = time.monotonic()
    with pytest.raises(host_lock.LockTimeout) as caught:
        host_lock.acquire(path, 1, "writing /opt/b")
    waited = time.monotonic() - started
    assert 0.9 <= waited < 3
    msg = str(caught.value)
    assert path in msg and "Waited 1 s" in msg and "pid %d" % proc.pid in msg and "/opt/x.gguf" in msg
    assert caught.value.holder["pid"] == proc.pid


def test_timeout_zero_fails_at_once(holder):
    path, _proc = holder
    started = time.monotonic()
    with pytest.raises(host_lock.LockTimeout):
        host_lock.acquire(path, 0)
    assert time.monotonic() - started < 0.5


def test_a_kill_9_leaves_no_stale_lock(holder):
    path, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    started = time.monotonic()
    fd = host_lock.acquire(path, 5, "after the kill")
    assert time.monotonic() - started < 1
    host_lock.release(fd)


def test_a_waiting_writer_gets_the_lock_when_the_first_is_done(tmp_path):
    path = str(tmp_path / ".voiceagent.lock")
    first = host_lock.acquire(path, 1, "first")
    threading.Timer(0.5, host_lock.release, args=(first,)).start()
    started = time.monotonic()
    with host_lock.held(path, 5, "second"):
        assert 0.4 <= time.monotonic() - started < 2
        assert json.loads(open(path).read())["what"] == "second"


def test_a_fake_clock_bounds_the_wait(tmp_path):
    path = str(tmp_path / ".voiceagent.lock")
    first = host_lock.acquire(path, 1, "first")
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    try:
        with pytest.raises(host_lock.LockTimeout) as caught:
            host_lock.acquire(path, 600, "second", clock=lambda: now[0], sleep=sleep)
    finally:
        host_lock.release(first)
    assert "Waited 600 s (lock_timeout 600)" in str(caught.value)
    assert max(sleeps) <= host_lock.POLL_SECONDS and 599.9 <= sum(sleeps) <= 600.1


@pytest.mark.parametrize("timeout", [-1, None])
def test_a_bad_timeout_is_refused(tmp_path, timeout):
    with pytest.raises(ValueError, match="lock_timeout must be 0"):
        host_lock.acquire(str(tmp_path / "l"), timeout)


def test_a_lock_path_that_is_a_link_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / ".voiceagent.lock").symlink_to(target)
    with pytest.raises(ValueError, match="symbolic link"):
        host_lock.acquire(str(tmp_path / ".voiceagent.lock"), 1)
    assert target.read_text() == "keep"


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(ValueError, match="cannot be opened"):
        host_lock.acquire(str(tmp_path / "nope" / ".voiceagent.lock"), 1)


def test_no_path_takes_no_lock():
    with host_lock.held(None, 1) as fd:
        assert fd is None
