"""A declared case fact made readable: choices by their labels, dates the local way, lists as tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.application.task_facts import Fact

from .i18n import date_text, instant_text, pick, translate


def fact_view(fact: Fact, language: str) -> dict[str, Any]:
    """What the template draws for one fact: a text, a list, a table, pairs, files, or "withheld"."""
    label = pick(dict(fact.labels), language, fact.path)
    if fact.withheld and not fact.attachments:
        return {"label": label, "kind": "withheld", "text": translate("fact_withheld", language)}
    if fact.is_attachments:
        return {"label": label, "kind": "files", "files": list(fact.attachments),
                "note": translate("fact_withheld", language) if fact.withheld else ""}
    schema, value = fact.schema, fact.value
    if value is None or value == "" or value == []:
        return {"label": label, "kind": "text", "text": translate("fact_missing", language)}
    if isinstance(value, list):
        items: Mapping[str, Any] = schema.get("items") or {}
        if value and all(isinstance(row, Mapping) for row in value):
            columns = list((items.get("properties") or {}).items()) or [(key, {}) for key in value[0]]
            return {"label": label, "kind": "table",
                    "headers": [_label(sub, name, language) for name, sub in columns],
                    "rows": [[text_of(row.get(name), sub, language) for name, sub in columns] for row in value]}
        return {"label": label, "kind": "list", "entries": [text_of(item, items, language) for item in value]}
    if isinstance(value, Mapping):
        properties = schema.get("properties") or {}
        names = [name for name in properties if name in value] or list(value)
        return {"label": label, "kind": "pairs",
                "pairs": [(_label(properties.get(name, {}), name, language),
                           text_of(value.get(name), properties.get(name, {}), language)) for name in names]}
    return {"label": label, "kind": "text", "text": text_of(value, schema, language)}


def _label(schema: Mapping[str, Any], name: str, language: str) -> str:
    return pick(schema.get("x-labels"), language, str(schema.get("title", name)))


def text_of(value: Any, schema: Mapping[str, Any], language: str) -> str:
    """One value as a person reads it, following the schema of the field that wrote it."""
    if value is None or value == "":
        return translate("fact_missing", language)
    if isinstance(value, bool):
        return translate("yes" if value else "no", language)
    if "enum" in schema or "x-enum-labels" in schema:
        labels = schema.get("x-enum-labels", {})
        in_language = labels.get(language) or labels.get("ru") or {}
        return str(in_language.get(str(value), value))
    if schema.get("format") == "date":
        return date_text(str(value), language)
    if schema.get("format") == "date-time":
        return instant_text(str(value), language)
    if isinstance(value, list):
        inner: Mapping[str, Any] = schema.get("items") or {}
        return ", ".join(text_of(item, inner, language) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {item}" for key, item in value.items())
    return str(value)
