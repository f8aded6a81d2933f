"""The languages a child may be taught in at home (§6: the head determines the language of instruction).

Appendix 1 of the Rules is not published; practice (appendices.md) teaches the grade's programme
in Kazakh or Russian, and some schools of Kazakhstan teach in Uzbek, Uyghur, Tajik or English.
Which of these the service offers is a setting (``HOMESCHOOL_INSTRUCTION_LANGUAGES``); this
module knows every language the product can name; documents name them from the documents catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

from service.domain.errors import InvalidInput
from service.domain.phrases import DOCUMENTS, phrase

#: Every language of instruction the product can name (its name on the admission order is
#: ``instruction_language.<code>`` in the documents catalogue; a form names it in its own x-enum-labels).
INSTRUCTION_LANGUAGES: tuple[str, ...] = ("kk", "ru", "uz", "ug", "tg", "en")


def instruction_language_name(code: str, language: str) -> str:
    """The name of the language of instruction ``code`` as a document in ``language`` (kk, ru) prints it.

    A code the product does not know is printed as it is.
    """
    if code not in INSTRUCTION_LANGUAGES:
        return code
    return phrase(f"instruction_language.{code}", language, DOCUMENTS)


#: The default setting: Kazakh and Russian (appendices.md, "The admission order").
DEFAULT_INSTRUCTION_LANGUAGES: tuple[str, ...] = ("kk", "ru")


def instruction_languages(codes: Iterable[str]) -> tuple[str, ...]:
    """The codes as a setting's value, checked: known, none twice, at least one; InvalidInput otherwise."""
    chosen = tuple(codes)
    unknown = [code for code in chosen if code not in INSTRUCTION_LANGUAGES]
    if unknown:
        raise InvalidInput(f"unknown language of instruction {unknown[0]!r}; "
                           f"known: {', '.join(INSTRUCTION_LANGUAGES)}")
    if not chosen:
        raise InvalidInput("at least one language of instruction is needed")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput(f"a language of instruction is named twice in {', '.join(chosen)}")
    return chosen
