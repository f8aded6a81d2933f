"""Deployments: a process's diagram, forms and declarations as one version, stored by content hash.

A **deployment** of process ``P`` is the set of files its behaviour depends on, by path:

- ``processes/P.bpmn`` — the diagram (named after its executable process's id);
- ``processes/P.<kind>.toml`` — the declarations beside it (``process``: what the product needs of
  it, ``access``, ``names``);
- ``forms/P/<form>.<kind>.json`` — its forms (``*.schema.json``), their hints (``*.ui.json``) and any
  other file beside them.

Its hash is the SHA-256 of the sorted list of (path, SHA-256 of the file). A running case keeps
the version it started on (``process_instances.deployment_hash``): its tasks are checked against
that version's forms. Deploying makes a version current; every web process and worker takes it up
within ``HOMESCHOOL_DEPLOYMENT_CHECK_SECONDS`` (see ``deployed.DeploymentCache``), no restart.

The interface (the CLI, the versions page and the in-browser modeler call these):

- ``deploy(uows, runtime, *, actor, files, now, override_reason=None) -> DeploymentResult`` —
  validate and store the files given (``{path: bytes}``, paths as above; files of a process not
  given are kept from its current version: the forms as a whole when no ``forms/P/`` file is
  given, each declaration on its own), make each changed process's version current. Identical
  content is a no-op (``already deployed as <hash>``). Raises ``DeploymentRefused`` listing every
  problem (each naming its file) — nothing is stored then; ``NotPermitted`` unless the actor is
  an analyst (or the service itself). ``override_reason`` is stored with the version (the
  modeler's logged override of failed pre-deployment checks).
- ``check_files(uow, runtime, files) -> list[str]`` — the same validation, nothing stored.
- ``list_versions(uow, runtime, *, actor, process_id) -> list[VersionInfo]`` — newest first,
  with who deployed it, when, whether current, and how many running cases run on it.
- ``diff_versions(uow, runtime, *, actor, process_id, old, new) -> VersionDiff`` — elements added,
  removed, changed (facts and form fields); versions named by hash or an 8+ character prefix.
- ``files_from_paths(paths, processes_dir, forms_dir) -> dict[str, bytes]`` — files on disk as
  deployment paths (for ``homeschool deploy``).
- ``deploy_shipped(services-like)`` / ``attach_existing_cases(...)`` — start-up: deploy the files on
  disk if that content was never deployed; attach cases from before deployments existed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from service.domain.errors import ConcurrencyConflict, DomainError, InvalidInput, NotFound, NotPermitted
from service.domain.model import EventRecord
from service.domain.staff import Actor
from service.engine.library import Diagram, DiagramLibrary, content_hash
from service.engine.versions import DiagramDiff, diff_diagrams
from service.persistence.deployment_repository import StoredDeployment
from service.persistence.uow import UnitOfWork

from ._running import store_diagram
from .catalog import FORM_SUFFIX
from .deployed import diagram_path, write_files
from .process_access import load_declarations
from .runtime import Runtime
from .validation import validate_files

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]
#: Who deploys: analysts (and the service itself, at start-up and from the command line).
DEPLOY_ROLE = "analyst"
#: The shortest part of a version's hash that may name it.
MIN_PREFIX = 8
_NAME = r"[A-Za-z0-9_-]+"
_DIAGRAM = re.compile(rf"processes/({_NAME})\.bpmn")
_DECLARATION = re.compile(rf"processes/({_NAME})\.({_NAME})\.toml")
_FORM = re.compile(rf"forms/({_NAME})/({_NAME})\.({_NAME})\.json")
_HEX = re.compile(r"[0-9a-f]+")


class DeploymentRefused(InvalidInput):
    """The files cannot be deployed; ``problems`` lists every one, each naming its file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the version was not deployed:\n" + "\n".join(problems))


@dataclass(frozen=True)
class DeployedVersion:
    """What deploying did for one process."""

    process_id: str
    content_hash: str
    #: False: this exact content was already the current version (nothing changed).
    new: bool

    def line(self) -> str:
        """One line for the command line."""
        if self.new:
            return f"{self.process_id}: deployed as {self.content_hash[:12]} (now current)"
        return f"{self.process_id}: already deployed as {self.content_hash[:12]}"


@dataclass(frozen=True)
class DeploymentResult:
    """Every process a deployment touched."""

    versions: tuple[DeployedVersion, ...]

    @property
    def changed(self) -> bool:
        """Whether any process got a new current version."""
        return any(version.new for version in self.versions)


