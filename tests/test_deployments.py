"""Deployments (issue 12, points 2 and 4): a process's diagram and forms stored as one version by content
hash; identical content is a no-op; invalid form JSON is refused naming the file; a running case keeps
its version's forms while new cases get the new ones; a second process on the same database takes up
a new version without a restart; running cases move to a new version after a dry run."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from service.application.cases import complete_task, start_case
from service.application.deployments import (
    DeploymentRefused,
    deploy,
    deploy_shipped,
    diff_versions,
    list_versions,
)
from service.application.repair import migrate_case
from service.application.timers import fire_due_timers
from service.application.version_moves import cases_of_version, move_cases, plan_moves
from service.bootstrap import Services
from service.cli import _work_once
from service.config import Settings
from service.domain.errors import FormInvalid, NotPermitted
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.engine.library import DiagramLibrary, parse_diagram
from service.web import create_app

from .support import PROJECT, SYSTEM, at, build_test_services, owners, person, shipped_services

FIXTURES = Path(__file__).parent / "repair_diagrams"
T0 = at("2026-03-20T10:00+05:00")
LATER = T0 + timedelta(hours=2)
DIAGRAM = "processes/repair_demo.bpmn"
FORM = "forms/repair_demo/check.schema.json"


def _valid(source: bytes) -> bytes:
    """A repair fixture as the deep validation wants it: the gateway's 'no' flow is its default."""
    gateway = b'<bpmn:exclusiveGateway id="decide"'
    source = source.replace(gateway, gateway + b' default="flow_no"')
    return re.sub(rb'(<bpmn:sequenceFlow id="flow_no"[^>]*)>\s*<bpmn:conditionExpression>[^<]*'
                  rb'</bpmn:conditionExpression>\s*</bpmn:sequenceFlow>', rb"\1 />", source)


V2 = _valid((FIXTURES / "repair_demo_v2.bpmn").read_bytes())
V3 = _valid((FIXTURES / "repair_demo_v3.bpmn").read_bytes())
#: v2 with the clerk's task renamed: a changed element.
V2_RENAMED = V2.replace(b'name="Check the request"', b'name="Check the request and note why"')


def _form(*required: str) -> bytes:
    types = {"approved": {"type": "boolean"}, "checked_by": {"type": "string"}, "note": {"type": "string"}}
    return json.dumps({"type": "object", "required": list(required),
                       "properties": {name: types[name] for name in required}}).encode()


FORM_A = _form("approved", "checked_by")
FORM_B = _form("approved", "checked_by", "note")  # a new required field


def _settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, deployment_check_seconds=0.0)


def _services(settings: Settings) -> Services:
    library = DiagramLibrary()
    library.add(parse_diagram(V2, DIAGRAM))
    return build_test_services(_settings(settings), library)


@pytest.fixture
def svc(settings: Settings) -> Iterator[Services]:
    """The product with repair_demo loaded from disk (not deployed yet), forms not checked until deployed."""
    built = _services(settings)
    yield built
    built.database.dispose()


def _analyst(svc: Services) -> Actor:
    return person(svc, "analyst", login="ana")


def _deploy(svc: Services, diagram: bytes, form: bytes, when=T0) -> str:  # noqa: ANN001
    result = deploy(svc.write_uow, svc.runtime, actor=_analyst(svc), files={DIAGRAM: diagram, FORM: form}, now=when)
    [version] = result.versions
    assert version.new
    return version.content_hash


def _start(svc: Services, key: str) -> int:
    with svc.uow() as uow:
        ref = start_case(uow, svc.runtime, actor=SYSTEM, process_id="repair_demo", business_key=key, data={},
                         owners=owners(svc), now=T0)
        uow.commit()
    return ref.instance_id


def _complete(svc: Services, instance_id: int, **values: object) -> None:
    with svc.uow() as uow:
        [task] = uow.tasks.for_instance(instance_id)
        complete_task(uow, svc.runtime, actor=person(svc, "office_clerk", login="clerk"), task_id=task.task_id,
                      data=values, now=T0)


