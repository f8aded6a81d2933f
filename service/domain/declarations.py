"""What a process needs besides its diagram, declared beside it (``processes/<process>.process.toml``).

A declaration names, for one process: the office intake(s) a person registers it through, the API
operations that start it and the messages the API delivers to its running cases, where its case
numbers are looked up, the roles its lanes stand for (with their names, when new), the documents
it issues, its §8 stages and the paragraphs of the Rules it carries out. Nothing in the web app
or the use cases names a process: they look it up here (``processes/README.md`` documents every
key). :func:`parse_declaration` reads one declaration's TOML data; every mistake raises
:class:`DeclarationError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

from service.domain.errors import InvalidInput

#: A declaration's file name: ``<process id>.process.toml`` beside ``<process id>.bpmn``.
SUFFIX = ".process.toml"
_LANGUAGES = ("kk", "ru", "en")


class DeclarationError(InvalidInput):
    """A declaration that cannot be used; ``file`` and ``key`` say where."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = file
        self.key = key
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


@dataclass(frozen=True)
class OfficeIntake:
    """What the office registers: which start message, who may, what the office fills in itself."""

    kind: str
    process_id: str
    message: str
    role: str
    office_fields: tuple[str, ...]
    prefix: str
    #: The payload field the new case's number is written to, and the one the moment of registration is.
    number_field: str
    time_field: str
    #: Further fields the office sets (e.g. ``channel = "office"``).
    fixed: Mapping[str, Any] = field(default_factory=dict)
    #: The kinds of scan the office may attach (none: the form has no file inputs).
    uploads: tuple[str, ...] = ()
    #: Whether an open case of the same child at this organisation is shown before a new one is registered.
    duplicate_check: bool = False
    #: The page's title: a key of the interface's translations, else its names by language.
    title_key: str = ""
    title: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiStart:
    """An API operation that starts a case: ``POST /api/v1/<path>`` with the start message's form as body."""

    path: str
    process_id: str
    message: str
    scope: str
    schema: str
    operation_id: str
    summary: str
    description: str = ""
    #: "required" or "optional": the Idempotency-Key header.
    idempotency_key: str = "optional"
    #: The service numbers the case (``prefix``), or the client gives its number in ``number_from``.
    prefix: str = ""
    number_from: str = ""
    #: What numbers and request keys are derived under (so two operations never share a number).
    numbering_space: str = ""
    number_field: str = ""
    time_field: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    #: Form fields the client does not send: what the service fills in, and what the API does not take.
    server_fields: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def key_required(self) -> bool:
        """Whether a request without an Idempotency-Key is refused."""
        return self.idempotency_key == "required"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of the Rules the process carries out (for ``homeschool trace``)."""

    paragraph: str
    subject: str
    #: It only defines terms or names the law: nothing carries it out.
    definition: bool = False


@dataclass(frozen=True)
class Named:
    """A role or a stage a declaration adds: its code and its name in Kazakh, Russian and English."""

    code: str
    names: Mapping[str, str]


@dataclass(frozen=True)
class ProcessDeclaration:
    """Everything the product needs to know of one process besides its diagram and forms."""

    process_id: str
    file: str
    intakes: tuple[OfficeIntake, ...] = ()
    api_starts: tuple[ApiStart, ...] = ()
    #: Messages outside systems deliver over the API to running cases of this process.
    api_messages: tuple[str, ...] = ()
    #: Where ``GET /api/v1/cases/<number>`` looks, lowest first.
    lookup_priority: int = 100
    #: A complaint's ``appealed.service_case`` may name a case of this process (its related case).
    appealable: bool = False
    #: Processes a case of this one hands over to under the same number (an accepted offer → the service).
    continued_by: tuple[str, ...] = ()
    roles: tuple[Named, ...] = ()
    documents: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    new_stages: tuple[Named, ...] = ()
    rules: tuple[Paragraph, ...] = ()


class _Reader:
    """Typed access to one declaration's TOML data; every mistake names the file and the key."""

    def __init__(self, file: str, data: Mapping[str, Any], prefix: str = "") -> None:
        self.file, self.data, self.prefix = file, data, prefix
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> DeclarationError:
        return DeclarationError(self.file, f"{self.prefix}{key}", message)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any, what: str) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be {what}, not {value!r}")
        return value

    def text(self, key: str, default: str | None = None, choices: tuple[str, ...] = ()) -> str:
        value = self.get(key, str, default, "a string")
        if value is None:
            raise self.fail(key, "is required")
        if choices and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        return str(value)

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [], "a list of strings")
        if not all(isinstance(item, str) and item for item in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(value)

    def table(self, key: str) -> dict[str, Any]:
        return dict(self.get(key, dict, {}, "a table"))

    def names(self, key: str, *, required: bool) -> dict[str, str]:
        names = self.table(key) if key else {k: self.data[k] for k in _LANGUAGES if k in self.data}
        if not key:
            self.used.update(_LANGUAGES)
        missing = [language for language in _LANGUAGES if not isinstance(names.get(language), str)
                   or not names[language].strip()]
        if (required or names) and missing:
            raise self.fail(key or missing[0], f"give the name in kk, ru and en (missing: {', '.join(missing)})")
        unknown = sorted(set(names) - set(_LANGUAGES))
        if unknown:
            raise self.fail(key, f"unknown language(s) {', '.join(unknown)}; use kk, ru, en")
        return names

    def items(self, key: str) -> Iterator[_Reader]:
        value = self.get(key, list, [], "an array of tables ([[" + key + "]])")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{index}]", "must be a table")
            yield _Reader(self.file, item, f"{self.prefix}{key}[{index}].")

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            close = get_close_matches(unknown[0], sorted(self.used), n=1, cutoff=0.75)
            raise self.fail(unknown[0], "is not a key of a process declaration"
                            + (f"; did you mean '{close[0]}'?" if close else ""))


