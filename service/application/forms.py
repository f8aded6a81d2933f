"""Task forms on the server: loading them, turning browser input into values, and checking it.

A form is a JSON Schema (draft 2020-12) at ``forms/<process_id>/<task_id>.schema.json``,
optionally with rendering hints in ``<task_id>.ui.json`` beside it. Besides standard JSON
Schema a form uses:

- ``"x-labels": {"kk": ..., "ru": ..., "en": ...}`` on the form and on every property (the
  Russian label is also the standard ``title``), and ``"x-enum-labels"`` — per language, the
  name of each allowed value;
- the formats ``iin`` (see ``service.domain.identity``), ``date`` (``YYYY-MM-DD``, a real
  date), ``date-time`` (ISO 8601 with a UTC offset) and ``phone`` (``+7`` and 10 digits);
- ``"x-rules"``: checks across fields, each an object with a ``rule`` and the field paths it
  reads (see ``RULES``).

``validate_submission`` returns, per field path (``child.iin``, ``teachers[0].subject``), the
problems as a message code with parameters; ``message_text`` words one in Kazakh, Russian or
English, naming the field and what exactly is wrong.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from service.application.catalog import form_path
from service.application.form_check import Check, quick_check
from service.domain.errors import CalendarError, DomainError, NotFound
from service.domain.identity import IIN_BIRTH_DATE_MISMATCH, iin_birth_date, validate_iin
from service.domain.package import describe_problem
from service.domain.phrases import phrase
from service.domain.time import ALMATY, parse_instant

LANGUAGES = ("kk", "ru", "en")
UI_SUFFIX = ".ui.json"

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE = re.compile(r"\+7[0-9]{10}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[([0-9]*)\]")
_TRUE = frozenset({"true", "on", "yes", "1", "да", "иә"})
_FALSE = frozenset({"false", "off", "no", "0", "нет", "жоқ"})
_SHOWN_CHARACTERS = 60


# --- formats -------------------------------------------------------------------------------

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("iin")
def _is_iin(value: object) -> bool:
    return not isinstance(value, str) or not validate_iin(value)


@FORMAT_CHECKER.checks("date")
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or _parse_date(value) is not None


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parse_instant(value)
    except CalendarError:
        return False
    return "T" in value


@FORMAT_CHECKER.checks("phone")
def _is_phone(value: object) -> bool:
    return not isinstance(value, str) or _PHONE.fullmatch(value) is not None


KNOWN_FORMATS = frozenset(FORMAT_CHECKER.checkers)


# --- the form --------------------------------------------------------------------------------


class FormField(NamedTuple):
    """One input of a form, as a renderer needs it. Nested objects give dotted names."""

    name: str
    labels: Mapping[str, str]
    type: str
    required: bool


class FieldMessage(NamedTuple):
    """One problem with one field: a message code and the values its text mentions."""

    code: str
    params: Mapping[str, Any]

    def text(self, language: str) -> str:
        """The message in ``language`` (kk, ru or en)."""
        return message_text(self.code, self.params, language)


@dataclass(frozen=True)
class Form:
    """A loaded form. Shared through the cache: treat ``schema`` and ``ui`` as read-only."""

    process_id: str
    task_id: str
    path: Path
    schema: dict[str, Any]
    ui: dict[str, Any]
    validator: Draft202012Validator = field(repr=False, compare=False)
    #: A quick yes/no check of the same schema (``form_check``); None where the schema is beyond it.
    passes: Check | None = field(default=None, repr=False, compare=False)

    @property
    def labels(self) -> dict[str, str]:
        """The form's own title in kk, ru and en."""
        return _labels_of(self.schema, self.task_id)

    def fields(self) -> list[FormField]:
        """The inputs in display order: the ``order`` list of the UI hints first, then schema order.

        An object property with ``properties`` is flattened into its members
        (``child.iin``); an array is one field of type ``array``. The type is the JSON
        type, or the format for ``date``, ``date-time``, ``iin`` and ``phone``.
        """
        found: list[FormField] = []
        _flatten(self.schema, "", True, found)
        order = self.ui.get("order", [])
        rank = {name: index for index, name in enumerate(order)} if isinstance(order, list) else {}
        ranked = sorted(enumerate(found), key=lambda pair: (rank.get(pair[1].name, len(rank)), pair[0]))
        return [form_field for _, form_field in ranked]

    def property_schema(self, path: str) -> dict[str, Any] | None:
        """The schema of the field at ``path`` (``teachers[0].subject`` or ``child.iin``)."""
        parts = parse_path(path)
        return None if parts is None else _schema_at(self.schema, parts)

    def label(self, path: str) -> dict[str, str]:
        """The field's label in kk, ru and en; nested fields name their parents (``Ребенок → ИИН``)."""
        parts = parse_path(path)
        return _path_labels(self.schema, parts if parts is not None else [path])