@dataclass(frozen=True)
class VersionInfo:
    """One version of a process, as the versions page lists it."""

    content_hash: str
    process_id: str
    deployed_at: datetime
    deployed_by: str
    current: bool
    running_cases: int
    override_reason: str | None
    files: tuple[str, ...]


@dataclass(frozen=True)
class FormChange:
    """A form of one task that differs between two versions: fields added, removed, changed."""

    form_id: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    """Two versions of one process compared: the diagram's elements and the forms' fields."""

    process_id: str
    old: StoredDeployment
    new: StoredDeployment
    old_diagram: Diagram = field(repr=False)
    new_diagram: Diagram = field(repr=False)
    diagram: DiagramDiff
    forms: tuple[FormChange, ...]
    #: Other files (declarations) that differ.
    files: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Whether the two versions behave the same (same elements, forms and declarations)."""
        return self.diagram.empty and not self.forms and not self.files


# --- the content hash --------------------------------------------------------------------------------

def version_hash(files: Mapping[str, bytes]) -> str:
    """The identity of a version: SHA-256 over its sorted paths and their files' SHA-256."""
    lines = "".join(f"{path}\0{content_hash(files[path])}\n" for path in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def process_of(path: str) -> str:
    """The process a deployment path belongs to; InvalidInput for a path that is none of the known kinds."""
    for pattern in (_DIAGRAM, _DECLARATION, _FORM):
        match = pattern.fullmatch(path)
        if match:
            return match.group(1)
    raise InvalidInput(f"{path}: not a diagram (processes/P.bpmn), a declaration (processes/P.<kind>.toml) "
                       "or a form's file (forms/P/<form>.schema.json, .ui.json, …)")


def _merged(current: Mapping[str, bytes], given: Mapping[str, bytes], process_id: str) -> dict[str, bytes]:
    """The process's files after deploying ``given`` over its current version."""
    forms_given = any(path.startswith("forms/") for path in given)
    files = {path: content for path, content in current.items() if not (forms_given and path.startswith("forms/"))}
    files.update(given)
    return files


# --- validation ----------------------------------------------------------------------------------------

def check_files(uow: UnitOfWork, runtime: Runtime, files: Mapping[str, bytes]) -> list[str]:
    """Every problem of deploying ``files`` (each naming its file); nothing is stored."""
    try:
        _candidates(uow, runtime, files)
    except DeploymentRefused as exc:
        return exc.problems
    return []


def _group(files: Mapping[str, bytes]) -> dict[str, dict[str, bytes]]:
    problems: list[str] = []
    grouped: dict[str, dict[str, bytes]] = {}
    for path, content in files.items():
        try:
            grouped.setdefault(process_of(path), {})[path] = bytes(content)
        except InvalidInput as exc:
            problems.append(str(exc))
    if problems:
        raise DeploymentRefused(problems)
    if not grouped:
        raise DeploymentRefused(["no files to deploy"])
    return grouped


def _current_files(uow: UnitOfWork, process_id: str, marker: Mapping[str, str]) -> dict[str, bytes]:
    digest = marker.get(process_id)
    stored = uow.deployments.get(digest) if digest else None
    return uow.deployments.files(stored) if stored is not None else {}


def _candidates(uow: UnitOfWork, runtime: Runtime, files: Mapping[str, bytes]) -> dict[str, dict[str, bytes]]:
    """process id → the complete files of its new version; DeploymentRefused with every problem found."""
    grouped = _group(files)
    marker = uow.deployments.current()
    candidates = {pid: _merged(_current_files(uow, pid, marker), given, pid) for pid, given in grouped.items()}
    problems = [f"processes/{pid}.bpmn: process '{pid}' has no diagram (give processes/{pid}.bpmn)"
                for pid, found in sorted(candidates.items()) if f"processes/{pid}.bpmn" not in found]
    if problems:
        raise DeploymentRefused(problems)
    others: dict[str, bytes] = {}
    for diagram in runtime.engine.library.diagrams():  # the rest of the service, to check messages between
        if diagram.process_id not in candidates:
            others.update(_current_files(uow, diagram.process_id, marker)
                          or {f"processes/{diagram.process_id}.bpmn": diagram.source})
    problems = validate_tree({**others, **{p: c for found in candidates.values() for p, c in found.items()}},
                             runtime, set(candidates))
    if problems:
        raise DeploymentRefused(problems)
    return candidates


def validate_tree(files: Mapping[str, bytes], runtime: Runtime, checked: set[str]) -> list[str]:
    """Problems of a complete set of files (every process), reported for the processes in ``checked``."""
    with tempfile.TemporaryDirectory(prefix="homeschool-deploy-") as scratch:
        root = Path(scratch)
        write_files(root, files)
        processes, forms = root / "processes", root / "forms"
        processes.mkdir(exist_ok=True)
        forms.mkdir(exist_ok=True)

        def named(text: str) -> str:
            return text.replace(f"{root}/", "")

        targets = [processes / f"{pid}.bpmn" for pid in sorted(checked) if (processes / f"{pid}.bpmn").is_file()]
        problems = [problem.describe() for problem in validate_files(
            targets, forms, processes_dir=processes, form_choices=runtime.form_choices) if problem.is_error]
        try:
            diagrams = DiagramLibrary.from_directory(processes).diagrams()
        except DomainError:
            return sorted({named(problem) for problem in problems}) or ["the diagrams could not be loaded"]
        problems += [f"processes/{d.process_id}.bpmn: the file is named after another process than "
                     f"'{d.process_id}' ({d.file})" for d in diagrams if d.file != f"processes/{d.process_id}.bpmn"]
        try:
            load_declarations(processes, diagrams)
        except DomainError as exc:
            problems.append(str(exc))
        others = {d.process_id for d in diagrams} - checked
        return sorted({named(problem) for problem in problems if not _only_about(named(problem), others)})


def case_forms_dir(uow: UnitOfWork, runtime: Runtime, instance_id: int) -> Path | None:
    """Where the forms of a case's version are (its process's current version for a case not attached)."""
    stored = uow.instances.get(instance_id)
    if stored is None:
        return runtime.forms_dir
    return runtime.forms_dir_for(stored.process_id, stored.deployment_hash)


def _only_about(problem: str, processes: set[str]) -> bool:
    """Whether a problem names a file of one of ``processes`` (files not being deployed now)."""
    return any(problem.startswith((f"forms/{pid}/", f"processes/{pid}.")) for pid in processes)


# --- deploying ----------------------------------------------------------------------------------------

def deployer(uow: UnitOfWork, login: str) -> Actor:
    """The active analyst acting at the command line."""
    found = uow.staff.by_login(login.strip().lower())
    if found is None or not found[4]:
        raise NotFound(f"there is no active member of staff '{login}'")
    member = found[0]
    _check_deployer(member)
    return member


def _check_deployer(actor: Actor) -> None:
    if actor.kind == "system":
        return
    if not actor.is_person or not actor.has_role(DEPLOY_ROLE):
        raise NotPermitted(f"versions are deployed by the role '{DEPLOY_ROLE}'")


def deploy(uows: UowFactory, runtime: Runtime, *, actor: Actor, files: Mapping[str, bytes], now: datetime,
           override_reason: str | None = None) -> DeploymentResult:
    """Validate the files, store each changed process's version and make it current (see the module's text)."""
    _check_deployer(actor)
    reason = " ".join((override_reason or "").split()) or None
    with uows() as uow:
        candidates = _candidates(uow, runtime, files)
        marker = uow.deployments.current()
        done = []
        for process_id, found in sorted(candidates.items()):
            digest = version_hash(found)
            if marker.get(process_id) == digest:
                done.append(DeployedVersion(process_id, digest, new=False))
                continue
            _store(uow, found, process_id, digest, actor.login, now, reason)
            uow.deployments.make_current(process_id, digest, now)
            uow.events.append([EventRecord(at=now, actor=actor.login, action="version_deployed", details={
                "process": process_id, "version": digest, "previous": marker.get(process_id),
                **({"override_reason": reason} if reason else {}),
            })])
            done.append(DeployedVersion(process_id, digest, new=True))
        uow.commit()
    if runtime.deployments is not None and any(version.new for version in done):
        runtime.deployments.refresh(force=True)
    return DeploymentResult(tuple(done))


def _store(uow: UnitOfWork, files: Mapping[str, bytes], process_id: str, digest: str, login: str, now: datetime,
           reason: str | None) -> StoredDeployment:
    path = f"processes/{process_id}.bpmn"
    diagram = DiagramLibrary().version(content_hash(files[path]), source=files[path], file=path)
    store_diagram(uow, diagram, now)
    stored = StoredDeployment(content_hash=digest, process_id=process_id, diagram_hash=diagram.content_hash,
                              manifest={p: content_hash(c) for p, c in files.items()}, deployed_at=now,
                              deployed_by=login, override_reason=reason)
    uow.deployments.add(stored, files)
    return stored


def files_from_paths(paths: Iterable[Path], processes_dir: Path, forms_dir: Path) -> dict[str, bytes]:
    """Files and folders on disk as deployment paths (``processes/…``, ``forms/…``); others are refused."""
    found: dict[str, bytes] = {}
    for given in paths:
        entries = sorted(p for p in given.rglob("*") if p.is_file()) if given.is_dir() else [given]
        if not given.exists():
            raise InvalidInput(f"{given}: no such file or folder")
        for entry in entries:
            resolved = entry.resolve()
            for prefix, base in (("processes", processes_dir), ("forms", forms_dir)):
                if resolved.is_relative_to(base.resolve()):
                    relative = resolved.relative_to(base.resolve()).as_posix()
                    key = f"{prefix}/{relative}"
                    break
            else:
                raise InvalidInput(f"{entry}: neither under {processes_dir} nor under {forms_dir}")
            if entry.suffix in (".bpmn", ".toml", ".json"):
                found[key] = entry.read_bytes()
    return found


def shipped_files(processes_dir: Path, forms_dir: Path) -> dict[str, bytes]:
    """The diagrams, declarations and forms on disk that belong to a diagram on disk."""
    files = files_from_paths([d for d in (processes_dir, forms_dir) if d.is_dir()], processes_dir, forms_dir)
    processes = {m.group(1) for m in (_DIAGRAM.fullmatch(p) for p in files) if m}
    kept = {}
    for path, content in files.items():
        try:
            owner = process_of(path)
        except InvalidInput:
            continue  # a README or another file beside them
        if owner in processes:
            kept[path] = content
    return kept


def deploy_shipped(uows: UowFactory, runtime: Runtime, processes_dir: Path, forms_dir: Path,
                   now: datetime) -> DeploymentResult | None:
    """At start-up: deploy the files on disk, unless this exact content was deployed before (then keep current).

    Several processes starting at once (web workers, ``homeschool worker``s) race to store the same
    content: the one that loses sees a conflict, looks again, finds it deployed and goes on.
    """
    for attempt in range(_START_UP_ATTEMPTS):
        try:
            return _deploy_shipped_once(uows, runtime, processes_dir, forms_dir, now)
        except ConcurrencyConflict:
            if attempt == _START_UP_ATTEMPTS - 1:
                raise
    return None


_START_UP_ATTEMPTS = 3


def _deploy_shipped_once(uows: UowFactory, runtime: Runtime, processes_dir: Path, forms_dir: Path,
                         now: datetime) -> DeploymentResult | None:
    files = shipped_files(processes_dir, forms_dir)
    if not files:
        return None
    grouped = _group(files)
    with uows() as uow:
        marker = uow.deployments.current()
        fresh = {path: content for pid, found in grouped.items()
                 if pid not in marker or uow.deployments.get(version_hash(found)) is None
                 for path, content in found.items()}
    result = deploy(uows, runtime, actor=Actor.system("start-up"), files=fresh, now=now) if fresh else None
    attach_existing_cases(uows, files, now)
    if runtime.deployments is not None:
        runtime.deployments.refresh(force=True)
    return result


def attach_existing_cases(uows: UowFactory, shipped: Mapping[str, bytes], now: datetime) -> int:
    """Attach every case without a deployment to one made of its diagram version and today's forms; how many."""
    grouped = _group(shipped) if shipped else {}
    attached = 0
    with uows() as uow:
        for process_id, diagram_hash in uow.deployments.unattached():
            source = uow.diagrams.source(diagram_hash)
            if source is None:
                continue
            files = {p: c for p, c in grouped.get(process_id, {}).items() if not p.endswith(".bpmn")}
            files[f"processes/{process_id}.bpmn"] = source[0]
            digest = version_hash(files)
            if uow.deployments.get(digest) is None:
                try:
                    _store(uow, files, process_id, digest, "start-up", now, None)
                except DomainError as exc:  # a stored version that no longer parses must not stop start-up
                    log.error("cases of %s on diagram version %s stay without a deployment: %s",
                              process_id, diagram_hash[:12], exc)
                    continue
            attached += uow.deployments.attach(diagram_hash, digest)
        uow.commit()
    return attached


# --- versions and their differences ---------------------------------------------------------------------

def _check_analyst(actor: Actor) -> None:
    if not actor.is_person or not actor.has_role(DEPLOY_ROLE):
        raise NotPermitted(f"versions are for the role '{DEPLOY_ROLE}'")


def list_versions(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str) -> list[VersionInfo]:
    """Every version of a process, newest first: when, who, current or not, how many running cases."""
    _check_analyst(actor)
    current = uow.deployments.current().get(process_id)
    counts = uow.deployments.case_counts(process_id)
    return [VersionInfo(d.content_hash, d.process_id, d.deployed_at, d.deployed_by, d.content_hash == current,
                        counts.get(d.content_hash, 0), d.override_reason, tuple(sorted(d.manifest)))
            for d in uow.deployments.versions_of(process_id)]


def deployed_processes(uow: UnitOfWork, *, actor: Actor) -> dict[str, str]:
    """process id → its current version's hash, for every deployed process."""
    _check_analyst(actor)
    return dict(sorted(uow.deployments.current().items()))


def find_version(uow: UnitOfWork, process_id: str, name: str) -> StoredDeployment:
    """The version of a process a hash (or its first 8+ characters) or ``current`` names."""
    wanted = name.strip().lower()
    if wanted == "current":
        wanted = uow.deployments.current().get(process_id, "")
        if not wanted:
            raise NotFound(f"process '{process_id}' has no deployed version")
    if len(wanted) < MIN_PREFIX or not _HEX.fullmatch(wanted):
        raise InvalidInput(f"name a version by 'current' or its hash (at least {MIN_PREFIX} hex characters)")
    found = [d for d in uow.deployments.matching(wanted) if d.process_id == process_id]
    if not found:
        raise NotFound(f"process '{process_id}' has no version {wanted}")
    if len(found) > 1:
        raise InvalidInput(f"version {wanted} is ambiguous: give more of its hash")
    return found[0]


def version_diagram(uow: UnitOfWork, runtime: Runtime, deployment: StoredDeployment) -> Diagram:
    """The parsed diagram of a version (parsed once per process)."""
    library = runtime.engine.library
    if library.has_version(deployment.diagram_hash):
        return library.version(deployment.diagram_hash)
    source = uow.diagrams.source(deployment.diagram_hash)
    if source is None:
        raise NotFound(f"the diagram of version {deployment.content_hash[:12]} is not stored")
    return library.version(deployment.diagram_hash, source=source[0], file=diagram_path(deployment))


def diff_versions(uow: UnitOfWork, runtime: Runtime, *, actor: Actor, process_id: str, old: str,
                  new: str) -> VersionDiff:
    """Compare two versions of a process: elements added, removed, changed; form fields; declarations."""
    _check_analyst(actor)
    before, after = find_version(uow, process_id, old), find_version(uow, process_id, new)
    old_diagram, new_diagram = version_diagram(uow, runtime, before), version_diagram(uow, runtime, after)
    old_files, new_files = uow.deployments.files(before), uow.deployments.files(after)
    forms = tuple(_form_changes(old_files, new_files, process_id))
    others = tuple(sorted(p for p in set(before.manifest) | set(after.manifest)
                          if not p.startswith("forms/") and not p.endswith(".bpmn")
                          and before.manifest.get(p) != after.manifest.get(p)))
    return VersionDiff(process_id, before, after, old_diagram, new_diagram, diff_diagrams(old_diagram, new_diagram),
                       forms, others)


def _fields(content: bytes | None) -> dict[str, str]:
    """field path → a description of it (type, required, allowed values) from a form's schema."""
    if content is None:
        return {}
    try:
        schema = json.loads(content)
    except ValueError:
        return {}
    found: dict[str, str] = {}

    def walk(node: object, prefix: str) -> None:
        if not isinstance(node, dict):
            return
        required = set(node.get("required", []) if isinstance(node.get("required"), list) else [])
        properties = node.get("properties")
        for name, sub in (properties.items() if isinstance(properties, dict) else []):
            path = f"{prefix}{name}"
            if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                walk(sub, f"{path}.")
                continue
            facts = {k: sub.get(k) for k in ("type", "format", "enum", "minimum", "maximum", "maxLength",
                                              "minLength", "pattern")} if isinstance(sub, dict) else {}
            found[path] = json.dumps({**facts, "required": name in required}, sort_keys=True, ensure_ascii=False)

    walk(schema, "")
    return found


def _form_changes(old: Mapping[str, bytes], new: Mapping[str, bytes], process_id: str) -> Iterable[FormChange]:
    prefix = f"forms/{process_id}/"
    names = sorted({p for p in (*old, *new) if p.startswith(prefix) and p.endswith(FORM_SUFFIX)})
    for path in names:
        if old.get(path) == new.get(path):
            continue
        before, after = _fields(old.get(path)), _fields(new.get(path))
        change = FormChange(
            form_id=path.removeprefix(prefix).removesuffix(FORM_SUFFIX),
            added=tuple(sorted(set(after) - set(before))),
            removed=tuple(sorted(set(before) - set(after))),
            changed=tuple(sorted(f for f in set(before) & set(after) if before[f] != after[f])),
        )
        yield change if (change.added or change.removed or change.changed) else FormChange(change.form_id,
                                                                                            changed=("(labels)",))
