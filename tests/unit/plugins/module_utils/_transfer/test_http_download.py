"""Resumable downloads against the local mirror server with injected faults."""
import os

import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._transfer import http_download as dl
from ansible_collections.voiceagent.models.tests.support.mirror_server import MirrorServer

DATA = bytes(bytearray(range(256))) * 1024  # 256 KiB, every offset distinct enough
PATH = "/llm/m.gguf"


@pytest.fixture
def mirror(tmp_path):
    root = tmp_path / "mirror"
    (root / "llm").mkdir(parents=True)
    (root / "llm" / "m.gguf").write_bytes(DATA)
    with MirrorServer(root) as server:
        yield server


@pytest.fixture
def part(tmp_path):
    return str(tmp_path / ".m.gguf.part")


def gets(server):
    return [entry for entry in server.requests if entry[0] == "GET"]


class StepClock(object):
    """Each reading is ``step`` seconds after the last one: deadlines without sleeping."""

    def __init__(self, step=10.0):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_a_fresh_download_is_complete(mirror, part):
    got = dl.download(mirror.url + PATH, part)
    assert got == {"bytes_before": 0, "bytes_now": len(DATA), "complete": True, "total": len(DATA),
                   "status": 200, "restarted": False}
    assert open(part, "rb").read() == DATA
    assert gets(mirror) == [("GET", PATH, None)]


def test_a_part_file_is_resumed_with_a_range_request(mirror, part):
    with open(part, "wb") as fh:
        fh.write(DATA[:1000])
    got = dl.download(mirror.url + PATH, part, expected_size=len(DATA))
    assert got["bytes_before"] == 1000 and got["complete"] and got["status"] == 206
    assert gets(mirror) == [("GET", PATH, "bytes=1000-")]
    assert open(part, "rb").read() == DATA


def test_a_dropped_connection_keeps_the_bytes_and_the_rerun_resumes(mirror, part):
    mirror.drop_after[PATH] = 100000
    with pytest.raises(dl.DownloadError) as info:
        dl.download(mirror.url + PATH, part, expected_size=len(DATA))
    assert info.value.resumable and not info.value.discard
    assert "run the task again to resume" in str(info.value)
    assert os.path.getsize(part) == 100000
    del mirror.drop_after[PATH]
    got = dl.download(mirror.url + PATH, part, expected_size=len(DATA))
    assert got["complete"] and got["bytes_before"] == 100000
    assert gets(mirror)[-1] == ("GET", PATH, "bytes=100000-")
    assert open(part, "rb").read() == DATA


def test_a_server_ignoring_range_starts_over(mirror, part):
    with open(part, "wb") as fh:
        fh.write(b"junk that is not the start of the file")
    mirror.ignore_range[PATH] = True
    got = dl.download(mirror.url + PATH, part)
    assert got["restarted"] and got["complete"] and got["status"] == 200
    assert open(part, "rb").read() == DATA


def test_a_complete_part_file_gets_416_and_counts_as_complete(mirror, part):
    with open(part, "wb") as fh:
        fh.write(DATA)
    got = dl.download(mirror.url + PATH, part)
    assert got["complete"] and got["status"] == 416 and got["total"] == len(DATA)
    assert open(part, "rb").read() == DATA


def test_a_part_file_longer_than_the_file_starts_over(mirror, part):
    with open(part, "wb") as fh:
        fh.write(DATA + b"extra")
    got = dl.download(mirror.url + PATH, part)
    assert got["complete"] and got["restarted"]
    assert [entry[2] for entry in gets(mirror)] == ["bytes=%d-" % (len(DATA) + 5), None]
    assert open(part, "rb").read() == DATA


def test_a_part_file_of_the_expected_size_needs_no_request(mirror, part):
    with open(part, "wb") as fh:
        fh.write(DATA)
    got = dl.download(mirror.url + PATH, part, expected_size=len(DATA))
    assert got["complete"] and mirror.requests == []


def test_404_names_the_url_and_status_but_no_credentials(mirror, part):
    url = "http://user:s3cret@127.0.0.1:%d/llm/missing.gguf?token=hunter2" % mirror.port
    with pytest.raises(dl.DownloadError) as info:
        dl.download(url, part)
    message = str(info.value)
    assert "HTTP 404" in message and "/llm/missing.gguf" in message
    assert "s3cret" not in message and "hunter2" not in message
    assert not info.value.resumable


