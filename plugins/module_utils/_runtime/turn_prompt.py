# -*- coding: utf-8 -*-
# Copyright: (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The turn check's conversation: the agent's voice preamble, a system prompt, facts to grow it to the
wanted length, two earlier turns and the caller's sentence (in each of the agent's languages). The
module sends it to turn_engine in the request, so the engine script the runtime runs stays small."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

SENTENCE = "Hello, I would like to book a table for two people tomorrow evening at seven o'clock."
# The caller's sentence in each language the agent's installer offers (docs/languages.md), numbers in
# words: the voice speaks the one of its own language, so the transcript is checked in the host's language.
SENTENCES = {
    "en": SENTENCE,
    "es": "Hola, quisiera reservar una mesa para dos personas mañana por la noche a las siete.",
    "fr": "Bonjour, je voudrais réserver une table pour deux personnes demain soir à sept heures.",
    "de": "Hallo, ich möchte einen Tisch für zwei Personen für morgen Abend um sieben Uhr reservieren.",
    "it": "Buongiorno, vorrei prenotare un tavolo per due persone domani sera alle sette.",
    "pt": "Olá, gostaria de reservar uma mesa para duas pessoas amanhã à noite às sete horas.",
    "nl": "Hallo, ik wil graag een tafel reserveren voor twee personen morgenavond om zeven uur.",
    "ru": "Здравствуйте, я хотел бы заказать столик на двоих завтра вечером в семь часов.",
    "pl": "Dzień dobry, chciałbym zarezerwować stolik dla dwóch osób na jutro na siódmą wieczorem.",
    "zh": "你好，我想预订一张明天晚上七点的两人桌。",
    "ja": "こんにちは、明日の夜七時に二人でテーブルを予約したいです。",
    "ko": "안녕하세요, 내일 저녁 일곱 시에 두 명 자리를 예약하고 싶습니다.",
    "hi": "नमस्ते, मैं कल शाम सात बजे दो लोगों के लिए एक टेबल बुक करना चाहता हूँ।",
    "ar": "مرحبا، أود حجز طاولة لشخصين مساء الغد في الساعة السابعة.",
    "tr": "Merhaba, yarın akşam saat yedide iki kişilik bir masa ayırtmak istiyorum.",
}

PREAMBLE = (
    "You are speaking with a caller on the telephone. Your words are turned into speech, so answer in one or "
    "two short sentences of plain spoken language: no lists, no markdown, no emojis, no abbreviations that "
    "cannot be read aloud. If you did not understand the caller, ask them to repeat. Never invent facts you "
    "were not given.")
SYSTEM_PROMPT = (
    "You are the receptionist of Rosa's Trattoria, an Italian restaurant at 12 Harbour Street. You take table "
    "bookings, answer questions about the menu and opening hours, and pass other requests to the staff.")
# Facts added to the system prompt, in order, until the prompt reaches the wanted length.
FACTS = (
    "We open from Tuesday to Sunday, noon to three and six to eleven in the evening; on Mondays we are closed.",
    "A table for up to six people can be booked by phone; larger groups must speak with the manager, Marco.",
    "Bookings are held for fifteen minutes after the agreed time, then the table is given to waiting guests.",
    "The menu has vegetarian and vegan dishes every day, and gluten free pasta on request at no extra cost.",
    "The terrace is open from May to September and cannot be booked in advance; it is first come, first served.",
    "We take cards and cash; we do not take cheques. Service is not included in the prices on the menu.",
    "Parking is free after six in the evening in the public car park behind the restaurant, on Mill Lane.",
    "Children are welcome; high chairs are available and there is a children's menu until eight o'clock.",
    "Dogs are allowed on the terrace but not inside, except assistance dogs, which are welcome everywhere.",
    "Private dining for special events seats up to twenty people in the upstairs room, with a set menu.",
    "The kitchen closes thirty minutes before the restaurant; the last booking is at ten in the evening.",
    "Takeaway orders are taken by phone from five in the evening and are ready in about twenty minutes.",
    "Gift vouchers are sold at the restaurant in amounts of twenty five, fifty and one hundred euros.",
    "The wine list has thirty Italian wines; a bottle brought by the guest costs fifteen euros corkage.",
    "Allergies must be mentioned when booking so the kitchen can prepare; staff will confirm every dish.",
    "On public holidays the restaurant keeps its Sunday hours and the set lunch menu is not served.",
)
EARLIER_TURNS = (
    ("Hi, are you open on Sunday?", "Yes, on Sunday we are open from noon to three and from six to eleven."),
    ("Do you have anything vegetarian?", "We do: there are vegetarian and vegan dishes on the menu every day."),
)


def prompt():
    """The parts turn_engine.messages() builds the chat from (plain JSON types)."""
    return {"preamble": PREAMBLE, "system": SYSTEM_PROMPT, "facts": list(FACTS),
            "earlier_turns": [list(turn) for turn in EARLIER_TURNS], "sentence": SENTENCE,
            "sentences": dict(SENTENCES)}
