"""Turning a form's JSON Schema into inputs a template can draw, with values and errors in place.

Paths follow the form module: ``child.iin`` for nested objects, ``teachers[0].subject`` for rows
of a list of objects, ``documents[]`` for a list of choices. A list of objects gets its filled
rows plus empty ones; the empty rows a person leaves blank are dropped when the form is read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .i18n import pick, translate

EMPTY_ROWS = 2
#: The index of the row a browser script copies to add one (``teachers[__INDEX__].subject``).
ROW_PLACEHOLDER = "__INDEX__"


@dataclass
class Widget:
    """One thing to draw: an input, a group of inputs, or a list of groups."""

    kind: str
    name: str
    label: str
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[Widget] = field(default_factory=list)
    rows: list[list[Widget]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def dom_id(self) -> str:
        """An id usable in HTML (``child.iin`` → ``f-child-iin``)."""
        return "f-" + "".join(c if c.isalnum() else "-" for c in self.name)


def build_widgets(
    schema: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, list[str]], language: str,
    hidden: Collection[str] = (), shown_rows: Mapping[str, int] | None = None,
) -> list[Widget]:
    """The inputs of a form (top level), filled with ``values`` and the messages in ``errors``.

    ``shown_rows``: for a list of objects, how many rows to draw at least (a row added without script).
    """
    required = set(schema.get("required", []))
    return [
        _widget(name, sub, values.get(name), errors, language, name in required, shown_rows or {})
        for name, sub in schema.get("properties", {}).items()
        if name not in hidden
    ]


def _label(schema: Mapping[str, Any], name: str, language: str) -> str:
    return pick(schema.get("x-labels"), language, schema.get("title", name))


def _options(schema: Mapping[str, Any], language: str) -> list[tuple[str, str]]:
    """(value, label) pairs; ``x-enum-labels`` maps language → value → label."""
    labels = schema.get("x-enum-labels", {})
    in_language = labels.get(language) or labels.get("ru") or {}
    return [(str(v), str(in_language.get(str(v), v))) for v in schema.get("enum", [])]


def _widget(path: str, schema: Mapping[str, Any], value: Any, errors: Mapping[str, list[str]], language: str,
            required: bool, shown_rows: Mapping[str, int] | None = None) -> Widget:
    label = _label(schema, path.rsplit(".", 1)[-1], language)
    kind = schema.get("type")
    own = list(errors.get(path, []))
    if kind == "object" and "properties" in schema:
        inner_required = set(schema.get("required", []))
        value = value if isinstance(value, Mapping) else {}
        children = [
            _widget(f"{path}.{name}", sub, value.get(name), errors, language, name in inner_required, shown_rows)
            for name, sub in schema["properties"].items()
        ]
        return Widget("group", path, label, required, children=children, errors=own)
    if kind == "array":
        return _array(path, schema, value, errors, language, required, label, own, (shown_rows or {}).get(path, 0))
    if "enum" in schema:
        return Widget("select", path, label, required, _text(value), _options(schema, language), own)
    if kind == "boolean":
        options = [("true", translate("yes", language)), ("false", translate("no", language))]
        shown = "" if value is None else ("true" if value in (True, "true", "on", "1") else "false")
        return Widget("select", path, label, required, shown, options, own)
    if kind in ("integer", "number"):
        attrs = {k: schema[k] for k in ("minimum", "maximum") if k in schema}
        attrs["step"] = "1" if kind == "integer" else "any"
        return Widget("number", path, label, required, _text(value), errors=own, attrs=attrs)
    fmt = schema.get("format")
    if fmt == "date":
        return Widget("date", path, label, required, _text(value), errors=own)
    if fmt == "date-time":
        return Widget("text", path, label, required, _text(value), errors=own,
                      attrs={"placeholder": "2026-03-20T17:00+05:00"})
    attrs = {"maxlength": schema["maxLength"]} if "maxLength" in schema else {}
    if fmt == "iin":
        attrs.update(inputmode="numeric", pattern="[0-9]{12}", placeholder="000000000000")
    if fmt == "phone":
        attrs.update(inputmode="tel", placeholder="+77011234567")
    long_text = schema.get("maxLength", 0) > 300
    return Widget("textarea" if long_text else "text", path, label, required, _text(value), errors=own, attrs=attrs)


def _array(path: str, schema: Mapping[str, Any], value: Any, errors: Mapping[str, list[str]], language: str,
           required: bool, label: str, own: list[str], shown: int = 0) -> Widget:
    items = schema.get("items", {})
    rows_in = value if isinstance(value, list) else []
    if items.get("type") == "object":
        count = max(len(rows_in) + EMPTY_ROWS, shown)
        rows = []
        for index in range(count):
            row_value = rows_in[index] if index < len(rows_in) else {}
            inner_required = set(items.get("required", []))
            rows.append([
                _widget(f"{path}[{index}].{name}", sub, row_value.get(name) if isinstance(row_value, Mapping) else None,
                        errors, language, name in inner_required and index < len(rows_in))
                for name, sub in items.get("properties", {}).items()
            ])
        row_errors = [m for key, messages in errors.items() if key.startswith(f"{path}[") and "." not in
                      key[len(path):] for m in messages]
        template = [_widget(f"{path}[{ROW_PLACEHOLDER}].{name}", sub, None, {}, language, False)
                    for name, sub in items.get("properties", {}).items()]
        return Widget("rows", path, label, required, rows=rows, errors=own + row_errors, children=template,
                      attrs={"hint": translate("rows_hint", language)})
    chosen = {str(v) for v in rows_in}
    return Widget("choices", f"{path}[]", label, required, sorted(chosen), _options(items, language), own)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def dom_id(path: str) -> str:
    """The HTML id of the input for a field path (as :attr:`Widget.dom_id`)."""
    return "f-" + "".join(c if c.isalnum() else "-" for c in path)


def error_labels(form: Any, errors: Mapping[str, list[str]], language: str) -> dict[str, dict[str, str]]:
    """For the error summary: each failing field's readable label and the id to jump to."""
    found = {}
    for path in errors:
        if not path:
            continue
        labels = form.label(path) if hasattr(form, "label") else {}
        target = path.split("[")[0] if path.endswith("]") else path
        found[path] = {"label": pick(labels, language, path), "id": dom_id(target)}
    return found
