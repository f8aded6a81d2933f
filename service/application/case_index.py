"""Keeping the case index current: the step that writes a case writes its index row too."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.domain.search import people_in
from service.persistence.case_index import case_index_of
from service.persistence.repositories import StoredInstance
from service.persistence.uow import UnitOfWork


def index_step(uow: UnitOfWork, stored: StoredInstance, *, status: str, stage: Mapping[str, str] | None,
               data: Mapping[str, Any], now: datetime) -> None:
    """Index a new case (``stored.version == 0``) or record its new status or §8 stage.

    The people (child, applicant) are copied from the case's data when it is indexed and again
    whenever its status or stage changes; a step that changes neither writes nothing here.
    """
    index = case_index_of(uow)
    code = stage.get("stage") if stage is not None else None
    if stored.version == 0:
        index.add(instance_id=stored.id, process_id=stored.process_id, business_key=stored.business_key,
                  organisation_id=stored.organisation_id, appealed_organisation_id=stored.appealed_organisation_id,
                  status=status, opened_at=now, people=people_in(data), stage=code or "")
        return
    if code is not None or status != stored.status:
        index.change(stored.id, status=status if status != stored.status else None, stage=code,
                     people=people_in(data))
