"""The gettext catalogues of the whole product, and the one loader everything reads them through.

``<language>/LC_MESSAGES/<domain>.po`` beside this module is the source (kept in git); ``make
translations`` (also run by ``make setup/run/test``) compiles each to the ``.mo`` read here, which is
never committed. The web interface (through Flask-Babel), the CLI, the worker, the API's error
bodies and the documents all call ``load_translations(domain, language)``: one mechanism.

Each catalogue is read once per process, on first use (a changed .po is seen after a restart). A
``.mo`` that is missing, or older than its ``.po``, is never used as it is: the ``.po`` is compiled
in memory instead and a warning names ``make translations``. A stale catalogue would show the
symbolic keys of new phrases, or old wording, without anyone noticing.

This package imports nothing from the rest of the product, so every layer may use it.
"""

from __future__ import annotations

import logging
import threading
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("kk", "ru", "en")
#: The language a phrase missing from another language's catalogue is taken from.
FALLBACK_LANGUAGE = "ru"
CATALOGUES = Path(__file__).resolve().parent

log = logging.getLogger("homeschool.translations")

_loaded: dict[tuple[str, str], NullTranslations] = {}
_lock = threading.RLock()  # re-entered to load the fallback language


class CatalogueMissing(LookupError):
    """No catalogue (neither .po nor .mo) exists for a domain in a language."""


def load_translations(domain: str, language: str) -> NullTranslations:
    """The catalogue of ``domain`` in ``language`` (Russian for another language), Russian behind it."""
    if language not in LANGUAGES:
        language = FALLBACK_LANGUAGE
    key = (domain, language)
    found = _loaded.get(key)
    if found is None:
        with _lock:
            found = _loaded.get(key)
            if found is None:
                found = _read(domain, language)
                if language != FALLBACK_LANGUAGE:
                    found.add_fallback(load_translations(domain, FALLBACK_LANGUAGE))
                _loaded[key] = found
    return found


def forget_translations() -> None:
    """Drop the loaded catalogues, so the next call reads the files again (tests, a changed .po)."""
    with _lock:
        _loaded.clear()


def catalogue_path(domain: str, language: str, suffix: str = ".po") -> Path:
    """Where the catalogue of ``domain`` in ``language`` lives (``.po`` source or compiled ``.mo``)."""
    return CATALOGUES / language / "LC_MESSAGES" / f"{domain}{suffix}"


def _read(domain: str, language: str) -> NullTranslations:
    source, compiled = catalogue_path(domain, language), catalogue_path(domain, language, ".mo")
    if not source.exists():
        if compiled.exists():
            return Translations.load(str(CATALOGUES), [language], domain)
        raise CatalogueMissing(f"no catalogue '{domain}' in '{language}': {source} does not exist")
    if compiled.exists() and compiled.stat().st_mtime >= source.stat().st_mtime:
        return Translations.load(str(CATALOGUES), [language], domain)
    log.warning("%s is %s: compiled in memory from the .po; run `make translations`", compiled,
                "older than its .po" if compiled.exists() else "missing")
    return compile_in_memory(source, domain, language)


def compile_in_memory(source: Path, domain: str, language: str) -> Translations:
    """A ``.po`` compiled the way ``pybabel compile`` does it (fuzzy entries left out), without a file."""
    with source.open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=domain)