def _intake(item: _Reader, process_id: str) -> OfficeIntake:
    intake = OfficeIntake(
        kind=item.text("kind"), process_id=process_id, message=item.text("message"), role=item.text("role"),
        office_fields=item.texts("office_fields"), prefix=item.text("number_prefix"),
        number_field=item.text("number_field"), time_field=item.text("time_field"), fixed=item.table("set"),
        uploads=item.texts("uploads"), duplicate_check=bool(item.get("duplicate_check", bool, False, "true or false")),
        title_key=item.text("title_key", ""), title=item.names("title", required=False),
    )
    if not intake.title_key and not intake.title:
        raise item.fail("title", "give title_key (a translation key) or title = { kk, ru, en }")
    item.finish()
    return intake


def _api_start(item: _Reader, process_id: str) -> ApiStart:
    path = item.text("path")
    start = ApiStart(
        path=path, process_id=process_id, message=item.text("message"), scope=item.text("scope"),
        schema=item.text("schema"), operation_id=item.text("operation_id"), summary=item.text("summary"),
        description=item.text("description", ""),
        idempotency_key=item.text("idempotency_key", "optional", ("required", "optional")),
        prefix=item.text("number_prefix", ""), number_from=item.text("number_from", ""),
        numbering_space=item.text("numbering_space", path), number_field=item.text("number_field", ""),
        time_field=item.text("time_field", ""), fixed=item.table("set"),
        server_fields=item.texts("server_fields"), dropped=item.texts("dropped"),
    )
    if bool(start.prefix) == bool(start.number_from):
        raise item.fail("number_prefix", "give either number_prefix (the service numbers the case) or "
                        "number_from (the body field holding the client's number)")
    if not all(part.replace("_", "").replace("-", "").isalnum() for part in path.split("/")):
        raise item.fail("path", f"'{path}' must be words joined by '/' (e.g. 'certificates')")
    item.finish()
    return start


def _named(item: _Reader, key: str) -> Named:
    named = Named(item.text(key), item.names("", required=True))
    item.finish()
    return named


def _paragraph(item: _Reader) -> Paragraph:
    paragraph = Paragraph(item.text("paragraph"), item.text("subject"),
                          bool(item.get("definition", bool, False, "true or false")))
    item.finish()
    return paragraph


def parse_declaration(process_id: str, data: Mapping[str, Any], file: str) -> ProcessDeclaration:
    """The declaration of ``process_id`` from its TOML data; DeclarationError naming the file and key."""
    top = _Reader(file, data)
    declaration = ProcessDeclaration(
        process_id=process_id, file=file,
        intakes=tuple(_intake(item, process_id) for item in top.items("intake")),
        api_starts=tuple(_api_start(item, process_id) for item in top.items("api_start")),
        api_messages=top.texts("api_messages"),
        lookup_priority=int(top.get("lookup_priority", int, 100, "an integer")),
        appealable=bool(top.get("appealable", bool, False, "true or false")),
        continued_by=top.texts("continued_by"),
        roles=tuple(_named(item, "id") for item in top.items("role")),
        documents=top.texts("documents"),
        stages=top.texts("stages"),
        new_stages=tuple(_named(item, "code") for item in top.items("stage")),
        rules=tuple(_paragraph(item) for item in top.items("rules")),
    )
    top.finish()
    for key, values in (("intake", [i.kind for i in declaration.intakes]),
                        ("api_start", [s.path for s in declaration.api_starts]),
                        ("role", [r.code for r in declaration.roles]),
                        ("stage", [s.code for s in declaration.new_stages])):
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise DeclarationError(file, key, f"declared twice: {', '.join(repeated)}")
    return declaration


