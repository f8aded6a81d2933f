"""The case beside the task: the facts a decision depends on, declared per task beside its form.

A task's facts are declared in ``forms/<process>/<task>.context.json`` (no per-task code)::

    {"facts": [
        {"path": "request.child.full_name", "labels": {"kk": "…", "ru": "…", "en": "…"}},
        {"attachments": ["application", "vkk_conclusion"], "labels": {…}}
     ],
     "refusal_field": "extension_days"}

- ``path``: a case variable, dotted into objects; what an upstream form (a start message's form
  under its message variable, or a user task's form) writes there. The writing form's field gives
  the labels of choices and of a list's columns.
- ``attachments``: the scans handed in with the case, of the kinds listed (``"*"``: every kind).
- ``refusal_field``: the field beside which a refusal of the diagram on submit (``fail_if``) is shown;
  ``refusal_labels``: what such a refusal means, in kk/ru/en, shown before the diagram's own words.

Need to know: a fact holding medical data (a path through one of the process's medical fields,
or a restricted kind of scan) is shown only to the roles the ``*.access.toml`` allows; others see
that it is withheld.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from service.domain.model import TaskSummary
from service.domain.staff import Actor
from service.engine.library import Diagram
from service.persistence.repositories import AttachmentInfo
from service.persistence.uow import UnitOfWork

from .access import declaration, may_read_medical
from .attachments import RESTRICTED_KINDS
from .runtime import Runtime

CONTEXT_SUFFIX = ".context.json"
FORM_SUFFIX = ".schema.json"
LANGUAGES = ("kk", "ru", "en")
_BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


class ContextInvalid(ValueError):
    """A context declaration that cannot be read."""


@dataclass(frozen=True)
class FactDeclaration:
    """One fact a task shows: a case variable's path, or the case's scans of some kinds."""

    labels: Mapping[str, str]
    path: str | None = None
    attachment_kinds: frozenset[str] | None = None  # None: not scans; empty: every kind


@dataclass(frozen=True)
class TaskContextDeclaration:
    """What a task page shows beside its form, and where a refusal of the diagram is shown."""

    facts: tuple[FactDeclaration, ...] = ()
    refusal_field: str = ""
    #: What a refusal means, in kk/ru/en, shown before the diagram's own words.
    refusal_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fact:
    """A declared fact as this person may see it."""

    labels: Mapping[str, str]
    path: str
    value: Any = None
    schema: Mapping[str, Any] = field(default_factory=dict)
    attachments: tuple[AttachmentInfo, ...] = ()
    is_attachments: bool = False
    withheld: bool = False


def context_path(forms_dir: Path, process_id: str, task_id: str) -> Path:
    """Where the context declaration of a user task lives (beside its form)."""
    return forms_dir / process_id / f"{task_id}{CONTEXT_SUFFIX}"


def load_declaration(forms_dir: Path | None, process_id: str, task_id: str) -> TaskContextDeclaration:
    """A task's declared context (empty when it declares none)."""
    if forms_dir is None:
        return TaskContextDeclaration()
    path = context_path(forms_dir, process_id, task_id)
    if not path.is_file():
        return TaskContextDeclaration()
    return parse_declaration(path)