def _case(svc: Services, instance_id: int):  # noqa: ANN202 - a StoredInstance
    with svc.uow(write=False) as uow:
        return uow.instances.get(instance_id)


def _events(svc: Services, instance_id: int, action: str) -> list[EventRecord]:
    with svc.uow(write=False) as uow:
        return [e for e in uow.events.for_instance(instance_id) if e.action == action]


def test_a_version_is_stored_by_content_hash_and_the_same_content_again_is_a_no_op(svc: Services) -> None:
    first = _deploy(svc, V2, FORM_A)
    again = deploy(svc.write_uow, svc.runtime, actor=_analyst(svc), files={DIAGRAM: V2, FORM: FORM_A}, now=LATER)
    assert [v.line() for v in again.versions] == [f"repair_demo: already deployed as {first[:12]}"]
    assert not again.changed
    with svc.uow(write=False) as uow:
        versions = list_versions(uow, svc.runtime, actor=_analyst(svc), process_id="repair_demo")
    assert [(v.content_hash, v.deployed_by, v.current) for v in versions] == [(first, "ana", True)]
    assert versions[0].files == (FORM, DIAGRAM)


def test_invalid_form_json_is_refused_at_deployment_naming_the_file(svc: Services) -> None:
    first = _deploy(svc, V2, FORM_A)
    with pytest.raises(DeploymentRefused) as refused:
        deploy(svc.write_uow, svc.runtime, actor=_analyst(svc), files={DIAGRAM: V2_RENAMED, FORM: b'{"type": '},
               now=LATER)
    assert any(p.startswith(FORM) and "not valid JSON" in p for p in refused.value.problems), refused.value.problems
    with svc.uow(write=False) as uow:  # nothing stored, the first version stays current
        assert uow.deployments.current() == {"repair_demo": first}
        assert len(uow.deployments.versions_of("repair_demo")) == 1


def test_a_missing_form_and_a_broken_diagram_are_each_named(svc: Services) -> None:
    broken = V2.replace(b'targetRef="decide"', b'targetRef="nowhere"', 1)
    with pytest.raises(DeploymentRefused) as refused:
        deploy(svc.write_uow, svc.runtime, actor=_analyst(svc), files={DIAGRAM: broken}, now=T0)
    assert any(p.startswith(DIAGRAM) and "nowhere" in p for p in refused.value.problems), refused.value.problems
    with pytest.raises(DeploymentRefused) as refused:
        deploy(svc.write_uow, svc.runtime, actor=_analyst(svc), files={DIAGRAM: V2}, now=T0)
    assert any("'check' has no form" in p for p in refused.value.problems), refused.value.problems
    raw = (FIXTURES / "repair_demo_v2.bpmn").read_bytes()  # the deep validation: a gateway without a default flow
    with pytest.raises(DeploymentRefused) as refused:
        deploy(svc.write_uow, svc.runtime, actor=_analyst(svc), files={DIAGRAM: raw, FORM: FORM_A}, now=T0)
    assert any("'decide'" in p and "default flow" in p for p in refused.value.problems), refused.value.problems


def test_only_an_analyst_deploys(svc: Services) -> None:
    clerk = person(svc, "office_clerk", login="clerk")
    with pytest.raises(NotPermitted):
        deploy(svc.write_uow, svc.runtime, actor=clerk, files={DIAGRAM: V2, FORM: FORM_A}, now=T0)
    with svc.uow(write=False) as uow:
        assert uow.deployments.current() == {}


