# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One caller turn with the agent's engines, timed. Runs in the runtime's Python, not Ansible's.

turn_runner sends this file's source to ``python3 -`` (in the agent's container, or a Python
that has vosk, piper-tts and llama-cpp-python) with one call appended:
``main(request)`` or ``probe()``. It prints one line, ``MARKER`` + JSON, and nothing else on
stdout; the engines' own logs go to stderr. Standard library only at import time; the engines
are imported inside ``main``, so the module side can import this file for its pure parts.

The turn (docs/turn-check.md):

1. load the Vosk model, the Piper voice and the GGUF, each timed; a load that fails stops the
   check with the model, the runtime and the engine's message (its last log lines included);
2. Piper speaks the request's sentence in the voice's own language (turn_prompt.SENTENCES; English
   when there is none in it): TTS seconds and audio seconds;
3. that audio, resampled to the Vosk model's rate, goes to Vosk in 0.2 s chunks (``listen``): STT
   seconds and the transcript, checked only when the model's language is the voice's and the sentence
   is in it (words, or characters for UNSPACED: zh, ja, ko);
4. the LLM reads a prompt of about ``prompt_tokens`` tokens (voice preamble, system prompt, two
   earlier turns, the caller's words) in the tier's chat format and generates up to
   ``max_tokens`` at the tier's context, threads and GPU layers: prefill seconds, prompt tokens,
   generation tokens/s;
5. the reply is cut into phrases where the agent's streaming TTS would cut it, each phrase is
   spoken, and ``timeline`` places each phrase's TTS after both its last token and the previous
   phrase's audio: ``first_audio_sec`` and ``turn_sec``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import sys
import tempfile
import time
import unicodedata

MARKER = "VOICEAGENT_TURN_CHECK_RESULT "
# Where the agent's streaming TTS starts speaking a phrase.
PHRASE_END = re.compile(r"[.!?;:\n]")
# A transcript must hold at least this share of the sentence's words when the languages match.
MIN_WORD_SHARE = 0.5
STT_CHUNK_SEC = 0.2

# The agent's legacy prompt when LOCAL_LLM_CHAT_FORMAT is empty (Phi-3 style).
LEGACY_TAGS = {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>", "end": "<|end|>"}


def messages(prompt, facts_count):
    """The chat: preamble + system prompt (+ ``facts_count`` facts), the earlier turns, the caller's
    sentence; ``prompt`` is turn_prompt.prompt(), sent in the request."""
    system = " ".join([prompt["preamble"], prompt["system"]] + list(prompt["facts"][:facts_count]))
    out = [{"role": "system", "content": system}]
    for question, answer in prompt["earlier_turns"]:
        out += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    out.append({"role": "user", "content": prompt["sentence"]})
    return out


def legacy_prompt(chat):
    """The agent's raw Phi-style prompt for an empty LOCAL_LLM_CHAT_FORMAT."""
    parts = ["%s\n%s%s\n" % (LEGACY_TAGS[m["role"]], m["content"], LEGACY_TAGS["end"]) for m in chat]
    return "".join(parts) + LEGACY_TAGS["assistant"] + "\n"


def fit_messages(prompt, count_tokens, target, limit):
    """The chat whose text is closest to ``target`` tokens (counted by ``count_tokens``), at most ``limit``."""
    best = messages(prompt, 0)
    for facts in range(len(prompt["facts"]) + 1):
        chat = messages(prompt, facts)
        tokens = count_tokens(chat)
        if tokens > limit:
            break
        best = chat
        if tokens >= target:
            break
    return best


# Compared by characters: languages written without spaces between words (zh, ja), and Korean, whose
# Vosk model breaks words where the sentence does not (예약하고 heard as 예약 하고).
UNSPACED = ("zh", "ja", "ko")
# Spellings a recognizer may choose either way: Russian ё/е, Arabic alef forms, alef maqsura, ta marbuta;
# Arabic short vowel marks (tashkeel) are dropped.
FOLD = dict([(ord(a), b) for a, b in (("ё", "е"), ("آ", "ا"), ("أ", "ا"), ("إ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه"))]
            + [(code, None) for code in range(0x064B, 0x0660)] + [(0x0670, None)])
# Tags that name a language by another code: Vosk's Chinese model is vosk-model-small-cn-0.22, and a Piper
# voice's espeak voice for Mandarin is cmn, while its language code is zh_CN.
LANGUAGE_ALIASES = {"cn": "zh", "cmn": "zh"}


def _letters(text):
    """``text`` in NFKC, lower-cased and folded (FOLD), with everything but letters, digits, combining marks
    (Hindi's vowel signs) and apostrophes turned into spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower().translate(FOLD)
    return "".join(c if c == "'" or unicodedata.category(c)[0] in "LMN" else " " for c in text)


def words(text):
    return [w.strip("'") for w in _letters(text).split() if w.strip("'")]


def characters(text):
    """The letters and digits of ``text`` one by one, spaces and punctuation left out (UNSPACED)."""
    return [c for c in _letters(text) if not c.isspace() and c != "'"]


def word_share(expected, heard, language=None):
    """Share of ``expected``'s distinct words found in ``heard``; of its distinct characters for a
    language written without spaces (UNSPACED), where the recognizer's word breaks are its own."""
    units = characters if language_of(language) in UNSPACED else words
    wanted = set(units(expected))
    if not wanted:
        return 1.0
    return len(wanted & set(units(heard))) / float(len(wanted))


def language_of(tag):
    """``en_US``, ``en-us``, ``vosk-model-small-en-us-0.15`` → ``en``; ``vosk-model-small-cn-0.22``,
    ``zh_CN``, ``cmn`` → ``zh``; None when unknown."""
    if not tag:
        return None
    text = str(tag).lower()
    match = re.match(r"^vosk-model-(?:small-)?([a-z]{2,3})(?:[-_]|$)", os.path.basename(text.rstrip("/")))
    if not match:
        match = re.match(r"^([a-z]{2,3})(?:[-_]|$)", text)
    return LANGUAGE_ALIASES.get(match.group(1), match.group(1)) if match else None


def spoken_sentence(prompt, voice_language):
    """(language, sentence) the voice speaks: the prompt's sentence in the voice's own language when it
    has one, else the English one (``prompt["sentence"]``)."""
    sentences = prompt.get("sentences") or {}
    if voice_language and sentences.get(voice_language):
        return voice_language, sentences[voice_language]
    return "en", sentences.get("en") or prompt["sentence"]


def transcript_checked(stt_language, tts_language, sentence_language):
    """Whether the transcript is held to the sentence: the model hears the language the voice speaks."""
    return bool(stt_language and stt_language == tts_language == sentence_language)


def split_phrases(pieces):
    """``[(text, seconds since the LLM call)]`` streamed pieces → ``[(phrase, seconds it was complete)]``."""
    phrases, current, last = [], "", 0.0
    for text, at in pieces:
        last = at
        for part in re.split(r"(?<=[.!?;:\n])", text):
            if not part:
                continue
            current += part
            if PHRASE_END.search(part[-1:]):
                if current.strip():
                    phrases.append((current.strip(), at))
                current = ""
    if current.strip():
        phrases.append((current.strip(), last))
    return phrases


def timeline(stt_sec, llm_sec, phrases, tts_seconds):
    """(first_audio_sec, turn_sec): each phrase's TTS starts when its last token is out and the previous
    phrase is spoken (the agent speaks while it generates). ``phrases`` as from split_phrases, with
    seconds since the LLM call; ``tts_seconds`` the synthesis time of each phrase."""
    if not phrases:
        return round(stt_sec + llm_sec, 3), round(stt_sec + llm_sec, 3)
    done, first = 0.0, None
    for (_text, ready), spoken in zip(phrases, tts_seconds):
        done = max(done, ready) + spoken
        if first is None:
            first = done
    return round(stt_sec + first, 3), round(stt_sec + max(done, llm_sec), 3)


def resample(samples, rate_in, rate_out):
    """int16 samples (a sequence) from ``rate_in`` to ``rate_out`` by linear interpolation, as a list."""
    if rate_in == rate_out or not samples:
        return list(samples)
    count = int(len(samples) * rate_out / float(rate_in))
    step = rate_in / float(rate_out)
    out = []
    last = len(samples) - 1
    for index in range(count):
        pos = index * step
        left = int(pos)
        right = min(left + 1, last)
        frac = pos - left
        out.append(int(round(samples[left] * (1 - frac) + samples[right] * frac)))
    return out


def vosk_rate(model_dir):
    """The sample rate in the model's conf/mfcc.conf (--sample-frequency), else 16000."""
    try:
        with open(os.path.join(model_dir, "conf", "mfcc.conf")) as handle:
            for line in handle:
                match = re.match(r"\s*--sample-frequency=(\d+)", line)
                if match:
                    return int(match.group(1))
    except (OSError, IOError):
        pass
    return 16000


def piper_mismatch(config, input_names):
    """A sentence when the voice's .onnx.json cannot describe its .onnx, else None."""
    speakers = int(config.get("num_speakers") or 1)
    takes_sid = "sid" in input_names
    if speakers > 1 and not takes_sid:
        return ("its .onnx.json says %d speakers, and the .onnx takes no speaker id: the config belongs to "
                "another voice" % speakers)
    if speakers <= 1 and takes_sid:
        return "the .onnx takes a speaker id, and its .onnx.json says one speaker: the config belongs to another voice"
    symbols = config.get("num_symbols")
    ids = [i for values in (config.get("phoneme_id_map") or {}).values() for i in values]
    if symbols and ids and max(ids) >= int(symbols):
        return ("its .onnx.json maps a phoneme to id %d, beyond its %s symbols: the config belongs to another voice"
                % (max(ids), symbols))
    return None


class Captured(object):
    """Send file descriptor 2 (the engines' C logs) to a temporary file while the block runs."""

    def __enter__(self):
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        return False

    def tail(self, count=4):
        """The last lines that look like errors (or the last lines at all)."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        bad = [line for line in lines if re.search(r"error|fail|invalid|missing|unknown|cannot|exception", line, re.I)]
        return (bad or lines)[-count:]


class TurnCheckError(Exception):
    """A stage failed; ``fields`` says which model, runtime and message."""

    def __init__(self, **fields):
        Exception.__init__(self, fields.get("message"))
        self.fields = fields


def _version(dist):
    try:
        from importlib import metadata
        return metadata.version(dist)
    except Exception:  # noqa: BLE001 - Python < 3.8 or not installed
        pass
    try:
        import pkg_resources
        return pkg_resources.get_distribution(dist).version
    except Exception:  # noqa: BLE001
        return None


ENGINES = (("vosk", "vosk", "stt"), ("piper", "piper-tts", "tts"), ("llama_cpp", "llama-cpp-python", "llm"))


def runtime_info():
    """The Python and the engines' versions (read from the installed distributions, nothing imported)."""
    info = {"python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable}
    for _module, dist, _role in ENGINES:
        info[dist] = _version(dist)
    return info


def import_engines():
    """The three engine modules; TurnCheckError naming every one that does not import."""
    modules, missing = {}, []
    for name, dist, role in ENGINES:
        try:
            modules[name] = __import__(name)
        except Exception as exc:  # noqa: BLE001 - ImportError, or a broken native library
            missing.append((name, dist, role, "%s: %s" % (type(exc).__name__, exc)))
    if missing:
        raise TurnCheckError(
            stage="runtime", runtime=sys.executable, missing=[m[0] for m in missing],
            message="%s cannot import %s" % (sys.executable, "; ".join(
                "%s (%s, for the %s model): %s" % (m[0], m[1], m[2].upper(), m[3]) for m in missing)))
    from piper import PiperVoice  # noqa: F401 - the class the agent uses
    return modules


def _engine_message(error, log):
    """The engine's own words: its exception, and the last lines it logged while failing."""
    tail = log.tail()
    return "%s: %s%s" % (type(error).__name__, error, ("; its log: " + " | ".join(tail)) if tail else "")


def _load(role, model, runtime, loader):
    with Captured() as log:
        try:
            started = time.perf_counter()
            value = loader()
            return value, round(time.perf_counter() - started, 3)
        except Exception as exc:  # noqa: BLE001 - every engine raises its own type
            error = exc
    raise TurnCheckError(stage="load", role=role, model=model, runtime=runtime, message=_engine_message(error, log))


def _synthesize(voice, text):
    """(int16 samples as bytes, sample rate, seconds) for ``text``."""
    started = time.perf_counter()
    chunks = list(voice.synthesize(text))
    seconds = time.perf_counter() - started
    audio = b"".join(chunk.audio_int16_bytes for chunk in chunks)
    rate = chunks[0].sample_rate if chunks else voice.config.sample_rate
    return audio, rate, seconds


def _samples(audio):
    import array
    values = array.array("h")
    values.frombytes(audio)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _pcm(samples):
    import array
    values = array.array("h", [max(-32768, min(32767, s)) for s in samples])
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _transcribe(vosk, model, audio, rate):
    """(text, seconds): ``audio`` (int16 bytes at ``rate``) fed to a KaldiRecognizer in 0.2 s chunks."""
    started = time.perf_counter()
    recognizer = vosk.KaldiRecognizer(model, rate)
    step = int(rate * STT_CHUNK_SEC) * 2
    texts = []
    for offset in range(0, len(audio), step):
        if recognizer.AcceptWaveform(audio[offset:offset + step]):
            texts.append(json.loads(recognizer.Result()).get("text", ""))
    texts.append(json.loads(recognizer.FinalResult()).get("text", ""))
    return " ".join(t for t in texts if t).strip(), time.perf_counter() - started


def listen(vosk, model, samples, rate, stt_rate):
    """(transcript, seconds): int16 ``samples`` (a sequence) at ``rate``, resampled (linear interpolation)
    to the Vosk model's ``stt_rate`` and decoded by ``model``. The turn feeds it Piper's audio; a test
    can feed it any speech."""
    try:
        import numpy
        positions = numpy.arange(int(len(samples) * stt_rate / float(rate))) * (rate / float(stt_rate))
        resampled = numpy.interp(positions, numpy.arange(len(samples)), numpy.asarray(samples, dtype="float64"))
        pcm = numpy.clip(numpy.round(resampled), -32768, 32767).astype("<i2").tobytes()
    except ImportError:
        pcm = _pcm(resample(samples, rate, stt_rate))
    return _transcribe(vosk, model, pcm, stt_rate)


def _perf(llama_cpp, llm):
    """llama.cpp's own counters (prompt ms and tokens, generation ms and tokens), or None."""
    try:
        data = llama_cpp.llama_perf_context(llm._ctx.ctx)
        return {"prompt_ms": data.t_p_eval_ms, "prompt_tokens": data.n_p_eval,
                "gen_ms": data.t_eval_ms, "gen_tokens": data.n_eval}
    except Exception:  # noqa: BLE001 - an older or newer binding without it
        return None


def _generate(llama_cpp, llm, request):
    """Prompt, stream the reply, and time it: returns the LLM figures and the streamed pieces."""
    chat_format = request.get("chat_format") or ""
    limit = int(request["context"]) - int(request["max_tokens"]) - 8
    if chat_format:
        def count(chat):
            return len(llm.tokenize("\n".join(m["content"] for m in chat).encode("utf-8"), add_bos=True)) + 6 * len(chat)
    else:
        def count(chat):
            return len(llm.tokenize(legacy_prompt(chat).encode("utf-8"), add_bos=True))
    chat = fit_messages(request["prompt"], count, int(request["prompt_tokens"]), limit)
    stop = [s for s in (request.get("stop_tokens") or []) if s] or None
    llm.reset()
    try:
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
    except Exception:  # noqa: BLE001
        pass
    started = time.perf_counter()
    if chat_format:
        stream = llm.create_chat_completion(messages=chat, max_tokens=int(request["max_tokens"]), stream=True,
                                            stop=stop, temperature=0.0)
        texts = ((c["choices"][0].get("delta") or {}).get("content") for c in stream)
    else:
        stream = llm.create_completion(legacy_prompt(chat), max_tokens=int(request["max_tokens"]), stream=True,
                                       stop=stop, temperature=0.0)
        texts = (c["choices"][0].get("text") for c in stream)
    pieces, first = [], None
    for text in texts:
        now = time.perf_counter() - started
        if text:
            if first is None:
                first = now
            pieces.append((text, now))
    total = time.perf_counter() - started
    perf = _perf(llama_cpp, llm)
    if perf and perf["prompt_tokens"]:
        prefill, prompt_tokens = perf["prompt_ms"] / 1000.0, int(perf["prompt_tokens"])
        gen_tokens, gen_sec = int(perf["gen_tokens"]), perf["gen_ms"] / 1000.0
        source = "llama.cpp counters"
    else:
        prefill = first if first is not None else total
        prompt_tokens = count(chat)
        gen_tokens, gen_sec = len(pieces), max(total - prefill, 1e-9)
        source = "stream timing"
    return {
        "llm_prefill_sec": round(prefill, 3),
        "llm_prompt_tokens": prompt_tokens,
        "llm_generated_tokens": gen_tokens,
        "llm_tokens_per_sec": round(gen_tokens / gen_sec, 2) if gen_tokens and gen_sec > 0 else None,
        "llm_sec": round(total, 3),
        "llm_timing_source": source,
        "reply": "".join(t for t, _at in pieces).strip(),
    }, pieces


def turn(request, modules):
    """The whole check with imported engine modules; returns the result dict or raises TurnCheckError."""
    vosk, llama_cpp = modules["vosk"], modules["llama_cpp"]
    from piper import PiperVoice
    info = runtime_info()
    runtimes = {
        "stt": "vosk %s" % info.get("vosk"),
        "tts": "piper-tts %s (onnxruntime)" % info.get("piper-tts"),
        "llm": "llama.cpp (llama-cpp-python %s)" % info.get("llama-cpp-python"),
    }
    try:
        vosk.SetLogLevel(-1)
    except Exception:  # noqa: BLE001
        pass
    stt_path, tts_path, llm_path = request["stt_model"], request["tts_model"], request["llm_model"]
    tts_config = request.get("tts_config") or tts_path + ".json"
    loads = {}
    stt_model, loads["stt"] = _load("stt", stt_path, runtimes["stt"], lambda: vosk.Model(stt_path))
    voice, loads["tts"] = _load("tts", tts_path, runtimes["tts"],
                                lambda: PiperVoice.load(tts_path, config_path=tts_config))
    with open(tts_config) as handle:
        config = json.load(handle)
    mismatch = piper_mismatch(config, [i.name for i in voice.session.get_inputs()])
    if mismatch:
        raise TurnCheckError(stage="load", role="tts", model=tts_path, runtime=runtimes["tts"],
                             message="%s (%s)" % (mismatch, tts_config))
    llm_kwargs = dict(model_path=llm_path, n_ctx=int(request["context"]), n_threads=int(request["threads"]),
                      n_gpu_layers=int(request.get("gpu_layers") or 0), verbose=True)
    chat_format = request.get("chat_format") or ""
    if chat_format and chat_format != "auto":
        llm_kwargs["chat_format"] = chat_format
    llm, loads["llm"] = _load("llm", llm_path, runtimes["llm"], lambda: llama_cpp.Llama(**llm_kwargs))
    try:
        llm.verbose = False
    except Exception:  # noqa: BLE001
        pass

    tts_lang = language_of((config.get("language") or {}).get("code") or (config.get("espeak") or {}).get("voice"))
    stt_lang = language_of(request.get("stt_language") or stt_path)
    sentence_lang, sentence = spoken_sentence(request["prompt"], tts_lang)
    error = None
    with Captured() as log:
        try:
            audio, rate, tts_sec = _synthesize(voice, sentence)
        except Exception as exc:  # noqa: BLE001
            audio, error = None, exc
    if not audio:
        raise TurnCheckError(stage="tts", role="tts", model=tts_path, runtime=runtimes["tts"],
                             message="the voice did not speak the sentence: %s" % (
                                 _engine_message(error, log) if error is not None else "no audio"))
    samples = _samples(audio)
    audio_sec = len(samples) / float(rate)
    stt_rate = vosk_rate(stt_path)
    transcript, stt_sec = listen(vosk, stt_model, samples, rate, stt_rate)

    checked = transcript_checked(stt_lang, tts_lang, sentence_lang)
    share = round(word_share(sentence, transcript, sentence_lang), 2)
    if checked and share < MIN_WORD_SHARE:
        raise TurnCheckError(stage="stt", role="stt", model=stt_path, runtime=runtimes["stt"],
                             message="Vosk heard %r for %r (%d %% of its %s; at least %d %% expected)"
                             % (transcript, sentence, share * 100,
                                "characters" if sentence_lang in UNSPACED else "words", MIN_WORD_SHARE * 100))

    with Captured() as log:
        try:
            llm_result, pieces = _generate(llama_cpp, llm, request)
            error = None
        except Exception as exc:  # noqa: BLE001
            error = exc
    if error is not None:
        raise TurnCheckError(stage="llm", role="llm", model=llm_path, runtime=runtimes["llm"],
                             message=_engine_message(error, log))
    phrases = split_phrases(pieces)
    spoken = [_synthesize(voice, text)[2] for text, _ready in phrases]
    first_audio, turn_sec = timeline(stt_sec, llm_result["llm_sec"], phrases, spoken)
    measured = {
        "load_sec": loads,
        "stt_sec": round(stt_sec, 3),
        "stt_rate": stt_rate,
        "transcript": transcript,
        "transcript_checked": checked,
        "transcript_word_share": share,
        "languages": {"stt": stt_lang, "tts": tts_lang},
        "sentence_language": sentence_lang,
        "tts_sec": round(tts_sec, 3),
        "audio_sec": round(audio_sec, 3),
        "tts_rate": rate,
        "first_phrase": phrases[0][0] if phrases else "",
        "first_phrase_tts_sec": round(spoken[0], 3) if spoken else 0.0,
        "phrases": len(phrases),
        "first_audio_sec": first_audio,
        "turn_sec": turn_sec,
        "settings": {"context": int(request["context"]), "max_tokens": int(request["max_tokens"]),
                     "threads": int(request["threads"]), "gpu_layers": int(request.get("gpu_layers") or 0),
                     "chat_format": chat_format, "prompt_tokens_wanted": int(request["prompt_tokens"])},
    }
    measured.update(llm_result)
    return {"ok": True, "runtime": info, "measured": measured}


def emit(result):
    sys.stdout.write(MARKER + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def probe():
    """Print the runtime's versions: what the store key needs before a turn is run."""
    emit({"ok": True, "runtime": runtime_info()})


def main(request):
    """Run the turn check for ``request`` and print the one result line."""
    try:
        with Captured() as log:
            try:
                modules = import_engines()
                error = None
            except TurnCheckError as exc:
                error = exc
        if error is not None:
            raise error
        del log
        result = turn(request, modules)
    except TurnCheckError as exc:
        result = dict(exc.fields, ok=False)
        result.setdefault("runtime_info", runtime_info())
    emit(result)