_cache: dict[Path, tuple[tuple[int, int, int | None], Form]] = {}
_cache_lock = threading.Lock()


#: Forms of deployed versions (content-addressed folders whose files never change), read once.
_FIXED: dict[tuple[str, str, str], Form] = {}


def load_form(forms_dir: Path, process_id: str, task_id: str, *, fixed: bool = False) -> Form:
    """Load the form of a user task; cached until the schema or hints file changes on disk.

    ``fixed``: ``forms_dir`` is a deployed version's folder, whose files never change, so after
    the first read the form is taken from memory without looking at the files (two ``stat``
    calls less per task completion). Raises ``NotFound`` when there is no such form,
    ``DomainError`` naming the file when it is not valid JSON, not a valid JSON Schema, or uses
    an unknown format or rule.
    """
    if fixed:
        found = _FIXED.get((str(forms_dir), process_id, task_id))
        if found is not None:
            return found
    for what, name in (("process id", process_id), ("task id", task_id)):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise NotFound(f"no form for {what} {name!r}: ids are letters, digits, '_' and '-'")
    path = form_path(Path(forms_dir), process_id, task_id)
    ui_path = path.with_name(f"{task_id}{UI_SUFFIX}")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise NotFound(f"no form for task '{task_id}' of process '{process_id}' (expected {path})") from None
    try:
        ui_stamp: int | None = ui_path.stat().st_mtime_ns
    except FileNotFoundError:
        ui_stamp = None
    stamp = (info.st_mtime_ns, info.st_size, ui_stamp)
    key = path  # as given: resolving it (a system call per directory) on every task completion costs more
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        if fixed:
            with _cache_lock:
                _FIXED[(str(forms_dir), process_id, task_id)] = cached[1]
        return cached[1]
    form = _read_form(path, ui_path if ui_stamp is not None else None, process_id, task_id)
    with _cache_lock:
        _cache[key] = (stamp, form)
        if fixed:
            if len(_FIXED) > 8192:  # very many versions read in one process: start again
                _FIXED.clear()
            _FIXED[(str(forms_dir), process_id, task_id)] = form
    return form


#: Forms with their configured choices, per loaded form and settings (loaded forms are shared and
#: replaced when their file changes, so an entry is only ever reused for the very same objects).
_CHOSEN: dict[tuple[int, int], tuple[Form, Mapping[str, Sequence[str]], Form]] = {}
_CHOSEN_LOCK = threading.Lock()


def with_choices(form: Form, choices: Mapping[str, Sequence[str]]) -> Form:
    """The form with the allowed values of each ``"x-enum-setting": NAME`` property taken from setting NAME.

    The schema's own ``enum`` is the default; ``x-enum-labels`` must name every configured value.
    A form without such a property is returned as it is. Raises ``DomainError`` naming the file
    for a setting that does not exist or a value the form has no label for. Built once per
    loaded form and settings, then reused (every task completion checks its form).
    """
    key = (id(form), id(choices))
    found = _CHOSEN.get(key)
    if found is not None and found[0] is form and found[1] is choices:
        return found[2]
    chosen = _with_choices(form, choices)
    with _CHOSEN_LOCK:
        if len(_CHOSEN) > 4096:  # forms reloaded many times over: start again
            _CHOSEN.clear()
        _CHOSEN[key] = (form, choices, chosen)
    return chosen


def _with_choices(form: Form, choices: Mapping[str, Sequence[str]]) -> Form:
    if not any(True for _ in _setting_enums(form.schema)):
        return form
    schema = json.loads(json.dumps(form.schema))
    for node in _setting_enums(schema):
        name = node["x-enum-setting"]
        if name not in choices:
            raise DomainError(f"{form.path}: 'x-enum-setting' names an unknown setting {name!r}; "
                              f"known: {', '.join(sorted(choices))}")
        labels = node.get("x-enum-labels", {})
        unlabelled = [value for value in choices[name] for language in LANGUAGES
                      if value not in labels.get(language, {})]
        if unlabelled:
            raise DomainError(f"{form.path}: no label for the value {unlabelled[0]!r} of setting {name!r}")
        node["enum"] = list(choices[name])
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return Form(form.process_id, form.task_id, form.path, schema, form.ui, validator, quick_check(validator))


