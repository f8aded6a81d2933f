"""The interface's gettext catalogues: complete in kk/ru/en, placeholders kept, every key used present,
the pages drawn from the compiled catalogue, and a missing or stale .mo never showing keys."""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service import translations
from service.application.operations import STATUSES as INCIDENT_STATUSES
from service.domain.incidents import INCIDENT_KINDS
from service.domain.notifications import FREQUENCIES
from service.translations import LANGUAGES, forget_translations, load_translations
from service.web import create_app
from service.web.case_list import STATUSES as CASE_STATUSES
from service.web.i18n import MESSAGES, has_phrase, translate

from .support import demo_web_client, shipped_services

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATES = PROJECT / "service" / "web" / "templates"
PLACEHOLDER = re.compile(r"\{(\w*)\}|%\((\w+)\)[sd]")


def _catalogue(language: str) -> dict[str, str]:
    with translations.catalogue_path(MESSAGES, language).open("rb") as po:
        catalog = read_po(po, locale=language)
    assert not [m.id for m in catalog if m.id and m.fuzzy], f"fuzzy entries in {language}"
    return {str(m.id): str(m.string) for m in catalog if m.id}


@pytest.fixture(autouse=True)
def fresh_catalogues() -> Iterator[None]:
    forget_translations()
    yield
    forget_translations()


def test_every_phrase_is_written_in_kazakh_russian_and_english_with_the_same_placeholders() -> None:
    catalogues = {language: _catalogue(language) for language in LANGUAGES}
    keys = set(catalogues["ru"])
    assert len(keys) > 300
    for language, catalogue in catalogues.items():
        assert set(catalogue) == keys, (language, sorted(set(catalogue) ^ keys))
        assert not [k for k, text in catalogue.items() if not text.strip()], language
    for key in keys:
        found = {language: sorted(PLACEHOLDER.findall(catalogues[language][key])) for language in LANGUAGES}
        assert found["kk"] == found["ru"] == found["en"], (key, found)


def _literal_keys() -> set[str]:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\s*['\"]([a-z0-9_]+)['\"]\s*\)", text))
        used |= set(re.findall(r"\b(?:_|gettext)\(\s*['\"]([a-z0-9_]+)['\"]", text))
    for module in (PROJECT / "service" / "web").glob("*.py"):
        used |= set(re.findall(r"\btranslate\(\s*['\"]([a-z0-9_]+)['\"]", module.read_text(encoding="utf-8")))
    return used


def test_every_key_the_templates_and_the_web_code_name_is_in_the_catalogue() -> None:
    used = _literal_keys()
    assert {"no_tasks", "sign_in", "saved", "task_gone"} <= used  # the search finds the calls at all
    assert not sorted(key for key in used if not has_phrase(key))


def test_every_key_built_from_a_value_is_in_the_catalogue() -> None:
    families = {
        "case_status_": CASE_STATUSES, "incident_status_": INCIDENT_STATUSES, "incident_kind_": INCIDENT_KINDS,
        "notify_every_": FREQUENCIES, "upload_": ("application", "vkk_conclusion"),
        "legend_": ("completed", "active", "overdue"),
        "repair_outcome_": ("moved", "waiting", "corrected", "migrated", "cancelled", "failed"),
        "file_": ("empty", "too_large", "wrong_type"), "result_": ("passed", "failed", "not_run"),
        "": ("running", "completed", "cancelled"),
    }
    missing = [prefix + value for prefix, values in families.items() for value in values
               if not has_phrase(prefix + value)]
    assert not missing
    for template in TEMPLATES.glob("*.html"):  # a new family in a template is listed above
        for prefix in re.findall(r"\bt\(\s*'([a-z_]+)'\s*~", template.read_text(encoding="utf-8")):
            assert prefix in families, (template.name, prefix)


def test_translate_reads_the_catalogue_and_falls_back_to_russian_then_to_the_key() -> None:
    assert translate("no_tasks", "kk") == "Тапсырма жоқ"
    assert translate("no_tasks", "en") == "No tasks"
    assert translate("no_tasks", "de") == "Задач нет"
    assert translate("no_such_key", "kk") == "no_such_key" and not has_phrase("no_such_key")