class Declarations:
    """The declarations of the processes one service runs, by process id, with the lookups the product makes.

    The deployment cache replaces a process's declaration when a new version of it becomes current.
    """

    def __init__(self, found: Mapping[str, ProcessDeclaration] | None = None) -> None:
        self._by_process: dict[str, ProcessDeclaration] = dict(found or {})

    def __contains__(self, process_id: object) -> bool:
        return process_id in self._by_process

    def __len__(self) -> int:
        return len(self._by_process)

    def get(self, process_id: str) -> ProcessDeclaration | None:
        """The declaration of one process, if it has one."""
        return self._by_process.get(process_id)

    def all(self) -> list[ProcessDeclaration]:
        """Every declaration, by process id."""
        return [self._by_process[pid] for pid in sorted(self._by_process)]

    def replace(self, process_id: str, declaration: ProcessDeclaration | None) -> None:
        """Take up a process's new declaration (None: its version has none)."""
        if declaration is None:
            self._by_process.pop(process_id, None)
        else:
            self._by_process[process_id] = declaration

    def intakes(self) -> list[OfficeIntake]:
        """Every office intake, in the order of the processes' lookup priority."""
        return [intake for d in self._ordered() for intake in d.intakes]

    def intake(self, kind: str) -> OfficeIntake | None:
        """The office intake registered under ``/intake/<kind>``."""
        return next((intake for intake in self.intakes() if intake.kind == kind), None)

    def api_starts(self) -> list[ApiStart]:
        """Every API operation that starts a case."""
        return [start for d in self._ordered() for start in d.api_starts]

    def api_start(self, path: str) -> ApiStart | None:
        """The API operation at ``POST /api/v1/<path>``."""
        return next((start for start in self.api_starts() if start.path == path), None)

    def accepting(self, message: str) -> ProcessDeclaration | None:
        """The process whose running cases the API delivers ``message`` to."""
        return next((d for d in self._ordered() if message in d.api_messages), None)

    def accepted_messages(self) -> frozenset[str]:
        """Every message the API delivers to running cases."""
        return frozenset(message for d in self._by_process.values() for message in d.api_messages)

    def lookup_order(self) -> list[str]:
        """Where a case number is looked up, in order (lowest ``lookup_priority`` first)."""
        return [d.process_id for d in self._ordered()]

    def appealable(self) -> frozenset[str]:
        """The processes whose cases a complaint may be about."""
        return frozenset(d.process_id for d in self._by_process.values() if d.appealable)

    def office_fields(self, message: str) -> frozenset[str]:
        """The fields an office intake adds to the start message ``message``."""
        return frozenset(name for intake in self.intakes() if intake.message == message
                         for name in intake.office_fields)

    def roles(self) -> frozenset[str]:
        """The roles the processes add (``[[role]]``)."""
        return frozenset(role.code for d in self._by_process.values() for role in d.roles)

    def rules(self) -> list[Paragraph]:
        """The paragraphs of the Rules the processes carry out, each once, in the Rules' order."""
        found: dict[str, Paragraph] = {}
        for declaration in self.all():
            for paragraph in declaration.rules:
                found.setdefault(paragraph.paragraph, paragraph)
        return sorted(found.values(), key=lambda p: _paragraph_order(p.paragraph))

    def conflicts(self) -> list[tuple[ProcessDeclaration, str]]:
        """(declaration, what) for each intake kind, API path, operation or schema another process declared first."""
        seen: dict[tuple[str, str], str] = {}
        found = []
        for declaration in self.all():
            names = ([("intake kind", i.kind) for i in declaration.intakes]
                     + [(what, value) for start in declaration.api_starts for what, value in (
                         ("API path", start.path), ("operation_id", start.operation_id), ("schema", start.schema))])
            for what, value in names:
                other = seen.setdefault((what, value), declaration.process_id)
                if other != declaration.process_id:
                    found.append((declaration, f"{what} '{value}' is declared by {other} too"))
        return found

    def _ordered(self) -> list[ProcessDeclaration]:
        return sorted(self._by_process.values(), key=lambda d: (d.lookup_priority, d.process_id))


def _paragraph_order(paragraph: str) -> tuple[int, ...]:
    """'§7-1' → (7, 1): the Rules' order of their paragraphs."""
    digits = [part for part in paragraph.lstrip("§").replace(" ", "").split("-")]
    return tuple(int(part) if part.isdigit() else 10**6 for part in digits)
