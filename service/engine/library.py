"""Loading, validating and caching the BPMN diagrams in ``processes/``.

Every file is checked before SpiffWorkflow sees it: well-formed XML, the BPMN 2.0 XSD (with
SpiffWorkflow's extension schema), flows that point at existing elements, restricted-compilable
expressions and scripts, and thrown messages that go somewhere. Each problem becomes a
:class:`DiagramError` naming the file, the element id and the line, so an analyst can fix it in
the modeler. Parsed diagrams are cached by content hash: each version is parsed once.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from service.domain.errors import DiagramError, DomainError
from service.domain.outbox import document_kind, outbox_channel
from service.domain.stages import STAGES

from .scripting import compile_expression, compile_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_PARAGRAPH = re.compile(r"§\s*(\d+(?:-\d+)?)")
_FLOW_NODES = (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "task", "userTask", "manualTask", "scriptTask", "serviceTask",
    "sendTask", "receiveTask", "businessRuleTask", "callActivity", "subProcess",
    "transaction", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
    "eventBasedGateway", "complexGateway",
)


@dataclass(frozen=True)
class ElementInfo:
    """What the product needs to know of one diagram element, read from the XML."""

    element_id: str
    kind: str
    name: str
    lane: str | None
    lane_name: str | None
    paragraphs: tuple[str, ...]
    line: int | None
    #: §8: the code of the service stage the element stands for (see ``service.domain.stages``).
    stage: str | None = None


@dataclass(frozen=True)
class Diagram:
    """One parsed, validated version of a process diagram."""

    process_id: str
    name: str
    file: str
    content_hash: str
    source: bytes
    spec: Any = field(repr=False)
    subprocess_specs: Mapping[str, Any] = field(repr=False)
    elements: Mapping[str, ElementInfo] = field(repr=False)
    start_messages: frozenset[str] = frozenset()
    caught_messages: frozenset[str] = frozenset()
    thrown_elsewhere: tuple[ThrownMessage, ...] = ()

    def element(self, element_id: str) -> ElementInfo | None:
        """The element with this id, if the diagram has one."""
        return self.elements.get(element_id)

    @property
    def element_ids(self) -> frozenset[str]:
        """The ids of every element (built once per diagram version)."""
        found: frozenset[str] | None = self.__dict__.get("_element_ids")
        if found is None:
            found = frozenset(self.elements)
            object.__setattr__(self, "_element_ids", found)
        return found


class DiagramSetError(DomainError):
    """Several diagrams failed to load; carries every problem found, not just the first."""

    def __init__(self, errors: list[DiagramError]) -> None:
        self.errors = errors
        super().__init__("\n".join(error.describe() for error in errors))


def content_hash(source: bytes) -> str:
    """The identity of a diagram version: SHA-256 of its bytes."""
    return hashlib.sha256(source).hexdigest()


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _line(node: Any) -> int | None:
    return getattr(node, "sourceline", None)


def _error_at(file: str, node: Any, message: str) -> DiagramError:
    return DiagramError(
        message, file=file, element_id=node.get("id"), element_name=node.get("name"), line=_line(node)
    )


def _parse_xml(source: bytes, file: str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(source, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise DiagramError(f"not well-formed XML: {exc.msg}", file=file, line=line) from None


def _element_on_line(root: Any, line: int | None) -> Any:
    """The innermost element with an id at ``line`` (XSD errors only carry a line)."""
    if line is None:
        return None
    best = None
    for node in root.iter():
        if _line(node) == line:
            best = node
    while best is not None and best.get("id") is None:
        best = best.getparent()
    return best


def _validate_schema(root: Any, file: str) -> None:
    VALIDATOR.preprocess(root)
    schema = VALIDATOR.validator
    if schema.validate(root):
        return
    error = schema.error_log[0]
    node = _element_on_line(root, error.line)
    raise DiagramError(
        f"does not conform to the BPMN 2.0 schema: {error.message}",
        file=file,
        element_id=None if node is None else node.get("id"),
        element_name=None if node is None else node.get("name"),
        line=error.line,
    )


def _check_flows(process: Any, file: str) -> None:
    ids = {node.get("id") for node in process.iter() if node.get("id")}
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref:
                raise _error_at(file, flow, f"sequence flow has no {end}")
            if ref not in ids:
                raise _error_at(file, flow, f"sequence flow's {end} '{ref}' is not an element of this process")


def _check_code(root: Any, file: str) -> None:
    """Compile every condition, timer expression and script the restricted way, at load time."""
    checks: list[tuple[Any, str, Any]] = []
    for node in root.iter(f"{{{BPMN_NS}}}conditionExpression"):
        checks.append((node.getparent(), node.text or "", compile_expression))
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            checks.append((node.getparent().getparent(), node.text or "", compile_expression))
    for node in root.iter(f"{{{BPMN_NS}}}script"):
        checks.append((node.getparent(), node.text or "", compile_script))
    for node in root.iter(f"{{{SPIFF_NS}}}messagePayload"):
        owner = node.getparent()
        while owner.getparent() is not None and _local(owner.tag) not in (*_FLOW_NODES, "message"):
            owner = owner.getparent()
        checks.append((owner, node.text or "", compile_expression))
    for owner, text, compile_ in checks:
        if not text.strip():
            raise _error_at(file, owner, "an expression or script is empty")
        try:
            compile_(text.strip() if compile_ is compile_expression else text)
        except SyntaxError as exc:
            raise _error_at(file, owner, f"syntax error in {text.strip()!r}: {exc.msg}") from None
        except DomainError as exc:
            raise _error_at(file, owner, str(exc)) from None


@dataclass(frozen=True)
class ThrownMessage:
    """A message a diagram throws that nothing in the same diagram catches."""

    name: str
    element_id: str
    line: int | None


def _messages(root: Any, file: str) -> tuple[frozenset[str], tuple[ThrownMessage, ...]]:
    """(names caught in this diagram, messages thrown to other diagrams).

    A thrown message is fine if this diagram catches it, if it names an outbox channel
    (``sms.…``), or a document to issue (``document.…``); any other must be caught by another
    diagram, which :class:`DiagramLibrary` checks once all files are loaded.
    """
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}
    caught: set[str] = set()
    thrown: list[tuple[Any, str | None]] = []
    for definition in root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
        event = definition.getparent()
        name = names.get(definition.get("messageRef"))
        if _local(event.tag) in ("intermediateThrowEvent", "endEvent"):
            thrown.append((event, name))
        elif name:
            caught.add(name)
    for task in root.iter(f"{{{BPMN_NS}}}sendTask"):
        thrown.append((task, names.get(task.get("messageRef"))))
    for task in root.iter(f"{{{BPMN_NS}}}receiveTask"):
        name = names.get(task.get("messageRef"))
        if name:
            caught.add(name)
    external: list[ThrownMessage] = []
    for event, name in thrown:
        if name is None:
            raise _error_at(file, event, "throws a message but names no bpmn:message")
        if name in caught or outbox_channel(name) or document_kind(name):
            continue
        external.append(ThrownMessage(name, event.get("id"), _line(event)))
    return frozenset(caught), tuple(external)


def _lanes(process: Any) -> dict[str, tuple[str, str]]:
    lanes: dict[str, tuple[str, str]] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = (lane.get("id"), lane.get("name") or lane.get("id"))
    return lanes


def _elements(process: Any) -> dict[str, ElementInfo]:
    lanes = _lanes(process)
    elements: dict[str, ElementInfo] = {}
    doc = process.find(f"{{{BPMN_NS}}}documentation")
    if doc is not None and doc.text:  # the process's own documentation may cite definitions (§2, §3)
        elements[process.get("id")] = ElementInfo(
            element_id=process.get("id"), kind="process", name=(process.get("name") or process.get("id")).strip(),
            lane=None, lane_name=None, paragraphs=tuple(dict.fromkeys(f"§{m}" for m in _PARAGRAPH.findall(doc.text))),
            line=_line(process),
        )
    for node in process.iter():
        kind = _local(node.tag)
        if kind not in _FLOW_NODES and kind != "sequenceFlow":
            continue
        element_id = node.get("id")
        doc = node.find(f"{{{BPMN_NS}}}documentation")
        text = doc.text if doc is not None and doc.text else ""
        lane = lanes.get(element_id)
        elements[element_id] = ElementInfo(
            element_id=element_id,
            kind=kind,
            name=(node.get("name") or element_id).strip(),
            lane=lane[0] if lane else None,
            lane_name=lane[1] if lane else None,
            paragraphs=tuple(dict.fromkeys(f"§{m}" for m in _PARAGRAPH.findall(text))),
            line=_line(node),
            stage=_stage_of(node),
        )
    return elements


def _stage_of(node: Any) -> str | None:
    """The value of the element's ``spiffworkflow:property name="stage"``, if it has one."""
    for prop in node.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"):
        if prop.get("name") == "stage":
            return (prop.get("value") or "").strip() or None
    return None


