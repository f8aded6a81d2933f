"""The Rules as a text, and the legal team's living document built on them.

The Kazakh text of the Rules (``docs/regulation/rules.kk.txt``) is split here into its numbered
paragraphs. The living document says, paragraph by paragraph, which obligations (the ``Правило:``
blocks of the paragraph's feature) the product carries out, which scenarios check each one, how
they last fared, and which diagram elements carry it out — by their names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import InvalidInput

#: The paragraphs of the Rules in the order they are numbered.
PARAGRAPH_NUMBERS = ("1", "2", "3", "4", "5", "6", "7", "7-1", "8", "9", "10")

#: A scenario's last result: it passed, it failed, or the report does not have it.
PASSED, FAILED, NOT_RUN = "passed", "failed", "not run"

_NUMBERED_LINE = re.compile(r"^\s*(\d+(?:-\d+)?)\.\s")


def normalise(text: str) -> str:
    """Runs of whitespace (line breaks, non-breaking spaces) become one space; ends are trimmed."""
    return " ".join(text.split())


def split_paragraphs(text: str) -> dict[str, str]:
    """Paragraph number → its text (number included, whitespace-normalised), from the Rules' plain text.

    The numbered lines are of two kinds: the paragraphs 1., 2., …, 7-1., …, 10. and the chapter
    headings 1., 2., 3. (which may run over several lines). A line starting with the next
    paragraph's number opens that paragraph — unless the next numbered line repeats that number,
    in which case this line is the chapter heading before it ("1. Жалпы ережелер" / "1. Осы …").
    A line starting with the next chapter's number otherwise is a heading: it closes the
    paragraph before it, and it and its continuation lines belong to no paragraph.
    InvalidInput names the paragraphs that cannot be found.
    """
    lines = text.splitlines()
    numbers = [m.group(1) if (m := _NUMBERED_LINE.match(line)) else None for line in lines]
    paragraphs: dict[str, list[str]] = {}
    current: list[str] | None = None
    next_paragraph, next_chapter = 0, 1
    for index, (line, number) in enumerate(zip(lines, numbers, strict=True)):
        expected = PARAGRAPH_NUMBERS[next_paragraph] if next_paragraph < len(PARAGRAPH_NUMBERS) else None
        following = next((n for n in numbers[index + 1:] if n is not None), None)
        is_heading = number == str(next_chapter) and (number != expected or following == number)
        if is_heading:
            next_chapter += 1
            current = None
        elif number is not None and number == expected:
            current = paragraphs.setdefault(number, [])
            next_paragraph += 1
        if current is not None:
            current.append(line)
    missing = [n for n in PARAGRAPH_NUMBERS if n not in paragraphs]
    if missing:
        raise InvalidInput(f"paragraphs not found in the Rules' text: {', '.join(missing)}")
    return {number: normalise("\n".join(body)) for number, body in paragraphs.items()}


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario that checks an obligation, and its result in the last run."""

    name: str
    result: str = NOT_RUN


@dataclass(frozen=True)
class CarryingElement:
    """A diagram element that carries out an obligation, as people know it: its name and its diagram."""

    name: str
    process_id: str
    process_name: str
    element_id: str
    kind: str


@dataclass(frozen=True)
class Obligation:
    """One ``Правило:`` of a paragraph's feature: its scenarios and the elements named under it."""

    title: str
    line: int
    scenarios: tuple[ScenarioResult, ...] = ()
    #: The names written in the rule's ``На схеме:`` lines, in order.
    named: tuple[str, ...] = ()
    #: The elements those names stand for.
    elements: tuple[CarryingElement, ...] = ()
    #: Names that no element of the loaded diagrams has (a broken link to fix).
    unknown: tuple[str, ...] = ()

    @property
    def result(self) -> str:
        """failed if any scenario failed, passed if every one passed, else not run."""
        results = {scenario.result for scenario in self.scenarios}
        if FAILED in results:
            return FAILED
        return PASSED if results == {PASSED} else NOT_RUN

    @property
    def element_names(self) -> tuple[str, ...]:
        """The names of the carrying elements, each once, in the order they are named."""
        return tuple(dict.fromkeys(element.name for element in self.elements))


@dataclass(frozen=True)
class ParagraphObligations:
    """A paragraph of the Rules: its Kazakh text and the obligations of its feature."""

    paragraph: str
    title: str
    kazakh: str
    feature: str
    obligations: tuple[Obligation, ...] = ()

    @property
    def elements(self) -> tuple[CarryingElement, ...]:
        """Every element carrying one of this paragraph's obligations, each once."""
        seen = {(e.process_id, e.element_id): e for o in self.obligations for e in o.elements}
        return tuple(seen.values())


@dataclass(frozen=True)
class Drawing:
    """One diagram drawn as SVG with the elements of a paragraph's obligations highlighted."""

    process_id: str
    name: str
    svg: str


@dataclass(frozen=True)
class LegalDocument:
    """The living document: every paragraph, and when the scenarios' results were recorded."""

    paragraphs: tuple[ParagraphObligations, ...]
    run_at: datetime | None = None

    def broken_links(self) -> list[str]:
        """'§N «rule»: «name»' for every element name that no diagram element has."""
        return [f"{p.paragraph} «{o.title}»: «{name}»"
                for p in self.paragraphs for o in p.obligations for name in o.unknown]

    def unlinked(self) -> list[str]:
        """'§N «rule»' for every obligation that names no diagram element."""
        return [f"{p.paragraph} «{o.title}»" for p in self.paragraphs for o in p.obligations if not o.named]
