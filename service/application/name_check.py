"""Which element names of the diagrams have no translation (``homeschool names missing``).

Every named element people see (see :func:`service.engine.names.named_elements`) needs a Kazakh and
an English name in ``processes/<process_id>.names.toml``; Russian is the diagram's own. An entry
whose element is no longer in the diagram is stale: it translates nothing and is reported too.

A refusal key a script uses (``fail_if(condition, "<key>", …)``) needs its text in Russian, Kazakh
and English under ``[refusals.<key>]`` (reported with the type ``refusal``); a declared refusal no
script uses is stale (``refusals.<key>``). :func:`undeclared_refusals` is the validator's check of
the same: a key used but not declared at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from service.domain.problems import Problem
from service.engine.names import (
    DIAGRAM_LANGUAGE,
    REFUSALS_TABLE,
    executable_process_id,
    named_elements,
    names_file,
    read_names_file,
    read_refusals,
    refusal_keys,
)

#: The languages every name needs besides the diagram's own Russian.
NAME_LANGUAGES = ("kk", "en")


@dataclass(frozen=True)
class MissingName:
    """A named element without its name in one language."""

    process_id: str
    language: str
    element_id: str
    kind: str
    name: str

    def as_dict(self) -> dict[str, str]:
        """For ``--json``."""
        return {"process": self.process_id, "language": self.language, "element_id": self.element_id,
                "type": self.kind, "name_ru": self.name}


@dataclass(frozen=True)
class StaleName:
    """An entry of a names file for an element the diagram no longer has."""

    process_id: str
    element_id: str

    @property
    def is_refusal(self) -> bool:
        """Whether the entry is a declared refusal (``refusals.<key>``) no ``fail_if`` of the diagram uses."""
        return self.element_id.startswith(f"{REFUSALS_TABLE}.")

    def as_dict(self) -> dict[str, str]:
        """For ``--json``."""
        return {"process": self.process_id, "element_id": self.element_id}


@dataclass(frozen=True)
class NamesReport:
    """What is missing, what is stale, and what could not be read, for the processes checked."""

    processes: list[str] = field(default_factory=list)
    missing: list[MissingName] = field(default_factory=list)
    stale: list[StaleName] = field(default_factory=list)
    #: Processes asked for that no diagram defines, and names files or diagrams that cannot be read.
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Nothing missing and nothing unreadable (stale entries are warnings)."""
        return not self.missing and not self.problems


def _diagrams(processes_dir: Path) -> tuple[dict[str, bytes], list[str]]:
    """Process id → diagram source for every ``*.bpmn`` of the folder, and the files that cannot be read."""
    found: dict[str, bytes] = {}
    problems: list[str] = []
    for path in sorted(processes_dir.rglob("*.bpmn")):
        try:
            source = path.read_bytes()
            process_id = executable_process_id(source)
        except (OSError, etree.XMLSyntaxError) as exc:
            problems.append(f"{path.name}: cannot be read ({exc})")
            continue
        if process_id is None:
            problems.append(f"{path.name}: has no executable process")
        else:
            found[process_id] = source
    return found, problems


def missing_names(processes_dir: Path, process_ids: Iterable[str] = (),
                  languages: Sequence[str] = NAME_LANGUAGES) -> NamesReport:
    """Every named element of the diagrams (all, or those of ``process_ids``) without a name per language."""
    diagrams, problems = _diagrams(processes_dir)
    wanted = list(dict.fromkeys(process_ids)) or sorted(diagrams)
    report = NamesReport(processes=[p for p in wanted if p in diagrams], problems=problems)
    report.problems.extend(f"no diagram defines process '{p}'" for p in wanted if p not in diagrams)
    for process_id in report.processes:
        path = names_file(processes_dir, process_id)
        table: dict[str, dict[str, str]] = {}
        refusals: dict[str, dict[str, str]] = {}
        if path.exists():
            try:
                table = read_names_file(path)
                refusals = read_refusals(path)
            except ValueError as exc:
                report.problems.append(str(exc))
        elements = named_elements(diagrams[process_id])
        for language in languages:
            report.missing.extend(
                MissingName(process_id, language, e.element_id, e.kind, e.name) for e in elements
                if not table.get(e.element_id, {}).get(language, "").strip())
        known = {e.element_id for e in elements}
        report.stale.extend(StaleName(process_id, element_id) for element_id in table if element_id not in known)
        _check_refusals(report, process_id, diagrams[process_id], refusals, languages)
    return report


def _check_refusals(report: NamesReport, process_id: str, source: bytes, refusals: dict[str, dict[str, str]],
                    languages: Sequence[str]) -> None:
    """Refusal keys the scripts use without a text per language (Russian too), and declared ones none uses."""
    used: dict[str, str] = {}
    for element_id, key in refusal_keys(source):
        used.setdefault(key, element_id)
    for language in dict.fromkeys((DIAGRAM_LANGUAGE, *languages)):
        report.missing.extend(
            MissingName(process_id, language, key, "refusal",
                        refusals.get(key, {}).get(DIAGRAM_LANGUAGE, "") or f"used by {element_id}")
            for key, element_id in used.items() if not refusals.get(key, {}).get(language, "").strip())
    report.stale.extend(StaleName(process_id, f"{REFUSALS_TABLE}.{key}") for key in refusals if key not in used)


def undeclared_refusals(file: str, source: bytes, folder: Path) -> list[Problem]:
    """A ``fail_if`` key (``^[a-z][a-z0-9_]*$``) the names file beside the diagram does not declare, per use."""
    process_id = executable_process_id(source)
    if process_id is None:
        return []
    path = names_file(folder, process_id)
    try:
        declared = read_refusals(path) if path.exists() else {}
    except ValueError:
        return []  # `homeschool names missing` reports the unreadable file
    return [Problem(file, f"fail_if refuses with '{key}', which looks like a refusal key, but {path.name} "
                    f"declares no [{REFUSALS_TABLE}.{key}]: the person would read the key itself",
                    kind="refusal-undeclared", element_id=element_id,
                    hint=f"add [{REFUSALS_TABLE}.{key}] with ru, kk and en texts to {path.name}, "
                         "or write the message as a sentence")
            for element_id, key in refusal_keys(source) if key not in declared]
