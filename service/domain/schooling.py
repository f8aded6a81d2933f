"""The languages a child may be taught in at home (§6: the head determines the language of instruction).

Appendix 1 of the Rules is not published; practice (appendices.md) teaches the grade's programme
in Kazakh or Russian, and some schools of Kazakhstan teach in Uzbek, Uyghur, Tajik or English.
Which of these the service offers is a setting (``HOMESCHOOL_INSTRUCTION_LANGUAGES``); this
module knows every language the product can name, in the words documents and forms use.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.domain.errors import InvalidInput

#: Every language of instruction the product can name: code → its name in kk, ru and en.
INSTRUCTION_LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "kk": {"kk": "қазақ тілі", "ru": "казахский язык", "en": "Kazakh"},
    "ru": {"kk": "орыс тілі", "ru": "русский язык", "en": "Russian"},
    "uz": {"kk": "өзбек тілі", "ru": "узбекский язык", "en": "Uzbek"},
    "ug": {"kk": "ұйғыр тілі", "ru": "уйгурский язык", "en": "Uyghur"},
    "tg": {"kk": "тәжік тілі", "ru": "таджикский язык", "en": "Tajik"},
    "en": {"kk": "ағылшын тілі", "ru": "английский язык", "en": "English"},
}

#: The default setting: Kazakh and Russian (appendices.md, "The admission order").
DEFAULT_INSTRUCTION_LANGUAGES: tuple[str, ...] = ("kk", "ru")


def instruction_languages(codes: Iterable[str]) -> tuple[str, ...]:
    """The codes as a setting's value, checked: known, none twice, at least one; InvalidInput otherwise."""
    chosen = tuple(codes)
    unknown = [code for code in chosen if code not in INSTRUCTION_LANGUAGE_NAMES]
    if unknown:
        raise InvalidInput(f"unknown language of instruction {unknown[0]!r}; "
                           f"known: {', '.join(INSTRUCTION_LANGUAGE_NAMES)}")
    if not chosen:
        raise InvalidInput("at least one language of instruction is needed")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput(f"a language of instruction is named twice in {', '.join(chosen)}")
    return chosen
