"""The features quote the Rules verbatim: each feature's `> ` lines are exactly its paragraph of
rules.kk.txt (whitespace aside), there is one feature per paragraph §1–§10 and §7-1, every
feature is written in Russian Gherkin and its title cites its paragraph."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.domain.errors import InvalidInput
from service.domain.regulation import PARAGRAPH_NUMBERS, normalise, split_paragraphs

from .support import PROJECT

RULES = PROJECT / "docs" / "regulation" / "rules.kk.txt"
FEATURES = PROJECT / "features"

#: The paragraphs that must each have exactly one feature: all of them.
FEATURED = PARAGRAPH_NUMBERS

_TITLE = re.compile(r"^\s*Функция:\s*(.*)$")
_TITLE_PARAGRAPH = re.compile(r"^§(\d+(?:-\d+)?)(?!\d|-\d)")
_BODY_START = re.compile(r"^\s*(Правило|Пример|Сценарий|Предыстория|Структура сценария)\s*:")


def feature_title(path: Path) -> str:
    """The text after `Функция:`."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _TITLE.match(line):
            return match.group(1).strip()
    raise AssertionError(f"{path.name}: no 'Функция:' line")


def feature_quote(path: Path) -> str:
    """The `> ` lines of the feature's description, without the marks, whitespace-normalised."""
    quoted: list[str] = []
    in_description = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _TITLE.match(line):
            in_description = True
            continue
        if in_description and _BODY_START.match(line):
            break
        stripped = line.strip()
        if in_description and (stripped == ">" or stripped.startswith("> ")):
            quoted.append(stripped[1:])
    return normalise("\n".join(quoted))


def cited_paragraph(title: str) -> str | None:
    """The paragraph a title cites at its start, e.g. '§7-1 — …' → '7-1'."""
    match = _TITLE_PARAGRAPH.match(title)
    return match.group(1) if match else None


def quote_matches(quote: str, paragraph: str) -> bool:
    """Whether a quote is the paragraph's text, whitespace aside."""
    return normalise(quote) == normalise(paragraph)


@pytest.fixture(scope="module")
def paragraphs() -> dict[str, str]:
    return split_paragraphs(RULES.read_text(encoding="utf-8"))


def feature_files() -> list[Path]:
    return sorted(FEATURES.glob("*.feature"))


def test_a_text_without_every_paragraph_is_refused_naming_where_it_stops() -> None:
    """Paragraphs are found in order, so the first one missing and every one after it are named."""
    text = RULES.read_text(encoding="utf-8")
    without_7_1 = "\n".join(line for line in text.splitlines() if not line.startswith("7-1. "))
    with pytest.raises(InvalidInput, match="paragraphs not found in the Rules' text: 7-1, 8, 9, 10$"):
        split_paragraphs(without_7_1)


def test_the_parser_finds_every_paragraph_and_no_heading(paragraphs: dict[str, str]) -> None:
    assert list(paragraphs) == list(PARAGRAPH_NUMBERS)
    assert paragraphs["1"].startswith("1. Осы ") and paragraphs["1"].endswith("айқындайды.")
    assert paragraphs["3"].endswith("көрсетеді.")  # the heading of chapter 2 is not part of §3
    assert paragraphs["7-1"].startswith("7-1. ") and paragraphs["7-1"].endswith("төрт сағатты құрайды.")
    assert paragraphs["8"].endswith("қамтамасыз етеді.")  # nor is the heading of chapter 3 part of §8
    assert paragraphs["9"].startswith("9. Көрсетілетін қызметті алушының орталық мемлекеттік органның")
    # The page break inside §9 (blank lines, then the last words of its third sentence) is part of it.
    assert "туралы хабарлайды. ұзарту себептерін көрсету. Мемлекеттік қызметтер көрсету мәселелері" in paragraphs["9"]
    assert paragraphs["9"].endswith("шағым жібермеуге құқылы.")
    assert paragraphs["10"] == (
        "10. Мемлекеттік қызметті көрсету нәтижелерімен келіспеген жағдайларда көрсетілетін қызметті алушы "
        "Қазақстан Республикасының заңнамасында белгіленген тәртіппен сотқа жүгінуге құқылы."
    )
    assert "Жалпы ережелер" not in " ".join(paragraphs.values())
    assert "шағымдану тәртібі" not in " ".join(paragraphs.values())  # the heading of chapter 3 belongs to none


