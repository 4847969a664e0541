"""Tests for demo/synthetic_models.py and demo/build_mirror.py."""
import hashlib
import importlib.util
import json
import os
import pathlib
import sys
import zipfile

import pytest

from ansible_collections.voiceagent.models.plugins.plugin_utils._policy.registry import (
    iter_files,
    load_registry,
)

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEMO = ROOT / "demo"
REAL_REGISTRY = ROOT / "registry" / "registry.json"


def _load(name, filename):
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, DEMO / filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


# build_mirror loads synthetic_models under this name too, so both see one module.
sm = _load("voiceagent_demo_synthetic_models", "synthetic_models.py")
bm = _load("voiceagent_demo_build_mirror", "build_mirror.py")

VOSK_MEMBERS = [
    "am/final.mdl",
    "conf/mfcc.conf",
    "conf/model.conf",
    "graph/HCLr.fst",
    "graph/Gr.fst",
    "graph/phones/word_boundary.int",
    "ivector/final.ie",
    "README",
]


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def md5(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------
# GGUF


def _field(reader, key):
    return reader.fields[key].contents()


def test_gguf_reads_back(tmp_path):
    gguf = pytest.importorskip("gguf")
    path = tmp_path / "m.gguf"
    size = sm.write_gguf(path)
    assert size == path.stat().st_size <= 2 * 1024 * 1024
    assert path.read_bytes()[:4] == b"GGUF"

    reader = gguf.GGUFReader(str(path))
    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "llama.embedding_length") == 64
    assert _field(reader, "llama.block_count") == 2
    assert _field(reader, "llama.attention.head_count") == 4
    assert _field(reader, "llama.attention.head_count_kv") == 2
    assert _field(reader, "llama.feed_forward_length") == 128
    assert _field(reader, "llama.rope.dimension_count") == 16
    assert _field(reader, "llama.context_length") == 2048
    assert _field(reader, "llama.attention.layer_norm_rms_epsilon") == pytest.approx(1e-5)

    assert _field(reader, "tokenizer.ggml.model") == "llama"
    tokens = _field(reader, "tokenizer.ggml.tokens")
    assert len(tokens) == 300
    assert len(_field(reader, "tokenizer.ggml.scores")) == 300
    types = _field(reader, "tokenizer.ggml.token_type")
    assert len(types) == 300
    assert tokens[:3] == ["<unk>", "<s>", "</s>"]
    assert tokens[3:259] == ["<0x%02X>" % value for value in range(256)]
    assert len(set(tokens)) == 300
    assert types[:3] == [2, 3, 3] and set(types[3:259]) == {6} and set(types[259:]) == {1}
    assert _field(reader, "tokenizer.ggml.bos_token_id") == 1
    assert _field(reader, "tokenizer.ggml.eos_token_id") == 2

    # token_embd, output_norm, output, and 9 tensors per block
    assert len(reader.tensors) == 3 + 9 * 2
    tensors = dict((t.name, t) for t in reader.tensors)

    def shape(name):  # ggml order: ne0 first
        return [int(n) for n in tensors[name].shape]

    assert shape("token_embd.weight") == [64, 300]
    assert shape("output.weight") == [64, 300]
    assert shape("blk.1.attn_q.weight") == [64, 64]
    assert shape("blk.1.attn_k.weight") == [64, 32]
    assert shape("blk.1.attn_v.weight") == [64, 32]
    assert shape("blk.1.attn_output.weight") == [64, 64]
    assert shape("blk.0.ffn_gate.weight") == [64, 128]
    assert shape("blk.0.ffn_up.weight") == [64, 128]
    assert shape("blk.0.ffn_down.weight") == [128, 64]
    Q8_0, F32 = gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.F32
    assert tensors["blk.0.attn_q.weight"].tensor_type == Q8_0
    for name in ("output_norm.weight", "blk.0.attn_norm.weight", "blk.1.ffn_norm.weight"):
        assert tensors[name].tensor_type == F32
        assert (tensors[name].data == 1.0).all()

    from gguf.quants import dequantize
    import numpy as np

    values = dequantize(tensors["blk.0.ffn_down.weight"].data, Q8_0)
    assert np.isfinite(values).all()
    assert 0 < abs(values).max() <= 0.2


