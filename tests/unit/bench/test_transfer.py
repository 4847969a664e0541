"""Tests for the pure helpers of bench/transfer.py."""
import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_formats import check_gguf

import transfer


@pytest.mark.parametrize("size", [4096, 1 << 20, (1 << 20) + 4])
def test_gguf_header_makes_a_file_the_format_check_accepts(tmp_path, size):
    header = transfer.gguf_header(size)
    assert len(header) % transfer.GGUF_ALIGNMENT == 0
    path = tmp_path / "m.gguf"
    path.write_bytes(header + b"\x01" * (size - len(header)))
    assert path.stat().st_size == size
    assert check_gguf(str(path)) is None


def test_gguf_header_tensor_needs_the_whole_file(tmp_path):
    size = 4096
    path = tmp_path / "short.gguf"
    header = transfer.gguf_header(size)
    path.write_bytes(header + b"\x01" * (size - len(header) - 4))
    assert "truncated" in check_gguf(str(path))


@pytest.mark.parametrize("size", [64, 4097])
def test_gguf_header_refuses_sizes_without_a_whole_tensor(size):
    with pytest.raises(ValueError, match="cannot hold"):
        transfer.gguf_header(size)


def test_throughput_ratio_is_curl_seconds_over_role_seconds():
    assert transfer.throughput_ratio(2.0, 1.6) == 0.8
    assert transfer.throughput_ratio(0, 1.0) is None
    assert transfer.throughput_ratio(1.0, None) is None


def test_counts_per_file_counts_gets_of_served_files_only():
    log = [("GET", "/llm/a.gguf", None), ("HEAD", "/llm/a.gguf", None), ("GET", "/llm/a.gguf", "bytes=10-"),
           ("GET", "/tts/b.onnx", None), ("GET", "/nope", None)]
    counts = transfer.counts_per_file(log, ["/llm/a.gguf", "/tts/b.onnx", "/stt/c.zip"])
    assert counts == {"/llm/a.gguf": 2, "/tts/b.onnx": 1, "/stt/c.zip": 0}