def parse_declaration(path: Path) -> TaskContextDeclaration:
    """Read and check the shape of one ``*.context.json`` (ContextInvalid naming the file otherwise)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ContextInvalid(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("facts", []), list):
        raise ContextInvalid(f"{path}: expected an object with a list 'facts'")
    unknown = sorted(set(raw) - {"facts", "refusal_field", "refusal_labels", "$comment"})
    if unknown:
        raise ContextInvalid(f"{path}: unknown keys {', '.join(unknown)}")
    facts = []
    for index, item in enumerate(raw.get("facts", [])):
        where = f"{path}: fact {index + 1}"
        if not isinstance(item, dict):
            raise ContextInvalid(f"{where} is not an object")
        labels = item.get("labels")
        if not isinstance(labels, dict) or any(not isinstance(labels.get(lang), str) or not labels[lang]
                                               for lang in LANGUAGES):
            raise ContextInvalid(f"{where}: 'labels' must give the label in kk, ru and en")
        if isinstance(item.get("path"), str) and item["path"]:
            facts.append(FactDeclaration(labels=dict(labels), path=item["path"]))
        elif "attachments" in item:
            kinds = item["attachments"]
            if kinds != "*" and not (isinstance(kinds, list) and all(isinstance(k, str) for k in kinds)):
                raise ContextInvalid(f"{where}: 'attachments' must be \"*\" or a list of kinds")
            facts.append(FactDeclaration(labels=dict(labels),
                                         attachment_kinds=frozenset() if kinds == "*" else frozenset(kinds)))
        else:
            raise ContextInvalid(f"{where} names neither a 'path' nor 'attachments'")
    refusal = raw.get("refusal_field", "")
    if not isinstance(refusal, str):
        raise ContextInvalid(f"{path}: 'refusal_field' must be a field name")
    refusal_labels = raw.get("refusal_labels", {})
    if refusal_labels and (not isinstance(refusal_labels, dict)
                           or any(not isinstance(refusal_labels.get(lang), str) for lang in LANGUAGES)):
        raise ContextInvalid(f"{path}: 'refusal_labels' must give the text in kk, ru and en")
    return TaskContextDeclaration(facts=tuple(facts), refusal_field=refusal, refusal_labels=dict(refusal_labels))


# --- what upstream forms write --------------------------------------------------------------------


def start_variables(diagram: Diagram) -> dict[str, str]:
    """Start message name → the case variable its payload is kept in (``spiffworkflow:messageVariable``)."""
    root = etree.fromstring(diagram.source, etree.XMLParser(resolve_entities=False, no_network=True))
    names = {m.get("id"): m.get("name") for m in root.iter(f"{_BPMN}message")}
    found: dict[str, str] = {}
    for start in root.iter(f"{_BPMN}startEvent"):
        for definition in start.iter(f"{_BPMN}messageEventDefinition"):
            variable = definition.find(f".//{_SPIFF}messageVariable")
            name = names.get(definition.get("messageRef"))
            if name and variable is not None and variable.text:
                found[name] = variable.text.strip()
    return found


#: Paths written, per (diagram version, forms directory, the forms' names and times): parsed once.
_WRITTEN: dict[tuple[object, ...], dict[str, Mapping[str, Any]]] = {}


def written_fields(diagram: Diagram, forms_dir: Path) -> dict[str, Mapping[str, Any]]:
    """Every case variable path an upstream form of this process writes → the field's schema."""
    folder = forms_dir / diagram.process_id
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob(f"*{FORM_SUFFIX}"))
                  ) if folder.is_dir() else ()
    key = (diagram.content_hash, str(forms_dir), stamp)
    found = _WRITTEN.get(key)
    if found is None:
        if len(_WRITTEN) > 64:
            _WRITTEN.clear()
        found = _WRITTEN[key] = _written_fields(diagram, forms_dir)
    return found


def _written_fields(diagram: Diagram, forms_dir: Path) -> dict[str, Mapping[str, Any]]:
    fields: dict[str, Mapping[str, Any]] = {}
    sources: list[tuple[str, str]] = [(message, variable) for message, variable in start_variables(diagram).items()]
    sources += [(element.element_id, "") for element in diagram.elements.values() if element.kind == "userTask"]
    for form_id, prefix in sources:
        path = forms_dir / diagram.process_id / f"{form_id}{FORM_SUFFIX}"
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            continue
        if prefix:
            fields.setdefault(prefix, schema)
        _walk(schema, prefix, fields)
    return fields


def _walk(schema: Mapping[str, Any], prefix: str, into: dict[str, Mapping[str, Any]]) -> None:
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        path = f"{prefix}.{name}" if prefix else name
        into.setdefault(path, sub)
        if sub.get("type") == "object":
            _walk(sub, path, into)


