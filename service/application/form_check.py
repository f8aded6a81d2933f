"""A quick yes/no answer to "does this submission pass its form's JSON Schema?", for the usual case: it does.

jsonschema's validator walks the schema anew for every submission, through its general machinery
for every draft and keyword, even to say "valid"; that was most of a task completion's form
check. The keywords the product's forms use are turned here, once per loaded form, into nested
closures that only answer yes or no. Their meaning is taken from jsonschema itself (its type
checker, its format checker, its equality and uniqueness helpers, keyword by keyword as its
Draft 2020-12 implementation applies them), so the two agree; tests compare them on every form
of the product and of the tests with generated submissions.

A schema using any other keyword gets no quick check (``None``). Whenever the quick check says
no, or there is none, jsonschema runs and gives the messages: it stays the one that explains.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema._utils import equal, uniq

Check = Callable[[Any], bool]

#: Keywords that say nothing about validity (the product's own start with ``x-``).
_ANNOTATIONS = frozenset({"title", "description", "$schema", "$id", "$comment", "default", "examples", "readOnly",
                          "writeOnly", "deprecated"})


class _Unsupported(Exception):
    """The schema uses a keyword (or a form of one) this module does not translate."""


def quick_check(validator: Draft202012Validator) -> Check | None:
    """A function telling whether an instance passes ``validator``'s schema, or None if the schema is beyond it."""
    try:
        return _Compiler(validator).schema(validator.schema)
    except _Unsupported:
        return None


class _Compiler:
    def __init__(self, validator: Draft202012Validator) -> None:
        self.checker = validator.TYPE_CHECKER
        self.formats = validator.format_checker
        self._typed: dict[str, Check] = {}

    def is_type(self, name: str) -> Check:
        """jsonschema's own predicate for a type name, called without its lookup at every value."""
        found = self._typed.get(name)
        if found is None:
            try:
                self.checker.is_type(None, name)
            except Exception as exc:  # an unknown type name: jsonschema is left to say so
                raise _Unsupported(name) from exc
            checker = self.checker
            table = getattr(checker, "_type_checkers", None)
            if table is not None and name in table:
                predicate = table[name]
                found = functools.partial(predicate, checker)
            else:  # another jsonschema keeps its table elsewhere: ask it each time
                found = functools.partial(_asked, checker.is_type, name)
            self._typed[name] = found
        return found

    def schema(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise _Unsupported(schema)
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-"):
                continue
            build = _KEYWORDS.get(keyword)
            if build is None:
                raise _Unsupported(keyword)
            found = build(self, value, schema)
            if found is not None:
                checks.append(found)
        return _all_of(checks)

    # --- keywords, each applied where jsonschema applies it ------------------------------------

    def type_(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        types = [self.is_type(name) for name in ([value] if isinstance(value, str) else list(value))]
        return types[0] if len(types) == 1 else _any_of(types)

    def min_length(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        string = self.is_type("string")
        return lambda instance: not string(instance) or len(instance) >= value

    def max_length(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        string = self.is_type("string")
        return lambda instance: not string(instance) or len(instance) <= value

    def pattern(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        search, string = re.compile(value).search, self.is_type("string")
        return lambda instance: not string(instance) or search(instance) is not None

    def format_(self, value: Any, _schema: Mapping[str, Any]) -> Check | None:
        formats = self.formats
        if formats is None:
            return None
        return lambda instance: formats.conforms(instance, value)

    def enum(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        choices = tuple(value)

        def listed(instance: Any) -> bool:
            for choice in choices:  # noqa: SIM110 — a loop: any() over a generator costs twice as much here
                if equal(choice, instance):
                    return True
            return False

        return listed

    def const(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        return lambda instance: equal(instance, value)

    def minimum(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        number = self.is_type("number")
        return lambda instance: not number(instance) or instance >= value

    def maximum(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        number = self.is_type("number")
        return lambda instance: not number(instance) or instance <= value

    def required(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        names, obj = tuple(value), self.is_type("object")

        def present(instance: Any) -> bool:
            if obj(instance):
                for name in names:
                    if name not in instance:
                        return False
            return True

        return present

    def properties(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        members, obj = tuple((name, self.schema(sub)) for name, sub in value.items()), self.is_type("object")

        def each(instance: Any) -> bool:
            if obj(instance):
                for name, check in members:
                    if name in instance and not check(instance[name]):
                        return False
            return True

        return each

    def additional_properties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        declared, check, obj = frozenset(schema.get("properties", {})), self.schema(value), self.is_type("object")

        def others(instance: Any) -> bool:
            if obj(instance):
                for name in instance:
                    if name not in declared and not check(instance[name]):
                        return False
            return True

        return others

    def items(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "prefixItems" in schema or isinstance(value, list):
            raise _Unsupported("prefixItems")
        check, array = self.schema(value), self.is_type("array")

        def each(instance: Any) -> bool:
            if array(instance):
                for item in instance:
                    if not check(item):
                        return False
            return True

        return each

    def unique_items(self, value: Any, _schema: Mapping[str, Any]) -> Check | None:
        if not value:
            return None
        array = self.is_type("array")
        return lambda instance: not array(instance) or uniq(instance)

    def min_items(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        array = self.is_type("array")
        return lambda instance: not array(instance) or len(instance) >= value

    def max_items(self, value: Any, _schema: Mapping[str, Any]) -> Check:
        array = self.is_type("array")
        return lambda instance: not array(instance) or len(instance) <= value


_KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Check | None]] = {
    "type": _Compiler.type_, "minLength": _Compiler.min_length, "maxLength": _Compiler.max_length,
    "pattern": _Compiler.pattern, "format": _Compiler.format_, "enum": _Compiler.enum, "const": _Compiler.const,
    "minimum": _Compiler.minimum, "maximum": _Compiler.maximum, "required": _Compiler.required,
    "properties": _Compiler.properties, "additionalProperties": _Compiler.additional_properties,
    "items": _Compiler.items, "uniqueItems": _Compiler.unique_items, "minItems": _Compiler.min_items,
    "maxItems": _Compiler.max_items,
}


def _always(_instance: Any) -> bool:
    return True


def _never(_instance: Any) -> bool:
    return False


def _asked(is_type: Callable[[Any, str], bool], name: str, instance: Any) -> bool:
    return is_type(instance, name)


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)

    def passes(instance: Any) -> bool:
        for check in every:  # noqa: SIM110 — as above
            if not check(instance):
                return False
        return True

    return passes


def _any_of(checks: list[Check]) -> Check:
    some = tuple(checks)

    def passes(instance: Any) -> bool:
        for check in some:  # noqa: SIM110 — as above
            if check(instance):
                return True
        return False

    return passes
