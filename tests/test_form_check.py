"""The quick form check says yes exactly when jsonschema does, on every form of the product and of the tests.

Submissions are generated from each schema: for every field a value it accepts, values at and past
its limits, other types, a missing required field, an unknown one; nested objects and lists too.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from service.application.form_check import quick_check
from service.application.forms import FORMAT_CHECKER, load_form, validate_submission

from .support import PROJECT

SCHEMAS = sorted([*PROJECT.glob("forms/*/*.schema.json"), *PROJECT.glob("tests/**/*.schema.json")])
ROUNDS = 300

#: Values of each format the product checks: some it accepts, some it refuses.
FORMATTED = {
    "date": ["2026-03-20", "2026-02-30", "20.03.2026", ""],
    "date-time": ["2026-03-20T11:00:00+05:00", "2026-03-20T11:00:00", "2026-03-20"],
    "iin": ["150402601230", "150402601231", "850714304566", "12345"],
    "phone": ["+77011234567", "87011234567", "+7701"],
}


def _candidates(schema: Any) -> list[Any]:
    """Values for one field: those it should accept and those at or past its limits, or of other types."""
    if not isinstance(schema, dict):
        return [None, "x", 1]
    found: list[Any] = [None, True, 0, 1.5, "", "слово", [], {}]
    found += list(schema.get("enum", [])) + ([schema["const"]] if "const" in schema else [])
    if "format" in schema:
        found += FORMATTED.get(schema["format"], ["?"])
    if "pattern" in schema:  # strings of the shapes the forms' patterns ask for (numbers, BINs, phones)
        found += [value for values in FORMATTED.values() for value in values] + ["2026", "a@b.kz", "a@b"]
    for limit in ("minLength", "maxLength"):
        if limit in schema:
            found += ["я" * (schema[limit] + shift) for shift in (-1, 0, 1) if schema[limit] + shift >= 0]
    for limit in ("minimum", "maximum"):
        if limit in schema:
            found += [schema[limit] + shift for shift in (-1, 0, 1)] + [float(schema[limit])]
    if schema.get("type") == "object" or "properties" in schema:
        found += [_instance(schema, random.Random(seed), careful=seed % 2 == 0) for seed in range(4)]
    if schema.get("type") == "array" or "items" in schema:
        item = _candidates(schema.get("items", {}))
        found += [[value] for value in item[:6]] + [[item[-1], item[-1]], item[-3:]]
        found += [[value] for value in _accepted(schema.get("items", {}))[:3]]
    return found


_POOLS: dict[str, tuple[list[Any], list[Any]]] = {}


def _pools(schema: Any) -> tuple[list[Any], list[Any]]:
    """(every candidate, the candidates jsonschema accepts) for a field's schema, made once per schema."""
    key = json.dumps(schema, sort_keys=True, ensure_ascii=False)
    found = _POOLS.get(key)
    if found is None:
        choices = _candidates(schema)
        check = Draft202012Validator(schema, format_checker=FORMAT_CHECKER) if isinstance(schema, dict) else None
        found = (choices, [value for value in choices if check is not None and check.is_valid(value)])
        _POOLS[key] = found
    return found


def _accepted(schema: Any) -> list[Any]:
    return _pools(schema)[1]


def _instance(schema: dict[str, Any], rng: random.Random, careful: bool = False) -> dict[str, Any]:
    """A submission for an object schema: each field from its candidates, sometimes missing, sometimes extra.

    ``careful``: every field, each from the values its own schema accepts (so most come out valid).
    """
    found: dict[str, Any] = {}
    for name, sub in schema.get("properties", {}).items():
        if not careful and rng.random() < 0.08:
            continue
        choices, accepted = _pools(sub)
        pool = accepted if accepted and (careful or rng.random() < 0.85) else choices
        found[name] = rng.choice(pool)
    if not careful and rng.random() < 0.05:
        found["unknown_field"] = "x"
    return found


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda path: str(path.relative_to(PROJECT)))
def test_the_quick_check_agrees_with_jsonschema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    passes = quick_check(validator)
    assert passes is not None, "every form of the product is within the quick check's keywords"
    rng = random.Random(path.name)
    answers = []
    for _ in range(ROUNDS):
        instance = _instance(schema, rng, careful=rng.random() < 0.3)
        expected = validator.is_valid(instance)
        assert passes(instance) is expected, (instance, [e.message for e in validator.iter_errors(instance)])
        answers.append(expected)
    assert True in answers and False in answers  # both answers were asked for


def test_a_schema_beyond_the_quick_check_has_none_and_is_still_checked(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/text"}}, "$defs": {"text": {"type": "string"}},
              "required": ["a"]}
    assert quick_check(Draft202012Validator(schema, format_checker=FORMAT_CHECKER)) is None
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "t.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    form = load_form(tmp_path, "p", "t")
    assert form.passes is None
    assert validate_submission(form, {"a": 1}) and not validate_submission(form, {"a": "x"})


def test_the_quick_check_refuses_what_each_keyword_refuses() -> None:
    schema = {
        "type": "object", "additionalProperties": False, "required": ["n", "s"],
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
            "s": {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-я]+$"},
            "e": {"enum": [1, "a"]}, "c": {"const": True}, "d": {"type": "string", "format": "date"},
            "l": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2, "uniqueItems": True},
        },
    }
    passes = quick_check(Draft202012Validator(schema, format_checker=FORMAT_CHECKER))
    assert passes is not None
    good = {"n": 3, "s": "аб", "e": "a", "c": True, "d": "2026-03-20", "l": ["x"]}
    assert passes(good)
    for change in ({"n": 0}, {"n": 6}, {"n": True}, {"n": 2.5}, {"s": "а"}, {"s": "абвг"}, {"s": "ab1"},
                   {"e": True}, {"e": 2}, {"c": 1}, {"d": "2026-02-30"}, {"l": []}, {"l": ["x", "y", "z"]},
                   {"l": ["x", "x"]}, {"l": [1]}, {"other": 1}):
        assert not passes({**good, **change}), change
    assert not passes({"s": "аб"}) and passes({**good, "n": 3.0})  # a required field missing; 3.0 is an integer
