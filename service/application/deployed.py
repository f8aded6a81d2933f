"""What this process knows of the deployed versions: the current one per process, and every version's files.

Every web process and worker holds one :class:`DeploymentCache`. ``refresh`` reads the small
``current_deployments`` table at most every ``check_seconds`` (the setting
``HOMESCHOOL_DEPLOYMENT_CHECK_SECONDS``); when a process's current version changed, its diagram
becomes the library's current one and its access and process declarations replace the old. A version's files
are written once, on first use, under ``<instance dir>/deployments/<hash>/`` (``processes/`` and
``forms/``), and never change: a version is named by the hash of its content.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

from service.domain.declarations import SUFFIX, Declarations, ProcessDeclaration
from service.domain.errors import NotFound
from service.engine.library import Diagram, DiagramLibrary
from service.persistence.deployment_repository import StoredDeployment
from service.persistence.uow import UnitOfWork

from .declarations import read_declaration
from .process_access import ProcessAccess, load_declarations

log = logging.getLogger(__name__)

#: The file in a written version's folder that says it is complete.
_COMPLETE = ".complete"


def write_files(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (relative paths) under ``directory`` (which must not exist yet)."""
    for path, content in files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def diagram_path(deployment: StoredDeployment) -> str:
    """The path of a version's diagram among its files."""
    return f"processes/{deployment.process_id}.bpmn"


class DeploymentCache:
    """The current version of each deployed process, refreshed from the database every few seconds."""

    def __init__(self, library: DiagramLibrary, root: Path, reader: Callable[[], UnitOfWork],
                 check_seconds: float, access: MutableMapping[str, ProcessAccess],
                 declarations: Declarations | None = None) -> None:
        self.library = library
        self.declarations = declarations if declarations is not None else Declarations()
        self.root = root
        self.check_seconds = check_seconds
        self.access = access
        self._reader = reader
        self._current: dict[str, str] = {}
        self._diagram_of: dict[str, str] = {}
        self._checked_at: float | None = None
        self._lock = threading.Lock()
        #: The forms folder of each version whose files are written (they never change after).
        self._forms_dirs: dict[str, Path] = {}
        self._fixed_dirs: set[Path] = set()

    def current_hash(self, process_id: str) -> str | None:
        """The version new cases of ``process_id`` start on, if it was ever deployed."""
        return self._current.get(process_id)

    def current_for(self, diagram: Diagram) -> str | None:
        """The current version of the diagram's process if it is made of this diagram (else None)."""
        digest = self._current.get(diagram.process_id)
        return digest if digest is not None and self._diagram_of.get(digest) == diagram.content_hash else None

    def refresh(self, force: bool = False) -> list[str]:
        """Take up versions deployed since the last look (at most every ``check_seconds``); the processes changed."""
        moment = time.monotonic()
        if not force and self._checked_at is not None and moment - self._checked_at < self.check_seconds:
            return []
        if not self._lock.acquire(blocking=force):
            return []  # another thread is looking right now
        try:
            self._checked_at = moment
            with self._reader() as uow:
                marker = uow.deployments.current()
                changed = {pid: digest for pid, digest in marker.items() if self._current.get(pid) != digest}
                loaded = {pid: self._load(uow, digest) for pid, digest in changed.items()}
            for pid, (diagram, access, declared) in loaded.items():
                self.library.add(diagram, current=True)
                self.declarations.replace(pid, declared)
                if access is None:
                    self.access.pop(pid, None)
                else:
                    self.access[pid] = access
                self._current[pid] = changed[pid]
            if changed:
                log.info("deployments taken up: %s", ", ".join(f"{p} {h[:12]}" for p, h in sorted(changed.items())))
            return sorted(changed)
        finally:
            self._lock.release()

    def poll(self) -> None:
        """``refresh`` for request and worker loops: a failure is logged, the versions in use stay."""
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - the page or the pass goes on with the versions it has
            log.exception("looking for newly deployed versions failed; trying again in %ss", self.check_seconds)

    def _load(self, uow: UnitOfWork, digest: str) -> tuple[Diagram, ProcessAccess | None,
                                                            ProcessDeclaration | None]:
        deployment = uow.deployments.get(digest)
        if deployment is None:
            raise NotFound(f"deployment {digest[:12]} is not stored")
        directory = self._written(uow, deployment)
        path = diagram_path(deployment)
        declaration_path = directory / "processes" / f"{deployment.process_id}{SUFFIX}"
        declared = (read_declaration(declaration_path, f"processes/{declaration_path.name}")
                    if declaration_path.is_file() else None)  # before the diagram: it may add stages
        diagram = self.library.version(deployment.diagram_hash, source=(directory / path).read_bytes(), file=path)
        self._diagram_of[digest] = deployment.diagram_hash
        access = load_declarations(directory / "processes", [diagram]).get(deployment.process_id)
        return diagram, access, declared

    def directory(self, digest: str) -> Path:
        """The folder holding a version's files (``processes/``, ``forms/``), written on first use."""
        folder = self.root / digest
        if (folder / _COMPLETE).exists():
            return folder
        with self._reader() as uow:
            deployment = uow.deployments.get(digest)
            if deployment is None:
                raise NotFound(f"deployment {digest[:12]} is not stored")
            return self._written(uow, deployment)

    def forms_dir(self, digest: str) -> Path:
        """The forms folder of a version (looked up on disk once per version)."""
        found = self._forms_dirs.get(digest)
        if found is None:
            found = self.directory(digest) / "forms"
            self._fixed_dirs.add(found)  # (each a single operation under the interpreter's lock)
            self._forms_dirs[digest] = found
        return found

    def holds(self, forms_dir: Path) -> bool:
        """Whether ``forms_dir`` is a deployed version's forms folder (content-addressed: its files never change)."""
        return forms_dir in self._fixed_dirs

    def _written(self, uow: UnitOfWork, deployment: StoredDeployment) -> Path:
        folder = self.root / deployment.content_hash
        if (folder / _COMPLETE).exists():
            return folder
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".writing-", dir=self.root))
        try:
            write_files(scratch, uow.deployments.files(deployment))
            (scratch / _COMPLETE).write_text(deployment.content_hash, encoding="utf-8")
            try:
                os.rename(scratch, folder)
            except OSError:  # another process wrote the same version first: theirs is identical
                if not (folder / _COMPLETE).exists():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return folder
