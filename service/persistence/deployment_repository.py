"""Deployments: storing a version's files once per hash, naming the current version, counting its cases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, func, insert, select, update

from .deployment_models import CurrentDeploymentRow, DeploymentFileRow, DeploymentRow
from .models import ProcessInstance
from .repositories import Repository

_File_T: Table = DeploymentFileRow.__table__  # type: ignore[assignment]
_File_C = _File_T.c
_Deployment_T: Table = DeploymentRow.__table__  # type: ignore[assignment]
_Deployment_C = _Deployment_T.c
_Current_T: Table = CurrentDeploymentRow.__table__  # type: ignore[assignment]
_Current_C = _Current_T.c
_Instance_T: Table = ProcessInstance.__table__  # type: ignore[assignment]
_Instance_C = _Instance_T.c


@dataclass(frozen=True)
class StoredDeployment:
    """One stored version of a process, without its files' bytes."""

    content_hash: str
    process_id: str
    diagram_hash: str
    #: path → SHA-256 of the file's bytes
    manifest: Mapping[str, str]
    deployed_at: datetime
    deployed_by: str
    override_reason: str | None


_COLUMNS = (_Deployment_C.content_hash, _Deployment_C.process_id, _Deployment_C.diagram_hash,
            _Deployment_C.manifest, _Deployment_C.deployed_at, _Deployment_C.deployed_by,
            _Deployment_C.override_reason)


class DeploymentRepository(Repository):
    """Versions of processes (diagram, forms, access file), the current one per process, and their cases."""

    def add(self, deployment: StoredDeployment, files: Mapping[str, bytes]) -> bool:
        """Store a version and the files it lists that are not stored yet; False if the version was there."""
        if self.get(deployment.content_hash) is not None:
            return False
        wanted = set(deployment.manifest.values())
        known = set(self.session.execute(
            select(_File_C.content_hash).where(_File_C.content_hash.in_(wanted))).scalars()) if wanted else set()
        by_hash = {deployment.manifest[path]: content for path, content in files.items()}
        for digest in sorted(wanted - known):
            self.session.execute(insert(_File_T).values(content_hash=digest, content=by_hash[digest]))
        self.session.execute(insert(_Deployment_T).values(
            content_hash=deployment.content_hash, process_id=deployment.process_id,
            diagram_hash=deployment.diagram_hash, manifest=dict(deployment.manifest),
            deployed_at=deployment.deployed_at, deployed_by=deployment.deployed_by,
            override_reason=deployment.override_reason,
        ))
        return True

    def get(self, content_hash: str) -> StoredDeployment | None:
        """A stored version by its full hash."""
        row = self.session.execute(select(*_COLUMNS).where(_Deployment_C.content_hash == content_hash)).first()
        return StoredDeployment(**row._mapping) if row else None

    def files(self, deployment: StoredDeployment) -> dict[str, bytes]:
        """The bytes of every file of a version, by path."""
        digests = set(deployment.manifest.values())
        content: dict[str, bytes] = {}
        if digests:
            rows = self.session.execute(select(_File_C.content_hash, _File_C.content)
                                        .where(_File_C.content_hash.in_(digests)))
            content = {row[0]: bytes(row[1]) for row in rows}
        return {path: content[digest] for path, digest in deployment.manifest.items()}

    def versions_of(self, process_id: str) -> list[StoredDeployment]:
        """Every stored version of a process, newest first."""
        rows = self.session.execute(select(*_COLUMNS).where(_Deployment_C.process_id == process_id)
                                    .order_by(_Deployment_C.deployed_at.desc(), _Deployment_C.content_hash))
        return [StoredDeployment(**row._mapping) for row in rows]

    def matching(self, prefix: str) -> list[StoredDeployment]:
        """The versions whose hash starts with ``prefix`` (of any process)."""
        rows = self.session.execute(select(*_COLUMNS).where(
            _Deployment_C.content_hash.startswith(prefix, autoescape=True)).limit(3))
        return [StoredDeployment(**row._mapping) for row in rows]

    def version_with_diagram(self, process_id: str, diagram_hash: str) -> str | None:
        """The version of a process made of this diagram: the current one if it is, else the newest."""
        current = self.current().get(process_id)
        found = [d.content_hash for d in self.versions_of(process_id) if d.diagram_hash == diagram_hash]
        return current if current in found else (found[0] if found else None)

    def current(self) -> dict[str, str]:
        """process id → hash of its current version (the marker every process checks every few seconds)."""
        rows = self.session.execute(select(_Current_C.process_id, _Current_C.deployment_hash))
        return {row[0]: row[1] for row in rows}

    def make_current(self, process_id: str, content_hash: str, now: datetime) -> None:
        """New cases of the process start on this version from now on."""
        changed = self.session.execute(update(_Current_T).where(_Current_C.process_id == process_id)
                                       .values(deployment_hash=content_hash, changed_at=now))
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            self.session.execute(insert(_Current_T).values(process_id=process_id, deployment_hash=content_hash,
                                                           changed_at=now))

    def case_counts(self, process_id: str, status: str = "running") -> dict[str | None, int]:
        """deployment hash → how many cases of the process in ``status`` run on it (None: not attached)."""
        rows = self.session.execute(
            select(_Instance_C.deployment_hash, func.count()).where(
                _Instance_C.process_id == process_id, _Instance_C.status == status,
            ).group_by(_Instance_C.deployment_hash))
        return {row[0]: int(row[1]) for row in rows}

    def cases_on(self, content_hash: str, status: str = "running") -> list[int]:
        """Ids of the cases in ``status`` that run on a version, oldest first."""
        rows = self.session.execute(select(_Instance_C.id).where(
            _Instance_C.deployment_hash == content_hash, _Instance_C.status == status).order_by(_Instance_C.id))
        return [int(row[0]) for row in rows]

    def unattached(self) -> list[tuple[str, str]]:
        """(process id, diagram hash) of every diagram version some case runs on without a deployment."""
        rows = self.session.execute(select(_Instance_C.process_id, _Instance_C.diagram_hash).where(
            _Instance_C.deployment_hash.is_(None)).distinct())
        return sorted((row[0], row[1]) for row in rows)

    def attach(self, diagram_hash: str, content_hash: str) -> int:
        """Attach every case of this diagram version that has no deployment yet; how many were."""
        result = self.session.execute(update(_Instance_T).where(
            _Instance_C.diagram_hash == diagram_hash, _Instance_C.deployment_hash.is_(None),
        ).values(deployment_hash=content_hash))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def move_case(self, instance_id: int, content_hash: str, diagram_hash: str) -> None:
        """Point one case at another version (a migration; the caller saves its state too)."""
        self.session.execute(update(_Instance_T).where(_Instance_C.id == instance_id)
                             .values(deployment_hash=content_hash, diagram_hash=diagram_hash))
