"""A case's saved state leaves its finished history out, and the running case loses nothing by it.

Every scenario runs twice, on fresh databases: once as shipped (finished rounds cut out of the saved
task tree) and once saving every task SpiffWorkflow ran. Each time a case is saved, the state is
read back and compared: the case's data, its open tasks (element, title, lane, deadline, the data
its form sees), timers, awaited messages, waiting events and the drawing's marks must be the same.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.application.cases import complete_task
from service.application.timers import fire_due_timers
from service.bootstrap import Services
from service.engine.runtime import ProcessRun
from service.engine.serialization import WorkflowSerializer
from service.persistence import migrate
from service.persistence.database import Database

from . import test_complaints as complaints
from . import test_service_delivery as delivery
from .support import at, pg_url, shipped_services

Scenario = Callable[[Services], None]


def _fingerprint(run: ProcessRun, state: str) -> dict[str, Any]:
    """What the running case needs, read back from its saved ``state``."""
    again = run._engine.resume(run.diagram, state)  # noqa: SLF001 - the same engine, as the next step would
    snapshot = again.snapshot()
    return {
        "completed": snapshot.completed,
        "data": snapshot.data,
        "open_tasks": [(t.element_id, t.title, t.lane, t.due_at, again.task_data(t.task_id))
                       for t in snapshot.open_tasks],
        "timers": list(snapshot.timers),
        "awaited": snapshot.awaited_messages,
        "waiting": again.waiting_elements(),
        "marks": again.element_states(),
    }


class Recorder:
    """Every state the product saves, as the fingerprint of its read-back and as stored text."""

    def __init__(self) -> None:
        self.fingerprints: list[dict[str, Any]] = []
        self.states: list[str] = []


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[int, Recorder]:
    """Recorders by engine (id); ``ProcessRun.dump`` reports to its engine's."""
    recorders: dict[int, Recorder] = {}
    original = ProcessRun.dump

    def dump(self: ProcessRun) -> str:
        state = original(self)
        recorder = recorders.get(id(self._engine))  # noqa: SLF001
        if recorder is not None:
            recorder.states.append(state)
            recorder.fingerprints.append(_fingerprint(self, state))
        return state

    monkeypatch.setattr(ProcessRun, "dump", dump)
    return recorders


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Fresh migrated databases on demand (SQLite files, or schemas when DATABASE_URL names PostgreSQL)."""
    with contextlib.ExitStack() as opened:
        made: list[str] = []

        def make() -> str:
            base = pg_url()
            if base is None:
                url = f"sqlite:///{tmp_path / f'db{len(made)}.sqlite3'}"
                migrate.upgrade(Database(url))
            else:
                url = opened.enter_context(migrate.scratch_schema(base, "p"))
            made.append(url)
            return url

        yield make


def _product(tmp_path: Path, url: str, prune: bool) -> Services:
    services = complaints.with_reviewing_bodies(shipped_services(tmp_path / ("pruned" if prune else "whole"), url))
    services.engine.serializer = WorkflowSerializer(prune=prune)
    return services


def _run_both(scenario: Scenario, tmp_path: Path, databases: Callable[[], str],
              recorded: dict[int, Recorder]) -> tuple[Recorder, Recorder]:
    found = []
    for prune in (True, False):
        product = _product(tmp_path, databases(), prune)
        recorder = recorded[id(product.engine)] = Recorder()
        try:
            scenario(product)
        finally:
            product.database.dispose()
        found.append(recorder)
    return found[0], found[1]


def _pruned_tasks(state: str) -> int:
    return int(json.loads(state).get("pruned", {}).get("tasks", 0))


# --- scenarios: the shipped processes, with loops, boundary timers and event-based gateways -------

def corrections_loop(product: Services) -> None:
    """Service delivery: the clerk corrects the portal request three times, the deadline passes, then all ends."""
    case = delivery.submit(product, delivery.request(channel="portal"))
    for round_ in range(3):
        delivery.complete(product, "office_clerk", case, {"decision": "correct", "corrections": {
            "documents": ["application", "vkk_conclusion"], "note": f"Сверено с ИС ВКК ({round_ + 1})"}})
    # the boundary timer of the reopened check still fires, and only once
    assert fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-27T18:31+05:00")).fired == [case]
    assert delivery.task_of(product, "office_clerk", case).due_at == at("2026-03-27T18:30+05:00")
    delivery.complete(product, "head", case, {"note": "Поручено канцелярии"}, now=at("2026-03-27T18:40+05:00"))
    delivery.complete(product, "office_clerk", case, {"decision": "accept"}, now=at("2026-03-30T10:00+05:00"))
    # accepted after the deadline: the head's determination is overdue at once, and escalated
    _complete(product, "head", case, "determine_class_and_language", {"grade": 5, "language": "kk"})
    _complete(product, "head", case, "attend_overdue_service", {"note": "Приказ будет издан вовремя."})
    assert delivery.view_of(product, case).status == "running"


def _complete(product: Services, role: str, case: int, element_id: str, data: dict[str, Any]) -> None:
    [task] = [t for t in delivery.tasks_seen(product, delivery.staff(product, role), case, role)
              if t.element_id == element_id]
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=delivery.staff(product, role), task_id=task.task_id, data=data,
                      now=at("2026-03-30T11:00+05:00"))


def two_extensions(product: Services) -> None:
    """Complaint review: extended twice (6 + 4 working days), notified each time, then the deadline passes."""
    case = complaints.file_complaint(product, complaints.complaint())
    complaints._extend(product, case, 6, now=at("2026-03-27T10:00+05:00"))  # noqa: SLF001
    complaints.complete(product, "reviewing_official", case, "notify_extension", {},
                        now=at("2026-03-27T11:00+05:00"))
    complaints._extend(product, case, 4, now=at("2026-04-03T10:00+05:00"))  # noqa: SLF001
    complaints.complete(product, "reviewing_official", case, "notify_extension", {},
                        now=at("2026-04-03T11:00+05:00"))
    assert complaints.task_of(product, "reviewing_official", case, "review_complaint")
    fired = complaints.fire(product, at("2026-06-30T12:00+05:00"))  # long past every deadline
    assert case in fired


def replies_from_other_phones(product: Services) -> None:
    """Proactive offer: three replies from other phones loop back to the event-based gateway; then silence."""
    offer = delivery._offer(product)  # noqa: SLF001
    for hour in (9, 10, 11):
        delivery._reply(product, "+77019876543", at(f"2026-03-21T{hour:02d}:00+05:00"))  # noqa: SLF001
    view = delivery.view_of(product, offer)
    assert view.status == "running" and [t.element_id for t in view.timers] == ["reply_window_closed"]
    swept = fire_due_timers(product.write_uow, product.runtime, now=at("2026-03-21T17:01+05:00"))
    assert swept.fired == [offer]
    assert delivery.view_of(product, offer).status == "completed"


SCENARIOS: dict[str, Scenario] = {
    "service delivery, corrections loop": corrections_loop,
    "complaint review, two extensions": two_extensions,
    "proactive offer, replies from other phones": replies_from_other_phones,
    "service delivery, office to admission order": delivery.test_office_acceptance_to_admission_order,
    "service delivery, missed portal deadline": delivery.test_missed_portal_deadline_is_escalated_not_decided,
    "complaint review, missed review deadline":
        complaints.test_the_missed_review_deadline_counts_as_refused_and_is_escalated,
    "proactive offer, consent": delivery.test_proactive_consent_starts_the_service_without_an_application,
}
#: The scenarios that reopen a task: their saved states must have left finished rounds out.
LOOPS = {"service delivery, corrections loop", "complaint review, two extensions",
         "proactive offer, replies from other phones"}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_pruned_case_runs_like_an_unpruned_one(name: str, tmp_path: Path, databases: Callable[[], str],
                                                 recorded: dict[int, Recorder]) -> None:
    pruned, whole = _run_both(SCENARIOS[name], tmp_path, databases, recorded)
    assert len(pruned.fingerprints) == len(whole.fingerprints) > 0
    for number, (mine, theirs) in enumerate(zip(pruned.fingerprints, whole.fingerprints, strict=True)):
        assert mine == theirs, f"save {number + 1} of {name} differs"
    assert all(_pruned_tasks(state) == 0 for state in whole.states)
    if name in LOOPS:
        assert max(_pruned_tasks(state) for state in pruned.states) > 0
        assert len(pruned.states[-1]) < len(whole.states[-1])
