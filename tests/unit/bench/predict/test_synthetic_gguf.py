"""Tests for bench/predict/synthetic_gguf.py: shapes, block sizes and a small written file."""
import importlib.util
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]


def _load(name):
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "predict" / (name + ".py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


sg = _load("synthetic_gguf")
SMALL = {"n_embd": 256, "n_layer": 3, "n_head": 4, "n_head_kv": 2, "n_ff": 512, "vocab": 300, "n_ctx": 128}


def test_tinyllama_shape_has_its_published_weight_count():
    # TinyLlama-1.1B: 1.1e9 parameters, nearly all in the quantised matrices.
    assert sg.weight_count(sg.MODELS["tinyllama-q4_0"]) == 1099956224


def test_depth_variants_scale_only_the_layers():
    base, half, double = (sg.weight_count(sg.MODELS[n]) for n in
                          ("tinyllama-q4_0", "tinyllama-half-q4_0", "tinyllama-double-q4_0"))
    embeddings = 2 * 32000 * 2048
    assert (base - embeddings) == 2 * (half - embeddings)
    assert (double - embeddings) == 2 * (base - embeddings)


@pytest.mark.parametrize("quant,per_weight", [("Q4_0", 18 / 32.0), ("Q8_0", 34 / 32.0)])
def test_plain_quantisations_have_their_block_size(quant, per_weight):
    spec = dict(sg.TINYLLAMA, quant=quant)
    norms = (2 * 22 + 1) * 2048 * 4  # F32
    assert sg.data_bytes(spec) - norms == pytest.approx(sg.weight_count(spec) * per_weight)


def test_q4_k_m_mix_follows_llama_cpp_and_matches_the_real_file_size():
    plan = {name: kind for name, _r, _c, kind in sg.tensor_plan(sg.MODELS["tinyllama-q4_k_m"])}
    six = sorted(int(name.split(".")[1]) for name, kind in plan.items()
                 if name.endswith("ffn_down.weight") and kind == "Q6_K")
    assert six == [0, 1, 4, 7, 10, 13, 16, 19, 20, 21]
    assert plan["output.weight"] == "Q6_K"
    assert plan["token_embd.weight"] == plan["blk.2.ffn_down.weight"] == plan["blk.2.attn_q.weight"] == "Q4_K"
    # The registry's tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf is 668,788,096 bytes, header included.
    assert sg.data_bytes(sg.MODELS["tinyllama-q4_k_m"]) == pytest.approx(668788096, rel=0.003)


@pytest.mark.parametrize("change,message", [
    ({"quant": "Q5_1"}, "quant must be one of"),
    ({"n_embd": 250}, "multiple of n_head"),
    ({"n_embd": 64, "n_head": 2, "n_head_kv": 1, "n_ff": 96, "quant": "Q4_K_M"}, "not a multiple of the Q4_K block"),
])
def test_bad_specs_are_refused_with_the_value(change, message):
    with pytest.raises(ValueError, match=message):
        sg.tensor_plan(dict(dict(SMALL, quant="Q4_0"), **change))


def test_vocab_has_special_byte_and_filler_tokens():
    tokens, scores, types = sg.vocab_pieces(300)
    assert len(tokens) == len(scores) == len(types) == 300 == len(set(tokens))
    assert tokens[:3] == ["<unk>", "<s>", "</s>"] and tokens[3] == "<0x00>" and tokens[258] == "<0xFF>"
    with pytest.raises(ValueError, match="at least 259"):
        sg.vocab_pieces(100)


@pytest.mark.parametrize("quant", sg.QUANTS)
def test_written_file_has_the_planned_tensors_and_finite_scales(tmp_path, quant):
    gguf = pytest.importorskip("gguf")
    import numpy as np

    spec = dict(SMALL, quant=quant)
    path, size, built = sg.ensure_model(str(tmp_path), "small", spec)
    assert built and size == (tmp_path / "small.gguf").stat().st_size
    assert sg.ensure_model(str(tmp_path), "small", spec)[2] is False  # kept: same spec
    reader = gguf.GGUFReader(path)
    found = {t.name: (t.tensor_type.name, int(t.n_elements)) for t in reader.tensors}
    planned = {n: (k, r * c) for n, r, c, k in sg.tensor_plan(spec)}
    assert found == planned
    for tensor in reader.tensors:
        if tensor.tensor_type.name in ("Q4_0", "Q8_0"):
            d = np.frombuffer(bytes(tensor.data.reshape(-1)[:2]), dtype="<f2")[0]
            assert np.isfinite(d) and 0 < d <= 0.01
    sg.ensure_model(str(tmp_path), "small", dict(spec, n_layer=2))
    assert len(gguf.GGUFReader(path).tensors) == len(sg.tensor_plan(dict(spec, n_layer=2)))
