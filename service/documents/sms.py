"""The texts of the SMS the service sends, from the documents catalogue in Kazakh and Russian.

A diagram throws ``sms.<what>`` with the values the text needs (the phone, the offer number, the
child's name); the text itself is the catalogue entry ``sms.<what>`` of
``service/translations/<language>/LC_MESSAGES/documents.po``, not in the diagram. One SMS carries
both languages, the state language first, each on its own line: the gateway sends ``text`` as it
is (it may split it into parts). Texts are plain (no HTML escaping); a ``%(name)s`` the payload
lacks is an error, so a text is never sent with a hole in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .catalogue import MissingTranslation, po_path, wording

#: The languages of every SMS, in the order they appear in it.
SMS_LANGUAGES = ("kk", "ru")
#: Message-name prefix of the SMS channel.
SMS_PREFIX = "sms."

_PROJECT = Path(__file__).resolve().parents[2]


class SmsTemplateError(ValueError):
    """An SMS cannot be written: no text for it, or the payload lacks a value the text names."""


def missing_templates(message_name: str) -> list[str]:
    """Where the text of an ``sms.<what>`` message is expected, for each language that lacks it."""
    return [f"msgid \"{message_name}\" in {_shown(po_path(language))}" for language in SMS_LANGUAGES
            if not wording(language).has(message_name)]


def _shown(path: Path) -> Path:
    """``path`` relative to the project when it is inside it (service/translations/…)."""
    return path.relative_to(_PROJECT) if path.is_relative_to(_PROJECT) else path


def sms_texts(message_name: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The text of the SMS in each language, filled in from ``values``."""
    texts: dict[str, str] = {}
    for language in SMS_LANGUAGES:
        try:
            text = wording(language).raw(message_name) % dict(values)
        except MissingTranslation:
            raise SmsTemplateError(f"no SMS template (msgid {message_name!r}) in the {language} catalogue") from None
        except KeyError as exc:
            raise SmsTemplateError(f"SMS '{message_name}' ({language}): {exc.args[0]!r} is undefined") from None
        texts[language] = " ".join(text.split())
    return texts


def with_text(message_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of an SMS with its ``text`` (both languages, one per line) and ``texts`` by language."""
    texts = sms_texts(message_name, payload)
    return {**payload, "text": "\n".join(texts[language] for language in SMS_LANGUAGES), "texts": texts}
