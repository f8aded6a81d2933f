"""The interface in Kazakh, Russian and English: gettext catalogues, dates the local way.

Every phrase lives in ``service/translations/<kk|ru|en>/LC_MESSAGES/messages.po`` and is read through
``service.translations.load_translations`` — the one mechanism the CLI, the worker, the API's error
bodies and Flask-Babel (templates' ``_()``) share. Staff read the official terms every day
(glossary.md), so each language's phrase is written out there rather than machine-assembled.

The msgids are symbolic keys (``no_tasks``, ``repair_outcome_moved``), not Russian source sentences:
code and templates build some keys (``'case_status_' ~ status``, ``f"action_{name}"``) and look up
whether one exists, the three languages are peers rather than translations of one source, and a
reworded Russian phrase then changes one msgstr instead of every msgid, call site and catalogue.
The ``#.`` comments in the .po files give a translator the section and the placeholders to keep.

Dates use Babel's kk/ru/en locale data in Asia/Almaty time.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, cached_property
from typing import Any

from babel import Locale
from babel.dates import format_date
from flask import Flask
from flask_babel import Babel, Domain, get_locale

from service.domain.time import ALMATY
from service.translations import LANGUAGES, load_translations

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "DEFAULT_LANGUAGE", "MESSAGES", "translate", "has_phrase", "install_babel"]

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT_LANGUAGE = "ru"
#: The gettext domain of the interface's phrases.
MESSAGES = "messages"


def translate(key: str, language: str) -> str:
    """The phrase ``key`` in ``language`` (falls back to Russian, then to the key itself)."""
    return load_translations(MESSAGES, language).gettext(key)


def has_phrase(key: str) -> bool:
    """Whether the catalogue has a phrase for ``key`` (in Russian, the fallback of the others)."""
    return load_translations(MESSAGES, DEFAULT_LANGUAGE).gettext(key) != key


class _CatalogueDomain(Domain):
    """Flask-Babel's domain reading the catalogues through ``load_translations`` (no second loader)."""

    def get_translations(self) -> Any:
        locale = get_locale()
        return load_translations(self.domain[0], str(locale) if locale else DEFAULT_LANGUAGE)


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        """The default domain, read through ``load_translations``."""
        return _CatalogueDomain(domain=self.domain)


def install_babel(app: Flask, locale_selector: Any) -> None:
    """Flask-Babel on ``app``: the request's locale from ``locale_selector``, the phrases from the catalogues."""
    _Babel(app, locale_selector=locale_selector, default_locale=DEFAULT_LANGUAGE, default_domain=MESSAGES,
           default_timezone="Asia/Almaty")


def pick(labels: dict[str, str] | None, language: str, fallback: str = "") -> str:
    """A label from a {kk, ru, en} mapping in the interface language."""
    if not labels:
        return fallback
    return labels.get(language) or labels.get("ru") or next(iter(labels.values()), fallback)


def local_datetime(value: datetime | None, language: str) -> str:
    """An instant in Almaty time, the way the language writes it (e.g. 27 мар. 2026 г., 18:30)."""
    if value is None:
        return ""
    local = value.astimezone(ALMATY)
    return f"{format_date(local.date(), 'medium', locale=_locale(language))}, {local:%H:%M}"


def local_date(value: date | None, language: str) -> str:
    """A date the way the language writes it."""
    return "" if value is None else format_date(value, "long", locale=_locale(language))


def _locale(language: str) -> Locale:
    return _parsed_locale({"kk": "kk_KZ", "ru": "ru_RU", "en": "en_GB"}.get(language, "ru_RU"))


@cache
def _parsed_locale(identifier: str) -> Locale:
    """Babel's locale, parsed once per identifier (parsed anew, it looks for its data file every time)."""
    return Locale.parse(identifier)


def instant_text(value: str | datetime | None, language: str) -> str:
    """An ISO 8601 instant (as stored in case data) shown the local way; other text unchanged."""
    if isinstance(value, datetime):
        return local_datetime(value, language)
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return local_datetime(parsed, language) if parsed.tzinfo else value


def date_text(value: str | date | None, language: str) -> str:
    """An ISO date (as stored in case data) written the local way; other text unchanged."""
    if isinstance(value, date):
        return local_date(value, language)
    if not value:
        return ""
    try:
        return local_date(date.fromisoformat(value), language)
    except ValueError:
        return value


def problem_text(problem: dict[str, str], language: str) -> str:
    """A package problem as the sentence the reasoned refusal uses."""
    from service.domain.package import describe_problem

    try:
        return describe_problem(problem, language, with_ground=False)
    except (ValueError, KeyError):
        return str(problem.get("code", problem))
