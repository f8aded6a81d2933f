"""The documents' wording: the gettext catalogue of domain ``documents``, one per language.

The catalogues are ``service/translations/<language>/LC_MESSAGES/documents.po`` (the source, in
git) compiled to ``documents.mo`` by ``make setup`` (never committed). Documents are rendered in
the worker, outside any Flask request, so the catalogue is loaded here with
``babel.support.Translations.load`` rather than through Flask-Babel. No shared loader existed
when this was written (nothing named ``load_translations``); this one is the documents' own.

A missing ``.mo`` or one older than its ``.po`` is not trusted: the ``.po`` is compiled in memory
instead and a warning is logged, so a forgotten ``make setup`` never issues a document whose
wording is out of date. A key the catalogue does not translate is an error
(:class:`MissingTranslation`), never printed as it is: a legal act with ``receipt.intro`` in it
must not be issued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

#: Where the catalogues live: ``<language>/LC_MESSAGES/<domain>.po``.
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: The gettext domain of everything the documents package writes (documents, SMS).
DOMAIN = "documents"

_log = logging.getLogger(__name__)


class MissingTranslation(LookupError):
    """The catalogue of a language has no text for a key: the document is not issued."""


@dataclass(frozen=True)
class Wording:
    """The texts of one language's catalogue, looked up by key; an untranslated key is an error."""

    language: str
    translations: Translations

    def has(self, key: str) -> bool:
        """True when the catalogue gives ``key`` a text."""
        return self.translations.gettext(key) != key

    def raw(self, key: str) -> str:
        """The catalogue's text for ``key``, placeholders not yet filled in."""
        text = self.translations.gettext(key)
        if text == key or not text:
            raise MissingTranslation(f"no {self.language} text for {key!r} in the {DOMAIN} catalogue")
        return text

    def text(self, key: str, **values: object) -> str:
        """The text for ``key`` with its ``%(name)s`` placeholders filled in from ``values``."""
        return self.raw(key) % values

    def plural(self, key: str, count: int, **values: object) -> str:
        """The plural form of ``key`` (msgid ``key``, msgid_plural ``key.plural``) that fits ``count``."""
        text = self.translations.ngettext(key, f"{key}.plural", count)
        if text in (key, f"{key}.plural") or not text:
            raise MissingTranslation(f"no {self.language} plural text for {key!r} in the {DOMAIN} catalogue")
        return text % {"count": count, **values}


def po_path(language: str, directory: Path | None = None) -> Path:
    """The ``.po`` file of ``language`` (the source of its wording) under ``directory`` (default TRANSLATIONS)."""
    return (directory or TRANSLATIONS) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def wording(language: str, directory: Path | None = None) -> Wording:
    """The catalogue of ``language``, compiled from the ``.po`` in memory when its ``.mo`` is missing or stale."""
    directory = directory or TRANSLATIONS
    po = po_path(language, directory)
    mo = po.with_suffix(".mo")
    return _load(language, str(directory), _mtime(po), _mtime(mo))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


@lru_cache(maxsize=16)
def _load(language: str, directory: str, po_mtime: int, mo_mtime: int) -> Wording:
    """Load once per state of the two files (a recompiled or edited catalogue is read again)."""
    po = po_path(language, Path(directory))
    if po_mtime < 0:
        raise MissingTranslation(f"no {DOMAIN} catalogue for language {language!r}: {po} does not exist")
    if mo_mtime >= po_mtime:
        translations = Translations.load(directory, [language], domain=DOMAIN)
        if isinstance(translations, Translations):
            return Wording(language, translations)
    state = "missing" if mo_mtime < 0 else "older than its .po"
    _log.warning("%s is %s: compiling %s in memory (run make setup to compile the catalogues)",
                 po.with_suffix(".mo"), state, po)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Wording(language, Translations(buffer, domain=DOMAIN))
