"""Generic steps: an analyst writes a scenario for any process without writing Python.

The steps name things as the diagram does — the process id, the start message, the lane (role)
and the task's element id or its name — and give form values as a two-column table (a dotted
field name, then the value; a value that reads as JSON — a number, true/false, a list — is that
value, anything else is text). They share the ``case`` fixture with the paragraph steps, so a
scenario may mix both. Examples: ``features/analysts/``.

    Допустим дело № APP-1 процесса «service_delivery» начато сообщением «service_requested»
      в пятницу 20 марта 2026 года в 17:00 с данными:
      | applicant.full_name | Ахметова Айгүл |
    Когда роль «head» выполняет задачу «determine_class_and_language» в четверг 26 марта 2026 года
      в 11:00 с данными:
      | grade | 5 |
    И наступает понедельник 6 апреля 2026 года в 09:00
    Тогда у роли «specialist» ожидает задача «Организовать обучение на дому»
    И этап дела — «…» (the §8 stage, by its Russian name)
    И выдан документ «admission_order» на русском языке, в тексте:
      | 5-й класс |
"""

from __future__ import annotations

import json
from typing import Any

from pytest_bdd import given, parsers, then, when

from service.application.timers import fire_due_timers
from service.bootstrap import Services

from . import people, wording
from .cases import Case, start
from .documents import issued
from .messages import stages
from .tasks import complete, open_tasks

_AT = r"(?P<at>(?:в|во) .+?)"
_LANGUAGE = {"русском": "ru", "казахском": "kk"}


