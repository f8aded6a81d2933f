"""Filling the case index's people for cases indexed before it held them (``homeschool db reindex-cases``)."""

from __future__ import annotations

from collections.abc import Callable

from service.domain.search import CasePeople, people_in
from service.persistence.case_index import case_index_of
from service.persistence.uow import UnitOfWork

from ._running import resume
from .runtime import Runtime


def reindex_people(uows: Callable[[], UnitOfWork], runtime: Runtime, *, batch: int = 200) -> int:
    """Copy the child and applicant into the index of cases that have none yet (cases from before the index).

    Reads each such case's data once (one batch per transaction); returns how many cases gained people.
    """
    filled, after = 0, 0
    while True:
        with uows() as uow:
            index = case_index_of(uow)
            ids = index.without_people(after=after, limit=batch)
            for instance_id in ids:
                stored = uow.instances.get(instance_id)
                if stored is None:
                    continue
                people = people_in(resume(uow, runtime, stored).snapshot().data)
                if people != CasePeople():
                    index.change(instance_id, people=people)
                    filled += 1
            uow.commit()
        if len(ids) < batch:
            return filled
        after = ids[-1]
