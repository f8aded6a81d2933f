"""The product's own words for domain values — document kinds, refusal grounds, roles, stages — read
from the gettext catalogues (``service/translations``), never from tables in the code.

One style for the whole domain: a function that names a value takes the language and reads the
catalogue here (``messages`` for what the interface shows, ``documents`` for what issued documents
print). A key the language's own catalogue lacks is an error (:class:`MissingPhrase`), not the key
printed and not a phrase of another language: the catalogue tests keep every key in every language.
Names an analyst declares beside a diagram (``*.process.toml``, ``*.names.toml``) are data and are
not read from here.
"""

from __future__ import annotations

from typing import Any

from service.translations import LANGUAGES, load_translations

#: The interface's catalogue and the documents' catalogue (gettext domains).
MESSAGES = "messages"
DOCUMENTS = "documents"


class MissingPhrase(LookupError):
    """A catalogue has no text for a key in the language asked for."""


def has_phrase(key: str, language: str = "ru", domain: str = MESSAGES) -> bool:
    """Whether ``language``'s own catalogue of ``domain`` gives ``key`` a text."""
    catalog = getattr(load_translations(domain, language), "_catalog", {})
    return bool(catalog.get(key))


def phrase(key: str, language: str, domain: str = MESSAGES, **values: Any) -> str:
    """The text of ``key`` in ``language`` (kk, ru or en; another language gets Russian), placeholders filled in.

    Raises :class:`MissingPhrase` when the language's own catalogue has no text for the key.
    """
    if language not in LANGUAGES:
        language = "ru"
    if not has_phrase(key, language, domain):
        raise MissingPhrase(f"no {language} text for {key!r} in the {domain} catalogue")
    text = load_translations(domain, language).gettext(key)
    if not values:
        return text
    # Each catalogue keeps its own placeholders: ``%(name)s`` in the documents', ``{name}`` in the interface's.
    return text % values if domain == DOCUMENTS else text.format_map(values)