def test_one_feature_per_paragraph() -> None:
    cited = [cited_paragraph(feature_title(path)) for path in feature_files()]
    assert sorted(c or "?" for c in cited) == sorted(FEATURED), dict(zip(map(str, feature_files()), cited, strict=True))


@pytest.mark.parametrize("path", feature_files(), ids=lambda p: p.name)
def test_feature_is_russian_gherkin_citing_its_paragraph(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.strip() == "# language: ru", f"{path.name}: the first line must be '# language: ru'"
    assert cited_paragraph(feature_title(path)) in FEATURED, f"{path.name}: the title must start with §N"


@pytest.mark.parametrize("path", feature_files(), ids=lambda p: p.name)
def test_feature_quotes_its_paragraph_verbatim(path: Path, paragraphs: dict[str, str]) -> None:
    number = cited_paragraph(feature_title(path))
    assert number is not None
    quote = feature_quote(path)
    expected = paragraphs[number]
    if not quote_matches(quote, expected):
        words, want = quote.split(), expected.split()
        at = next((i for i, (a, b) in enumerate(zip(words, want, strict=False)) if a != b), min(len(words), len(want)))
        pytest.fail(
            f"{path.name}: the quote differs from §{number} of {RULES.name} at word {at + 1}: "
            f"quoted {' '.join(words[at:at + 6])!r}, the Rules say {' '.join(want[at:at + 6])!r}"
        )


@pytest.mark.parametrize("path", feature_files(), ids=lambda p: p.name)
def test_one_changed_word_is_caught(path: Path, paragraphs: dict[str, str]) -> None:
    """The comparison is strict: changing any single word of the quote makes it fail."""
    number = cited_paragraph(feature_title(path))
    assert number is not None
    words = feature_quote(path).split()
    for index in (0, len(words) // 2, len(words) - 1):
        changed = [*words[:index], words[index] + "х", *words[index + 1:]]
        assert not quote_matches(" ".join(changed), paragraphs[number])
    assert not quote_matches(" ".join(words[:-1]), paragraphs[number])  # nor may a word be left out


def features_citing(number: str) -> list[Path]:
    """The feature files whose title cites paragraph ``number``."""
    return [path for path in feature_files() if cited_paragraph(feature_title(path)) == number]


@pytest.mark.parametrize("number", ["9", "10"])
def test_every_word_of_the_complaint_paragraphs_is_checked(number: str, paragraphs: dict[str, str]) -> None:
    """§9 and §10 (complaints, court): a change to any one word of the quote, or a word left out, is caught."""
    [path] = features_citing(number)
    words = feature_quote(path).split()
    assert quote_matches(" ".join(words), paragraphs[number])
    for index in range(len(words)):
        changed = [*words[:index], words[index] + "х", *words[index + 1:]]
        assert not quote_matches(" ".join(changed), paragraphs[number]), f"{path.name}: word {index + 1}"
        missing = [*words[:index], *words[index + 1:]]
        assert not quote_matches(" ".join(missing), paragraphs[number]), f"{path.name}: word {index + 1} left out"


def test_the_words_after_the_page_break_must_be_quoted(paragraphs: dict[str, str]) -> None:
    """A §9 quote that stops at the page break («… хабарлайды.») does not match the paragraph."""
    [path] = features_citing("9")
    quote = feature_quote(path)
    assert "ұзарту себептерін көрсету." in quote
    assert not quote_matches(quote.replace(" ұзарту себептерін көрсету.", "", 1), paragraphs["9"])