def check_contexts(diagrams: Iterable[Diagram], forms_dir: Path, processes: set[str] | None = None) -> list[str]:
    """Problems with task context declarations, one readable line each (empty when all is well).

    Each declaration must belong to a user task, read well, name paths an upstream form writes and,
    for a refusal field, a field of the task's own form. ``processes``: only these processes' declarations.
    """
    problems: list[str] = []
    by_process = {d.process_id: d for d in diagrams}
    for path in sorted(forms_dir.glob(f"*/*{CONTEXT_SUFFIX}")) if forms_dir.is_dir() else []:
        process_id, task_id = path.parent.name, path.name.removesuffix(CONTEXT_SUFFIX)
        if processes is not None and process_id not in processes:
            continue
        diagram = by_process.get(process_id)
        element = diagram.elements.get(task_id) if diagram else None
        if diagram is None or element is None or element.kind != "userTask":
            problems.append(f"{path}: no user task '{task_id}' in a process '{process_id}'")
            continue
        try:
            declared = parse_declaration(path)
        except ContextInvalid as exc:
            problems.append(str(exc))
            continue
        written = written_fields(diagram, forms_dir)
        for fact in declared.facts:
            if fact.path is not None and fact.path not in written:
                problems.append(f"{path}: no form of process '{process_id}' writes '{fact.path}'")
        if declared.refusal_field:
            own: dict[str, Mapping[str, Any]] = {}
            with contextlib.suppress(OSError, json.JSONDecodeError, UnicodeDecodeError):
                _walk(json.loads((path.parent / f"{task_id}{FORM_SUFFIX}").read_text(encoding="utf-8")), "", own)
            if declared.refusal_field not in own:
                problems.append(f"{path}: the refusal field '{declared.refusal_field}' is not a field of its form")
    return problems


# --- the facts of one task, as one person may see them -------------------------------------------


def _value_at(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _medical(path: str, medical_fields: frozenset[str]) -> bool:
    return any(part in medical_fields for part in path.split("."))


def task_facts(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, task: TaskSummary, data: Mapping[str, Any],
               forms_dir: Path | None) -> list[Fact]:
    """The declared facts of ``task`` (with its case's ``data``), medical ones only for roles that need them."""
    declared = load_declaration(forms_dir, task.process_id, task.element_id)
    case = uow.instances.get(task.instance_id)
    if not declared.facts or forms_dir is None or case is None:
        return []
    diagram = runtime.engine.library.current(task.process_id)
    medical_ok = may_read_medical(runtime, actor, case)
    medical_fields = declaration(runtime, case.process_id).medical_fields
    written = written_fields(diagram, forms_dir)
    scans: list[AttachmentInfo] | None = None
    facts: list[Fact] = []
    for fact in declared.facts:
        if fact.path is not None:
            if _medical(fact.path, medical_fields) and not medical_ok:
                facts.append(Fact(fact.labels, fact.path, withheld=True))
                continue
            facts.append(Fact(fact.labels, fact.path, _value_at(data, fact.path), written.get(fact.path, {})))
            continue
        if scans is None:
            scans = uow.attachments.for_key(case.business_key)
        wanted = fact.attachment_kinds or None
        shown = tuple(info for info in scans if (wanted is None or info.kind in wanted)
                      and (medical_ok or info.kind not in RESTRICTED_KINDS))
        held_back = any(info.kind in RESTRICTED_KINDS and (wanted is None or info.kind in wanted) for info in scans)
        facts.append(Fact(fact.labels, "attachments", attachments=shown, is_attachments=True,
                          withheld=held_back and not medical_ok))
    return facts


def assignee_name(uow: UnitOfWork, task: TaskSummary) -> str | None:
    """The full name of the person who has taken ``task`` (their login if no such person is on record)."""
    if task.assignee is None:
        return None
    found = uow.staff.by_login(task.assignee)
    return found[0].full_name if found is not None and found[0].full_name else task.assignee