def _check_stages(process: Any, file: str) -> None:
    """Every stage an element names is one of the fixed list of §8 stages."""
    for node in process.iter():
        if _local(node.tag) not in _FLOW_NODES:
            continue
        stage = _stage_of(node)
        if stage is not None and stage not in STAGES:
            raise _error_at(file, node, f"stage '{stage}' is not a service stage; known stages: {', '.join(STAGES)}")


def _start_messages(process: Any) -> frozenset[str]:
    root = process.getroottree().getroot()
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}
    found = set()
    for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
        for definition in start.findall(f"{{{BPMN_NS}}}messageEventDefinition"):
            found.add(names.get(definition.get("messageRef")))
    return frozenset(name for name in found if name)


def _main_process(root: Any, file: str) -> Any:
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        raise DiagramError("defines no bpmn:process", file=file)
    executable = [p for p in processes if p.get("isExecutable", "false") == "true"]
    if len(executable) != 1:
        raise DiagramError(
            f"must mark exactly one process isExecutable=\"true\" (found {len(executable)})", file=file
        )
    return executable[0]


def _spiff_parse(root: Any, file: str, process_id: str) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(root, filename=file)
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError(
            str(exc.args[0]) if exc.args else "invalid diagram",
            file=file,
            element_id=exc.id or None,
            element_name=exc.name or None,
            line=exc.line_number or None,
        ) from None
    except (SpiffWorkflowException, KeyError, ValueError, AttributeError) as exc:
        raise DiagramError(f"SpiffWorkflow could not parse it: {exc}", file=file) from None


