"""Synthetic llama GGUF files with real shapes and quantisation, for timing llama.cpp.

Generation and prompt speed depend on tensor shapes and block types, not on the
weight values (/work/shared/reference/synthetic-gguf.md), so a file of the
TinyLlama-1.1B shape with raw Q4_0 blocks runs at the speed of the real
TinyLlama Q4_0. The blocks hold a small finite fp16 scale (no NaN or inf) and a
fixed byte pattern. One block array is shared by every tensor of the same shape
and type, so writing a 1.3 GB file needs memory for one layer only.

``Q4_K_M`` follows llama.cpp's mix for that file type (llama-quant.cpp,
``llama_tensor_get_type``): Q6_K for ``output.weight``, and for ``attn_v`` and
``ffn_down`` of the layers where ``use_more_bits`` holds; Q4_K elsewhere. The
TinyLlama-shape file it writes is within 0.1 % of the real
``tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf`` in registry/registry.json (see
``bench/predict/README.md``).

CLI: ``python bench/predict/synthetic_gguf.py OUT_DIR [--only NAME ...]``
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "demo"))
from synthetic_models import add_llama_tokenizer  # noqa: E402  (the demo's GGUF writer, same tokenizer keys)

# (weights per block, bytes per block), as gguf.GGML_QUANT_SIZES has them.
BLOCKS = {"Q4_0": (32, 18), "Q8_0": (32, 34), "Q4_K": (256, 144), "Q6_K": (256, 210)}
QUANTS = ("Q4_0", "Q8_0", "Q4_K_M")
# The file type recorded in general.file_type (gguf.LlamaFileType).
FILE_TYPES = {"Q4_0": 2, "Q8_0": 7, "Q4_K_M": 15}
# Bumped whenever the bytes written for the same spec change: files are rebuilt.
WRITER_VERSION = 1

TINYLLAMA = {"n_embd": 2048, "n_layer": 22, "n_head": 32, "n_head_kv": 4, "n_ff": 5632, "vocab": 32000,
             "n_ctx": 2048}

# The models the bench measures: TinyLlama-1.1B, half and double depth, and the
# same shape in Q8_0 and in the registry's own Q4_K_M.
MODELS = {
    "tinyllama-q4_0": dict(TINYLLAMA, quant="Q4_0"),
    "tinyllama-half-q4_0": dict(TINYLLAMA, n_layer=11, quant="Q4_0"),
    "tinyllama-double-q4_0": dict(TINYLLAMA, n_layer=44, quant="Q4_0"),
    "tinyllama-q8_0": dict(TINYLLAMA, quant="Q8_0"),
    "tinyllama-q4_k_m": dict(TINYLLAMA, quant="Q4_K_M"),
}


def use_more_bits(i_layer, n_layers):
    """llama.cpp's rule for the layers that get Q6_K in a Q4_K_M file."""
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def tensor_plan(spec):
    """[(name, rows, cols, block type or "F32")] of a llama model, in file order.

    ``rows, cols`` is the numpy shape: ``cols`` is the row length (ggml ne0).
    """
    quant = spec["quant"]
    if quant not in QUANTS:
        raise ValueError("quant must be one of %s, not %r" % (", ".join(QUANTS), quant))
    n_embd, n_layer, n_ff, vocab = spec["n_embd"], spec["n_layer"], spec["n_ff"], spec["vocab"]
    if n_embd % spec["n_head"] or spec["n_head"] % spec["n_head_kv"]:
        raise ValueError("n_embd must be a multiple of n_head, and n_head of n_head_kv")
    n_embd_kv = n_embd // spec["n_head"] * spec["n_head_kv"]
    base = "Q4_K" if quant == "Q4_K_M" else quant

    def more(i_layer):
        return "Q6_K" if quant == "Q4_K_M" and use_more_bits(i_layer, n_layer) else base

    plan = [("token_embd.weight", vocab, n_embd, base)]
    for i in range(n_layer):
        prefix = "blk.%d." % i
        plan += [
            (prefix + "attn_norm.weight", 1, n_embd, "F32"),
            (prefix + "attn_q.weight", n_embd, n_embd, base),
            (prefix + "attn_k.weight", n_embd_kv, n_embd, base),
            (prefix + "attn_v.weight", n_embd_kv, n_embd, more(i)),
            (prefix + "attn_output.weight", n_embd, n_embd, base),
            (prefix + "ffn_norm.weight", 1, n_embd, "F32"),
            (prefix + "ffn_gate.weight", n_ff, n_embd, base),
            (prefix + "ffn_up.weight", n_ff, n_embd, base),
            (prefix + "ffn_down.weight", n_embd, n_ff, more(i)),
        ]
    plan += [("output_norm.weight", 1, n_embd, "F32"),
             ("output.weight", vocab, n_embd, "Q6_K" if quant == "Q4_K_M" else base)]
    for name, _rows, cols, kind in plan:
        if kind != "F32" and cols % BLOCKS[kind][0]:
            raise ValueError("%s: row length %d is not a multiple of the %s block (%d weights)"
                             % (name, cols, kind, BLOCKS[kind][0]))
    return plan


def tensor_bytes(rows, cols, kind):
    if kind == "F32":
        return rows * cols * 4
    per_block, block_bytes = BLOCKS[kind]
    return rows * cols // per_block * block_bytes


