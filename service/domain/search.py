"""Finding a case by what staff know of it: its number, an IIN, or the start of a person's name.

The people a case is about are copied out of its data when the case is written (see
``service/application/case_index.py``), so a search reads one narrow, indexed table and never a
workflow. Names are compared folded (lower case, ``ё`` as ``е``, spaces collapsed); an IIN is
twelve digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Where a case's data keeps the child and the person who applied or complained.
CHILD_KEYS = ("child",)
APPLICANT_KEYS = ("applicant", "complainant")
#: The longest name or number kept for search (longer text is cut, never refused).
MAX_TEXT = 200
#: A name search needs at least this many letters (fewer would match half the register).
MIN_NAME_LETTERS = 2

_IIN = re.compile(r"^\d{12}$")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """A name as compared in search: lower case, ``ё`` as ``е``, single spaces, trimmed."""
    return _SPACES.sub(" ", text.replace("ё", "е").replace("Ё", "Е").strip()).lower()[:MAX_TEXT]


@dataclass(frozen=True)
class CasePeople:
    """The child a case is about and the person who applied (or complained), as shown and as searched."""

    child_name: str = ""
    child_iin: str = ""
    applicant_name: str = ""
    applicant_iin: str = ""

    @property
    def child_key(self) -> str:
        """The child's name folded for search."""
        return fold(self.child_name)

    @property
    def applicant_key(self) -> str:
        """The applicant's name folded for search."""
        return fold(self.applicant_name)


def people_in(data: Mapping[str, Any]) -> CasePeople:
    """The child and applicant named in a case's data, at its top level or one level down (e.g. ``request``)."""
    child = _person(data, CHILD_KEYS)
    applicant = _person(data, APPLICANT_KEYS)
    return CasePeople(
        child_name=_text(child.get("full_name")), child_iin=_iin(child.get("iin")),
        applicant_name=_text(applicant.get("full_name")), applicant_iin=_iin(applicant.get("iin")),
    )


def _person(data: Mapping[str, Any], keys: tuple[str, ...]) -> Mapping[str, Any]:
    places = [data, *(value for value in data.values() if type(value) is dict or isinstance(value, Mapping))]
    for place in places:
        for key in keys:
            found = place.get(key)
            if isinstance(found, Mapping) and (found.get("full_name") or found.get("iin")):
                return found
    return {}


def _text(value: object) -> str:
    return _SPACES.sub(" ", value.strip())[:MAX_TEXT] if isinstance(value, str) else ""


def _iin(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return text if _IIN.match(text) else ""


@dataclass(frozen=True)
class CaseQuery:
    """What a person typed in the search box, understood: an IIN, a case number, or a name's beginning."""

    iin: str | None = None
    number: str | None = None
    name: str | None = None

    @property
    def personal(self) -> bool:
        """Whether the search looks for a person (so only those who may see people can run it)."""
        return self.iin is not None or self.name is not None


def parse_query(text: str | None) -> CaseQuery | None:
    """Understand a search: twelve digits are an IIN, text with a digit is a case number, else a name.

    None when there is nothing to search for (empty, or a name shorter than two letters).
    """
    typed = _SPACES.sub(" ", (text or "").strip())[:MAX_TEXT]
    if not typed:
        return None
    if _IIN.match(typed):
        return CaseQuery(iin=typed)
    if any(ch.isdigit() for ch in typed):
        return CaseQuery(number=typed.upper())
    folded = fold(typed)
    if sum(ch.isalpha() for ch in folded) < MIN_NAME_LETTERS:
        return None
    return CaseQuery(name=folded)
