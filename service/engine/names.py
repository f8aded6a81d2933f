"""Element names of a diagram in the reader's language.

The diagrams are drawn with Russian names. Other languages come from, in this order:
- a translations file beside the diagram, ``processes/<process_id>.names.toml``::

      [determine_class_and_language]      # the element id
      kk = "Оқыту сыныбы мен тілін анықтау"
      en = "Determine the grade and language of instruction"

- the given fallback table (the web layer passes the staff roles' names, which are the lanes' ids);
- the diagram's own name.

One function reads them (:func:`element_names`) and one writes them into a copy of the diagram's
XML (:func:`with_names`), so the browser's viewer draws the translated names. :func:`named_elements`
lists what needs a translation: every named element people see (messages are channel names such as
``document.receipt``, and ``property`` a data-input placeholder: neither is shown, neither is listed).

The same file holds the texts of the diagram's refusals, under ``[refusals.<key>]`` (``ru``, ``kk``,
``en``, with ``{name}`` placeholders): a script's ``fail_if(condition, "<key>", name=value)`` is
shown to the person in their language (:func:`refusal_texts`, ``scripting.fill_in``); :func:`refusal_keys`
lists the keys a diagram's scripts use.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from .library import BPMN_NS
from .scripting import REFUSAL_KEY

NAMES_SUFFIX = ".names.toml"
#: The language the diagrams are drawn in (their own names); the names files give the others.
DIAGRAM_LANGUAGE = "ru"
#: Named BPMN elements that are never shown to people, so never translated.
UNSHOWN_KINDS = frozenset({"message", "property"})
#: The table of a names file that holds the refusals' texts (not an element id).
REFUSALS_TABLE = "refusals"
#: The elements whose text is diagram code that may call ``fail_if`` (script tasks, pre- and post-scripts).
_SCRIPT_TAGS = frozenset({"script", "preScript", "postScript"})


@dataclass(frozen=True)
class NamedElement:
    """One named element of a diagram, as a translator needs it: id, BPMN type, Russian name."""

    element_id: str
    kind: str
    name: str


def names_file(processes_dir: Path, process_id: str) -> Path:
    """Where the translations of ``process_id``'s element names are kept (they may be absent)."""
    return processes_dir / f"{process_id}{NAMES_SUFFIX}"


def translations(processes_dir: Path, process_id: str) -> dict[str, dict[str, str]]:
    """Element id → {language: name} from the file beside the diagram; {} when none (or unreadable).

    Read once per version of the file (its time and size), so pages may ask for it on every request;
    the table returned is shared: do not change it.
    """
    # a broken file leaves the diagram's own names; `homeschool names missing` reports it
    return _read_once(names_file(processes_dir, process_id), read_names_file)


def _read_once(path: Path, reader: Callable[[Path], dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    """``reader(path)`` once per version of the file (its time and size); {} when absent or unreadable."""
    try:
        stat = path.stat()
    except OSError:
        return {}
    return _read(path, stat.st_mtime_ns, stat.st_size, reader)


@lru_cache(maxsize=512)
def _read(path: Path, _mtime_ns: int, _size: int,
          reader: Callable[[Path], dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    """The parsed file (the time and size only key the cache)."""
    try:
        return reader(path)
    except ValueError:
        return {}


def read_names_file(path: Path) -> dict[str, dict[str, str]]:
    """Element id → {language: name} from a names file; ValueError saying what is wrong if it cannot be read."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    return {element_id: {lang: str(text) for lang, text in names.items() if isinstance(text, str)}
            for element_id, names in table.items() if isinstance(names, dict) and element_id != REFUSALS_TABLE}


def refusal_texts(processes_dir: Path, process_id: str) -> dict[str, dict[str, str]]:
    """Refusal key → {language: text} from the ``[refusals.…]`` tables beside the diagram; {} when none.

    Cached like :func:`translations` (by the file's time and size); do not change the table returned.
    """
    # a broken file: the message is then shown as written; `homeschool names missing` reports the file
    return _read_once(names_file(processes_dir, process_id), read_refusals)


def read_refusals(path: Path) -> dict[str, dict[str, str]]:
    """Refusal key → {language: text} from a names file; ValueError saying what is wrong if it cannot be read."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get(REFUSALS_TABLE, {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    if not isinstance(table, dict):
        raise ValueError(f"{path.name}: '{REFUSALS_TABLE}' must be a table of [{REFUSALS_TABLE}.<key>] tables")
    return {key: {lang: text for lang, text in texts.items() if isinstance(text, str)}
            for key, texts in table.items() if isinstance(texts, dict)}


def refusal_keys(source: bytes) -> list[tuple[str, str]]:
    """(element id, key) for every ``fail_if(…, "<key>")`` of the diagram's scripts whose message looks like a key.

    Only a string literal is seen (a message built at run time is text, never a key); a script
    that does not parse is skipped (the validator reports it).
    """
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    found: list[tuple[str, str]] = []
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).localname not in _SCRIPT_TAGS or not node.text:
            continue
        owner = next((a.get("id") for a in node.iterancestors() if a.get("id")), None)
        try:
            tree = ast.parse(node.text)
        except SyntaxError:
            continue
        for call in ast.walk(tree):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "fail_if"
                    and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant)
                    and isinstance(call.args[1].value, str) and REFUSAL_KEY.match(call.args[1].value)):
                found.append((str(owner), call.args[1].value))
    return found


def element_names(own: Mapping[str, str], language: str, *tables: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Each element's name in ``language``: the first table that has it, else the diagram's own name."""
    names: dict[str, str] = {}
    for element_id, name in own.items():
        for table in tables:
            translated = table.get(element_id, {}).get(language)
            if translated:
                names[element_id] = translated
                break
        else:
            names[element_id] = name
    return names


def diagram_names(source: bytes) -> dict[str, str]:
    """Element id → name for every named BPMN element of the diagram (lanes and pools included)."""
    return dict(_diagram_names(source))


@lru_cache(maxsize=64)
def _diagram_names(source: bytes) -> tuple[tuple[str, str], ...]:
    """The names of one diagram version, parsed once (pages name elements on every request)."""
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    return tuple((str(node.get("id")), str(node.get("name"))) for node in root.iter(f"{{{BPMN_NS}}}*")
                 if node.get("id") and node.get("name"))


def named_elements(source: bytes) -> list[NamedElement]:
    """Every element of the diagram that is shown with its name, in document order (the pool first)."""
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    found: list[NamedElement] = []
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        kind = etree.QName(node).localname
        if node.get("id") and node.get("name") and kind not in UNSHOWN_KINDS:
            found.append(NamedElement(node.get("id"), kind, node.get("name")))
    return found


def executable_process_id(source: bytes) -> str | None:
    """The id of the diagram's executable process (its names file is named after it); None if none."""
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    for node in root.iter(f"{{{BPMN_NS}}}process"):
        if node.get("isExecutable", "false") == "true" and node.get("id"):
            return str(node.get("id"))
    return None


def with_names(source: bytes, names: Mapping[str, str]) -> bytes:
    """A copy of the diagram's XML with the given elements renamed (ids and layout untouched)."""
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = node.get("id")
        if element_id in names and node.get("name") is not None:
            node.set("name", names[element_id])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