def test_gguf_is_deterministic_and_parametrised(tmp_path):
    gguf = pytest.importorskip("gguf")
    a, b = tmp_path / "a.gguf", tmp_path / "b.gguf"
    sm.write_gguf(a)
    sm.write_gguf(b)
    assert a.read_bytes() == b.read_bytes()

    c = tmp_path / "c.gguf"
    sm.write_gguf(c, n_embd=96, n_layer=3, n_head=6, n_head_kv=3, n_ff=192, vocab=320, qtype="F32")
    reader = gguf.GGUFReader(str(c))
    assert _field(reader, "llama.embedding_length") == 96
    assert _field(reader, "llama.block_count") == 3
    assert len(_field(reader, "tokenizer.ggml.tokens")) == 320
    assert len(reader.tensors) == 3 + 9 * 3
    assert reader.tensors[0].tensor_type == gguf.GGMLQuantizationType.F32


@pytest.mark.parametrize("kwargs", [
    dict(vocab=100),
    dict(n_embd=64, n_head=5),
    dict(n_head=4, n_head_kv=3),
    dict(n_ff=100),
    dict(qtype="Q4_K_M"),
])
def test_gguf_rejects_bad_parameters(tmp_path, kwargs):
    with pytest.raises(ValueError):
        sm.write_gguf(tmp_path / "x.gguf", **kwargs)


# --------------------------------------------------------------------------
# Vosk


def test_vosk_zip_members(tmp_path):
    path = tmp_path / "v.zip"
    sm.write_vosk_zip(path, "vosk-model-small-en-us-0.15")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        files = [n for n in names if not n.endswith("/")]
        assert sorted(files) == sorted("vosk-model-small-en-us-0.15/" + m for m in VOSK_MEMBERS)
        assert "vosk-model-small-en-us-0.15/" in names
        assert all(n.startswith("vosk-model-small-en-us-0.15/") for n in names)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
        assert b"--sample-frequency=16000" in archive.read("vosk-model-small-en-us-0.15/conf/mfcc.conf")
    again = tmp_path / "again.zip"
    sm.write_vosk_zip(again, "vosk-model-small-en-us-0.15")
    assert path.read_bytes() == again.read_bytes()


def test_vosk_zip_nested(tmp_path):
    path = tmp_path / "n.zip"
    sm.write_vosk_zip(path, "vosk-model-en-us-0.22", nested=True)
    with zipfile.ZipFile(path) as archive:
        files = [n for n in archive.namelist() if not n.endswith("/")]
    prefix = "vosk-model-en-us-0.22/vosk-model-en-us-0.22/"
    assert sorted(files) == sorted(prefix + m for m in VOSK_MEMBERS)

    extracted = tmp_path / "x"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(extracted)
    assert (extracted / prefix / "am" / "final.mdl").is_file()


@pytest.mark.parametrize("name", ["", "a/b", "..", "."])
def test_vosk_zip_rejects_bad_names(tmp_path, name):
    with pytest.raises(ValueError):
        sm.write_vosk_zip(tmp_path / "v.zip", name)


# --------------------------------------------------------------------------
# Piper / ONNX


def _read_varint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _decode(data):
    """Protobuf message bytes -> {field: [values]} (varint ints, length-delimited bytes)."""
    fields = {}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(data, pos)
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            value = data[pos:pos + length]
            assert len(value) == length, "truncated field"
            pos += length
        else:
            raise AssertionError("unexpected wire type %d" % wire)
        fields.setdefault(field, []).append(value)
    assert pos == len(data)
    return fields