def weight_count(spec):
    """Weights in the quantised tensors (norms left out)."""
    return sum(rows * cols for _n, rows, cols, kind in tensor_plan(spec) if kind != "F32")


def data_bytes(spec):
    """Bytes of tensor data, without header and alignment padding."""
    return sum(tensor_bytes(rows, cols, kind) for _n, rows, cols, kind in tensor_plan(spec))


def _block_array(rows, cols, kind):
    """Raw blocks of ``kind`` for a (rows, cols) weight, as gguf's byte shape (rows, bytes per row)."""
    import numpy as np

    per_block, block_bytes = BLOCKS[kind]
    blocks = rows * cols // per_block
    raw = np.empty((blocks, block_bytes), dtype=np.uint8)
    # Fixed nibble/byte pattern, the same for every block.
    raw[:, :] = (np.arange(block_bytes, dtype=np.uint16) * 37 % 251).astype(np.uint8)
    if kind in ("Q4_0", "Q8_0"):
        # d (fp16) first: 0.01 for 4-bit, 0.001 for 8-bit quants.
        raw[:, 0:2] = np.array([0.01 if kind == "Q4_0" else 0.001], dtype="<f2").view(np.uint8)
    elif kind == "Q4_K":
        # d, dmin (fp16), 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
        raw[:, 0:4] = np.array([0.001, 0.0], dtype="<f2").view(np.uint8)
        raw[:, 4:16] = 0x11
    else:  # Q6_K: ql[128], qh[64], int8 scales[16], d (fp16) last.
        raw[:, 192:208] = 1
        raw[:, 208:210] = np.array([0.001], dtype="<f2").view(np.uint8)
    return raw.reshape(rows, cols // per_block * block_bytes)


def vocab_pieces(vocab):
    """Tokens, scores and types of a llama (SentencePiece) tokenizer of ``vocab`` pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    # gguf.TokenType: NORMAL 1, UNKNOWN 2, CONTROL 3, BYTE 6.
    types = [2, 3, 3] + [6] * 256
    if vocab < len(tokens):
        raise ValueError("vocab must be at least %d (3 special and 256 byte tokens), not %d" % (len(tokens), vocab))
    fillers = vocab - len(tokens)
    tokens += ["\u2581p%d" % i for i in range(fillers)]
    types += [1] * fillers
    scores = [0.0] * 259 + [-float(i) for i in range(fillers)]
    return tokens, scores, types


def spec_key(spec):
    """What the file's bytes depend on: the spec, this writer and the gguf package."""
    import importlib.metadata

    return dict(spec, writer_version=WRITER_VERSION, gguf=importlib.metadata.version("gguf"))


def write_model(path, spec):
    """Write the GGUF for ``spec`` at ``path``; return its size in bytes."""
    import gguf
    import numpy as np

    plan = tensor_plan(spec)
    n_embd = spec["n_embd"]
    tmp = path + ".part"
    writer = gguf.GGUFWriter(tmp, "llama")
    writer.add_name("voiceagent-synthetic-" + os.path.basename(path).rsplit(".", 1)[0])
    writer.add_file_type(FILE_TYPES[spec["quant"]])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_context_length(spec["n_ctx"])
    writer.add_embedding_length(n_embd)
    writer.add_block_count(spec["n_layer"])
    writer.add_feed_forward_length(spec["n_ff"])
    writer.add_head_count(spec["n_head"])
    writer.add_head_count_kv(spec["n_head_kv"])
    writer.add_rope_dimension_count(n_embd // spec["n_head"])
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(spec["vocab"])
    add_llama_tokenizer(writer, *vocab_pieces(spec["vocab"]))
    shared = {}
    ones = np.ones(n_embd, dtype="<f4")
    for name, rows, cols, kind in plan:
        if kind == "F32":
            writer.add_tensor(name, ones)
            continue
        key = (rows, cols, kind)
        if key not in shared:
            shared[key] = _block_array(rows, cols, kind)
        writer.add_tensor(name, shared[key], raw_dtype=getattr(gguf.GGMLQuantizationType, kind))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, path)
    return os.path.getsize(path)


def ensure_model(out_dir, name, spec):
    """Return (path, bytes, built); the file is rebuilt only when its spec sidecar differs."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".gguf")
    sidecar = path + ".json"
    key = spec_key(spec)
    try:
        with open(sidecar) as handle:
            recorded = json.load(handle)
        if recorded.get("spec") == key and recorded.get("bytes") == os.path.getsize(path):
            return path, recorded["bytes"], False
    except (OSError, ValueError):
        pass
    size = write_model(path, spec)
    with open(sidecar, "w") as handle:
        json.dump({"spec": key, "bytes": size}, handle, indent=2, sort_keys=True)
    return path, size, True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out_dir")
    parser.add_argument("--only", action="append", choices=sorted(MODELS), help="build only this model (repeatable)")
    args = parser.parse_args(argv)
    for name in args.only or MODELS:
        path, size, built = ensure_model(args.out_dir, name, MODELS[name])
        print("%s %s (%d bytes, %d weights)" % ("wrote" if built else "kept", path, size, weight_count(MODELS[name])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