# --- the compiled catalogue is what the interface shows ---------------------------------------------------


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the catalogues whose Kazakh 'sign_in' and 'api_error_unauthorised' read KIRU-TEST and
    API-TEST in the compiled .mo only."""
    copy = tmp_path / "translations"
    for language in LANGUAGES:
        source = translations.catalogue_path(MESSAGES, language)
        target = copy / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(source, target / source.name)
        with source.open("rb") as po:
            catalog = read_po(po, locale=language)
        if language == "kk":
            catalog["sign_in"].string = "KIRU-TEST"
            catalog["api_error_unauthorised"].string = "API-TEST"
        with (target / "messages.mo").open("wb") as mo:
            write_mo(mo, catalog)
    monkeypatch.setattr(translations, "CATALOGUES", copy)
    return copy


def test_the_sign_in_page_and_api_errors_in_kazakh_come_from_the_compiled_catalogue(
        catalogues: Path, tmp_path: Path, database_url: str) -> None:
    services = shipped_services(tmp_path, database_url)
    try:
        app = create_app(services.settings, services, WTF_CSRF_ENABLED=False, TESTING=True)
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        client.post("/language", data={"lang": "kk", "next": "/login"})
        page = client.get("/login").data.decode()
        assert "KIRU-TEST" in page and "Құпиясөз" in page
        with app.test_request_context("/login"):  # Flask-Babel's gettext reads the same catalogue
            from flask import session
            from flask_babel import gettext

            session["lang"] = "kk"
            assert gettext("sign_in") == "KIRU-TEST"
        refused = client.post("/api/v1/applications", json={}, headers={"Accept-Language": "kk"})
        assert refused.status_code == 401 and refused.json["error"]["message"] == "API-TEST"
    finally:
        services.database.dispose()


def test_a_missing_mo_is_compiled_in_memory_from_the_po_with_a_warning(
        catalogues: Path, caplog: pytest.LogCaptureFixture) -> None:
    (catalogues / "kk" / "LC_MESSAGES" / "messages.mo").unlink()
    with caplog.at_level(logging.WARNING, logger="homeschool.translations"):
        assert load_translations(MESSAGES, "kk").gettext("sign_in") == "Кіру"
    assert "missing" in caplog.text and "make translations" in caplog.text


def test_a_po_newer_than_its_mo_wins_with_a_warning(catalogues: Path, caplog: pytest.LogCaptureFixture) -> None:
    po = catalogues / "kk" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    os.utime(mo, (mo.stat().st_mtime - 60, mo.stat().st_mtime - 60))
    with caplog.at_level(logging.WARNING, logger="homeschool.translations"):
        assert load_translations(MESSAGES, "kk").gettext("sign_in") == "Кіру"  # not the .mo's KIRU-TEST
    assert "older than its .po" in caplog.text and "make translations" in caplog.text


def test_an_up_to_date_mo_is_read_without_a_warning(catalogues: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="homeschool.translations"):
        assert load_translations(MESSAGES, "kk").gettext("sign_in") == "KIRU-TEST"
    assert not caplog.text


def test_a_domain_without_any_catalogue_is_a_clear_error(catalogues: Path) -> None:
    with pytest.raises(translations.CatalogueMissing, match="no catalogue 'nothing' in 'kk'"):
        load_translations("nothing", "kk")


def test_every_api_message_is_in_the_catalogue() -> None:
    from service.web.errors import API_CODES

    codes = set(API_CODES.values()) | {"case_incident", "case_incident_kept", "process_fault"}
    source = (PROJECT / "service" / "web" / "api.py").read_text(encoding="utf-8")
    named = set(re.findall(r"_fail\(\d+, \"([a-z_]+)\"", source))
    named |= set(re.findall(r"api_phrase\(\"([a-z_]+)\"\)", source))
    assert {"not_json", "no_case", "bad_characters"} <= named
    missing = sorted([f"api_error_{code}" for code in codes if not has_phrase(f"api_error_{code}")]
                     + [f"api_{key}" for key in named if not has_phrase(f"api_{key}")])
    assert not missing


def test_a_missing_case_in_kazakh_is_explained_in_kazakh_not_by_the_exception(
        tmp_path: Path, database_url: str) -> None:
    services = shipped_services(tmp_path, database_url)
    try:
        client = demo_web_client(services, "clerk")
        client.post("/language", data={"lang": "kk", "next": "/tasks"})
        page = client.get("/cases/99999")
        body = page.data.decode()
        assert page.status_code == 404 and translate("not_found_detail", "kk") in body
        assert "does not exist" not in body and "99999" not in body.split("<main", 1)[1]
    finally:
        services.database.dispose()