def check_choices(forms_dir: Path, choices: Mapping[str, Sequence[str]]) -> list[str]:
    """Problems of the forms whose allowed values come from settings, one line each (``homeschool validate``)."""
    problems = []
    for path in sorted(Path(forms_dir).glob("*/*.schema.json")) if Path(forms_dir).is_dir() else []:
        try:
            form = load_form(forms_dir, path.parent.name, path.name.removesuffix(".schema.json"))
        except DomainError:
            continue  # an unreadable form: check_forms reports it
        try:
            with_choices(form, choices)
        except DomainError as exc:
            problems.append(str(exc))
    return problems


def _setting_enums(schema: Any) -> Iterator[dict[str, Any]]:
    """Every sub-schema of ``schema`` that takes its allowed values from a setting."""
    if isinstance(schema, dict):
        if "x-enum-setting" in schema:
            yield schema
        for value in schema.values():
            yield from _setting_enums(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _setting_enums(item)


def _read_form(path: Path, ui_path: Path | None, process_id: str, task_id: str) -> Form:
    schema = _read_json(path)
    if not isinstance(schema, dict):
        raise DomainError(f"{path}: a form must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DomainError(f"{path}: not a valid JSON Schema ({exc.message})") from None
    unknown = sorted(set(_formats_used(schema)) - KNOWN_FORMATS)
    if unknown:
        raise DomainError(f"{path}: unknown format {unknown[0]!r}; known: {', '.join(sorted(KNOWN_FORMATS))}")
    _check_rules(schema, path)
    ui = _read_json(ui_path) if ui_path is not None else {}
    if not isinstance(ui, dict):
        raise DomainError(f"{ui_path}: UI hints must be a JSON object")
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return Form(process_id, task_id, path, schema, ui, validator, quick_check(validator))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(f"{path}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise DomainError(f"{path}: cannot be read ({exc})") from None


# --- validation --------------------------------------------------------------------------------


def validate_submission(
    form: Form, data: Mapping[str, Any], context: Mapping[str, Any] | None = None,
    elements: frozenset[str] | None = None,
) -> dict[str, list[FieldMessage]]:
    """Problems with ``data`` by field path; an empty dict means it can be accepted.

    ``context`` carries the case's variables; the rules that need them read
    ``context["request"]`` (the VKK conclusion's dates, the package problems). ``elements``
    are the element ids of the case's diagram version: a choice its version cannot carry out
    is refused (rule ``value_needs_element``). Cross-field rules are checked only on fields
    that passed the schema.
    """
    problems = _Problems(form, elements)
    if not isinstance(data, Mapping):
        problems.add("", "type", expected=_expected("object"), value=_show(data))
        return problems.result()
    instance = dict(data)
    passes = form.passes
    errors = [] if passes is not None and passes(instance) else sorted(
        form.validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        _translate(error, problems)
    for path in _bad_text(instance, ""):
        problems.add(path, "bad_characters")
    request = _request_of(context or {})
    for rule in form.schema.get("x-rules", []):
        RULES[rule["rule"]].check(rule, instance, request, problems)
    return problems.result()


def _bad_text(value: Any, path: str) -> Iterator[str]:
    """Paths of strings holding control characters or lone surrogates (they break storage and PDFs)."""
    if isinstance(value, str):
        if any((ord(c) < 32 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF or ord(c) == 0x7F for c in value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _bad_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_text(item, f"{path}[{index}]")


def _request_of(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """The case's request as the rules see it, with the package problems the diagram found.

    The diagram keeps ``check_package``'s findings in the case variable ``package_problems``
    beside ``request``; the rules read them from the request, so both places count.
    """
    request = context.get("request")
    view = dict(request) if isinstance(request, Mapping) else {}
    if "package_problems" in context and not view.get("package_problems"):
        view["package_problems"] = context["package_problems"]
    return view


def localise(errors: Mapping[str, Sequence[FieldMessage]], language: str) -> dict[str, list[str]]:
    """The same problems as texts in ``language``."""
    return {path: [m.text(language) for m in messages] for path, messages in errors.items()}


class _Problems:
    def __init__(self, form: Form, elements: frozenset[str] | None = None) -> None:
        self.form = form
        #: The element ids of the case's diagram version (None: not known, e.g. outside a case).
        self.elements = elements
        self.found: dict[str, list[FieldMessage]] = {}

    def add(self, path: str, code: str, **params: Any) -> None:
        full = {"field": path, "label": self.form.label(path) if path else self.form.labels, **params}
        message = FieldMessage(code, full)
        messages = self.found.setdefault(path, [])
        if message not in messages:
            messages.append(message)

    def touches(self, path: str) -> bool:
        """Whether the field at ``path``, or anything inside it, already has a problem."""
        return any(p == path or p.startswith((f"{path}.", f"{path}[")) for p in self.found)

    def result(self) -> dict[str, list[FieldMessage]]:
        # A value of the wrong type (or none at all) also fails its enum, format and limits;
        # only the first fact helps the person filling in the form.
        result = {}
        for path in sorted(self.found):
            messages = self.found[path]
            basic = [m for m in messages if m.code in ("required", "type")]
            result[path] = basic[:1] or messages
        return result


def _translate(error: ValidationError, problems: _Problems) -> None:
    path = format_path(error.absolute_path)
    kind, limit, instance, schema = error.validator, error.validator_value, error.instance, error.schema
    schema = schema if isinstance(schema, Mapping) else {}
    if kind == "required":
        for name in limit:
            if isinstance(instance, Mapping) and name not in instance:
                problems.add(_join(path, name), "required")
    elif kind == "additionalProperties":
        known = set(schema.get("properties", {}))
        for name in instance:
            if name not in known:
                problems.add(_join(path, name), "unknown_field")
    elif kind == "type" and instance is None:
        problems.add(path, "required")  # null is how API clients leave a field empty
    elif kind == "type":
        expected = limit if isinstance(limit, str) else next((t for t in limit if t != "null"), "null")
        problems.add(path, "type", expected=_expected(expected), value=_show(instance))
    elif kind in ("enum", "const"):
        allowed = limit if kind == "enum" else [limit]
        problems.add(path, "enum", allowed=_allowed(schema, allowed), value=_show(instance))
    elif kind in _LIMIT_CODES:
        problems.add(path, _LIMIT_CODES[kind], limit=_show(limit), value=_show(instance))
    elif kind == "minLength" and limit == 1:
        problems.add(path, "required")
    elif kind in ("minLength", "maxLength", "minItems", "maxItems"):
        problems.add(path, _SIZE_CODES[kind], limit=_show(limit), length=len(instance))
    elif kind == "uniqueItems":
        problems.add(path, "unique_items")
    elif kind == "format" and limit == "iin":
        for code in validate_iin(instance):
            problems.add(path, code, value=_show(instance))
    elif kind == "format":
        problems.add(path, "format_" + str(limit).replace("-", "_"), value=_show(instance))
    elif kind == "pattern":
        problems.add(path, "pattern", value=_show(instance))
    else:
        problems.add(path, "invalid", detail=error.message)


_SIZE_CODES = {"minLength": "min_length", "maxLength": "max_length", "minItems": "min_items", "maxItems": "max_items"}
_LIMIT_CODES = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
}


# --- cross-field rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A cross-field rule: the keys naming fields (single path, list of paths) and its check."""

    field_keys: tuple[str, ...]
    list_keys: tuple[str, ...]
    check: Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any], _Problems], None]
    #: Keys holding a condition: an object mapping field paths to the value each must have.
    condition_keys: tuple[str, ...] = ()


def _date_not_before(rule: Mapping[str, Any], data: Mapping[str, Any], _: Mapping[str, Any], p: _Problems) -> None:
    name, other = rule["field"], rule["other"]
    if p.touches(name) or p.touches(other):
        return
    value, other_value = _date_at(data, name), _date_at(data, other)
    if value is not None and other_value is not None and value < other_value:
        p.add(
            name,
            "date_not_before",
            value=value.isoformat(),
            other_value=other_value.isoformat(),
            other_label=p.form.label(other),
        )


def _within_vkk_validity(
    rule: Mapping[str, Any], data: Mapping[str, Any], request: Mapping[str, Any], p: _Problems
) -> None:
    vkk = request.get("vkk_conclusion")
    vkk = vkk if isinstance(vkk, Mapping) else {}
    issued_on, valid_until = _as_date(vkk.get("issued_on")), _as_date(vkk.get("valid_until"))
    for name in rule["fields"]:
        value = None if p.touches(name) else _date_at(data, name)
        if value is None:
            continue
        if issued_on is None or valid_until is None:
            p.add(name, "vkk_validity_unknown", value=value.isoformat())
        elif not issued_on <= value <= valid_until:
            p.add(
                name,
                "within_vkk_validity",
                value=value.isoformat(),
                issued_on=issued_on.isoformat(),
                valid_until=valid_until.isoformat(),
            )


def _iin_matches_birth_date(
    rule: Mapping[str, Any], data: Mapping[str, Any], _: Mapping[str, Any], p: _Problems
) -> None:
    name, other = rule["field"], rule["other"]
    if p.touches(name) or p.touches(other):
        return
    iin, born = _get(data, name), _date_at(data, other)
    if isinstance(iin, str) and born is not None and IIN_BIRTH_DATE_MISMATCH in validate_iin(iin, born):
        in_iin = iin_birth_date(iin)
        p.add(
            name,
            IIN_BIRTH_DATE_MISMATCH,
            value=iin,
            iin_date=in_iin.isoformat() if in_iin else "",
            other_value=born.isoformat(),
            other_label=p.form.label(other),
        )


def _refusal_has_reasons(
    rule: Mapping[str, Any], data: Mapping[str, Any], request: Mapping[str, Any], p: _Problems
) -> None:
    name, decision_name = rule["field"], rule["decision"]
    if p.touches(name) or p.touches(decision_name):
        return
    decision, reasons = _get(data, decision_name), _get(data, name) or []
    if decision == "refuse" and not reasons and not request.get("package_problems"):
        p.add(name, "refusal_without_reasons")
    elif decision != "refuse" and reasons:
        p.add(name, "reasons_without_refusal")


def _accept_needs_clean_package(
    rule: Mapping[str, Any], data: Mapping[str, Any], request: Mapping[str, Any], p: _Problems
) -> None:
    name = rule["field"]
    if p.touches(name) or _get(data, name) != rule.get("accepting", "accept"):
        return
    problems = [problem for problem in request.get("package_problems") or () if isinstance(problem, Mapping)]
    if problems:
        p.add(name, "package_has_problems", problems={
            language: " ".join(describe_problem(problem, language, with_ground=False) for problem in problems)
            for language in LANGUAGES
        })


def _not_before_acceptance(
    rule: Mapping[str, Any], data: Mapping[str, Any], request: Mapping[str, Any], p: _Problems
) -> None:
    name = rule["field"]
    value = None if p.touches(name) else _date_at(data, name)
    accepted = request.get("accepted_at") or request.get("received_at")
    if value is None or not isinstance(accepted, str):
        return
    try:
        accepted_on = parse_instant(accepted).astimezone(ALMATY).date()
    except ValueError:
        return
    if value < accepted_on:
        p.add(name, "before_acceptance", value=value.isoformat(), accepted_on=accepted_on.isoformat())


def _conditions_hold(when: Mapping[str, Any], data: Mapping[str, Any], p: _Problems) -> bool | None:
    """Whether each field named in ``when`` has its value; None while one of them has a problem itself."""
    if any(p.touches(name) for name in when):
        return None
    return all(_get(data, name) == value for name, value in when.items())


def _condition_text(form: Form, when: Mapping[str, Any]) -> dict[str, str]:
    """``«Решение» — «продлить срок (extend)»`` in each language, the condition a rule names."""
    parts: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    for name, value in when.items():
        label, shown = form.label(name), _allowed(form.property_schema(name) or {}, [value])
        for language in LANGUAGES:
            parts[language].append(phrase("form_condition", language, label=label[language], value=shown[language]))
    return {language: ", ".join(texts) for language, texts in parts.items()}


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _required_when(rule: Mapping[str, Any], data: Mapping[str, Any], _: Mapping[str, Any], p: _Problems) -> None:
    name, when = rule["field"], rule["when"]
    if p.touches(name) or not _conditions_hold(when, data, p):
        return
    if _is_blank(_get(data, name)):
        p.add(name, "required_when", condition=_condition_text(p.form, when))


def _required_unless(rule: Mapping[str, Any], data: Mapping[str, Any], _: Mapping[str, Any], p: _Problems) -> None:
    name, unless = rule["field"], rule["unless"]
    if p.touches(name) or _conditions_hold(unless, data, p) is not False:
        return
    if _is_blank(_get(data, name)):
        p.add(name, "required_unless", condition=_condition_text(p.form, unless))


def _value_needs_element(
    rule: Mapping[str, Any], data: Mapping[str, Any], _: Mapping[str, Any], p: _Problems
) -> None:
    name = rule["field"]
    value = _get(data, name)
    needed = rule["values"].get(value) if isinstance(value, str) else None
    if p.touches(name) or needed is None or p.elements is None or needed in p.elements:
        return
    p.add(name, "not_in_this_version", value=value)


def _only_when(rule: Mapping[str, Any], data: Mapping[str, Any], _: Mapping[str, Any], p: _Problems) -> None:
    name, when = rule["field"], rule["when"]
    if p.touches(name) or _conditions_hold(when, data, p) is not False:
        return
    if not _is_blank(_get(data, name)):
        p.add(name, "only_when", condition=_condition_text(p.form, when))


RULES: dict[str, Rule] = {
    # The date in "field" must not be earlier than the date in "other".
    "date_not_before": Rule(("field", "other"), (), _date_not_before),
    # Each date in "fields" must lie within request.vkk_conclusion issued_on..valid_until.
    "within_vkk_validity": Rule((), ("fields",), _within_vkk_validity),
    # The date of birth in the IIN at "field" must equal the date at "other".
    "iin_matches_birth_date": Rule(("field", "other"), (), _iin_matches_birth_date),
    # A refusal ("decision" == "refuse") needs a reason in "field" unless the package check
    # already found some (request.package_problems); an acceptance takes none
    # (Law "On State Services" Art. 19-1 p.1).
    "refusal_has_reasons": Rule(("field", "decision"), (), _refusal_has_reasons),
    # "field" (the decision) cannot take the value "accepting" (default "accept") while the package
    # check found problems: only a person refuses, and nobody accepts what the check rejects
    # without correcting the data first.
    "accept_needs_clean_package": Rule(("field",), (), _accept_needs_clean_package),
    # The date in "field" cannot precede the day the documents were accepted
    # (request.accepted_at, else request.received_at), in Asia/Almaty.
    "not_before_acceptance": Rule(("field",), (), _not_before_acceptance),
    # "field" must be filled in when every field named in "when" has the value given there, e.g.
    # {"rule": "required_when", "field": "extension_days", "when": {"decision": "extend"}}.
    "required_when": Rule(("field",), (), _required_when, ("when",)),
    # "field" must be filled in unless every field named in "unless" has the value given there, e.g.
    # the grade, unless the head refuses: {"rule": "required_unless", "field": "grade",
    # "unless": {"head_decision": "refuse"}}.
    "required_unless": Rule(("field",), (), _required_unless, ("unless",)),
    # A choice in "field" that only a newer diagram carries out: "values" maps each such value to
    # the element it needs, e.g. {"correct": "apply_corrections"}. A case running on an older
    # version of the diagram (without that element) cannot take it — forms are shared by versions.
    "value_needs_element": Rule(("field",), (), _value_needs_element),
    # "field" may be filled in only when every field named in "when" has the value given there
    # (it is left empty otherwise), e.g. the extension's days on any decision but "extend".
    "only_when": Rule(("field",), (), _only_when, ("when",)),
}


def _check_rules(schema: Mapping[str, Any], path: Path) -> None:
    rules = schema.get("x-rules", [])
    if not isinstance(rules, list):
        raise DomainError(f"{path}: x-rules must be a list")
    for number, rule in enumerate(rules, start=1):
        where = f"{path}: x-rules #{number}"
        if not isinstance(rule, dict) or rule.get("rule") not in RULES:
            raise DomainError(f"{where}: 'rule' must be one of {', '.join(RULES)}")
        spec = RULES[rule["rule"]]
        names = [rule.get(key) for key in spec.field_keys]
        for key in spec.list_keys:
            listed = rule.get(key)
            if not isinstance(listed, list) or not listed:
                raise DomainError(f"{where}: '{key}' must be a non-empty list of field names")
            names.extend(listed)
        conditions: list[tuple[str, Any]] = []
        for key in spec.condition_keys:
            condition = rule.get(key)
            if not isinstance(condition, dict) or not condition:
                raise DomainError(f"{where}: '{key}' must be an object of field names and the values they must have")
            names.extend(condition)
            conditions.extend(condition.items())
        for name in names:
            parts = parse_path(name) if isinstance(name, str) else None
            if parts is None or _schema_at(schema, parts) is None:
                raise DomainError(f"{where} ({rule['rule']}): no field {name!r} in this form")
        if rule["rule"] == "value_needs_element":
            values = rule.get("values")
            if not isinstance(values, dict) or not values or not all(
                    isinstance(element, str) and element for element in values.values()):
                raise DomainError(f"{where}: 'values' must be an object of field values and the element ids they need")
            conditions.extend((rule["field"], value) for value in values)
        for name, value in conditions:
            allowed = (_schema_at(schema, parse_path(name) or []) or {}).get("enum")
            if isinstance(allowed, list) and value not in allowed:
                raise DomainError(f"{where} ({rule['rule']}): {value!r} is not a value field {name!r} can take")


# --- coercion -----------------------------------------------------------------------------------


class _Indexed(dict[int, Any]):
    """Array items collected by index from keys like ``teachers[1].subject``."""


def coerce_submission(form: Form, raw: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """Turn a browser's form fields into typed values following the schema; never raises.

    Keys may be nested (``child.iin``, ``teachers[0].subject``, ``documents[]``); a list
    value is a repeated field. Integers, numbers (``12,5`` too) and booleans (``true``/
    ``on``/``1``/``да``/``иә`` …) are converted; dates stay ISO strings; text is trimmed;
    empty inputs are left out, so a required one is reported as missing. A value that does
    not convert (``abc`` for a grade) is kept as given, and ``validate_submission`` then
    says which field must be a number.
    """
    result: dict[str, Any] = {}
    for key, given in raw.items():
        parts = parse_path(key) if isinstance(key, str) else None
        if parts is None:
            result[str(key)] = given
            continue
        values = list(given) if isinstance(given, list | tuple) else [given]
        if parts and parts[-1] == -1:  # "documents[]": each value is one more item
            parts = parts[:-1]
            target = _schema_at(form.schema, parts)
            items = target.get("items") if isinstance(target, Mapping) else None
            schema: Any = {"type": "array", "items": items if isinstance(items, Mapping) else {}}
        else:
            schema = _schema_at(form.schema, parts)
        value = _coerce(schema, values)
        if value is not _MISSING:
            _assign(result, parts, value)
    return _lists(result)


_MISSING = object()


def _coerce(schema: Mapping[str, Any] | None, values: list[Any]) -> Any:
    kind = _type_of(schema)
    if kind == "array":
        items = schema.get("items") if schema is not None else None
        item_schema = items if isinstance(items, Mapping) else None
        coerced = [_coerce(item_schema, [v]) for v in values]
        return [v for v in coerced if v is not _MISSING]
    present = [v for v in values if not (isinstance(v, str) and v.strip() == "")]
    if not present:
        return _MISSING
    converted = [_scalar(kind, v) for v in present]
    return converted[0] if len(converted) == 1 else converted


def _scalar(kind: str | None, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind == "integer" and _INTEGER.fullmatch(text):
        return int(text)
    if kind == "number":
        decimal = text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text
        if _INTEGER.fullmatch(decimal):
            return int(decimal)
        if _NUMBER.fullmatch(decimal):
            return float(decimal)
    if kind == "boolean" and text.lower() in _TRUE:
        return True
    if kind == "boolean" and text.lower() in _FALSE:
        return False
    return text


def _assign(result: dict[str, Any], parts: list[str | int], value: Any) -> None:
    container: Any = result
    for part, following in zip(parts, parts[1:], strict=False):
        wanted = _Indexed if isinstance(following, int) else dict
        child = container.get(part)
        if type(child) is not wanted:
            child = wanted()
            container[part] = child
        container = child
    container[parts[-1]] = value


def _lists(value: Any) -> Any:
    if isinstance(value, _Indexed):
        return [_lists(value[index]) for index in sorted(value)]
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    return value


# --- messages -------------------------------------------------------------------------------------

#: The types a value may be expected to have (``form_expected_<type>`` in the interface's catalogue).
_EXPECTED_TYPES = ("integer", "number", "string", "boolean", "array", "object")

#: The problems the built-in checks report; each has its text ``form_check_<code>`` in messages.po.
MESSAGE_CODES: tuple[str, ...] = (
    "unknown_provider",
    "unknown_organisation",
    "addressee_mismatch",
    "not_registered_here",
    "bad_characters",
    "required",
    "unknown_field",
    "type",
    "enum",
    "minimum",
    "maximum",
    "exclusive_minimum",
    "exclusive_maximum",
    "min_length",
    "max_length",
    "min_items",
    "max_items",
    "unique_items",
    "format_date",
    "format_date_time",
    "format_phone",
    "iin_format",
    "iin_checksum",
    "iin_date",
    "iin_birth_date_mismatch",
    "date_not_before",
    "within_vkk_validity",
    "vkk_validity_unknown",
    "refusal_without_reasons",
    "package_has_problems",
    "before_acceptance",
    "reasons_without_refusal",
    "not_in_this_version",
    "required_unless",
    "required_when",
    "only_when",
    "pattern",
    "invalid",
)


def _expected(kind: str) -> dict[str, str]:
    """What a value of JSON type ``kind`` is called in each language (a type of its own by its name)."""
    if kind not in _EXPECTED_TYPES:
        return _same(kind)
    return {language: phrase(f"form_expected_{kind}", language) for language in LANGUAGES}


def _quoted(text: str, language: str) -> str:
    return phrase("form_quoted", language, value=text)


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message_text(code: str, params: Mapping[str, Any], language: str) -> str:
    """The message ``code`` in ``language``; parameters given per language are picked for it.

    Raises ``ValueError`` for an unknown code or language.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    if code not in MESSAGE_CODES:
        raise ValueError(f"no message text for code {code!r}")
    values = _Keep()
    for name, value in params.items():
        values[name] = value.get(language, "") if isinstance(value, Mapping) else value
    return phrase(f"form_check_{code}", language).format_map(values)


# --- schema walking and paths --------------------------------------------------------------------


def parse_path(path: str) -> list[str | int] | None:
    """``teachers[0].subject`` → ``["teachers", 0, "subject"]``; ``[]`` gives -1; None if malformed."""
    if not isinstance(path, str) or not path:
        return None
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        if parts and path[position] == ".":
            position += 1
        match = _PATH_PART.match(path, position)
        if match is None or match.end() == position:
            return None
        name, index = match.groups()
        if name is not None:
            parts.append(name)
        elif not parts:
            return None
        else:
            parts.append(int(index) if index else -1)
        position = match.end()
    if -1 in parts[:-1]:
        return None
    return parts


def format_path(parts: Iterable[str | int]) -> str:
    """``["teachers", 0, "subject"]`` → ``teachers[0].subject``."""
    text = ""
    for part in parts:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, part)
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _schema_at(schema: Mapping[str, Any], parts: Sequence[str | int]) -> dict[str, Any] | None:
    current: Any = schema
    for part in parts:
        if not isinstance(current, Mapping):
            return None
        if isinstance(part, int):
            current = current.get("items")
        else:
            properties = current.get("properties")
            current = properties.get(part) if isinstance(properties, Mapping) else None
    return current if isinstance(current, dict) else None


def _labels_of(schema: Mapping[str, Any], fallback: str) -> dict[str, str]:
    given = schema.get("x-labels")
    given = given if isinstance(given, Mapping) else {}
    title = schema.get("title") if isinstance(schema.get("title"), str) else fallback
    return {language: str(given.get(language) or title) for language in LANGUAGES}


def _path_labels(schema: Mapping[str, Any], parts: Sequence[str | int]) -> dict[str, str]:
    pieces: list[dict[str, str]] = []
    current: Any = schema
    for part in parts:
        if isinstance(part, int):
            current = current.get("items") if isinstance(current, Mapping) else None
            if pieces:
                pieces[-1] = {language: f"{text} №{part + 1}" for language, text in pieces[-1].items()}
            continue
        properties = current.get("properties") if isinstance(current, Mapping) else None
        current = properties.get(part) if isinstance(properties, Mapping) else None
        pieces.append(_labels_of(current, str(part)) if isinstance(current, Mapping) else _same(str(part)))
    return {language: " → ".join(piece[language] for piece in pieces) for language in LANGUAGES}


def _flatten(schema: Mapping[str, Any], prefix: str, required: bool, found: list[FormField]) -> None:
    properties = schema.get("properties", {})
    needed = set(schema.get("required", []))
    for name, sub in properties.items():
        path = _join(prefix, name)
        is_required = required and name in needed
        if _type_of(sub) == "object" and isinstance(sub.get("properties"), Mapping):
            _flatten(sub, path, is_required, found)
            continue
        fmt = sub.get("format")
        kind = fmt if fmt in KNOWN_FORMATS else (_type_of(sub) or "string")
        found.append(FormField(path, _labels_of(sub, name), kind, is_required))


def _formats_used(schema: Any) -> Iterable[str]:
    if isinstance(schema, Mapping):
        if isinstance(schema.get("format"), str):
            yield schema["format"]
        for key, value in schema.items():
            if key not in ("enum", "const", "x-labels", "x-enum-labels", "x-rules"):
                yield from _formats_used(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _formats_used(item)


def _type_of(schema: Mapping[str, Any] | None) -> str | None:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _allowed(schema: Mapping[str, Any], values: Sequence[Any]) -> dict[str, str]:
    names = schema.get("x-enum-labels")
    names = names if isinstance(names, Mapping) else {}
    result = {}
    for language in LANGUAGES:
        own = names.get(language)
        own = own if isinstance(own, Mapping) else {}
        shown = []
        for value in values:
            name = own.get(value) if isinstance(value, str) else None
            shown.append(f"{name} ({value})" if isinstance(name, str) and name != value else _show(value))
        result[language] = ", ".join(_quoted(s, language) for s in shown)
    return result


def _same(text: str) -> dict[str, str]:
    return dict.fromkeys(LANGUAGES, text)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"


def _get(data: Mapping[str, Any], path: str) -> Any:
    current: Any = data
    for part in parse_path(path) or []:
        if isinstance(part, int):
            current = current[part] if isinstance(current, list) and 0 <= part < len(current) else None
        else:
            current = current.get(part) if isinstance(current, Mapping) else None
    return current


def _date_at(data: Mapping[str, Any], path: str) -> date | None:
    return _as_date(_get(data, path))


def _as_date(value: Any) -> date | None:
    return _parse_date(value) if isinstance(value, str) else None


def _parse_date(text: str) -> date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