def table_values(datatable: list[list[str]], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A nested payload from a two-column table of dotted field names and values.

    Each value is read as the form declares its field: text stays text (an IIN of digits too), a
    number, true/false, a list or an object is read as JSON; a field the form does not know is read
    as JSON when it can be, else as text — the form check then names it.
    """
    payload: dict[str, Any] = {}
    for row in datatable:
        if len(row) != 2:
            raise AssertionError(f"a data row has two cells, field and value: {row}")
        field, text = (cell.strip() for cell in row)
        if field in ("поле", "field"):
            continue  # a header row
        *parents, leaf = field.split(".")
        target = payload
        for name in parents:
            target = target.setdefault(name, {})
        target[leaf] = _value(text, _declared_type(schema, field.split(".")))
    return payload


def _declared_type(schema: dict[str, Any] | None, path: list[str]) -> str | None:
    node: Any = schema
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get("properties", {}).get(name)
    if not isinstance(node, dict):
        return None
    declared = node.get("type")
    return declared if isinstance(declared, str) else None


def _value(text: str, declared: str | None) -> Any:
    if declared == "string":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _schema(product: Services, process: str, form_id: str) -> dict[str, Any] | None:
    forms = product.runtime.forms_dir_for(process)
    if forms is None or not (forms / process / f"{form_id}.schema.json").is_file():
        return None
    return product.runtime.form(forms, process, form_id).schema


@given(parsers.re(r"дело № (?P<number>\S+) процесса «(?P<process>[\w-]+)» начато сообщением «(?P<message>[\w.]+)» "
                  + _AT + r" с данными:"), target_fixture="case")
@when(parsers.re(r"дело № (?P<number>\S+) процесса «(?P<process>[\w-]+)» начинается сообщением «(?P<message>[\w.]+)» "
                 + _AT + r" с данными:"), target_fixture="case")
def case_started(product: Services, number: str, process: str, message: str, at: str,
                 datatable: list[list[str]]) -> Case:
    """A case of the process starts with the message, carrying the table's values (BINs name its organisations)."""
    diagram = product.runtime.engine.library.process_starting_with(message)
    assert diagram is not None and diagram.process_id == process, \
        f"«{message}» starts {diagram.process_id if diagram else 'no process'}, not «{process}»"
    payload = table_values(datatable, _schema(product, process, message))
    instance_id = start(product, message, number, payload, wording.moment(at), people.SYSTEM, None)
    school = payload.get("provider_bin", people.SCHOOL_25)
    return Case(instance_id, number, school=school, body=payload.get("addressee_bin"))


def _task(product: Services, case: Case, role: str, task: str) -> tuple[str, str]:
    """(element id, process id) of the role's one open task on the case named ``task`` (by id or name)."""
    waiting = open_tasks(product, case, role)
    chosen = [t for t in waiting if task in (t.element_id, t.title)]
    assert len(chosen) == 1, f"role «{role}» has {[t.title for t in waiting]} on case {case.number}, not «{task}»"
    return chosen[0].element_id, chosen[0].process_id


@given(parsers.re(r"роль «(?P<role>\w+)» выполнила задачу «(?P<task>.+?)» " + _AT + r" с данными:"))
@when(parsers.re(r"роль «(?P<role>\w+)» выполняет задачу «(?P<task>.+?)» " + _AT + r" с данными:"))
def task_done(product: Services, case: Case, role: str, task: str, at: str, datatable: list[list[str]]) -> None:
    """The official holding the role where the case is completes the task (by element id or name) with the values."""
    element_id, process = _task(product, case, role, task)
    complete(product, case, role, element_id, table_values(datatable, _schema(product, process, element_id)), at)


@given(parsers.re(r"наступил(?:а|о)? " + r"(?P<at>.+)"))
@when(parsers.re(r"наступает " + r"(?P<at>.+)"))
def time_passes(product: Services, at: str) -> None:
    """The clock reaches the moment: every timer due by then fires, none fails."""
    sweep = fire_due_timers(product.write_uow, product.runtime, now=wording.moment(at))
    assert not sweep.failed, sweep.failed


@then(parsers.re(r"у роли «(?P<role>\w+)» ожидает задача «(?P<title>.+?)»(?: со сроком до (?P<due>.+))?$"))
def role_task_waits(product: Services, case: Case, role: str, title: str, due: str | None) -> None:
    """The role's task list shows the task (by name or element id) on this case, and when it is due."""
    waiting = [t for t in open_tasks(product, case, role) if title in (t.title, t.element_id)]
    assert len(waiting) == 1, f"role «{role}»: {[t.title for t in open_tasks(product, case, role)]}"
    if due is not None:
        assert waiting[0].due_at == wording.moment(due), f"«{title}» is due {waiting[0].due_at}"


@then(parsers.re(r"у роли «(?P<role>\w+)» нет задач по этому делу"))
def role_has_nothing(product: Services, case: Case, role: str) -> None:
    """Nothing of this case is in the role's task list."""
    assert open_tasks(product, case, role) == []


@then(parsers.re(r"этап дела — «(?P<stage>.+)»"))
def stage_is(product: Services, case: Case, stage: str) -> None:
    """The latest §8 stage the monitoring system was told of (its Russian name)."""
    told = stages(product, case)
    assert told and told[-1] == stage, f"stages so far: {told}"


@then(parsers.re(r"выдан документ «(?P<kind>\w+)» на (?P<language>русском|казахском) языке, в тексте:"))
def document_text(product: Services, case: Case, kind: str, language: str, datatable: list[list[str]]) -> None:
    """The case's document of that kind in that language says every line of the table."""
    code = _LANGUAGE[language]
    found = [d for d in issued(product, case, kind) if d.language == code]
    assert len(found) == 1, f"«{kind}» ({code}) issued {len(found)} times on case {case.number}"
    with product.uow(write=False) as uow:
        stored = uow.documents.get(found[0].id)
    assert stored is not None
    text = wording.visible_text(stored.html)
    for line in wording.table_lines(datatable):
        assert line in text, f"«{line}» is not in the {kind} ({code}): {text[:400]}…"


@then(parsers.re(r"документ «(?P<kind>\w+)» не выдан"))
def no_document(product: Services, case: Case, kind: str) -> None:
    """No document of that kind on the case."""
    assert issued(product, case, kind) == []
