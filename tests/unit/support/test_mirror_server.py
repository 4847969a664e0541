"""Tests for the request log of tests/support/mirror_server.py."""
import urllib.error
import urllib.request

from ansible_collections.voiceagent.models.tests.support.mirror_server import MirrorServer


def test_request_counts_sums_the_log_per_path_and_method(tmp_path):
    (tmp_path / "llm").mkdir()
    (tmp_path / "llm" / "a.gguf").write_bytes(b"GGUF" + b"\0" * 60)
    with MirrorServer(tmp_path) as server:
        for _unused in range(2):
            with urllib.request.urlopen(server.url + "/llm/a.gguf") as response:
                response.read()
        request = urllib.request.Request(server.url + "/llm/a.gguf", method="HEAD")
        urllib.request.urlopen(request).close()
        try:
            urllib.request.urlopen(server.url + "/llm/missing.gguf")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        assert server.request_counts("GET") == {"/llm/a.gguf": 2, "/llm/missing.gguf": 1}
        assert server.request_counts("HEAD") == {"/llm/a.gguf": 1}
        assert server.request_counts() == {"/llm/a.gguf": 3, "/llm/missing.gguf": 1}
        assert len(server.requests) == 4
