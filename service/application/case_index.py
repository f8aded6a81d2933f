"""Keeping the case index current: the step that writes a case writes its index row too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from service.domain.search import CasePeople, people_in
from service.engine.runtime import ProcessRun
from service.persistence.case_index import case_index_of
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork

#: The people each resumed case named when its run began (what its index row holds), until the run is gone.
_AT_START: WeakKeyDictionary[ProcessRun, CasePeople] = WeakKeyDictionary()


def note_people(run: ProcessRun) -> None:
    """Remember whom the case names as its run begins, so that its step writes only the names that changed."""
    _AT_START[run] = people_in(run.case_data())


def index_step(uow: UnitOfWork, stored: StoredInstance, run: ProcessRun, *, status: str,
               stage: Mapping[str, str] | None, data: Mapping[str, Any], now: datetime) -> None:
    """Index a new case (``stored.version == 0``) or record its new status, §8 stage or people.

    The people (child, applicant) are copied from the case's data when it is indexed, and after
    that whenever they differ from those the case named when the run began (noted by
    :func:`note_people`; the index row holds those, as every step that changed them wrote them).
    A run not noted writes the people whenever the status or stage changes. A step that changes
    none of these writes nothing here.
    """
    index = case_index_of(uow)
    code = stage.get("stage") if stage is not None else None
    if stored.version == 0:
        index.add(instance_id=stored.id, process_id=stored.process_id, business_key=stored.business_key,
                  organisation_id=stored.organisation_id, appealed_organisation_id=stored.appealed_organisation_id,
                  status=status, opened_at=now, people=people_in(data), stage=code or "")
        return
    changed = status != stored.status
    indexed = _AT_START.get(run)
    people = people_in(data)
    if code is not None or changed or (indexed is not None and people != indexed):
        index.change(stored.id, status=status if changed else None, stage=code, people=people, indexed=indexed)
