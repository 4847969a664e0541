# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model formats by name: which check a file of each format gets, and where its files lie.

The checks live in one file per format, read headers only and never load a model:

* ``gguf_header``: the whole GGUF header (``check_gguf``);
* ``piper_files``: a Piper voice's ONNX model and JSON config (``check_piper_onnx``, ``check_piper_config``);
* ``vosk_zip``: a Vosk model zip, inspected without extracting it, then unpacked safely;
* ``model_layout``: the part file, the controller push and the Vosk marker beside ``dest``;
* ``format_sniff``: what the first bytes of a file that is not the format are, in words.

Each ``check_*`` function returns ``None`` when the file looks right, or one plain sentence (naming the
file) that says what is wrong. This module names them together for the callers that pick by format.

Runs on managed hosts: standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.voiceagent.models.plugins.module_utils._transfer.format_sniff import describe_start
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.gguf_header import (
    GGML_BLOCK_SIZES,
    GGUF_DEFAULT_ALIGNMENT,
    check_gguf,
)
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.model_layout import (
    VOSK_FOLDERS,
    VOSK_MARKER,
    ZIP_PEAK_FACTOR,
    controller_part_path,
    missing_vosk_folder,
    part_path,
    read_marker,
)
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.piper_files import (
    check_piper_config,
    check_piper_onnx,
)
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.vosk_zip import (
    extract_vosk_zip,
    inspect_vosk_zip,
    member_problem,
)

__all__ = [
    "FILE_CHECKS", "GGML_BLOCK_SIZES", "GGUF_DEFAULT_ALIGNMENT", "VOSK_FOLDERS", "VOSK_MARKER", "ZIP_PEAK_FACTOR",
    "check_gguf", "check_piper_config", "check_piper_onnx", "controller_part_path", "describe_start",
    "extract_vosk_zip", "inspect_vosk_zip", "member_problem", "missing_vosk_folder", "part_path", "read_marker",
]

# The header check of each single-file format (a Vosk zip is inspected with inspect_vosk_zip instead).
FILE_CHECKS = {
    "gguf": check_gguf,
    "piper-onnx": check_piper_onnx,
    "piper-config": check_piper_config,
}