def test_500_is_an_error(mirror, part):
    mirror.status[PATH] = 500
    with pytest.raises(dl.DownloadError) as info:
        dl.download(mirror.url + PATH, part)
    assert "HTTP 500" in str(info.value)


def test_a_size_the_server_disagrees_with_is_refused_before_writing(mirror, part):
    with open(part, "wb") as fh:
        fh.write(DATA[:10])
    with pytest.raises(dl.DownloadError) as info:
        dl.download(mirror.url + PATH, part, expected_size=len(DATA) + 1)
    assert "%d bytes on the server" % len(DATA) in str(info.value)
    assert open(part, "rb").read() == DATA[:10]


def test_max_seconds_stops_with_complete_false_and_the_next_call_finishes(mirror, part):
    got = dl.download(mirror.url + PATH, part, max_seconds=5, clock=StepClock(), chunk=4096)
    assert not got["complete"] and got["bytes_now"] == 4096 and got["total"] == len(DATA)
    got = dl.download(mirror.url + PATH, part)
    assert got["complete"] and got["bytes_before"] == 4096
    assert open(part, "rb").read() == DATA


def test_range_survives_a_redirect(mirror, part):
    mirror.redirect["/resolve/main/m.gguf"] = PATH
    with open(part, "wb") as fh:
        fh.write(DATA[:500])
    got = dl.download(mirror.url + "/resolve/main/m.gguf", part)
    assert got["complete"]
    assert gets(mirror) == [("GET", "/resolve/main/m.gguf", "bytes=500-"), ("GET", PATH, "bytes=500-")]
    assert open(part, "rb").read() == DATA


def test_a_refused_connection_is_an_error(tmp_path, part):
    server = MirrorServer(tmp_path)
    url = server.start() + PATH
    server.stop()
    with pytest.raises(dl.DownloadError) as info:
        dl.download(url, part, timeout=2)
    assert "Could not connect to http://127.0.0.1" in str(info.value)


class FakeResponse(object):
    def __init__(self, body, status=200, headers=None):
        self.body, self.status, self.headers = body, status, headers or {}

    def read(self, n):
        data, self.body = self.body[:n], self.body[n:]
        return data

    def getcode(self):
        return self.status

    def close(self):
        pass


def test_more_bytes_than_expected_are_discarded(part):
    def opener(url, **kwargs):
        assert kwargs["headers"]["Accept-Encoding"] == "identity" and kwargs["decompress"] is False
        return FakeResponse(b"x" * 5000)  # no Content-Length: a chunked answer
    with pytest.raises(dl.DownloadError) as info:
        dl.download("https://example.org/m.gguf", part, expected_size=100, opener=opener, chunk=64)
    assert info.value.discard and "more than the expected 100 bytes" in str(info.value)


def test_credentials_do_not_follow_redirects(part):
    seen = {}

    def opener(url, **kwargs):
        seen.update(kwargs)
        return FakeResponse(b"abc", headers={"Content-Length": "3"})
    dl.download("https://example.org/m.gguf", part, headers={"Authorization": "Bearer x"}, opener=opener)
    assert seen["unredirected_headers"] == ["Authorization"]


# ---------------------------------------------------------------- file:// mirrors


def test_a_file_url_is_copied_and_resumed(tmp_path, part):
    src = tmp_path / "mirror.gguf"
    src.write_bytes(DATA)
    with open(part, "wb") as fh:
        fh.write(DATA[:3000])
    got = dl.download("file://" + str(src), part, expected_size=len(DATA))
    assert got["complete"] and got["bytes_before"] == 3000 and got["total"] == len(DATA)
    assert open(part, "rb").read() == DATA


def test_a_file_url_honours_max_seconds(tmp_path, part):
    src = tmp_path / "mirror.gguf"
    src.write_bytes(DATA)
    got = dl.download("file://" + str(src), part, max_seconds=1, clock=StepClock(), chunk=1024)
    assert not got["complete"] and got["bytes_now"] == 1024


def test_a_missing_file_url_is_an_error(tmp_path, part):
    with pytest.raises(dl.DownloadError) as info:
        dl.download("file://" + str(tmp_path / "nope.gguf"), part)
    assert "nope.gguf cannot be read" in str(info.value)


