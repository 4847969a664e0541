"""Small model files in the real formats, for tests and for ``make demo``.

Nothing here downloads anything. Each writer produces a file of the format the
collection handles (GGUF, Vosk zip, Piper ONNX voice plus its JSON config) with
made-up contents, small enough for a test, and the same bytes on every run, so
that their sha256 can be pinned:

- ``write_gguf``: a llama-architecture GGUF written with ``gguf.GGUFWriter``:
  the real hyper-parameter keys, a small llama (SentencePiece) tokenizer and
  Q8_0 (or F32) weights of the llama tensor names and shapes. The weights are
  small finite numbers from a fixed arithmetic pattern (no random generator,
  whose stream could change between numpy versions).
- ``write_vosk_zip``: a zip of the folder layout Vosk expects, stored
  uncompressed with fixed timestamps and permissions (deflate output depends
  on the zlib build; stored bytes do not).
- ``write_piper_voice``: a minimal ONNX ModelProto, serialized by hand as
  protobuf bytes (no onnx package needed), plus its Piper ``.onnx.json``.

CLI::

    python demo/synthetic_models.py gguf OUT.gguf [--n-embd 64 ...]
    python demo/synthetic_models.py vosk OUT.zip MODEL_NAME [--nested]
    python demo/synthetic_models.py piper OUT.onnx [--quality medium]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
import zipfile

__all__ = [
    "write_gguf",
    "write_vosk_zip",
    "write_piper_voice",
    "onnx_model_bytes",
    "piper_config",
    "file_digests",
]

# --------------------------------------------------------------------------
# GGUF

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>")
N_BYTE_TOKENS = 256
# llama.cpp token types (gguf.TokenType): NORMAL 1, UNKNOWN 2, CONTROL 3, BYTE 6.
_TOKEN_NORMAL, _TOKEN_UNKNOWN, _TOKEN_CONTROL, _TOKEN_BYTE = 1, 2, 3, 6
_FILLER_WORDS = (
    "the", "a", "and", "to", "of", "you", "I", "is", "it", "in", "that", "for", "on",
    "your", "call", "can", "help", "with", "me", "please", "thank", "hello", "yes", "no",
    "what", "how", "time", "today", "order", "number", "account", "agent", "wait",
    "hold", "transfer", "sorry", "again", "name", "say", "will", "are", "be", "we",
)


def _vocab(vocab):
    """Tokens, scores and token types of a small llama tokenizer."""
    tokens = list(SPECIAL_TOKENS)
    types = [_TOKEN_UNKNOWN, _TOKEN_CONTROL, _TOKEN_CONTROL]
    tokens += ["<0x%02X>" % value for value in range(N_BYTE_TOKENS)]
    types += [_TOKEN_BYTE] * N_BYTE_TOKENS
    scores = [0.0] * len(tokens)
    seen = set(tokens)
    fillers = []
    for word in _FILLER_WORDS:
        fillers += ["\u2581" + word, word]
    fillers += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    index = 0
    while len(tokens) < vocab:
        if index < len(fillers):
            piece = fillers[index]
        else:
            piece = "\u2581w%d" % (index - len(fillers))
        index += 1
        if piece in seen:
            continue
        seen.add(piece)
        tokens.append(piece)
        scores.append(-float(len(scores) - len(SPECIAL_TOKENS) - N_BYTE_TOKENS))
        types.append(_TOKEN_NORMAL)
    return tokens, scores, types


def add_llama_tokenizer(writer, tokens, scores, types):
    """The tokenizer keys llama.cpp reads for a SentencePiece model: <unk>, <s>, </s> are pieces 0, 1, 2."""
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)


def _pattern(count, seed):
    """``count`` int8 values in -127..127 from a fixed pattern."""
    import numpy as np

    index = np.arange(count, dtype=np.int64)
    return (((index * 31 + seed * 17 + (index >> 5) * 7) % 255) - 127).astype(np.int8)


def _q8_0(rows, cols, seed, scale=0.001):
    """Raw Q8_0 bytes for a (rows, cols) weight: per 32 weights, an fp16 scale and 32 int8."""
    import numpy as np

    if cols % 32:
        raise ValueError("Q8_0 needs a row length that is a multiple of 32, not %d" % cols)
    blocks = rows * cols // 32
    scales = np.full((blocks, 1), scale, dtype="<f2").view(np.uint8)
    quants = _pattern(blocks * 32, seed).reshape(blocks, 32).view(np.uint8)
    return np.concatenate([scales, quants], axis=1).reshape(rows, cols // 32 * 34)


def _f32(rows, cols, seed, scale=0.001):
    import numpy as np

    return (_pattern(rows * cols, seed).astype("<f4") * np.float32(scale)).reshape(rows, cols)


def write_gguf(path, n_embd=64, n_layer=2, n_head=4, n_head_kv=2, n_ff=128, vocab=300,
               n_ctx=2048, name="voiceagent-synthetic-llama", qtype="Q8_0"):
    """Write a small llama-architecture GGUF at ``path``; return its size in bytes.

    The hyper-parameters are the real keys (``llama.context_length``,
    ``llama.embedding_length``, ``llama.block_count``, ``llama.feed_forward_length``,
    ``llama.attention.head_count``, ``...head_count_kv``, ``llama.rope.dimension_count``,
    ``llama.attention.layer_norm_rms_epsilon``, ``llama.rope.freq_base``). ``qtype``
    is ``"Q8_0"`` (weights as raw Q8_0 blocks, scale 0.001) or ``"F32"``; norm
    weights are always F32 ones. Same arguments, same bytes.
    """
    import gguf
    import numpy as np

    if qtype not in ("Q8_0", "F32"):
        raise ValueError("qtype must be Q8_0 or F32, not %r" % (qtype,))
    if n_embd <= 0 or n_layer <= 0 or n_head <= 0 or n_head_kv <= 0 or n_ff <= 0:
        raise ValueError("hyper-parameters must be positive")
    if n_embd % n_head:
        raise ValueError("n_embd (%d) must be a multiple of n_head (%d)" % (n_embd, n_head))
    if n_head % n_head_kv:
        raise ValueError("n_head (%d) must be a multiple of n_head_kv (%d)" % (n_head, n_head_kv))
    if qtype == "Q8_0" and (n_embd % 32 or n_ff % 32):
        raise ValueError("Q8_0 needs n_embd and n_ff to be multiples of 32")
    minimum = len(SPECIAL_TOKENS) + N_BYTE_TOKENS
    if vocab < minimum:
        raise ValueError("vocab must be at least %d (3 special and 256 byte tokens)" % minimum)

    head_dim = n_embd // n_head
    n_embd_kv = head_dim * n_head_kv
    file_type = gguf.LlamaFileType.MOSTLY_Q8_0 if qtype == "Q8_0" else gguf.LlamaFileType.ALL_F32

    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_file_type(int(file_type))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)

    add_llama_tokenizer(writer, *_vocab(vocab))

    counter = [0]

    def weight(tensor_name, rows, cols):
        counter[0] += 1
        if qtype == "Q8_0":
            writer.add_tensor(tensor_name, _q8_0(rows, cols, counter[0]),
                              raw_dtype=gguf.GGMLQuantizationType.Q8_0)
        else:
            writer.add_tensor(tensor_name, _f32(rows, cols, counter[0]))

    def norm(tensor_name):
        writer.add_tensor(tensor_name, np.ones(n_embd, dtype="<f4"))

    # numpy shapes are (rows, row length) = ggml's (ne1, ne0) reversed.
    weight("token_embd.weight", vocab, n_embd)
    for layer in range(n_layer):
        prefix = "blk.%d." % layer
        norm(prefix + "attn_norm.weight")
        weight(prefix + "attn_q.weight", n_embd, n_embd)
        weight(prefix + "attn_k.weight", n_embd_kv, n_embd)
        weight(prefix + "attn_v.weight", n_embd_kv, n_embd)
        weight(prefix + "attn_output.weight", n_embd, n_embd)
        norm(prefix + "ffn_norm.weight")
        weight(prefix + "ffn_gate.weight", n_ff, n_embd)
        weight(prefix + "ffn_up.weight", n_ff, n_embd)
        weight(prefix + "ffn_down.weight", n_embd, n_ff)
    norm("output_norm.weight")
    weight("output.weight", vocab, n_embd)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return os.path.getsize(path)


# --------------------------------------------------------------------------
# Vosk zip

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# OpenFst binary files start with the magic number 2125659606 (little-endian int32).
_FST_MAGIC = struct.pack("<i", 2125659606)


def _fst_stub(fst_type, arc_type="standard"):
    def string(text):
        data = text.encode("ascii")
        return struct.pack("<i", len(data)) + data

    # magic, fst type, arc type, version, flags, properties, start, #states, #arcs
    return (_FST_MAGIC + string(fst_type) + string(arc_type)
            + struct.pack("<iiqqqq", 1, 0, 3, 0, 1, 0) + b"\0" * 16)


def vosk_members(model_name):
    """(path inside the model folder, bytes) of a synthetic Vosk model, in zip order."""
    readme = (
        "%s\n\n"
        "SYNTHETIC stand-in written by voiceagent.models demo/synthetic_models.py.\n"
        "It has the folder layout of a Vosk model (am, conf, graph, ivector) but\n"
        "no usable acoustic model or graph. Do not use it for speech recognition.\n"
        % model_name
    ).encode("ascii")
    mfcc = (
        "--use-energy=false\n--sample-frequency=16000\n--num-mel-bins=40\n"
        "--num-ceps=40\n--low-freq=20\n--high-freq=7600\n--allow-downsample=true\n"
    ).encode("ascii")
    model_conf = (
        "--min-active=200\n--max-active=3000\n--beam=10.0\n--lattice-beam=2.0\n"
        "--acoustic-scale=1.0\n--frame-subsampling-factor=3\n"
        "--endpoint.silence-phones=1:2:3:4:5:6:7:8:9:10\n"
        "--endpoint.rule2.min-trailing-silence=0.5\n"
        "--endpoint.rule3.min-trailing-silence=0.75\n"
        "--endpoint.rule4.min-trailing-silence=1.0\n"
    ).encode("ascii")
    final_mdl = b"\0B<TransitionModel> <Topology> " + bytes(range(256)) * 4 + b"</Topology> </TransitionModel> "
    final_ie = b"\0B<IvectorExtractor> <w> " + bytes(range(255, -1, -1)) * 2 + b"</IvectorExtractor> "
    word_boundary = b"1 nonword\n2 begin\n3 end\n4 internal\n5 singleton\n"
    return [
        ("README", readme),
        ("am/final.mdl", final_mdl),
        ("conf/mfcc.conf", mfcc),
        ("conf/model.conf", model_conf),
        ("graph/Gr.fst", _fst_stub("const")),
        ("graph/HCLr.fst", _fst_stub("const")),
        ("graph/phones/word_boundary.int", word_boundary),
        ("ivector/final.ie", final_ie),
    ]


def _zip_info(name, is_dir=False):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = 3  # Unix, so the permission bits below are read
    info.compress_type = zipfile.ZIP_STORED
    if is_dir:
        info.external_attr = (0o40755 << 16) | 0x10
    else:
        info.external_attr = 0o100644 << 16
    return info


def write_vosk_zip(path, model_name, nested=False):
    """Write a Vosk-layout zip at ``path``; return its size in bytes.

    The zip holds ``<model_name>/am/final.mdl``, ``conf/mfcc.conf``,
    ``conf/model.conf``, ``graph/HCLr.fst``, ``graph/Gr.fst``,
    ``graph/phones/word_boundary.int``, ``ivector/final.ie`` and ``README``,
    with directory entries. ``nested=True`` puts the model folder one level
    deeper, at ``<model_name>/<model_name>/``, as some upstream zips do.
    """
    if not model_name or "/" in model_name or "\\" in model_name or model_name in (".", ".."):
        raise ValueError("model_name must be a plain folder name, not %r" % (model_name,))
    root = model_name + "/" + (model_name + "/" if nested else "")
    members = vosk_members(model_name)
    dirs = []
    for prefix in ([model_name + "/"] if nested else []) + [root]:
        dirs.append(prefix)
    for member, _unused in members:
        parts = member.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = root + "/".join(parts[:depth]) + "/"
            if folder not in dirs:
                dirs.append(folder)

    path = os.fspath(path)
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            for folder in dirs:
                archive.writestr(_zip_info(folder, is_dir=True), b"")
            for member, data in members:
                archive.writestr(_zip_info(root + member), data)
    return os.path.getsize(path)


# --------------------------------------------------------------------------
# Piper voice: ONNX protobuf by hand

def _varint(value):
    if value < 0:
        value += 1 << 64  # protobuf int64: two's complement, 10 bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def _int_field(field, value):
    return _key(field, 0) + _varint(value)


def _bytes_field(field, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _key(field, 2) + _varint(len(data)) + data


_ONNX_FLOAT = 1  # TensorProto.DataType.FLOAT


def _value_info(name, dims):
    """ValueInfoProto{name, type: TypeProto{tensor_type{elem_type FLOAT, shape}}}."""
    shape = b""
    for dim in dims:
        if isinstance(dim, int):
            shape += _bytes_field(1, _int_field(1, dim))      # Dimension.dim_value
        else:
            shape += _bytes_field(1, _bytes_field(2, dim))    # Dimension.dim_param
    tensor_type = _int_field(1, _ONNX_FLOAT) + _bytes_field(2, shape)
    type_proto = _bytes_field(1, tensor_type)
    return _bytes_field(1, name) + _bytes_field(2, type_proto)


def onnx_model_bytes(graph_name="voiceagent_demo_voice", doc=""):
    """A minimal valid ONNX ModelProto: ir_version 8, opset 13, one Identity node.

    Fields in field-number order, as the onnx serializer writes them:
    ModelProto.ir_version (1), producer_name (2), producer_version (3),
    doc_string (6), graph (7), opset_import (8). GraphProto: node (1),
    name (2), input (11), output (12). NodeProto: input (1), output (2),
    name (3), op_type (4).
    """
    node = (_bytes_field(1, "input") + _bytes_field(2, "output")
            + _bytes_field(3, "identity") + _bytes_field(4, "Identity"))
    graph = (_bytes_field(1, node) + _bytes_field(2, graph_name)
             + _bytes_field(11, _value_info("input", [1, "phonemes"]))
             + _bytes_field(12, _value_info("output", [1, "phonemes"])))
    opset = _bytes_field(1, "") + _int_field(2, 13)  # OperatorSetIdProto{domain "", version 13}
    model = _int_field(1, 8) + _bytes_field(2, "voiceagent-demo") + _bytes_field(3, "1.0")
    if doc:
        model += _bytes_field(6, doc)
    model += _bytes_field(7, graph) + _bytes_field(8, opset)
    return model


_PHONEMES = ["_", "^", "$", " ", "!", "'", "(", ")", ",", "-", ".", ":", ";", "?"]
_PHONEMES += [chr(c) for c in range(ord("a"), ord("z") + 1)]
_PHONEMES += ["\u0251", "\u0250", "\u0252", "\u00e6", "\u0253", "\u0299", "\u03b2", "\u0254",
              "\u0255", "\u00e7", "\u0257", "\u0256", "\u00f0", "\u02a4", "\u0259", "\u0258",
              "\u025a", "\u025b", "\u025c", "\u025d", "\u025e", "\u025f", "\u0284", "\u0261",
              "\u0260", "\u0262", "\u029b", "\u0266", "\u0267", "\u0127", "\u0265", "\u029c",
              "\u0268", "\u026a", "\u029d", "\u026d", "\u026c", "\u026b", "\u026e", "\u029f",
              "\u0271", "\u026f", "\u0270", "\u014b", "\u0273", "\u0272", "\u0274", "\u00f8",
              "\u0275", "\u0278", "\u03b8", "\u0153", "\u0276", "\u0298", "\u0279", "\u027a",
              "\u027e", "\u027b", "\u0280", "\u0281", "\u027d", "\u0282", "\u0283", "\u0288",
              "\u02a7", "\u0289", "\u028a", "\u028b", "\u2c71", "\u028c", "\u0263", "\u0264",
              "\u028d", "\u03c7", "\u028e", "\u028f", "\u0291", "\u0290", "\u0292", "\u0294",
              "\u02a1", "\u0295", "\u02a2", "\u01c0", "\u01c1", "\u01c2", "\u01c3", "\u02c8",
              "\u02cc", "\u02d0", "\u02d1", "\u02bc", "\u02b4", "\u02b0", "\u02b1", "\u02b2",
              "\u02b7", "\u02e0", "\u02e4", "\u02de", "\u2193", "\u2191", "\u2192", "\u2197",
              "\u2198", "\u0303", "\u0327"]


def piper_config(quality="medium", language="en_US", voice="en-us", dataset="lessac"):
    """A Piper ``.onnx.json`` config as a dict (phoneme ids 0..len-1)."""
    phoneme_id_map = dict((phoneme, [index]) for index, phoneme in enumerate(_PHONEMES))
    family, _unused, region = language.partition("_")
    return {
        "dataset": dataset,
        "audio": {"sample_rate": 22050, "quality": quality},
        "espeak": {"voice": voice},
        "language": {"code": language, "family": family, "region": region,
                     "name_native": "English", "name_english": "English",
                     "country_english": "United States"},
        "inference": {"noise_scale": 0.667, "length_scale": 1, "noise_w": 0.8},
        "phoneme_type": "espeak",
        "phoneme_map": {},
        "phoneme_id_map": phoneme_id_map,
        "num_symbols": 256,
        "num_speakers": 1,
        "speaker_id_map": {},
        "piper_version": "1.0.0",
        "_comment": "SYNTHETIC stand-in written by voiceagent.models demo/synthetic_models.py",
    }


def _quality_from_name(onnx_path):
    base = os.path.basename(os.fspath(onnx_path))
    for quality in ("x_low", "low", "medium", "high"):
        if base.endswith("-%s.onnx" % quality):
            return quality
    return "medium"


def write_piper_voice(onnx_path, quality=None, language="en_US"):
    """Write ``onnx_path`` (a minimal ONNX model) and ``<onnx_path>.json`` (its Piper config).

    ``quality`` defaults to the ``-<quality>.onnx`` suffix of the file name
    (``medium`` when there is none). Returns ``(onnx_path, config_path)``.
    """
    onnx_path = os.fspath(onnx_path)
    quality = quality or _quality_from_name(onnx_path)
    parent = os.path.dirname(onnx_path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    voice = os.path.basename(onnx_path)
    if voice.endswith(".onnx"):
        voice = voice[:-5]
    with open(onnx_path, "wb") as handle:
        handle.write(onnx_model_bytes(doc="SYNTHETIC Piper voice stand-in %s" % voice))
    config_path = onnx_path + ".json"
    config = piper_config(quality=quality, language=language)
    with open(config_path, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(config, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    return onnx_path, config_path


# --------------------------------------------------------------------------

def file_digests(path):
    """{"size_bytes", "sha256", "md5"} of a file."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return {"size_bytes": size, "sha256": sha256.hexdigest(), "md5": md5.hexdigest()}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write small synthetic model files of the real formats.")
    sub = parser.add_subparsers(dest="kind", required=True)
    p = sub.add_parser("gguf", help="a llama-architecture GGUF")
    p.add_argument("path")
    for option, default in (("n-embd", 64), ("n-layer", 2), ("n-head", 4), ("n-head-kv", 2),
                            ("n-ff", 128), ("vocab", 300), ("n-ctx", 2048)):
        p.add_argument("--" + option, type=int, default=default)
    p.add_argument("--qtype", choices=("Q8_0", "F32"), default="Q8_0")
    p = sub.add_parser("vosk", help="a Vosk model zip")
    p.add_argument("path")
    p.add_argument("model_name")
    p.add_argument("--nested", action="store_true")
    p = sub.add_parser("piper", help="a Piper voice (.onnx and .onnx.json)")
    p.add_argument("path")
    p.add_argument("--quality", default=None)
    args = parser.parse_args(argv)

    if args.kind == "gguf":
        write_gguf(args.path, n_embd=args.n_embd, n_layer=args.n_layer, n_head=args.n_head,
                   n_head_kv=args.n_head_kv, n_ff=args.n_ff, vocab=args.vocab, n_ctx=args.n_ctx,
                   qtype=args.qtype)
        paths = [args.path]
    elif args.kind == "vosk":
        write_vosk_zip(args.path, args.model_name, nested=args.nested)
        paths = [args.path]
    else:
        paths = list(write_piper_voice(args.path, quality=args.quality))
    for path in paths:
        info = file_digests(path)
        print("%s %d %s" % (info["sha256"], info["size_bytes"], path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
