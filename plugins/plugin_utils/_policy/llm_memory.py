# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What llama.cpp allocates for a model, from its GGUF header keys: pure functions.

For a context of ``n_ctx`` tokens and llama.cpp's default f16 KV cache (docs/selection.md):

* weights: the file (llama.cpp maps it; with every layer on a card the card holds it);
* KV cache: ``block_count x n_ctx x head_count_kv x (key_length + value_length) x 2`` bytes, where
  key and value length default to ``embedding_length / head_count``;
* compute buffer: the graph's largest live tensors for one micro-batch of ``n_ub = min(n_ctx, 512)``
  tokens without flash attention (the agent's llama-cpp-python leaves it off)::

      4 x n_ub x max(n_embd + n_vocab,  1 + 4 x n_embd + n_ctx x (1 + n_head))

  the logits of the batch, or the attention scores of every head plus the layer's activations,
  whichever is larger (the shape Ollama's ``GraphSize`` uses for llama; checked here against the
  buffer sizes llama.cpp prints when it loads the real SmolLM2-135M at two contexts);
* overhead in RAM: ``CPU_FIXED_OVERHEAD_BYTES`` (model loading 5 MiB and the scheduler 4 MiB) plus
  ``CPU_BYTES_PER_TOKEN`` per vocabulary entry (token type, score, the id-to-token vector and the
  token-to-id map: 96 bytes, as gguf-parser counts them in file_estimate__llamacpp.go) plus the output
  buffer, one f32 logit per vocabulary entry (llama.cpp printed 0.19 MiB for SmolLM2's 49152 tokens);
  per CUDA card ``GPU_OVERHEAD_BYTES``, the 457 MiB Ollama sets aside for the CUDA context
  (ml/device.go ``MinimumMemory``).

Layers for a partial offload: a repeating layer holds ``(weights - token embedding - output) /
block_count`` bytes of weights plus its share of the KV cache; llama.cpp counts ``block_count + 1``
offloadable layers (the output is the last), fills cards from the last layer down, and splits
layers over several cards in proportion to their free memory, each card with its own compute buffer
and context.
"""

MIB = 1024 * 1024
KV_BYTES_PER_ELEMENT = 2          # f16, llama.cpp's default cache type
F32 = 4
MICRO_BATCH = 512                 # llama.cpp's default n_ubatch (llama-cpp-python's n_batch is 512 too)
CPU_FIXED_OVERHEAD_BYTES = 9 * MIB
CPU_BYTES_PER_TOKEN = 96 + F32
GPU_OVERHEAD_BYTES = 457 * MIB
# Bytes per weight of the token embedding and output matrices when the quantisation is unknown:
# Q4_K_M files store them as Q4_K (144 bytes per 256) and Q6_K (210 per 256).
EMBEDDING_BYTES_PER_WEIGHT = {"Q4_K_M": 144 / 256.0, "Q4_0": 18 / 32.0, "Q4_1": 20 / 32.0, "Q8_0": 34 / 32.0}
OUTPUT_BYTES_PER_WEIGHT = {"Q4_K_M": 210 / 256.0, "Q4_0": 18 / 32.0, "Q4_1": 20 / 32.0, "Q8_0": 34 / 32.0}


def _header(llm):
    return llm.get("gguf") or {}


def _arch_value(llm, suffix):
    header = _header(llm)
    arch = header.get("general.architecture")
    return header.get("%s.%s" % (arch, suffix)) if arch else None


def model_shape(llm):
    """The sizes the sums need, or None when the registry lacks the header keys."""
    blocks = _arch_value(llm, "block_count")
    embd = _arch_value(llm, "embedding_length")
    heads = _arch_value(llm, "attention.head_count")
    if not (blocks and embd and heads):
        return None
    kv_heads = _arch_value(llm, "attention.head_count_kv") or heads
    head_dim = embd // heads
    return {
        "blocks": int(blocks), "embd": int(embd), "heads": int(heads), "kv_heads": int(kv_heads),
        "key_length": int(_arch_value(llm, "attention.key_length") or head_dim),
        "value_length": int(_arch_value(llm, "attention.value_length") or head_dim),
        "vocab": int(_arch_value(llm, "vocab_size") or 0) or None,
        "trained_context": _arch_value(llm, "context_length"),
    }


def kv_bytes(shape, context, layers=None):
    """f16 KV cache bytes at ``context`` tokens for ``layers`` layers (all by default)."""
    layers = shape["blocks"] if layers is None else layers
    return layers * int(context) * shape["kv_heads"] * (shape["key_length"] + shape["value_length"]) \
        * KV_BYTES_PER_ELEMENT


def kv_bytes_per_token(shape):
    return kv_bytes(shape, 1)


def compute_bytes(shape, context, micro_batch=MICRO_BATCH):
    """The compute buffer llama.cpp reserves for one micro-batch (no flash attention)."""
    n_ub = min(int(context), micro_batch)
    vocab = shape["vocab"] or 0
    return F32 * n_ub * max(shape["embd"] + vocab, 1 + 4 * shape["embd"] + int(context) * (1 + shape["heads"]))


def _quant(llm):
    return str(llm.get("quantization") or "").strip().upper()


def cpu_overhead_bytes(shape):
    return CPU_FIXED_OVERHEAD_BYTES + CPU_BYTES_PER_TOKEN * (shape["vocab"] or 0)


def layer_weight_bytes(llm, shape):
    """(bytes of one repeating layer's weights, bytes of the output layer)."""
    quant = _quant(llm)
    vocab = shape["vocab"] or 0
    embedding = vocab * shape["embd"] * EMBEDDING_BYTES_PER_WEIGHT.get(quant, 144 / 256.0)
    output = vocab * shape["embd"] * OUTPUT_BYTES_PER_WEIGHT.get(quant, 210 / 256.0)
    repeating = max(llm["size_bytes"] - embedding - output, 0) / shape["blocks"]
    return repeating, output


def breakdown(llm, context, on_gpu=False):
    """``expected.predicted.memory`` for every layer in one place (RAM, or one card), or None without keys."""
    shape = model_shape(llm)
    if shape is None:
        return None
    weights = int(llm["size_bytes"])
    kv = kv_bytes(shape, context)
    compute = compute_bytes(shape, context)
    overhead = GPU_OVERHEAD_BYTES if on_gpu else cpu_overhead_bytes(shape)
    return {
        "context": int(context),
        "weights_bytes": weights,
        "kv_bytes": kv,
        "compute_bytes": compute,
        "overhead_bytes": overhead,
        "total_bytes": weights + kv + compute + overhead,
        "placement": "vram" if on_gpu else "ram",
    }


def layers_that_fit(llm, context, free_bytes_per_card):
    """How many of the ``block_count + 1`` offloadable layers fit on the cards (each card's free bytes).

    Each card pays its context and compute buffer first; the rest holds whole layers (weights and
    KV cache), llama.cpp's split in proportion to free memory rounded down per card.
    """
    shape = model_shape(llm)
    if shape is None:
        return None
    per_layer, output = layer_weight_bytes(llm, shape)
    per_layer += kv_bytes(shape, context, 1)
    fixed = GPU_OVERHEAD_BYTES + compute_bytes(shape, context)
    total = 0
    for free in free_bytes_per_card:
        room = free - fixed
        if room > 0:
            total += int(room // per_layer)
    if total <= shape["blocks"]:
        return total
    # Every repeating layer fits; the output layer goes too when its weights fit beside them.
    spare = sum(max(free - fixed, 0) for free in free_bytes_per_card) - shape["blocks"] * per_layer
    return shape["blocks"] + (1 if spare >= output else 0)


def split(llm, context, gpu_layers):
    """The memory of a split: bytes on the cards and in RAM, for ``gpu_layers`` of ``block_count + 1``."""
    shape = model_shape(llm)
    whole = breakdown(llm, context, on_gpu=True)
    per_layer, output = layer_weight_bytes(llm, shape)
    on_gpu_blocks = min(gpu_layers, shape["blocks"])
    gpu_weights = on_gpu_blocks * per_layer + (output if gpu_layers > shape["blocks"] else 0)
    gpu_kv = kv_bytes(shape, context, on_gpu_blocks)
    vram = int(gpu_weights + gpu_kv + whole["compute_bytes"] + GPU_OVERHEAD_BYTES)
    ram = int(whole["weights_bytes"] - gpu_weights + whole["kv_bytes"] - gpu_kv + whole["compute_bytes"]
              + cpu_overhead_bytes(shape))
    return dict(whole, placement="split", vram_bytes=vram, ram_bytes=ram,
                gpu_weight_share=gpu_weights / float(whole["weights_bytes"]),
                total_bytes=vram + ram)
