"""Stand-ins of vosk, piper and llama_cpp for the turn check's unit tests: a runtime Python in seconds.

``make_runtime(folder)`` writes the three packages (with dist-info, so their versions read like
the real ones) and a ``python`` wrapper that runs this interpreter with them on its path. The
engines behave like the real ones where the turn check depends on it:

* ``vosk.Model`` fails like libvosk ("Failed to create a model") without ``conf/`` and logs an
  ERROR line on fd 2; the recognizer returns the text of ``<model>/heard.txt``, else the turn check's sentence;
* ``PiperVoice.load`` reads the ``.onnx.json``; the session's inputs are ``input, input_lengths,
  scales`` (+ ``sid`` when the ``.onnx`` holds ``multi``); each phrase gives 0.05 s of audio per word;
* ``llama_cpp.Llama`` fails like llama.cpp ("Failed to load model from file") on a file that does
  not start with GGUF, holds ``no tensors``, or whose path holds $FAKE_LLAMA_REFUSE; it streams
  ``REPLY`` word by word.

``without`` leaves packages out, for a runtime that lacks an engine.
"""
import os
import sys
import textwrap

REPLY = "Of course. A table for two tomorrow at seven is booked, under which name?"

VOSK = '''
import json, os, sys
HEARD = "hello i would like to book a table for two people tomorrow evening at seven o'clock"
_level = 0
def SetLogLevel(level):
    global _level
    _level = level
class Model(object):
    def __init__(self, path):
        if not os.path.isdir(os.path.join(path, "conf")):
            os.write(2, b"ERROR (VoskAPI:Model():model.cc:122) Folder '%s' does not contain model files.\\n" % path.encode())
            raise Exception("Failed to create a model")
        self.path = path
class KaldiRecognizer(object):
    def __init__(self, model, rate):
        self.model, self.rate, self.bytes = model, rate, 0
    def AcceptWaveform(self, data):
        self.bytes += len(data)
        return False
    def Result(self):
        return json.dumps({"text": ""})
    def FinalResult(self):
        heard = os.path.join(self.model.path, "heard.txt")
        text = open(heard).read().strip() if os.path.exists(heard) else HEARD
        return json.dumps({"text": text})
'''

PIPER = '''
import json
class _Input(object):
    def __init__(self, name):
        self.name = name
class _Session(object):
    def __init__(self, names):
        self._names = names
    def get_inputs(self):
        return [_Input(n) for n in self._names]
class _Config(object):
    def __init__(self, data):
        self.sample_rate = data["audio"]["sample_rate"]
class AudioChunk(object):
    def __init__(self, audio, rate):
        self.audio_int16_bytes, self.sample_rate = audio, rate
class PiperVoice(object):
    def __init__(self, data, names):
        self.config, self.session = _Config(data), _Session(names)
    @staticmethod
    def load(model_path, config_path=None, **kwargs):
        with open(config_path or model_path + ".json") as handle:
            data = json.load(handle)
        model = open(model_path, "rb").read()
        names = ["input", "input_lengths", "scales"] + (["sid"] if b"multi" in model else [])
        return PiperVoice(data, names)
    def synthesize(self, text):
        count = len(text.split())
        yield AudioChunk(b"\\x01\\x00" * int(self.config.sample_rate * 0.05 * count), self.config.sample_rate)
'''

LLAMA = '''
import os
import time
REPLY = %r
class Llama(object):
    def __init__(self, model_path, n_ctx=512, n_threads=1, n_gpu_layers=0, chat_format=None, verbose=True):
        data = open(model_path, "rb").read()
        refuse = os.environ.get("FAKE_LLAMA_REFUSE")
        if not data.startswith(b"GGUF") or b"no tensors" in data or (refuse and refuse in model_path):
            os.write(2, b"llama_model_load: error loading model: missing tensor 'token_embd.weight'\\n")
            raise ValueError("Failed to load model from file: %%s" %% model_path)
        self.n_ctx, self.chat_format = n_ctx, chat_format
        self.verbose = verbose
    def tokenize(self, text, add_bos=True, special=False):
        return list(range(len(text.split()) + (1 if add_bos else 0)))
    def reset(self):
        pass
    def _stream(self, max_tokens, key):
        # FAKE_LLAMA_TOKEN_SEC: a slow LLM, for a measured turn that breaks the tier's promise.
        pause = float(os.environ.get("FAKE_LLAMA_TOKEN_SEC") or 0.001)
        for index, word in enumerate(REPLY.split(" ")[:max_tokens]):
            time.sleep(pause)
            piece = (" " if index else "") + word
            yield {"choices": [{key: ({"content": piece} if key == "delta" else piece)}]}
    def create_chat_completion(self, messages, max_tokens=16, stream=False, stop=None, temperature=0.0):
        self.last_messages = messages
        return self._stream(max_tokens, "delta")
    def create_completion(self, prompt, max_tokens=16, stream=False, stop=None, temperature=0.0):
        return self._stream(max_tokens, "text")
''' % REPLY

PACKAGES = {"vosk": ("vosk", VOSK), "piper": ("piper-tts", PIPER), "llama_cpp": ("llama-cpp-python", LLAMA)}


def make_runtime(folder, without=()):
    """Write the fake engines under ``folder``; return the path of a ``python`` that sees them."""
    site = os.path.join(str(folder), "site")
    os.makedirs(site)
    for name, (dist, source) in PACKAGES.items():
        if name in without:
            continue
        os.makedirs(os.path.join(site, name))
        with open(os.path.join(site, name, "__init__.py"), "w") as handle:
            handle.write(textwrap.dedent(source))
        info = os.path.join(site, "%s-9.9.9.dist-info" % dist.replace("-", "_"))
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as handle:
            handle.write("Metadata-Version: 2.1\nName: %s\nVersion: 9.9.9\n" % dist)
    python = os.path.join(str(folder), "python")
    with open(python, "w") as handle:
        handle.write('#!/bin/sh\nPYTHONPATH="%s" exec "%s" "$@"\n' % (site, sys.executable))
    os.chmod(python, 0o755)
    return python


def make_models(folder, voice_config=None, gguf=b"GGUF\x03\x00\x00\x00 weights", speakers=1):
    """A Vosk-shaped folder, a voice with its config and a GGUF under ``folder``; returns their paths."""
    folder = str(folder)
    stt = os.path.join(folder, "stt", "vosk-model-small-en-us-0.15")
    os.makedirs(os.path.join(stt, "conf"))
    os.makedirs(os.path.join(stt, "am"))
    with open(os.path.join(stt, "conf", "mfcc.conf"), "w") as handle:
        handle.write("--use-energy=false\n--sample-frequency=16000\n")
    os.makedirs(os.path.join(folder, "tts"))
    tts = os.path.join(folder, "tts", "en_US-test-medium.onnx")
    with open(tts, "wb") as handle:
        handle.write(b"onnx single" if speakers == 1 else b"onnx multi")
    config = voice_config or {"audio": {"sample_rate": 22050}, "num_speakers": speakers, "num_symbols": 256,
                              "language": {"code": "en_US"}, "espeak": {"voice": "en-us"},
                              "phoneme_id_map": {"a": [14], "b": [15]}}
    import json
    with open(tts + ".json", "w") as handle:
        json.dump(config, handle)
    os.makedirs(os.path.join(folder, "llm"))
    llm = os.path.join(folder, "llm", "model.gguf")
    with open(llm, "wb") as handle:
        handle.write(gguf)
    return {"stt": stt, "tts": tts, "llm": llm}
