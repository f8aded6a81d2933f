"""The hot path's parameter builder: the driver's values in order (or by name), converted, with defaults."""

from __future__ import annotations

import pytest

from service.persistence.prepared import _values_function  # noqa: PLC2701 — the builder itself is what is tested


def _double(value: int) -> int:
    return value * 2


def test_positional_values_come_in_the_statement_s_order_converted_with_defaults() -> None:
    values = _values_function(["b", "a", "c"], [None, _double, None], {"c": "fixed"}, positional=True)
    assert values({"a": 2, "b": "x"}) == ("x", 4, "fixed")
    assert values({"a": 2, "b": "x", "c": "given"}) == ("x", 4, "given")


def test_named_values_keep_their_names() -> None:
    values = _values_function(["a", "b"], [_double, None], {}, positional=False)
    assert values({"a": 5, "b": None, "unused": 1}) == {"a": 10, "b": None}


def test_a_statement_without_parameters_gets_none() -> None:
    assert _values_function([], [], {}, positional=True)({}) == ()
    assert _values_function([], [], {}, positional=False)({}) == {}


def test_a_missing_value_is_a_key_error_as_indexing_would_raise() -> None:
    values = _values_function(["a"], [None], {}, positional=True)
    with pytest.raises(KeyError):
        values({})


def test_names_are_quoted_so_none_can_become_code() -> None:
    odd = "x'); raise SystemExit('\\"
    values = _values_function([odd, 'y"'], [None, None], {'y"': 7}, positional=False)
    assert values({odd: 1}) == {odd: 1, 'y"': 7}
