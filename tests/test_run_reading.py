"""Reading a live run: whether the case has finished, asked the quick way, agrees with SpiffWorkflow."""

from __future__ import annotations

from bench import step_case
from service.domain.calendar import WorkingCalendar
from service.engine.library import DiagramLibrary, parse_diagram
from service.engine.runtime import ProcessEngine, ProcessRun

from .support import at

NOW = at("2026-03-20T11:00+05:00")
TASKS = 3


def _engine() -> ProcessEngine:
    library = DiagramLibrary()
    library.add(parse_diagram(step_case.diagram(TASKS).encode(), "steps.bpmn"))
    return ProcessEngine(library, WorkingCalendar())


def _library_says(engine: ProcessEngine, run: ProcessRun) -> bool:
    """SpiffWorkflow's own answer, on a copy loaded afresh (its answer is cached on the workflow)."""
    return bool(engine.resume(run.diagram, run.dump())._workflow.is_completed())  # noqa: SLF001


def test_finished_agrees_with_the_library_before_and_after_every_step() -> None:
    engine = _engine()
    run = engine.start(step_case.process_id(TASKS), {}, NOW)
    answers = []
    for number in range(1, TASKS + 1):
        loaded = engine.resume(run.diagram, run.dump())
        answers.append((loaded.finished(), _library_says(engine, run)))
        [task] = loaded.snapshot().open_tasks
        loaded.complete_task(task.task_id, step_case.answers(number), NOW)
        run = loaded
    answers.append((run.finished(), _library_says(engine, run)))
    assert answers == [(False, False)] * TASKS + [(True, True)]
    assert engine.resume(run.diagram, run.dump()).snapshot().completed  # a finished case loaded again
