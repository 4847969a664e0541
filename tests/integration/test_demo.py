"""`make demo` runs site.yml twice on localhost against the built-in mirror, with no internet."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_demo_provisions_then_changes_nothing():
    proc = subprocess.run([sys.executable, str(ROOT / "demo" / "run_demo.py")], capture_output=True, text=True,
                          cwd=str(ROOT), check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recaps = [line for line in proc.stdout.splitlines() if line.startswith("localhost ") and "ok=" in line]
    assert len(recaps) == 2 and all("failed=0" in line for line in recaps)
    # Four files on the first run, no request at all on the second.
    assert "Mirror requests: 4." in proc.stdout
    assert "| localhost | ok | LIGHT_CPU | auto |" in proc.stdout
    env = (ROOT / ".demo" / "install" / ".env").read_text()
    assert "ASTERISK_ARI_PASSWORD='p|ss&word with spaces'\n" in env
    assert "LOCAL_LLM_MODEL_PATH=/app/models/llm/tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf\n" in env