def parse_diagram(source: bytes, file: str) -> Diagram:
    """Validate and parse one diagram version; raise :class:`DiagramError` on the first problem."""
    root = _parse_xml(source, file)
    if _local(root.tag) != "definitions" or etree.QName(root).namespace != BPMN_NS:
        raise DiagramError("is not a BPMN 2.0 file (root must be bpmn:definitions)", file=file)
    _validate_schema(root, file)
    process = _main_process(root, file)
    _check_flows(process, file)
    _check_stages(process, file)
    _check_code(root, file)
    caught, thrown_elsewhere = _messages(root, file)
    process_id = process.get("id")
    spec, subprocess_specs = _spiff_parse(root, file, process_id)
    return Diagram(
        process_id=process_id,
        name=process.get("name") or process_id,
        file=file,
        content_hash=content_hash(source),
        source=source,
        spec=spec,
        subprocess_specs=subprocess_specs,
        elements=_elements(process),
        start_messages=_start_messages(process),
        caught_messages=caught,
        thrown_elsewhere=thrown_elsewhere,
    )


class DiagramLibrary:
    """The current diagrams (by process id) and every version seen (by content hash)."""

    def __init__(self) -> None:
        self._current: dict[str, Diagram] = {}
        self._versions: dict[str, Diagram] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, directory: Path) -> DiagramLibrary:
        """Load every ``*.bpmn`` under ``directory``; raise :class:`DiagramSetError` listing all problems."""
        library = cls()
        library.load_files(sorted(directory.rglob("*.bpmn")), base=directory.parent)
        return library

    def load_files(self, paths: Iterable[Path], base: Path | None = None) -> None:
        """Add diagrams from files; all-or-nothing, with every problem reported."""
        errors: list[DiagramError] = []
        loaded: list[Diagram] = []
        for path in paths:
            name = str(path.relative_to(base)) if base else str(path)
            try:
                loaded.append(parse_diagram(path.read_bytes(), name))
            except DiagramError as exc:
                errors.append(exc)
        seen: dict[str, Diagram] = {}
        for diagram in loaded:
            if diagram.process_id in seen:
                errors.append(DiagramError(
                    f"process id '{diagram.process_id}' is also defined in {seen[diagram.process_id].file}",
                    file=diagram.file, element_id=diagram.process_id,
                ))
            seen[diagram.process_id] = diagram
        errors += self._unanswered_messages(loaded)
        if errors:
            raise DiagramSetError(errors)
        for diagram in loaded:
            self.add(diagram)

    def _unanswered_messages(self, loaded: list[Diagram]) -> list[DiagramError]:
        """Messages thrown to other diagrams that no loaded diagram catches."""
        everyone = {d.process_id: d for d in self._current.values()}
        everyone.update({d.process_id: d for d in loaded})
        caught = set().union(*(d.caught_messages for d in everyone.values())) if everyone else set()
        return [
            DiagramError(
                f"message '{message.name}' is caught by no diagram and names no outbox channel "
                "('portal_cabinet.…', 'sms.…', 'monitoring.…') or document ('document.…')",
                file=diagram.file, element_id=message.element_id, line=message.line,
            )
            for diagram in loaded
            for message in diagram.thrown_elsewhere
            if message.name not in caught
        ]

    def add(self, diagram: Diagram, current: bool = True) -> None:
        """Cache a parsed diagram; make it the current version of its process unless told not to."""
        with self._lock:
            self._versions.setdefault(diagram.content_hash, diagram)
            if current:
                self._current[diagram.process_id] = diagram

    def current(self, process_id: str) -> Diagram:
        """The version new cases of ``process_id`` start on."""
        try:
            return self._current[process_id]
        except KeyError:
            raise DiagramError(f"no diagram defines process '{process_id}'") from None

    def has_version(self, digest: str) -> bool:
        """Whether this version is parsed and cached already."""
        return digest in self._versions

    def version(self, digest: str, source: bytes | None = None, file: str = "<stored>") -> Diagram:
        """The parsed diagram for a stored version, parsing ``source`` once if it is not cached."""
        cached = self._versions.get(digest)
        if cached is not None:
            return cached
        if source is None:
            raise DiagramError(f"diagram version {digest[:12]} is not loaded")
        diagram = parse_diagram(source, file)
        self.add(diagram, current=False)
        return diagram

    def diagrams(self) -> list[Diagram]:
        """The current version of every process, ordered by process id."""
        return [self._current[key] for key in sorted(self._current)]

    def process_starting_with(self, message_name: str) -> Diagram | None:
        """The current process whose start event catches ``message_name``, if any."""
        for diagram in self._current.values():
            if message_name in diagram.start_messages:
                return diagram
        return None
