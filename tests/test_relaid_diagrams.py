"""Cases started on the diagrams as shipped before their re-layout (joining gateways added, issue 12
point 7) finish on the version they started with, now that the re-laid diagrams are current.

``tests/legacy/`` keeps those versions: ``service_delivery_v1.bpmn``, ``complaint_review_v1.bpmn``
and ``proactive_offer_v2.bpmn`` are the shipped files before the change, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.application.cases import complete_task
from service.application.sms import report_sms_delivery
from service.application.submissions import reply_to_offer
from service.bootstrap import Services, build_services
from service.domain.staff import Actor
from service.engine.library import DiagramLibrary, content_hash

from . import test_service_delivery as delivery
from . import test_sms_gateway as offers
from .support import PROJECT, at, person, registry

LEGACY = PROJECT / "tests" / "legacy"
BEFORE = {
    "service_delivery": LEGACY / "service_delivery_v1.bpmn",
    "complaint_review": LEGACY / "complaint_review_v1.bpmn",
    "proactive_offer": LEGACY / "proactive_offer_v2.bpmn",
}


@pytest.fixture
def before(product: Services) -> Iterator[Services]:
    """The product as it was before the re-layout: the same database, the previous diagrams current."""
    library = DiagramLibrary()
    library.load_files(list(BEFORE.values()), base=LEGACY)
    old = build_services(product.settings, library=library)
    old.test_registry = registry(product)  # type: ignore[attr-defined]
    yield old
    old.database.dispose()


def diagram_hash(product: Services, case: int) -> str:
    """The version of the diagram the case runs on."""
    with product.uow(write=False) as uow:
        stored = uow.instances.get(case)
    assert stored is not None
    return stored.diagram_hash


def test_the_previous_versions_are_other_versions() -> None:
    for process_id, path in BEFORE.items():
        shipped = (PROJECT / "processes" / f"{process_id}.bpmn").read_bytes()
        assert content_hash(path.read_bytes()) != content_hash(shipped), process_id


def test_a_request_started_before_loops_through_the_old_gateways_and_is_served(
        product: Services, before: Services) -> None:
    case = delivery.submit(before, delivery.request(channel="portal"))
    old = content_hash(BEFORE["service_delivery"].read_bytes())
    assert diagram_hash(product, case) == old
    # the shipped product (re-laid diagram current) takes the case on: a correction goes back through the
    # old version's 'route_by_channel', which there both joins and forks
    delivery.complete(product, "office_clerk", case, {"decision": "correct", "corrections": {
        "documents": ["application", "vkk_conclusion"], "note": "Сверено с ИС ВКК"}})
    assert delivery.task_of(product, "office_clerk", case).element_id == "check_portal_request"
    delivery.complete(product, "office_clerk", case, {"decision": "accept"}, now=at("2026-03-26T10:00+05:00"))
    delivery.organise_and_order(product, case)
    view = delivery.view_of(product, case)
    assert view.status == "completed"
    assert diagram_hash(product, case) == old
    assert delivery.outbox(product, case, "portal_cabinet")[-1] == "portal_cabinet.admission_order"


def test_a_new_request_runs_on_the_re_laid_version(product: Services) -> None:
    case = delivery.submit(product, delivery.request(channel="portal"))
    assert diagram_hash(product, case) == content_hash((PROJECT / "processes" / "service_delivery.bpmn").read_bytes())
    delivery.complete(product, "office_clerk", case, {"decision": "correct", "corrections": {
        "documents": ["application", "vkk_conclusion"], "note": "Сверено с ИС ВКК"}})
    delivery.complete(product, "office_clerk", case, {"decision": "accept"}, now=at("2026-03-26T10:00+05:00"))
    delivery.organise_and_order(product, case)
    assert delivery.view_of(product, case).status == "completed"


def test_an_offer_started_before_is_delivered_answered_and_starts_the_service(
        product: Services, before: Services) -> None:
    case = offers.offer_case(before, "OLD-7")
    assert diagram_hash(product, case) == content_hash(BEFORE["proactive_offer"].read_bytes())
    [sms] = offers.sms_of(product, case)
    # delivery fails first: the old 'delivery_outcome' (joins and forks) sends it to the clerk, who resends
    report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"), message_id=sms.idempotency_key,
                        status="failed", at=at("2026-03-20T17:05+05:00"), now=at("2026-03-20T17:05+05:00"),
                        reason="absent subscriber")
    [task] = offers.view(product, case).open_tasks
    with product.uow() as uow:
        complete_task(uow, product.runtime, actor=person(product, "office_clerk"), task_id=task.task_id,
                      data={"outcome": "resend", "note": "Шлюз был недоступен"}, now=at("2026-03-23T10:00+05:00"))
    _, second = offers.sms_of(product, case)
    report_sms_delivery(product.write_uow, product.runtime, actor=Actor.client("sms"),
                        message_id=second.idempotency_key, status="delivered", at=at("2026-03-23T10:02+05:00"),
                        now=at("2026-03-23T10:02+05:00"))
    outcome = reply_to_offer(product.write_uow, product.runtime, actor=Actor.client("sms"), offer="OLD-7",
                             consent=True, phone=offers.PHONE, text=None, idempotency_key=None,
                             now=at("2026-03-23T12:00+05:00"))
    assert outcome == "delivered"
    assert offers.view(product, case).status == "completed"
    assert diagram_hash(product, case) == content_hash(BEFORE["proactive_offer"].read_bytes())
