# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Memory bandwidth of GPUs by the name nvidia-smi or rocm-smi prints: data and one lookup.

Each row: the card's peak memory bandwidth in GB/s as its maker states it, and where that figure
is published. Names are matched without case, without the "NVIDIA", "GeForce", "Tesla" and
"AMD Radeon" prefixes and without spaces, dashes and underscores, so "NVIDIA GeForce RTX 4090",
"GeForce RTX 4090" and "RTX 4090" are one key. A card that is not here has no bandwidth: its
GPU tiers get no speed prediction and a warning says so.
"""

import re

_WIKI_NV = "https://en.wikipedia.org/wiki/List_of_Nvidia_graphics_processing_units"
_WIKI_AMD = "https://en.wikipedia.org/wiki/List_of_AMD_graphics_processing_units"
_A100 = "https://www.nvidia.com/en-us/data-center/a100/"
_H100 = "https://www.nvidia.com/en-us/data-center/h100/"

# name as nvidia-smi / rocm-smi prints it -> (GB/s, source)
GPU_BANDWIDTH = {
    "GeForce RTX 3060": (360.0, _WIKI_NV),
    "GeForce RTX 3060 Ti": (448.0, _WIKI_NV),
    "GeForce RTX 3070": (448.0, _WIKI_NV),
    "GeForce RTX 3080": (760.0, _WIKI_NV),
    "GeForce RTX 3090": (936.0, _WIKI_NV),
    "GeForce RTX 3090 Ti": (1008.0, _WIKI_NV),
    "GeForce RTX 4060": (272.0, _WIKI_NV),
    "GeForce RTX 4060 Ti": (288.0, _WIKI_NV),
    "GeForce RTX 4070": (504.0, _WIKI_NV),
    "GeForce RTX 4070 Ti": (504.0, _WIKI_NV),
    "GeForce RTX 4080": (716.8, _WIKI_NV),
    "GeForce RTX 4090": (1008.0, _WIKI_NV),
    "Tesla P40": (346.0, _WIKI_NV),
    "Tesla T4": (320.0, _WIKI_NV),
    "Tesla V100-SXM2-16GB": (900.0, _WIKI_NV),
    "NVIDIA A10": (600.0, _WIKI_NV),
    "NVIDIA L4": (300.0, _WIKI_NV),
    "NVIDIA RTX A6000": (768.0, _WIKI_NV),
    "NVIDIA A100-SXM4-40GB": (1555.0, _A100),
    "NVIDIA A100-PCIE-40GB": (1555.0, _A100),
    "NVIDIA A100-SXM4-80GB": (2039.0, _A100),
    "NVIDIA A100 80GB PCIe": (1935.0, _A100),
    "NVIDIA H100 80GB HBM3": (3350.0, _H100),
    "NVIDIA H100 PCIe": (2000.0, _H100),
    "NVIDIA H100 NVL": (3900.0, _H100),
    "Radeon RX 7900 XTX": (960.0, _WIKI_AMD),
    "Radeon RX 7900 XT": (800.0, _WIKI_AMD),
}

_PREFIXES = ("nvidia", "geforce", "tesla", "amd", "radeon")


def name_key(name):
    """The lookup key of a GPU name: lower case, without vendor prefixes and separators."""
    words = re.split(r"[\s_]+", (name or "").strip().lower())
    while words and words[0] in _PREFIXES:
        words = words[1:]
    return re.sub(r"[\s\-_]+", "", "".join(words))


_BY_KEY = dict((name_key(name), (name, row)) for name, row in GPU_BANDWIDTH.items())


def bandwidth_for(name):
    """(GB/s, table name, source) for a card's name, or None when the table lacks it."""
    found = _BY_KEY.get(name_key(name))
    if not found:
        return None
    table_name, (gbps, source) = found
    return gbps, table_name, source