def test_a_running_case_keeps_its_forms_and_new_cases_get_the_new_version(svc: Services) -> None:
    first = _deploy(svc, V2, FORM_A)
    old_case = _start(svc, "D-1")
    second = _deploy(svc, V2_RENAMED, FORM_B, when=T0 + timedelta(minutes=1))
    new_case = _start(svc, "D-2")
    assert (_case(svc, old_case).deployment_hash, _case(svc, new_case).deployment_hash) == (first, second)

    _complete(svc, old_case, approved=True, checked_by="clerk")  # the old form: no note required
    with pytest.raises(FormInvalid) as invalid:
        _complete(svc, new_case, approved=True, checked_by="clerk")
    assert "note" in invalid.value.fields
    _complete(svc, new_case, approved=True, checked_by="clerk", note="checked twice")

    fire_due_timers(svc.uow, svc.runtime, now=LATER)
    for instance_id, digest in ((old_case, first), (new_case, second)):
        stored = _case(svc, instance_id)
        assert (stored.status, stored.deployment_hash) == ("completed", digest)
    with svc.uow(write=False) as uow:
        assert uow.deployments.case_counts("repair_demo", status="completed") == {first: 1, second: 1}


def test_a_second_web_process_on_the_same_database_takes_up_a_new_version_without_restart(
        svc: Services, settings: Settings) -> None:
    first = _deploy(svc, V2, FORM_A)
    other = _services(settings)  # another process: its own library, loaded from disk at its start-up
    try:
        app = create_app(other.settings, other, WTF_CSRF_ENABLED=False)
        app.test_client().get("/login")
        assert other.runtime.deployments is not None and other.runtime.deployments.current_hash("repair_demo") == first
        second = _deploy(svc, V2_RENAMED, FORM_B, when=LATER)
        assert other.engine.library.current("repair_demo").content_hash == parse_diagram(V2, DIAGRAM).content_hash
        app.test_client().get("/login")  # any request looks for new versions (every 0 s here; 5 s by default)
        assert other.engine.library.current("repair_demo").element("check").name == "Check the request and note why"
        assert other.runtime.deployments.current_hash("repair_demo") == second
        with other.uow() as uow:
            ref = start_case(uow, other.runtime, actor=SYSTEM, process_id="repair_demo", business_key="D-9",
                             data={}, owners=owners(other), now=T0)
            uow.commit()
        assert _case(other, ref.instance_id).deployment_hash == second
    finally:
        other.database.dispose()


def test_a_worker_takes_up_a_new_version_in_its_next_pass(svc: Services, settings: Settings) -> None:
    _deploy(svc, V2, FORM_A)
    worker = _services(settings)  # a separate worker process
    try:
        _work_once(worker)
        assert worker.engine.library.current("repair_demo").element("check").name == "Check the request"
        second = _deploy(svc, V2_RENAMED, FORM_B, when=LATER)
        _work_once(worker)
        assert worker.engine.library.current("repair_demo").element("check").name == "Check the request and note why"
        cache = worker.runtime.deployments
        assert cache is not None and cache.current_hash("repair_demo") == second
    finally:
        worker.database.dispose()


def test_the_diff_of_two_versions_names_changed_elements_and_form_fields(svc: Services) -> None:
    first = _deploy(svc, V2, FORM_A)
    changed_v3 = V3.replace(b'name="Check the request"', b'name="Check"').replace(b"approved == True", b"approved")
    second = _deploy(svc, changed_v3, FORM_B, when=LATER)
    with svc.uow(write=False) as uow:
        diff = diff_versions(uow, svc.runtime, actor=_analyst(svc), process_id="repair_demo", old=first[:8],
                             new="current")
    assert [c.element_id for c in diff.diagram.added] == ["cool_down"]
    assert [c.element_id for c in diff.diagram.removed] == ["cooling_off"]
    changed = {c.element_id: c.facts for c in diff.diagram.changed}
    assert changed["check"]["name"] == ("Check the request", "Check")
    assert changed["flow_yes"] == {"condition": ("approved == True", "approved")}
    assert changed["flow_to_cooling"] == {"flow": ("check → cooling_off", "check → cool_down")}
    assert [(f.form_id, f.added, f.changed) for f in diff.forms] == [("check", ("note",), ())]
    assert diff.diagram.marks("new")["cool_down"] == "added" and diff.diagram.marks("old")["cooling_off"] == "removed"
    assert second == diff.new.content_hash


