"""The turn check's real runtime (.venv-runtime, `make runtime-venv`) for the integration tests that need it.

A test marked with ``requires_runtime`` skips when the runtime is absent, unless VOICEAGENT_REQUIRE_RUNTIME
is set (`make integration` and `make test-turn-check` set it): there a missing runtime fails the test.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNTIME = pathlib.Path(os.environ.get("VOICEAGENT_RUNTIME_PYTHON", str(ROOT / ".venv-runtime" / "bin" / "python")))


def ready():
    """Whether the runtime's Python imports the three engines."""
    if not RUNTIME.exists():
        return False
    return subprocess.run([str(RUNTIME), "-c", "import vosk, piper, llama_cpp"], capture_output=True,
                          check=False).returncode == 0


requires_runtime = pytest.mark.skipif(
    not ready() and not os.environ.get("VOICEAGENT_REQUIRE_RUNTIME"),
    reason="no runtime at %s: make runtime-venv (make integration and make test-turn-check require it)" % RUNTIME)