def test_piper_voice(tmp_path):
    onnx = tmp_path / "voices" / "en_US-lessac-high.onnx"
    onnx_path, config_path = sm.write_piper_voice(onnx)
    assert onnx_path == str(onnx) and config_path == str(onnx) + ".json"
    data = onnx.read_bytes()
    assert data[0] == 0x08 and data[1] == 8  # ir_version = 8

    model = _decode(data)
    assert model[1] == [8]
    assert model[2] == [b"voiceagent-demo"]
    opset = _decode(model[8][0])
    assert opset[2] == [13]
    graph = _decode(model[7][0])
    node = _decode(graph[1][0])
    assert node[4] == [b"Identity"]
    assert node[1] == [b"input"] and node[2] == [b"output"]
    assert _decode(graph[11][0])[1] == [b"input"]
    assert _decode(graph[12][0])[1] == [b"output"]

    config = json.loads(pathlib.Path(config_path).read_text(encoding="utf-8"))
    assert config["audio"] == {"sample_rate": 22050, "quality": "high"}
    assert config["espeak"] == {"voice": "en-us"}
    assert config["language"]["code"] == "en_US"
    assert config["num_speakers"] == 1
    assert set(config["inference"]) == {"noise_scale", "length_scale", "noise_w"}
    ids = config["phoneme_id_map"]
    assert ids["_"] == [0] and ids["^"] == [1] and ids["$"] == [2] and "a" in ids
    assert max(v[0] for v in ids.values()) < config["num_symbols"]
    assert len(set(v[0] for v in ids.values())) == len(ids)

    other = tmp_path / "again" / "en_US-lessac-high.onnx"
    sm.write_piper_voice(other)
    assert other.read_bytes() == data
    assert pathlib.Path(str(other) + ".json").read_bytes() == pathlib.Path(config_path).read_bytes()
    sm.write_piper_voice(tmp_path / "en_US-lessac-medium.onnx")
    medium = json.loads((tmp_path / "en_US-lessac-medium.onnx.json").read_text(encoding="utf-8"))
    assert medium["audio"]["quality"] == "medium"


# --------------------------------------------------------------------------
# Mirror and demo registry


def _real():
    return json.loads(REAL_REGISTRY.read_text(encoding="utf-8"))


def _raw_files(tier):
    models = tier["models"]
    return [models["stt"], models["llm"]] + list(models["tts"]["files"])


