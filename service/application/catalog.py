"""Checking that diagrams and forms fit together: every user task has a form, every form a task,
every SMS a diagram sends its Kazakh and Russian text in the documents catalogue
(``msgid "sms.<what>"``).

A form whose task an analyst removed from the diagram stays while cases started on the earlier
version may still reach that task; it says so with ``"x-retired": "<why>"`` and is then not
reported as having no task."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from service.documents.sms import SMS_PREFIX, missing_templates
from service.engine.library import Diagram

FORM_SUFFIX = ".schema.json"


def form_path(forms_dir: Path, process_id: str, task_id: str) -> Path:
    """Where the form of a user task lives, by convention."""
    return forms_dir / process_id / f"{task_id}{FORM_SUFFIX}"


def form_owners(diagrams: list[Diagram]) -> dict[tuple[str, str], tuple[Diagram, str]]:
    """(process id, form id) → (diagram, what it is): every user task, and every message a process starts on."""
    owners: dict[tuple[str, str], tuple[Diagram, str]] = {}
    for diagram in diagrams:
        for element in diagram.elements.values():
            if element.kind == "userTask":
                owners[(diagram.process_id, element.element_id)] = (diagram, f"user task '{element.element_id}'")
        for message in diagram.start_messages:
            owners[(diagram.process_id, message)] = (diagram, f"start message '{message}'")
    return owners


def check_forms(diagrams: list[Diagram], forms_dir: Path) -> list[str]:
    """Problems with forms, one readable line each (empty when all is well)."""
    problems: list[str] = []
    user_tasks = form_owners(diagrams)
    for (process_id, task_id), (diagram, what) in sorted(user_tasks.items()):
        path = form_path(forms_dir, process_id, task_id)
        if not path.is_file():
            problems.append(f"{diagram.file}: {what} has no form (expected {path})")
    for path in sorted(forms_dir.glob(f"*/*{FORM_SUFFIX}")) if forms_dir.is_dir() else []:
        key = (path.parent.name, path.name.removesuffix(FORM_SUFFIX))
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid JSON ({exc})")
            continue
        except SchemaError as exc:
            problems.append(f"{path}: not a valid JSON Schema ({exc.message})")
            continue
        if key not in user_tasks and not _retired(schema):
            problems.append(f"{path}: no user task or start message '{key[1]}' in a process '{key[0]}'")
    return problems


def _retired(schema: object) -> bool:
    """Whether a form is kept only for cases still running on an earlier diagram version (``x-retired``)."""
    return isinstance(schema, dict) and bool(schema.get("x-retired"))


_BPMN_MESSAGE = "{http://www.omg.org/spec/BPMN/20100524/MODEL}message"


def check_sms_texts(diagrams: list[Diagram]) -> list[str]:
    """Problems with SMS texts: every ``sms.<what>`` message a diagram declares has its kk and ru text."""
    problems: list[str] = []
    for diagram in diagrams:
        root = etree.fromstring(diagram.source, etree.XMLParser(resolve_entities=False, no_network=True))
        names = sorted({m.get("name") or "" for m in root.iter(_BPMN_MESSAGE)})
        for name in (n for n in names if n.startswith(SMS_PREFIX)):
            problems += [f"{diagram.file}: SMS '{name}' has no text template (expected {path})"
                         for path in missing_templates(name)]
    return problems

