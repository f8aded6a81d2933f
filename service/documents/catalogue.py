"""The documents' wording: the gettext catalogue of domain ``documents``, one per language.

The catalogues are ``service/translations/<language>/LC_MESSAGES/documents.po`` (the source, in
git) compiled to ``documents.mo`` by ``make translations`` (never committed). Documents are
rendered in the worker, outside any Flask request, so they are read through the product's one
loader, :func:`service.translations.load_translations`, like the interface's ``messages``: a
missing ``.mo`` or one older than its ``.po`` is compiled from the ``.po`` in memory there, with
a warning naming ``make translations``.

Stricter than the interface: a key the document's own language does not translate is an error
(:class:`MissingTranslation`), never printed as it is and never taken from the Russian catalogue
the loader puts behind the Kazakh one — a legal act with ``receipt.intro`` or a Russian sentence
in its Kazakh text must not be issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from gettext import NullTranslations
from pathlib import Path

from service.translations import catalogue_path, load_translations

#: The gettext domain of everything the documents package writes (documents, SMS).
DOMAIN = "documents"


class MissingTranslation(LookupError):
    """The catalogue of a language has no text for a key: the document is not issued."""


@dataclass(frozen=True)
class Wording:
    """The texts of one language's catalogue, looked up by key; an untranslated key is an error."""

    language: str
    translations: NullTranslations

    def _own(self, msgid: str | tuple[str, int]) -> bool:
        """Whether the language's own catalogue (not the fallback behind it) has ``msgid``."""
        catalog = getattr(self.translations, "_catalog", {})
        return msgid in catalog and bool(catalog[msgid])

    def has(self, key: str) -> bool:
        """True when the catalogue of this language gives ``key`` a text."""
        return self._own(key)

    def raw(self, key: str) -> str:
        """The catalogue's text for ``key``, placeholders not yet filled in."""
        if not self._own(key):
            raise MissingTranslation(f"no {self.language} text for {key!r} in the {DOMAIN} catalogue")
        return self.translations.gettext(key)

    def text(self, key: str, **values: object) -> str:
        """The text for ``key`` with its ``%(name)s`` placeholders filled in from ``values``."""
        return self.raw(key) % values

    def plural(self, key: str, count: int, **values: object) -> str:
        """The plural form of ``key`` (msgid ``key``, msgid_plural ``key.plural``) that fits ``count``."""
        if not self._own((key, 0)):
            raise MissingTranslation(f"no {self.language} plural text for {key!r} in the {DOMAIN} catalogue")
        return self.translations.ngettext(key, f"{key}.plural", count) % {"count": count, **values}


def po_path(language: str) -> Path:
    """The ``.po`` file of ``language`` (the source of its wording)."""
    return catalogue_path(DOMAIN, language)


def wording(language: str) -> Wording:
    """The documents catalogue of ``language``, through the product's one loader."""
    return Wording(language, load_translations(DOMAIN, language))