def _check_mirror(summary, tiers):
    out = pathlib.Path(summary["out_dir"])
    real = _real()
    assert summary["tiers"] == tiers
    assert pathlib.Path(summary["registry_path"]) == out / "registry.json"

    demo_raw = json.loads((out / "registry.json").read_text(encoding="utf-8"))
    assert list(demo_raw["tiers"]) == tiers
    assert "description" in demo_raw
    demo = load_registry(str(out / "registry.json"))
    assert load_registry(demo_raw)["tiers"].keys() == demo["tiers"].keys()

    urls = set()
    for name in tiers:
        real_tier = real["tiers"][name]
        demo_tier = demo["tiers"][name]
        real_files = _raw_files(real_tier)
        demo_files = iter_files(demo_tier)
        assert len(real_files) == len(demo_files)
        for real_entry, entry in zip(real_files, demo_files):
            url = entry["url"]
            urls.add(url)
            assert url == real_entry["url"]
            for key in ("dest_path", "dest_dir", "target_path", "format", "name", "quantization"):
                assert entry.get(key) == real_entry.get(key)
            host_path = url.split("://", 1)[1]
            path = out / "mirror" / host_path
            assert path.is_file(), path
            assert entry["size_bytes"] == path.stat().st_size
            assert entry["size_exact"] is True
            if "size_mb" in real_entry:
                assert entry["size_mb"] == -(-entry["size_bytes"] // 10 ** 6)
            if real_entry["sha256"] is None:
                assert entry["sha256"] is None and entry["md5"] is None
            else:
                assert entry["sha256"] == sha256(path)
                assert entry["md5"] == md5(path)
            head = path.read_bytes()[:4]
            if entry["format"] == "gguf":
                assert head == b"GGUF"
            elif entry["format"] == "vosk-zip":
                assert head == b"PK\x03\x04"
            elif entry["format"] == "piper-onnx":
                assert head[0] == 0x08
            else:
                json.loads(path.read_text(encoding="utf-8"))

    # the summary lists each URL once, with the digests of the file on disk
    assert sorted(item["url"] for item in summary["files"]) == sorted(urls)
    for item in summary["files"]:
        assert pathlib.Path(item["path"]) == out / "mirror" / item["mirror_relpath"]
        assert item["sha256"] == sha256(item["path"])
        assert item["size_bytes"] == os.path.getsize(item["path"])

    on_disk = sorted(str(p.relative_to(out / "mirror")) for p in (out / "mirror").rglob("*") if p.is_file())
    assert on_disk == sorted(item["mirror_relpath"] for item in summary["files"])
    return demo


def test_mirror_with_languages_has_their_models_and_voices(tmp_path):
    summary = bm.build_mirror(tmp_path, tiers=["LIGHT_CPU"], languages=["es-ES", "ja-JP"])
    out = pathlib.Path(summary["out_dir"])
    assert (out / "mirror/alphacephei.com/vosk/models/vosk-model-small-es-0.42.zip").is_file()
    assert (out / "mirror/alphacephei.com/vosk/models/vosk-model-small-ja-0.22.zip").is_file()
    assert (out / "mirror/huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/es/es_ES/davefx/medium/"
            "es_ES-davefx-medium.onnx").is_file()
    # 4 files of the tier, 2 Vosk zips and one two-file voice: Japanese has no voice
    assert len(summary["files"]) == 8
    demo = load_registry(summary["registry_path"])
    assert sorted(demo["languages"]) == ["es-ES", "ja-JP"] and demo["languages"]["ja-JP"]["tts"] is None
    es = demo["languages"]["es-ES"]
    mirrored = dict((item["url"], item) for item in summary["files"])
    assert es["stt"]["small"]["size_bytes"] == mirrored[es["stt"]["small"]["url"]]["size_bytes"]
    with pytest.raises(ValueError, match="language.s. xx-XX not in"):
        bm.build_mirror(tmp_path / "other", tiers=["LIGHT_CPU"], languages=["xx-XX"])


def test_mirror_light_cpu(tmp_path):
    summary = bm.build_mirror(tmp_path, tiers=["LIGHT_CPU"])
    demo = _check_mirror(summary, ["LIGHT_CPU"])
    out = pathlib.Path(summary["out_dir"])
    assert (out / "mirror/huggingface.co/TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF/resolve/main/"
            "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf").is_file()
    assert (out / "mirror/alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip").is_file()
    assert (out / "mirror/huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/en/en_US/lessac/medium/"
            "en_US-lessac-medium.onnx.json").is_file()
    assert len(summary["files"]) == 4

    light = demo["tiers"]["LIGHT_CPU"]
    assert light["requirements"]["min_cpu_cores"] == 1
    assert light["requirements"]["min_ram_gb"] == 1
    assert light["requirements"]["gpu_required"] is False
    assert "DEMO" in light["description"]
    real_light = _real()["tiers"]["LIGHT_CPU"]
    assert light["env"] == real_light["env"] and light["rank"] == real_light["rank"]

    # the pinned files are pinned, the unpinned ones (Piper) stay null
    llm = light["models"]["llm"]
    assert llm["sha256"] is not None and llm["sha256"] != real_light["models"]["llm"]["sha256"]
    assert all(f["sha256"] is None and f["md5"] is None for f in light["models"]["tts"]["files"])

    # the zip unpacks to the registry's target_path below dest_dir
    stt = light["models"]["stt"]
    with zipfile.ZipFile(out / "mirror/alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip") as archive:
        archive.extractall(tmp_path / "unpacked" / stt["dest_dir"])
    assert (tmp_path / "unpacked" / stt["target_path"] / "am" / "final.mdl").is_file()


@pytest.fixture(scope="module")
def all_tiers(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirror_all")
    return bm.build_mirror(out)


def test_mirror_all_tiers(all_tiers):
    real = _real()
    demo = _check_mirror(all_tiers, list(real["tiers"]))
    # a URL several tiers share is written once
    assert len(all_tiers["files"]) == 10
    shared = [item for item in all_tiers["files"] if item["url"].endswith("vosk-model-en-us-0.22.zip")]
    assert len(shared) == 1 and shared[0]["tiers"] == ["MEDIUM_CPU", "HEAVY_CPU", "MEDIUM_GPU", "HEAVY_GPU"]
    # only LIGHT_CPU's requirements change
    for name, tier in demo["tiers"].items():
        if name != "LIGHT_CPU":
            assert tier["requirements"] == real["tiers"][name]["requirements"]
            assert tier["description"] == real["tiers"][name]["description"]
    # each stand-in GGUF differs, and all fit the size budget
    ggufs = [item for item in all_tiers["files"] if item["format"] == "gguf"]
    assert len(set(item["sha256"] for item in ggufs)) == len(ggufs) == 4
    assert sum(item["size_bytes"] for item in all_tiers["files"]) < 4 * 1024 * 1024
    assert all(item["size_bytes"] <= 2 * 1024 * 1024 for item in all_tiers["files"])


def test_mirror_is_deterministic(tmp_path, all_tiers):
    again = bm.build_mirror(tmp_path, tiers=["MEDIUM_GPU", "LIGHT_CPU"])
    assert again["tiers"] == ["LIGHT_CPU", "MEDIUM_GPU"]
    first = dict((item["url"], item["sha256"]) for item in all_tiers["files"])
    for item in again["files"]:
        assert first[item["url"]] == item["sha256"]


def test_mirror_options(tmp_path):
    summary = bm.build_mirror(tmp_path, tiers="MEDIUM_CPU", nested_vosk=True, md5_for_unpinned=True)
    demo = load_registry(summary["registry_path"])
    stt = demo["tiers"]["MEDIUM_CPU"]["models"]["stt"]
    path = tmp_path / "mirror" / "alphacephei.com/vosk/models/vosk-model-en-us-0.22.zip"
    assert stt["sha256"] is None and stt["md5"] == md5(path)
    with zipfile.ZipFile(path) as archive:
        assert "vosk-model-en-us-0.22/vosk-model-en-us-0.22/README" in archive.namelist()


def test_mirror_rejects_unknown_tier(tmp_path):
    with pytest.raises(ValueError, match="NOPE"):
        bm.build_mirror(tmp_path, tiers=["LIGHT_CPU", "NOPE"])


def test_mirror_relpath():
    assert bm.mirror_relpath("https://HuggingFace.co/a/b/c.gguf") == "huggingface.co/a/b/c.gguf"
    for bad in ("https://x.org/", "https://x.org/a/../b", "ftp://x.org/a", "https:///a"):
        with pytest.raises(ValueError):
            bm.mirror_relpath(bad)


def test_cli(tmp_path, capsys):
    assert bm.main([str(tmp_path), "--tiers", "LIGHT_CPU", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tiers"] == ["LIGHT_CPU"]
    load_registry(summary["registry_path"])
    assert sm.main(["vosk", str(tmp_path / "v.zip"), "vosk-x", "--nested"]) == 0
    assert sm.main(["piper", str(tmp_path / "p.onnx")]) == 0
    assert sm.main(["gguf", str(tmp_path / "g.gguf"), "--n-layer", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(len(line.split()[0]) == 64 for line in lines)
