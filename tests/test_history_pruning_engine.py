"""A task reopened in a loop, in the engine alone: the saved state stays flat, old states load, repairs work."""

from __future__ import annotations

import json

from bench import loop_case
from service.domain.calendar import WorkingCalendar
from service.engine.library import DiagramLibrary, parse_diagram
from service.engine.repair import correct_data, diff_versions, migrate_run
from service.engine.runtime import ProcessEngine, ProcessRun
from service.engine.serialization import WorkflowSerializer

from .support import at

NOW = at("2026-03-20T11:00+05:00")
V1 = parse_diagram(loop_case.diagram().encode(), "rework_loop.bpmn")
#: The analyst renamed the task: every element the case waits on is still there.
V2 = parse_diagram(loop_case.diagram().replace("Revise the plan", "Revise the plan again").encode(),
                   "rework_loop.bpmn")


def _engine(prune: bool = True) -> ProcessEngine:
    library = DiagramLibrary()
    library.add(V2, current=False)
    library.add(V1)
    engine = ProcessEngine(library, WorkingCalendar())
    engine.serializer = WorkflowSerializer(prune=prune)
    return engine


def _rounds(engine: ProcessEngine, run: ProcessRun, count: int, first: int = 1) -> tuple[ProcessRun, list[str]]:
    """Complete the open task ``count`` times, saving and loading around each step like the product."""
    states = []
    for number in range(first, first + count):
        [task] = run.snapshot().open_tasks
        run.complete_task(task.task_id, loop_case.answers(number), NOW)
        states.append(run.dump())
        run = engine.resume(run.diagram, states[-1])
    return run, states


def test_the_saved_state_stays_flat_however_often_the_task_is_reopened() -> None:
    engine = _engine()
    _run, states = _rounds(engine, engine.start(loop_case.PROCESS_ID, {}, NOW), 120)
    first_ten = max(len(state) for state in states[:10])
    assert max(len(state) for state in states[-10:]) <= 1.5 * first_ten
    assert json.loads(states[-1])["pruned"]["tasks"] >= 2 * 110  # two tasks (task, gateway) per round cut out
    whole = _engine(prune=False)
    _run, unpruned = _rounds(whole, whole.start(loop_case.PROCESS_ID, {}, NOW), 120)
    assert len(unpruned[-1]) > 10 * len(states[-1])  # what pruning saves here


def test_a_case_saved_whole_before_pruning_loads_and_is_pruned_at_its_next_save() -> None:
    whole = _engine(prune=False)
    run, states = _rounds(whole, whole.start(loop_case.PROCESS_ID, {}, NOW), 30)
    assert "pruned" not in json.loads(states[-1])
    engine = _engine()
    run = engine.resume(V1, states[-1])
    before = run.snapshot()
    run, pruned = _rounds(engine, run, 1, first=31)
    assert len(pruned[0]) < len(states[-1]) / 5
    assert json.loads(pruned[0])["pruned"]["tasks"] > 50
    after = run.snapshot()
    assert after.data == dict(before.data, note="Правка 31", mark=1 + 31 % 5)
    assert [t.element_id for t in after.open_tasks] == ["revise"]
    assert run.element_states() == {"start": "completed", "revise": "active", "done_yet": "completed"}


def test_a_pruned_case_can_be_corrected_moved_to_another_version_and_finished() -> None:
    engine = _engine()
    run, _states = _rounds(engine, engine.start(loop_case.PROCESS_ID, {}, NOW), 20)
    diff = diff_versions(run, V2)
    assert diff.possible and diff.waiting_on == ("revise",) and "revise" in diff.changed
    report = correct_data(run, {"mark": 5, "reviewer": "head"})
    assert report == {"mark": {"old": 1 + 20 % 5, "new": 5}, "reviewer": {"old": "<absent>", "new": "head"}}
    migrate_run(run, V2)
    run = engine.resume(V2, run.dump())
    [task] = run.snapshot().open_tasks
    assert task.title == "Revise the plan again" and run.task_data(task.task_id)["reviewer"] == "head"
    run.complete_task(task.task_id, loop_case.answers(21, stop=True), NOW)
    run = engine.resume(V2, run.dump())
    snapshot = run.snapshot()
    assert snapshot.completed and snapshot.data["reviewer"] == "head" and snapshot.data["stop"] is True
    assert run.element_states()["end"] == "completed"


REMINDERS = """<?xml version='1.0' encoding='UTF-8'?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="reminders_definitions"
                  targetNamespace="http://homeschool.edu.kz/tests">
  <bpmn:process id="reminders" name="Two reminders" isExecutable="true">
    <bpmn:laneSet id="reminders_lanes"><bpmn:lane id="specialist" name="Specialist">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>done</bpmn:flowNodeRef><bpmn:flowNodeRef>first_reminder</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>second_reminder</bpmn:flowNodeRef><bpmn:flowNodeRef>first_noted</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>second_noted</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="first_reminder" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>"2026-03-21T10:00:00+05:00"</bpmn:timeDate>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="second_reminder" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>"2026-03-22T10:00:00+05:00"</bpmn:timeDate>
      </bpmn:timerEventDefinition></bpmn:boundaryEvent>
    <bpmn:endEvent id="first_noted"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="second_noted"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="first_reminder" targetRef="first_noted"/>
    <bpmn:sequenceFlow id="f4" sourceRef="second_reminder" targetRef="second_noted"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_task_stays_due_at_its_first_fired_reminder_after_another_fired_and_the_state_was_pruned() -> None:
    reminders = parse_diagram(REMINDERS.encode(), "reminders.bpmn")
    found = {}
    for prune in (True, False):
        library = DiagramLibrary()
        library.add(reminders)
        engine = ProcessEngine(library, WorkingCalendar())
        engine.serializer = WorkflowSerializer(prune=prune)
        run = engine.start("reminders", {}, NOW)
        for instant in ("2026-03-21T11:00+05:00", "2026-03-22T11:00+05:00"):
            run.fire_timers(at(instant))
            run = engine.resume(reminders, run.dump())
        [task] = run.snapshot().open_tasks
        found[prune] = (task.element_id, task.due_at, run.element_states(), run.pending_timers())
    assert found[True] == found[False]
    assert found[True][1] == at("2026-03-21T10:00+05:00")  # the first reminder's, though both fired
    assert found[True][2]["first_noted"] == "completed" and found[True][3] == ()
