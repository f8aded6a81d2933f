"""The case index written by a step: the stage when it moves, the people whenever they change, nothing else
(and the open task moved on without touching its due date when the next task has the same).

Every name and IIN column of the index has an index of its own, rewritten whenever the column is
set; a step writes only the columns whose values changed, and the row always holds the people the
case's data names after the step (a correction is searchable at once, not at the next stage).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.application.cases import complete_task, start_case
from service.bootstrap import Services
from service.config import Settings
from service.engine.library import DiagramLibrary, parse_diagram
from service.persistence import case_index
from service.persistence.case_index import IndexedCase, case_index_of

from .support import SYSTEM, at, build_test_services, owners, person

NOW = at("2026-03-20T11:00+05:00")
STEPS = (("first", "check_request"), ("second", "check_request"), ("third", "class_and_language"))


def _diagram() -> bytes:
    ids = ["start", *(task for task, _ in STEPS), "done"]
    stage = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="stage" value="{}"/>'
             '</spiffworkflow:properties></bpmn:extensionElements>')
    nodes = ['<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>']
    nodes += [f'<bpmn:userTask id="{task}" name="{task}">{stage.format(code)}<bpmn:incoming>f{i}</bpmn:incoming>'
              f'<bpmn:outgoing>f{i + 1}</bpmn:outgoing></bpmn:userTask>' for i, (task, code) in enumerate(STEPS)]
    nodes.append(f'<bpmn:endEvent id="done">{stage.format("provided")}<bpmn:incoming>f{len(STEPS)}</bpmn:incoming>'
                 '</bpmn:endEvent>')
    flows = [f'<bpmn:sequenceFlow id="f{i}" sourceRef="{ids[i]}" targetRef="{ids[i + 1]}"/>'
             for i in range(len(ids) - 1)]
    refs = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in ids)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="index_demo_definitions" '
        'targetNamespace="http://example.kz/homeschool/tests"><bpmn:process id="index_demo" isExecutable="true">'
        f'<bpmn:laneSet id="lanes"><bpmn:lane id="office_clerk" name="Office clerk">{refs}</bpmn:lane></bpmn:laneSet>'
        + "".join(nodes + flows) + "</bpmn:process></bpmn:definitions>"
    ).encode()


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    """The product on one diagram: three clerk's tasks, the first two in one §8 stage."""
    library = DiagramLibrary()
    library.add(parse_diagram(_diagram(), "index_demo.bpmn"))
    built = build_test_services(settings, library)
    yield built
    built.database.dispose()


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The columns of every UPDATE of the case index a step builds."""
    columns: list[tuple[str, ...]] = []
    build = case_index._change_statement

    def recorded(changed: tuple[str, ...]) -> Any:
        columns.append(changed)
        return build(changed)

    monkeypatch.setattr(case_index, "_change_statement", recorded)
    return columns


def _request(child: str, iin: str) -> dict[str, Any]:
    return {"request": {"child": {"full_name": child, "iin": iin},
                        "applicant": {"full_name": "Серік Омаров", "iin": "850101300123"}}}


def _start(svc: Services) -> int:
    with svc.uow() as uow:
        return start_case(uow, svc.runtime, actor=SYSTEM, process_id="index_demo", business_key="IDX-1",
                          data=_request("Айгерим Серикова", "150101600123"), owners=owners(svc), now=NOW).instance_id


def _complete(svc: Services, case: int, data: dict[str, Any]) -> IndexedCase:
    with svc.uow() as uow:
        [task] = uow.tasks.for_instance(case)
        complete_task(uow, svc.runtime, actor=person(svc, "office_clerk"), task_id=task.task_id, data=data, now=NOW)
    with svc.uow(write=False) as uow:
        row = case_index_of(uow).get(case)
    assert row is not None
    return row


def test_a_corrected_name_is_indexed_by_the_step_that_corrects_it(svc: Services, written: list) -> None:
    case = _start(svc)
    row = _complete(svc, case, _request("Айгерім Серікова", "150101600123"))  # the stage stays check_request
    assert (row.stage, row.child_name) == ("check_request", "Айгерім Серікова")
    assert written == [("child_name", "child_key")]


def test_a_step_that_moves_the_stage_writes_only_what_changed(svc: Services, written: list) -> None:
    case = _start(svc)
    _complete(svc, case, {"note": "nothing about people"})
    written.clear()
    row = _complete(svc, case, {"note": "still nothing"})  # second → third: a new stage, the same people
    assert (row.stage, row.child_name, row.child_iin) == ("class_and_language", "Айгерим Серикова", "150101600123")
    assert written == [("stage",)]
    written.clear()
    row = _complete(svc, case, _request("Айгерим Серикова", "150101600124"))  # ends the case, a new IIN
    assert (row.status, row.stage, row.child_iin) == ("completed", "provided", "150101600124")
    assert written == [("status", "stage", "child_iin")]


def test_a_task_moved_to_one_with_the_same_deadline_leaves_its_due_date_index_alone(svc: Services) -> None:
    if svc.database.dialect != "sqlite":
        pytest.skip("read with SQLite's statement trace (SQLite rewrites the index of every column an UPDATE sets)")
    case = _start(svc)
    statements: list[str] = []
    with svc.uow() as uow:
        [task] = uow.tasks.for_instance(case)
        driver = uow.session.connection.dbapi_connection
        assert driver is not None
        driver.set_trace_callback(statements.append)
        try:
            complete_task(uow, svc.runtime, actor=person(svc, "office_clerk"), task_id=task.task_id, data={},
                          now=NOW)
        finally:
            driver.set_trace_callback(None)
    [moved] = [s for s in statements if s.lstrip().upper().startswith("UPDATE OPEN_TASKS")]
    assert "task_id=" in moved.replace(" ", "") and "due_at" not in moved  # neither task has a deadline
    with svc.uow(write=False) as uow:
        [following] = uow.tasks.for_instance(case)
    assert (following.element_id, following.due_at, following.assignee) == ("second", None, None)