@pytest.mark.parametrize("url, shown", [
    ("https://user:pw@host/a/b.gguf?download=1&token=x", "https://***@host/a/b.gguf?<redacted>"),
    ("https://huggingface.co/x/resolve/main/m.gguf", "https://huggingface.co/x/resolve/main/m.gguf"),
])
def test_redact_url(url, shown):
    assert dl.redact_url(url) == shown


@pytest.mark.parametrize("value, parsed", [
    ("bytes 100-199/1000", (100, 199, 1000)),
    ("bytes */1000", (None, None, 1000)),
    ("bytes 0-9/*", (0, 9, None)),
    ("items 1-2/3", None),
])
def test_parse_content_range(value, parsed):
    assert dl.parse_content_range(value) == parsed


def test_a_url_without_scheme_is_an_error_not_a_crash(part):
    with pytest.raises(dl.DownloadError) as info:
        dl.download("huggingface.co/x/m.gguf", part)
    assert "is not a URL that can be downloaded" in str(info.value)


# ---------------------------------------------------------------- digests hashed while the body is written

def _threads():
    import threading
    return sorted(t.name for t in threading.enumerate() if t.name == "voiceagent-digests")


def test_a_fresh_download_returns_the_digests_of_what_was_written(mirror, part):
    import hashlib
    got = dl.download(mirror.url + PATH, part, digests=("sha256", "md5"))
    assert got["digests"] == {"sha256": hashlib.sha256(DATA).hexdigest(), "md5": hashlib.md5(DATA).hexdigest()}
    assert _threads() == []


def test_a_resumed_download_returns_no_digests(mirror, part):
    # Its first bytes were written by an earlier call, never seen by this one.
    with open(part, "wb") as fh:
        fh.write(DATA[:1000])
    got = dl.download(mirror.url + PATH, part, expected_size=len(DATA), digests=("sha256",))
    assert got["complete"] and "digests" not in got


def test_a_restart_from_byte_0_is_hashed_again(mirror, part):
    import hashlib
    with open(part, "wb") as fh:
        fh.write(b"junk that is not the start of the file")
    mirror.ignore_range[PATH] = True
    got = dl.download(mirror.url + PATH, part, digests=("sha256",))
    assert got["restarted"] and got["digests"]["sha256"] == hashlib.sha256(DATA).hexdigest()


def test_an_unfinished_or_broken_download_returns_no_digests_and_stops_the_thread(mirror, part):
    got = dl.download(mirror.url + PATH, part, max_seconds=1, clock=StepClock(), chunk=4096, digests=("sha256",))
    assert not got["complete"] and "digests" not in got
    os.unlink(part)
    mirror.drop_after[PATH] = 100000
    with pytest.raises(dl.DownloadError):
        dl.download(mirror.url + PATH, part, expected_size=len(DATA), digests=("sha256",))
    assert _threads() == []


def test_written_stretches_are_handed_to_the_disk_as_the_download_goes(mirror, part, monkeypatch):
    calls = []
    monkeypatch.setattr(dl, "WRITEBACK_BYTES", 64 * 1024)
    monkeypatch.setattr(dl.os, "posix_fadvise", lambda fd, offset, length, advice: calls.append((offset, length, advice)),
                        raising=False)
    got = dl.download(mirror.url + PATH, part, chunk=16 * 1024)
    assert got["complete"] and open(part, "rb").read() == DATA
    assert calls and all(advice == dl.os.POSIX_FADV_DONTNEED for _o, _l, advice in calls)
    # Contiguous stretches from byte 0, each at least WRITEBACK_BYTES long, none past what was written.
    assert calls[0][0] == 0
    assert all(a[0] + a[1] == b[0] for a, b in zip(calls, calls[1:]))
    assert all(length >= 64 * 1024 for _o, length, _a in calls) and calls[-1][0] + calls[-1][1] <= len(DATA)


def test_a_platform_without_fadvise_still_downloads(mirror, part, monkeypatch):
    monkeypatch.setattr(dl, "WRITEBACK_BYTES", 64 * 1024)
    monkeypatch.delattr(dl.os, "posix_fadvise", raising=False)
    assert dl.download(mirror.url + PATH, part, chunk=16 * 1024)["complete"]
    assert open(part, "rb").read() == DATA
