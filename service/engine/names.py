"""Element names of a diagram in the reader's language.

The diagrams are drawn with Russian names. Other languages come from, in this order:
- a translations file beside the diagram, ``processes/<process_id>.names.toml``::

      [determine_class_and_language]      # the element id
      kk = "Оқыту сыныбы мен тілін анықтау"
      en = "Determine the grade and language of instruction"

- the given fallback table (the web layer passes the staff roles' names, which are the lanes' ids);
- the diagram's own name.

One function reads them (:func:`element_names`) and one writes them into a copy of the diagram's
XML (:func:`with_names`), so the browser's viewer draws the translated names.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from lxml import etree

from .library import BPMN_NS

NAMES_SUFFIX = ".names.toml"


def names_file(processes_dir: Path, process_id: str) -> Path:
    """Where the translations of ``process_id``'s element names are kept (they may be absent)."""
    return processes_dir / f"{process_id}{NAMES_SUFFIX}"


def translations(processes_dir: Path, process_id: str) -> dict[str, dict[str, str]]:
    """Element id → {language: name} from the file beside the diagram; {} when none (or unreadable)."""
    path = names_file(processes_dir, process_id)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # a missing or broken file leaves the diagram's own names; validation reports it
    return {element_id: {lang: str(text) for lang, text in names.items() if isinstance(text, str)}
            for element_id, names in table.items() if isinstance(names, dict)}


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
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    return {node.get("id"): node.get("name") for node in root.iter(f"{{{BPMN_NS}}}*")
            if node.get("id") and node.get("name")}


def with_names(source: bytes, names: Mapping[str, str]) -> bytes:
    """A copy of the diagram's XML with the given elements renamed (ids and layout untouched)."""
    root = etree.fromstring(source, etree.XMLParser(resolve_entities=False, no_network=True))
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = node.get("id")
        if element_id in names and node.get("name") is not None:
            node.set("name", names[element_id])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
