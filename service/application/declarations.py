"""Reading the process declarations (``processes/<process>.process.toml``) and checking them against the diagrams.

:func:`load_process_declarations` reads every declaration of a folder; reading one makes the roles
and stages it adds known to the product (their names), so a diagram whose lanes or stages a
declaration adds loads. :func:`declaration_problems` is what ``homeschool validate`` reports: a
declaration that cannot be read, or one that names what its diagram does not have.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from service.domain.declarations import SUFFIX, DeclarationError, Declarations, ProcessDeclaration, parse_declaration
from service.domain.documents import DOCUMENT_KINDS
from service.domain.outbox import document_kind
from service.domain.problems import Problem
from service.domain.staff import API_SCOPES, declare_role
from service.domain.stages import STAGES, Stage, declare_stage
from service.engine.library import Diagram


def declaration_file(directory: Path, process_id: str) -> Path:
    """Where the declaration of ``process_id`` lies in a processes folder."""
    return directory / f"{process_id}{SUFFIX}"


def read_declaration(path: Path, file: str | None = None) -> ProcessDeclaration:
    """One declaration from its file (``file``: the name errors give); its roles and stages become known."""
    name = file or path.name
    process_id = path.name.removesuffix(SUFFIX)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeclarationError(name, "", f"not valid TOML ({exc})") from None
    except OSError as exc:
        raise DeclarationError(name, "", f"cannot be read ({exc.strerror})") from None
    declaration = parse_declaration(process_id, data, name)
    _check_values(declaration)
    _make_known(declaration)
    return declaration


def load_process_declarations(directory: Path) -> Declarations:
    """Every declaration in a processes folder (none if it has none); DeclarationError for the first broken one."""
    paths = sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []
    return Declarations({path.name.removesuffix(SUFFIX): read_declaration(path, _named(path, directory))
                         for path in paths})


def _named(path: Path, directory: Path) -> str:
    return f"{directory.name}/{path.name}"


def _check_values(declaration: ProcessDeclaration) -> None:
    """What a declaration names must exist in the product: API scopes, document kinds, stages."""
    file = declaration.file
    for index, start in enumerate(declaration.api_starts):
        if start.scope not in API_SCOPES:
            raise DeclarationError(file, f"api_start[{index}].scope",
                                   f"'{start.scope}' is not an API scope; known: {', '.join(API_SCOPES)}")
    for kind in declaration.documents:
        if kind not in DOCUMENT_KINDS:
            raise DeclarationError(file, "documents",
                                   f"'{kind}' is not a kind of document; known: {', '.join(DOCUMENT_KINDS)}")
    added = {stage.code for stage in declaration.new_stages}
    for code in declaration.stages:
        if code not in STAGES and code not in added:
            raise DeclarationError(file, "stages", f"'{code}' is neither a built-in stage nor declared in [[stage]]")


def _make_known(declaration: ProcessDeclaration) -> None:
    """The names of the roles and stages a declaration adds, for every page and the API."""
    for index, role in enumerate(declaration.roles):
        try:
            declare_role(role.code, dict(role.names), declaration.process_id)
        except ValueError as exc:
            raise DeclarationError(declaration.file, f"role[{index}].id", str(exc)) from None
    for index, stage in enumerate(declaration.new_stages):
        names = stage.names
        try:
            declare_stage(Stage(stage.code, names["kk"], names["ru"], names["en"]), declaration.process_id)
        except ValueError as exc:
            raise DeclarationError(declaration.file, f"stage[{index}].code", str(exc)) from None


#: A message the diagram names (``<bpmn:message name="…">``): ``document.<kind>`` ones are documents it issues.
_MESSAGE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?message\b[^>]*?\bname="([^"]+)"')


def mismatches(declaration: ProcessDeclaration, diagram: Diagram) -> list[str]:
    """What the declaration names that its diagram does not have (each naming the file and key)."""
    found = []
    lanes = {e.lane for e in diagram.elements.values() if e.lane}
    for key, message in ([(f"intake[{i}].message", x.message) for i, x in enumerate(declaration.intakes)]
                         + [(f"api_start[{i}].message", x.message) for i, x in enumerate(declaration.api_starts)]):
        if message not in diagram.start_messages:
            found.append(f"{declaration.file}: {key}: no start event of {diagram.file} catches '{message}'")
    for message in declaration.api_messages:
        if message not in diagram.caught_messages:
            found.append(f"{declaration.file}: api_messages: {diagram.file} never waits for '{message}'")
    for index, intake in enumerate(declaration.intakes):
        if intake.role not in lanes:
            found.append(f"{declaration.file}: intake[{index}].role: '{intake.role}' is no lane of {diagram.file}")
    for index, role in enumerate(declaration.roles):
        if role.code not in lanes:
            found.append(f"{declaration.file}: role[{index}].id: '{role.code}' is no lane of {diagram.file}")
    issued = sorted({kind for kind in (document_kind(name.decode("utf-8")) for name in _MESSAGE.findall(diagram.source))
                     if kind} - set(declaration.documents))
    if issued:
        found.append(f"{declaration.file}: documents: {diagram.file} issues documents not listed: {', '.join(issued)}")
    if declaration.stages:
        used = sorted({e.stage for e in diagram.elements.values() if e.stage} - set(declaration.stages))
        if used:
            found.append(f"{declaration.file}: stages: {diagram.file} uses stages not listed: {', '.join(used)}")
    return found


def read_declarations(directory: Path, base: str | None = None) -> tuple[Declarations, dict[str, Problem]]:
    """Every declaration in a folder that reads, and a problem for each that does not (by process id)."""
    found: dict[str, ProcessDeclaration] = {}
    broken: dict[str, Problem] = {}
    for path in sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []:
        process_id = path.name.removesuffix(SUFFIX)
        name = f"{base}/{path.name}" if base else _named(path, directory)
        try:
            found[process_id] = read_declaration(path, name)
        except DeclarationError as exc:
            broken[process_id] = Problem(name, str(exc).removeprefix(f"{name}: "), kind="declaration",
                                         hint="correct the declaration (processes/README.md lists its keys)")
    return Declarations(found), broken


def declaration_problems(declarations: Declarations, broken: dict[str, Problem], diagrams: Iterable[Diagram],
                         targeted: set[str] | None = None) -> list[Problem]:
    """Every problem of the declarations (of the ``targeted`` processes; None: all): unreadable ones, and
    those naming what their diagram does not have."""
    by_process = {d.process_id: d for d in diagrams}
    problems = [problem for pid, problem in sorted(broken.items()) if targeted is None or pid in targeted]
    problems += [Problem(declaration.file, what, kind="declaration", hint="give each process its own names")
                 for declaration, what in declarations.conflicts()
                 if targeted is None or declaration.process_id in targeted]
    for declaration in declarations.all():
        if targeted is not None and declaration.process_id not in targeted:
            continue
        diagram = by_process.get(declaration.process_id)
        if diagram is None:
            problems.append(Problem(
                declaration.file, f"there is no process '{declaration.process_id}' among the diagrams",
                kind="declaration", hint="name the file after its diagram's process id"))
            continue
        problems += [Problem(declaration.file, line.removeprefix(f"{declaration.file}: "), kind="declaration",
                             hint="make the declaration and the diagram agree")
                     for line in mismatches(declaration, diagram)]
    return problems