def test_running_cases_move_to_a_new_version_after_a_dry_run(svc: Services) -> None:
    first = _deploy(svc, V2, FORM_A)
    at_task, at_timer = _start(svc, "M-1"), _start(svc, "M-2")
    _complete(svc, at_timer, approved=True, checked_by="clerk")  # now waits at the timer 'cooling_off'
    renamed_timer = V3.replace(b'name="Check the request"', b'name="Check and note"')
    second = _deploy(svc, renamed_timer, FORM_B, when=T0 + timedelta(minutes=1))
    ana = _analyst(svc)

    with svc.uow(write=False) as uow:
        version, ids = cases_of_version(uow, first[:10], actor=ana)
        plans = plan_moves(uow, svc.runtime, actor=ana, instance_ids=ids, to_version=second[:10])
    assert version.content_hash == first and ids == [at_task, at_timer]
    assert [(p.instance_id, p.possible) for p in plans] == [(at_task, True), (at_timer, False)]
    assert "cooling_off" in plans[1].reason
    assert _case(svc, at_task).deployment_hash == first  # a dry run changes nothing

    report = move_cases(svc.uow, svc.runtime, actor=ana, instance_ids=ids, to_version=second[:10],
                        reason="the clerk now notes why", now=LATER)
    assert [o.instance_id for o in report.outcomes] == [at_task] and list(report.errors) == [at_timer]
    moved = _case(svc, at_task)
    assert (moved.deployment_hash, moved.diagram_hash) == (second, parse_diagram(renamed_timer, DIAGRAM).content_hash)
    [event] = _events(svc, at_task, "case_migrated")
    assert (event.actor, event.details["from_deployment"], event.details["to_deployment"]) == ("ana", first, second)

    with pytest.raises(FormInvalid):  # the moved case now has the new version's forms
        _complete(svc, at_task, approved=True, checked_by="clerk")
    _complete(svc, at_task, approved=True, checked_by="clerk", note="moved")
    fire_due_timers(svc.uow, svc.runtime, now=LATER + timedelta(hours=2))
    assert _case(svc, at_task).status == "completed"
    assert [e.element_id for e in _events(svc, at_task, "timer_fired")] == ["cool_down"]
    not_moved = _case(svc, at_timer)  # the case that could not move finishes on its own version
    assert (not_moved.status, not_moved.deployment_hash) == ("completed", first)


def test_start_up_deploys_the_shipped_files_once_and_attaches_existing_cases(tmp_path: Path,
                                                                              database_url: str) -> None:
    product = shipped_services(tmp_path, database_url)
    try:
        settings = product.settings
        with product.uow(write=False) as uow:
            assert uow.deployments.current() == {}
        first = deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, T0)
        assert first is not None and {v.process_id for v in first.versions} == {
            "service_delivery", "proactive_offer", "complaint_review"}
        assert all(v.new for v in first.versions)
        again = deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, LATER)
        assert again is None  # the same content: nothing deployed
        with product.uow(write=False) as uow:
            current = uow.deployments.current()
            stored = uow.deployments.get(current["service_delivery"])
        assert stored is not None and "forms/service_delivery/service_requested.schema.json" in stored.manifest
        assert "processes/service_delivery.access.toml" in stored.manifest
        assert product.runtime.forms_dir_for("service_delivery") != settings.forms_dir
    finally:
        product.database.dispose()
    assert PROJECT.is_dir()


