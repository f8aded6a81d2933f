"""``homeschool validate``, the deployment and the modeler: every problem of diagrams and their forms.

:func:`validate_files` (files on disk) and :func:`validate_diagrams` (sources, e.g. a diagram
being edited in the browser) return every :class:`~service.domain.problems.Problem` of the
target diagrams, each with the file, line, element and what to do; errors stop a deployment,
warnings do not. The other diagrams of the processes directory are the context (who catches a
message a target throws); a context file that cannot be read never causes a problem in a target.

Besides the product's own checks, each function of :data:`FILE_CHECKS` (or of ``checks``: the
command passes bpmn.io's linter and the layout checks) runs on every target diagram whose
structure is sound (readable XML, schema, unique ids, flows that connect).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from service.documents.sms import SMS_PREFIX, missing_templates
from service.domain.calendar import WorkingCalendar
from service.domain.declarations import Declarations
from service.domain.errors import DiagramError, DomainError
from service.domain.outbox import document_kind, outbox_channel
from service.domain.problems import WARNING, Problem, sort_key
from service.domain.staff import lane_roles
from service.engine.library import Diagram, parse_diagram
from service.engine.validation import (
    DiagramFacts,
    FormFields,
    Inspection,
    check_data,
    inspect_diagram,
    payload_keys,
)
from service.engine.validation.facts import message_names

from .catalog import FORM_SUFFIX, form_path
from .declarations import declaration_problems, read_declarations
from .forms import check_choices, load_form
from .name_check import undeclared_refusals
from .process_access import SYSTEM_LANE
from .sms import DELIVERY_REPORT
from .submissions import OFFER_REPLY
from .task_facts import check_contexts

#: Messages outside systems deliver to running cases over the API (besides the start messages,
#: which intake and the API take in through the start form), besides those the declarations name.
ACCEPTED_MESSAGES = frozenset({OFFER_REPLY, DELIVERY_REPORT})


@dataclass(frozen=True)
class DiagramFile:
    """A diagram to validate: the name problems are reported under, where it lies (if on disk), its bytes."""

    file: str
    source: bytes
    path: Path | None = None


#: A check run on every target diagram: returns problems, or ``DiagramError``s (errors unless the
#: error carries ``severity = "warning"``; ``kind`` and ``hint`` attributes are used when present).
FileCheck = Callable[[DiagramFile], Iterable[Problem | DiagramError]]

def refusals_declared(diagram: DiagramFile) -> list[Problem]:
    """A diagram on disk: every ``fail_if`` refusal key is declared in the names file beside it."""
    return undeclared_refusals(diagram.file, diagram.source, diagram.path.parent) if diagram.path else []


#: Further checks every validation runs (bpmnlint's recommended rules, layout): append here.
FILE_CHECKS: list[FileCheck] = [refusals_declared]


@dataclass(frozen=True)
class DiagramSummary:
    """A validated diagram: its process and how many user tasks it has (``None`` if it did not load)."""

    file: str
    process_id: str | None
    user_tasks: int


@dataclass(frozen=True)
class Report:
    """Every problem found, and what was validated."""

    problems: list[Problem]
    diagrams: list[DiagramSummary]

    @property
    def ok(self) -> bool:
        """Whether nothing stops a deployment (warnings allowed)."""
        return not errors_in(self.problems)


def validate_files(
    paths: Sequence[Path] | None, forms_dir: Path, *, processes_dir: Path,
    process_settings: Mapping[str, Any] | None = None, form_choices: Mapping[str, Sequence[str]] | None = None,
    calendar: WorkingCalendar | None = None, checks: Sequence[FileCheck] | None = None,
) -> list[Problem]:
    """Every problem of the diagrams ``paths`` (all of ``processes_dir`` when None) and of their forms."""
    return validation_report(paths, forms_dir, processes_dir=processes_dir, process_settings=process_settings,
                             form_choices=form_choices, calendar=calendar, checks=checks).problems


def validation_report(
    paths: Sequence[Path] | None, forms_dir: Path, *, processes_dir: Path,
    process_settings: Mapping[str, Any] | None = None, form_choices: Mapping[str, Sequence[str]] | None = None,
    calendar: WorkingCalendar | None = None, checks: Sequence[FileCheck] | None = None,
) -> Report:
    """:func:`validate_files`, with a summary of each target diagram."""
    base = processes_dir.parent
    every = sorted(processes_dir.rglob("*.bpmn")) if processes_dir.is_dir() else []
    targets = list(paths) if paths is not None else every
    wanted = {p.resolve() for p in targets}
    problems: list[Problem] = []
    target_files: list[DiagramFile] = []
    for path in targets:
        try:
            target_files.append(DiagramFile(_display(path, base), path.read_bytes(), path))
        except OSError as exc:
            problems.append(Problem(str(path), f"cannot be read ({exc.strerror})", kind="file",
                                    hint="give the path of a .bpmn file"))
    context: list[DiagramFile] = []
    for path in every:
        if path.resolve() in wanted:
            continue
        try:
            context.append(DiagramFile(_display(path, base), path.read_bytes(), path))
        except OSError:
            continue
    # first: a declaration may add the roles and stages its diagram's lanes and elements name
    declarations, broken = read_declarations(processes_dir, base=processes_dir.name)
    targeted = wanted_processes(target_files) | {p.name.removesuffix(".bpmn") for p in targets}
    problems += declaration_problems(declarations, broken, _parsed([*target_files, *context]),
                                     targeted if paths is not None else None)
    report = _validate(target_files, forms_dir, context=context, process_settings=process_settings,
                       form_choices=form_choices, calendar=calendar, checks=checks, all_forms=paths is None,
                       declarations=declarations)
    return Report(sorted(problems + report.problems, key=sort_key), report.diagrams)


def wanted_processes(files: Sequence[DiagramFile]) -> set[str]:
    """The process ids the diagram files define (those that parse)."""
    return {diagram.process_id for diagram in _parsed(files)}


def _parsed(files: Sequence[DiagramFile]) -> list[Diagram]:
    diagrams = []
    for diagram in files:
        try:
            diagrams.append(parse_diagram(diagram.source, diagram.file))
        except DomainError:
            continue
    return diagrams


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def validate_diagrams(
    targets: Sequence[DiagramFile], forms_dir: Path, *, context: Sequence[DiagramFile] = (),
    process_settings: Mapping[str, Any] | None = None, form_choices: Mapping[str, Sequence[str]] | None = None,
    calendar: WorkingCalendar | None = None, checks: Sequence[FileCheck] | None = None, all_forms: bool = False,
    declarations: Declarations | None = None,
) -> list[Problem]:
    """Every problem of the ``targets``, with ``context`` the other deployed diagrams (not reported on)."""
    return _validate(targets, forms_dir, context=context, process_settings=process_settings,
                     form_choices=form_choices, calendar=calendar, checks=checks, all_forms=all_forms,
                     declarations=declarations or Declarations()).problems


def _validate(
    targets: Sequence[DiagramFile], forms_dir: Path, *, context: Sequence[DiagramFile],
    process_settings: Mapping[str, Any] | None, form_choices: Mapping[str, Sequence[str]] | None,
    calendar: WorkingCalendar | None, checks: Sequence[FileCheck] | None, all_forms: bool,
    declarations: Declarations,
) -> Report:
    inspect = _inspector(lane_roles(declarations.roles()))
    mine = [inspect(target) for target in targets]
    drafts = {i.facts.process_id for i in mine if i.facts is not None}
    # a target defining a process of the context is its new version (a draft beside the deployed file)
    others = [i for i in (inspect(other) for other in context) if i.facts is None or i.facts.process_id not in drafts]
    problems = [p for inspection in mine for p in inspection.problems]
    problems += _duplicate_processes(mine, others)
    problems += _message_problems(mine, others, ACCEPTED_MESSAGES | declarations.accepted_messages())
    loaded = [i.facts for i in mine if i.loadable and i.facts is not None]
    readable = [i.facts for i in (*mine, *others) if i.facts is not None]
    blind = any(i.facts is None for i in (*mine, *others))
    targeted = {i.facts.process_id for i in mine if i.facts is not None}
    problems += _form_problems(loaded, readable, targeted, forms_dir, all_forms=all_forms, blind=blind)
    if all_forms and form_choices is not None:
        problems += [Problem(None, line, kind="form-invalid", hint="correct the form or the setting")
                     for line in check_choices(forms_dir, form_choices)]
    problems += _sms_problems(loaded)
    problems += _context_problems([*targets, *context], forms_dir, targeted)
    for facts in loaded:
        fields = form_fields(facts, forms_dir)
        problems += check_data(facts, fields, records=start_records(facts, fields, readable, declarations),
                               calendar=calendar, settings=process_settings)
    for target, inspection in zip(targets, mine, strict=True):
        if not inspection.loadable:
            continue  # its own problems first: a linter would only repeat them in other words
        for check in FILE_CHECKS if checks is None else checks:
            problems += [_as_problem(found) for found in check(target)]
    summaries = [DiagramSummary(i.file, i.facts.process_id if i.loadable and i.facts else None,
                                len(i.facts.user_tasks) if i.facts else 0) for i in mine]
    return Report(sorted(problems, key=sort_key), summaries)


def _context_problems(files: Sequence[DiagramFile], forms_dir: Path, targeted: set[str]) -> list[Problem]:
    """The task context declarations (``forms/<process>/<task>.context.json``) of the targeted processes."""
    diagrams = []
    for diagram in files:
        try:
            diagrams.append(parse_diagram(diagram.source, diagram.file))
        except DomainError:
            continue  # its own problems are reported already
    return [Problem(None, line, kind="task-context",
                    hint="name a user task of the process and paths its upstream forms write")
            for line in check_contexts(diagrams, forms_dir, targeted)]


def _inspector(roles: frozenset[str]) -> Callable[[DiagramFile], Inspection]:
    """Inspects a diagram whose lanes may be ``roles`` (the built-in ones and those the declarations add)."""
    def inspect(diagram: DiagramFile) -> Inspection:
        return inspect_diagram(diagram.file, diagram.source, roles=roles, automatic_lane=SYSTEM_LANE)
    return inspect


def _as_problem(found: Problem | DiagramError) -> Problem:
    return found if isinstance(found, Problem) else Problem.from_error(found, kind="lint")


def _duplicate_processes(mine: Sequence[Inspection], others: Sequence[Inspection]) -> list[Problem]:
    seen: dict[str, str] = {i.facts.process_id: i.file for i in others if i.facts is not None}
    problems = []
    for inspection in mine:
        if inspection.facts is None:
            continue
        process_id = inspection.facts.process_id
        if process_id in seen:
            problems.append(Problem(
                inspection.file, f"process id '{process_id}' is also defined in {seen[process_id]}",
                kind="duplicate-process", element_id=process_id, line=inspection.facts.process.sourceline,
                hint="give each process its own id (one process per file)"))
        seen[process_id] = inspection.file
    return problems


def _message_problems(mine: Sequence[Inspection], others: Sequence[Inspection],
                      accepted: frozenset[str]) -> list[Problem]:
    """Messages thrown that nobody catches, and messages awaited that nobody sends."""
    everyone = [i.facts for i in (*mine, *others) if i.facts is not None]
    blind = any(i.facts is None for i in (*mine, *others))  # a file we could not read may catch or throw anything
    caught = {use.name for facts in everyone for use in facts.caught}
    thrown = {use.name for facts in everyone for use in facts.thrown}
    sent = {name for name in thrown if not outbox_channel(name) and not document_kind(name)} | accepted
    known = sorted(caught | sent)
    problems = []
    for inspection in mine:
        facts = inspection.facts
        if facts is None:
            continue
        for use in facts.thrown:
            if use.name in caught or outbox_channel(use.name) or document_kind(use.name) or blind:
                continue
            close = get_close_matches(use.name, sorted(caught), n=1, cutoff=0.75)
            problems.append(Problem(
                facts.file, f"message '{use.name}' is caught by no diagram and names no outbox channel "
                "('portal_cabinet.…', 'sms.…', 'monitoring.…') or document ('document.…')",
                kind="message-uncaught", line=use.line, element_id=use.node_id,
                element_name=facts.nodes[use.node_id].name or None,
                hint=(f"did you mean '{close[0]}'? " if close else "") + "name a message some diagram catches"))
        for use in facts.caught:
            if use.start or use.name in thrown or use.name in accepted or blind:
                continue
            close = get_close_matches(use.name, [k for k in known if k != use.name], n=1, cutoff=0.8)
            problems.append(Problem(
                facts.file, f"message '{use.name}' is awaited here but no diagram throws it and the API does not "
                "accept it, so the case would wait forever", kind="message-never-sent",
                severity="error" if close else WARNING, line=use.line, element_id=use.node_id,
                element_name=facts.nodes[use.node_id].name or None,
                hint=(f"did you mean '{close[0]}'? " if close else "if an outside system delivers it, make sure "
                      "it can; ") + f"messages sent to cases: {', '.join(sorted(sent))}"))
    return problems


def _form_problems(diagrams: Sequence[DiagramFacts], readable: Sequence[DiagramFacts], targeted: set[str],
                   forms_dir: Path, *, all_forms: bool, blind: bool) -> list[Problem]:
    """Every user task and start message of ``diagrams`` has a readable form; every form belongs to one.

    Forms are matched against every ``readable`` diagram (a diagram that does not load still owns its
    forms). The forms of the ``targeted`` processes are checked, with ``all_forms`` every form; a form
    of a process no diagram defines is reported unless some diagram could not be read (``blind``).
    """
    problems: list[Problem] = []
    owners = {(facts.process_id, owner[0]) for facts in readable for owner in _form_owners(facts)}
    for facts in diagrams:
        for node_id, name, what, line in _form_owners(facts):
            if not form_path(forms_dir, facts.process_id, node_id).is_file():
                problems.append(Problem(
                    facts.file, f"{what} has no form (expected {form_path(forms_dir, facts.process_id, node_id)})",
                    kind="form-missing", line=line, element_id=node_id if line is not None else None,
                    element_name=name,
                    hint="write the form as a JSON Schema at that path"))
    defined = {facts.process_id for facts in readable}
    for path in sorted(forms_dir.glob(f"*/*{FORM_SUFFIX}")) if forms_dir.is_dir() else []:
        process_id, form_id = path.parent.name, path.name.removesuffix(FORM_SUFFIX)
        if process_id not in targeted and not all_forms:
            continue
        try:
            schema = load_form(forms_dir, process_id, form_id).schema
        except DomainError as exc:
            problems.append(Problem(str(path), str(exc).removeprefix(f"{path}: "), kind="form-invalid",
                                    hint="correct the form file"))
            continue
        if (process_id, form_id) not in owners and not schema.get("x-retired") and not (
                blind and process_id not in defined):
            problems.append(Problem(
                str(path), f"no user task or start message '{form_id}' in a process '{process_id}'",
                kind="form-orphan", hint="rename the form after its task, delete it, or mark it \"x-retired\""))
    return problems


def _form_owners(facts: DiagramFacts) -> list[tuple[str, str | None, str, int | None]]:
    found = [(node.id, node.name or None, f"user task '{node.id}'", node.line) for node in facts.user_tasks]
    # a start message is no element: the problem's text names it
    found += [(use.name, None, f"start message '{use.name}'", None) for use in facts.start_messages]
    return found


def form_fields(facts: DiagramFacts, forms_dir: Path) -> FormFields:
    """Each user task's and start message's form fields (None: no readable form, or one declaring no fields)."""
    fields: dict[str, dict[str, Any] | None] = {}
    for form_id in [node.id for node in facts.user_tasks] + [use.name for use in facts.start_messages]:
        try:
            properties = load_form(forms_dir, facts.process_id, form_id).schema.get("properties")
        except DomainError:
            properties = None
        fields[form_id] = dict(properties) if isinstance(properties, dict) and properties else None
    return fields


def start_records(facts: DiagramFacts, fields: FormFields, everyone: Sequence[DiagramFacts],
                  declarations: Declarations | None = None) -> dict[str, frozenset[str]]:
    """The fields each start message's variable carries: its form's, the office's, a throwing diagram's.

    A start message without a form declaring fields, or thrown by a diagram whose payload does not
    show its fields, is left out (its fields are unknown).
    """
    records: dict[str, frozenset[str]] = {}
    for use in facts.start_messages:
        variable, form = facts.message_variables.get(use.node_id), fields.get(use.name)
        if variable is None or form is None:
            continue
        keys = set(form)
        keys |= declarations.office_fields(use.name) if declarations is not None else set()
        sent = [payload_keys(other, thrown.node_id) for other in everyone for thrown in other.thrown
                if thrown.name == use.name]
        if any(found is None for found in sent):
            continue
        records[variable] = frozenset(keys.union(*(found for found in sent if found is not None)))
    return records


def _sms_problems(diagrams: Sequence[DiagramFacts]) -> list[Problem]:
    """Every ``sms.<what>`` message a diagram declares has its kk and ru template."""
    problems = []
    for facts in diagrams:
        names = sorted({name for name in message_names(facts.root).values() if name.startswith(SMS_PREFIX)})
        problems += [Problem(facts.file, f"SMS '{name}' has no text template (expected {path})", kind="sms-text",
                             hint=f'add msgid "{name}" with its Kazakh and Russian text to the documents catalogue '
                                  "(%(name)s for a value of the message), then make translations")
                     for name in names for path in missing_templates(name)]
    return problems


def errors_in(problems: Collection[Problem]) -> list[Problem]:
    """The problems that stop a deployment."""
    return [p for p in problems if p.is_error]
