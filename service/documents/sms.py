"""The texts of the SMS the service sends, from templates in Kazakh and Russian.

A diagram throws ``sms.<what>`` with the values the text needs (the phone, the offer number, the
child's name); the text itself is written here, in ``templates/sms_<what>.kk.txt`` and
``templates/sms_<what>.ru.txt``, not in the diagram. One SMS carries both languages, the state
language first, each on its own line: the gateway sends ``text`` as it is (it may split it into
parts). Templates are plain text (no HTML escaping); a value they name that the payload lacks is
an error, so a text is never sent with a hole in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError

from .render import TEMPLATES

#: The languages of every SMS, in the order they appear in it.
SMS_LANGUAGES = ("kk", "ru")
#: Message-name prefix of the SMS channel.
SMS_PREFIX = "sms."

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,  # noqa: S701 - plain text
    keep_trailing_newline=False,
)


class SmsTemplateError(ValueError):
    """An SMS cannot be written: no template for it, or the payload lacks a value the template names."""


def template_names(message_name: str) -> list[str]:
    """The template files of an ``sms.<what>`` message, one per language."""
    what = message_name.removeprefix(SMS_PREFIX)
    return [f"sms_{what}.{language}.txt" for language in SMS_LANGUAGES]


def missing_templates(message_name: str) -> list[Path]:
    """The template files an ``sms.<what>`` message needs that do not exist."""
    return [TEMPLATES / name for name in template_names(message_name) if not (TEMPLATES / name).is_file()]


def sms_texts(message_name: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The text of the SMS in each language, filled in from ``values``."""
    texts: dict[str, str] = {}
    for language, name in zip(SMS_LANGUAGES, template_names(message_name), strict=True):
        try:
            text = _environment.get_template(name).render(dict(values))
        except TemplateNotFound:
            raise SmsTemplateError(f"no SMS template {name} for '{message_name}'") from None
        except UndefinedError as exc:
            raise SmsTemplateError(f"SMS '{message_name}' ({language}): {exc.message}") from None
        texts[language] = " ".join(text.split())
    return texts


def with_text(message_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of an SMS with its ``text`` (both languages, one per line) and ``texts`` by language."""
    texts = sms_texts(message_name, payload)
    return {**payload, "text": "\n".join(texts[language] for language in SMS_LANGUAGES), "texts": texts}