def test_a_repair_moving_a_case_to_a_deployed_diagram_also_gives_it_that_version_s_forms(svc: Services) -> None:
    first = _deploy(svc, V2, FORM_A)
    case = _start(svc, "R-1")
    second = _deploy(svc, V2_RENAMED, FORM_B, when=T0 + timedelta(minutes=1))
    outcome = migrate_case(svc.uow, svc.runtime, actor=_analyst(svc), instance_id=case,
                           target_version=parse_diagram(V2_RENAMED, DIAGRAM).content_hash[:12],
                           reason="the renamed task", now=LATER)
    assert outcome.outcome == "migrated"
    assert (first != second) and _case(svc, case).deployment_hash == second
    with pytest.raises(FormInvalid):  # the new version's form: 'note' is required now
        _complete(svc, case, approved=True, checked_by="clerk")


def test_two_processes_starting_at_once_both_come_up(tmp_path: Path, database_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The other process stores the same content first; this one's insert conflicts, it looks again and goes on."""
    from service.application import deployments
    from service.domain.errors import ConcurrencyConflict

    product = shipped_services(tmp_path, database_url)
    real_deploy = deployments.deploy
    calls = []

    def other_process_wins(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            real_deploy(*args, **kwargs)  # type: ignore[arg-type]  # the other process, a moment earlier
            raise ConcurrencyConflict("a conflicting change was saved first; try again")
        return real_deploy(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deployments, "deploy", other_process_wins)
    try:
        settings = product.settings
        result = deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, T0)
        assert result is None and calls == [1]  # looked again: already deployed, nothing more to store
        with product.uow(write=False) as uow:
            assert set(uow.deployments.current()) == {"service_delivery", "proactive_offer", "complaint_review"}
    finally:
        product.database.dispose()


def test_a_stored_version_that_no_longer_parses_does_not_stop_start_up(tmp_path: Path, database_url: str) -> None:
    """A case on a diagram version that cannot be parsed (found by benchmark 6's placeholder cases) stays
    without a deployment; the shipped processes are still deployed and the service comes up."""
    from service.application.deployments import attach_existing_cases, shipped_files

    product = shipped_services(tmp_path, database_url)
    try:
        with product.uow() as uow:
            uow.diagrams.ensure("e" * 64, "service_delivery", "service_delivery.bpmn", b"", T0)
            uow.instances.add(process_id="service_delivery", business_key="OLD-1", diagram_hash="e" * 64,
                              state="{}", serializer_version="1.5", status="running", now=T0)
            uow.commit()
        settings = product.settings
        result = deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, T0)
        assert result is not None and len(result.versions) == 3
        assert attach_existing_cases(product.write_uow, shipped_files(settings.processes_dir, settings.forms_dir),
                                     T0) == 0
    finally:
        product.database.dispose()


def test_a_deployed_version_s_form_is_read_once_and_then_checked_from_memory(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = _deploy(svc, V2, FORM_A)
    first, second = _start(svc, "F-1"), _start(svc, "F-2")
    _complete(svc, first, approved=True, checked_by="clerk")  # reads the version's form from its folder
    looked: list[str] = []
    stat = Path.stat

    def counted(path: Path, *args: object, **kwargs: object) -> object:
        looked.append(str(path))
        return stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "stat", counted)
    with pytest.raises(FormInvalid):  # still checked: a required field is missing
        _complete(svc, second, approved=True)
    _complete(svc, second, approved=True, checked_by="clerk")
    assert not [path for path in looked if digest in path], looked  # the version's files never change
    # A form in a folder that is not a deployed version is looked at, so an edit there is seen.
    assert svc.runtime.deployments is not None
    plain = svc.runtime.deployments.forms_dir(digest).parent.parent / "plain"
    (plain / "repair_demo").mkdir(parents=True)
    (plain / "repair_demo" / "check.schema.json").write_bytes(FORM_A)
    svc.runtime.form(plain, "repair_demo", "check")
    svc.runtime.form(plain, "repair_demo", "check")
    assert sum(str(plain) in path for path in looked) == 4  # the schema and its hints file, each time
