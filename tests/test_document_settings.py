"""The settings the regulation leaves open (appendices.md): the documents each channel requires and
the languages of instruction — read, checked with a clear error, shown by ``homeschool config``,
and used by the package check, the head's form and the admission order. Also the wording the
documents owe every reader: names in the nominative, the proactive case without an application."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service.application.forms import load_form, validate_submission, with_choices
from service.application.organisations import parse_registry
from service.bootstrap import package_rules
from service.cli import main
from service.config import Settings
from service.documents import ProviderInfo, document_title, render_html
from service.domain.errors import DomainError, InvalidInput
from service.domain.organisations import Organisation
from service.domain.package import PackageRules, check_package, document_kinds
from service.domain.schooling import INSTRUCTION_LANGUAGES, instruction_languages

from .support import PROJECT, REGISTRY, SCHOOL_25, at

FORMS = PROJECT / "forms"
TODAY = at("2026-03-20T10:00+05:00").date()
REQUEST: dict[str, Any] = {
    "application_number": "PRO-2026-000009", "channel": "proactive", "received_at": "2026-03-21T09:00:00+05:00",
    "applicant": {"full_name": "Ахметова Айгүл Серікқызы", "iin": "850615400076", "relation": "parent"},
    "child": {"full_name": "Ахметов Нұрлан", "iin": "150402500018", "birth_date": "2015-04-02"},
    "vkk_conclusion": {"number": "ВКК-17", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                       "recommends_home_schooling": True},
    "documents": [],
}
ORDER: dict[str, Any] = {
    "grade": 5, "language": "uz", "teachers": [{"full_name": "Серікова Дана", "subject": "математика"}],
    "weekly_hours": 8, "curriculum_reference": "ИУП-5/2026", "period_start": "2026-04-01",
    "period_end": "2026-12-31", "order_number": "46-ж", "order_date": "2026-03-30",
}


def settings(**env: str) -> Settings:
    """Settings from these HOMESCHOOL_ variables only (the rest at their defaults)."""
    return Settings.from_env({f"HOMESCHOOL_{name}": value for name, value in env.items()}, base=PROJECT)


@pytest.fixture(scope="module")
def provider() -> ProviderInfo:
    """The letterhead of school № 25 as the demo registry describes it."""
    [row] = [row for row in parse_registry(REGISTRY.read_bytes()) if row["bin"] == SCHOOL_25]
    return ProviderInfo.from_organisation(Organisation(id=1, **row))


def render(kind: str, language: str, provider: ProviderInfo, payload: dict[str, Any]) -> str:
    """One document of a proactive case, issued on 30 March 2026."""
    context = {"request": REQUEST, **payload, "case_number": REQUEST["application_number"],
               "issued_at": at("2026-03-30T15:00+05:00"), "provider": provider}
    return render_html(kind, language, context)


# --- the settings -----------------------------------------------------------------------------


def test_the_defaults_are_the_typical_lists_of_appendix_1() -> None:
    defaults = settings()
    assert defaults.office_documents == ("application", "vkk_conclusion", "identity_document")
    assert defaults.portal_documents == ("application", "vkk_conclusion")
    assert defaults.proactive_documents == ()
    assert defaults.instruction_languages == ("kk", "ru")


def test_an_operator_changes_the_lists_and_the_package_check_follows() -> None:
    changed = settings(OFFICE_DOCUMENTS="application, vkk_conclusion", PORTAL_DOCUMENTS="none",
                       INSTRUCTION_LANGUAGES="kk,ru,uz")
    assert changed.office_documents == ("application", "vkk_conclusion")
    assert changed.portal_documents == ()
    assert changed.instruction_languages == ("kk", "ru", "uz")
    rules = package_rules(changed)
    office = {**REQUEST, "channel": "office", "documents": ["application", "vkk_conclusion"]}
    assert check_package(office, rules, TODAY) == []
    assert check_package(office, PackageRules(), TODAY) == [
        {"code": "missing_document", "document": "identity_document", "ground": "law_art19"}]


@pytest.mark.parametrize(("name", "value", "message"), [
    ("OFFICE_DOCUMENTS", "application,passport",
     "HOMESCHOOL_OFFICE_DOCUMENTS: unknown document kind 'passport'; known kinds: application, vkk_conclusion, "
     "identity_document"),
    ("PORTAL_DOCUMENTS", "application,application", "HOMESCHOOL_PORTAL_DOCUMENTS: a document kind is named twice"),
    ("PROACTIVE_DOCUMENTS", "consent", "HOMESCHOOL_PROACTIVE_DOCUMENTS: unknown document kind 'consent'"),
    ("INSTRUCTION_LANGUAGES", "kk,fr",
     "HOMESCHOOL_INSTRUCTION_LANGUAGES: unknown language of instruction 'fr'; known: kk, ru, uz, ug, tg, en"),
    ("INSTRUCTION_LANGUAGES", "none", "HOMESCHOOL_INSTRUCTION_LANGUAGES: at least one language of instruction"),
    ("INSTRUCTION_LANGUAGES", "ru,ru", "HOMESCHOOL_INSTRUCTION_LANGUAGES: a language of instruction is named twice"),
])
def test_a_bad_list_is_refused_naming_the_variable_and_what_is_known(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        settings(**{name: value})
    assert str(refused.value).startswith(message)


def test_the_domain_checks_name_the_bad_value() -> None:
    with pytest.raises(InvalidInput, match="unknown document kind 'passport'"):
        document_kinds(["passport"])
    with pytest.raises(InvalidInput, match="unknown language of instruction 'xx'"):
        instruction_languages(["xx"])


def test_homeschool_config_shows_the_lists_and_documents_their_variables(tmp_path: Path) -> None:
    env = {"HOMESCHOOL_INSTANCE_DIR": str(tmp_path), "HOMESCHOOL_INSTRUCTION_LANGUAGES": "kk,ru,en"}
    result = CliRunner().invoke(main, ["config"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.split() == ["office_documents", "application,vkk_conclusion,identity_document"] for line in lines)
    assert any(line.split() == ["proactive_documents", "none"] for line in lines)
    assert any(line.split() == ["instruction_languages", "kk,ru,en"] for line in lines)
    for variable in ("HOMESCHOOL_OFFICE_DOCUMENTS", "HOMESCHOOL_PORTAL_DOCUMENTS", "HOMESCHOOL_PROACTIVE_DOCUMENTS",
                     "HOMESCHOOL_INSTRUCTION_LANGUAGES"):
        assert variable in result.stdout


def test_homeschool_config_refuses_a_bad_list_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    env = {"HOMESCHOOL_INSTANCE_DIR": str(tmp_path), "HOMESCHOOL_OFFICE_DOCUMENTS": "passport"}
    result = CliRunner().invoke(main, ["config"], env=env, catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "homeschool: error: HOMESCHOOL_OFFICE_DOCUMENTS: unknown document kind 'passport'; "
        "known kinds: application, vkk_conclusion, identity_document"]


# --- the languages of instruction on the head's form ---------------------------------------------


def head_form(languages: tuple[str, ...]) -> Any:
    """The head's form with the languages of instruction the settings allow."""
    base = load_form(FORMS, "service_delivery", "determine_class_and_language")
    return with_choices(base, {"instruction_languages": languages})


def test_the_form_offers_exactly_the_configured_languages() -> None:
    assert head_form(("kk", "ru")).property_schema("language")["enum"] == ["kk", "ru"]
    assert head_form(("kk", "ru", "uz")).property_schema("language")["enum"] == ["kk", "ru", "uz"]
    assert "language" not in validate_submission(head_form(("kk", "ru", "uz")), {"grade": 5, "language": "uz"})
    refused = validate_submission(head_form(("kk", "ru")), {"grade": 5, "language": "uz"})
    assert [m.code for m in refused["language"]] == ["enum"]


def test_every_language_the_setting_may_name_has_a_label_on_the_form() -> None:
    form = head_form(tuple(INSTRUCTION_LANGUAGES))
    assert form.property_schema("language")["enum"] == list(INSTRUCTION_LANGUAGES)


def test_a_form_naming_an_unknown_setting_or_an_unlabelled_value_is_refused() -> None:
    base = load_form(FORMS, "service_delivery", "determine_class_and_language")
    with pytest.raises(DomainError, match="unknown setting 'instruction_languages'"):
        with_choices(base, {})
    with pytest.raises(DomainError, match="no label for the value 'xx'"):
        with_choices(base, {"instruction_languages": ("kk", "xx")})


def test_the_order_names_a_configured_language_in_both_languages(provider: ProviderInfo) -> None:
    assert "<th>Оқыту тілі</th><td>өзбек тілі</td>" in render("admission_order", "kk", provider, ORDER)
    assert "<th>Язык обучения</th><td>узбекский язык</td>" in render("admission_order", "ru", provider, ORDER)


# --- wording ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_proactive_refusal_speaks_of_the_consent_not_of_an_application(language: str,
                                                                         provider: ProviderInfo) -> None:
    html = render("refusal", language, provider,
                  {"reasons": [{"code": "unreliable_data", "ground": "law_art19_1_p2"}]})
    body = html.split("<main>")[1].split("</main>")[0]
    assert "PRO-2026-000009" in body
    assert ("келісіміңіз негізінде" if language == "kk" else "на основании Вашего согласия от 21 марта 2026 года") \
        in " ".join(body.split())
    assert ("өтініш" if language == "kk" else "заявлени") not in body.lower()


def test_the_forwarding_letter_keeps_the_complainants_name_in_the_nominative(provider: ProviderInfo) -> None:
    complaint = {"complaint_number": "COMP-2026-0007", "channel": "paper", "addressee": "local_executive_body",
                 "registered_at": "2026-03-19T10:00:00+05:00", "complainant": {"full_name": "Ахметова Айгүл Серікқызы"},
                 "appealed": {"subject": "decision", "description": "Отказ"}, "against_provider": True}
    context = {"complaint": complaint, "case_number": "COMP-2026-0007", "issued_at": at("2026-03-20T10:00+05:00"),
               "provider": provider}
    ru = " ".join(render_html("forwarding_letter", "ru", context).split())
    kk = " ".join(render_html("forwarding_letter", "kk", context).split())
    assert "(услугополучатель, подавший жалобу: Ахметова Айгүл Серікқызы)" in ru
    assert "услугополучателя Ахметова" not in ru
    assert "(шағымды берген көрсетілетін қызметті алушы: Ахметова Айгүл Серікқызы)" in kk


def test_the_refusal_is_named_by_the_glossary_term_wherever_it_is_named() -> None:
    """glossary.md: «өтінішті одан әрі қараудан дәлелді бас тарту» / «мотивированный отказ в дальнейшем
    рассмотрении заявления» — the title of the document and the choice on every form that offers it."""
    term = {"kk": "өтінішті одан әрі қараудан дәлелді бас тарту",
            "ru": "мотивированный отказ в дальнейшем рассмотрении заявления"}
    assert {language: document_title("refusal", language).lower() for language in term} == term
    named = {"kk": "одан әрі қараудан", "ru": "в дальнейшем рассмотрении"}
    offered = 0
    for path in sorted(FORMS.glob("*/*.schema.json")):
        for node in _enum_labels(json.loads(path.read_text(encoding="utf-8"))):
            for language, expected in term.items():
                for label in node.get(language, {}).values():
                    if named[language] in label:
                        offered += 1
                        assert label == expected, path
    assert offered >= 2


def _enum_labels(schema: Any) -> list[dict[str, dict[str, str]]]:
    """Every ``x-enum-labels`` object in a form."""
    found = []
    if isinstance(schema, dict):
        if isinstance(schema.get("x-enum-labels"), dict):
            found.append(schema["x-enum-labels"])
        for value in schema.values():
            found += _enum_labels(value)
    elif isinstance(schema, list):
        for item in schema:
            found += _enum_labels(item)
    return found


def test_homeschool_validate_names_a_form_whose_setting_lacks_a_label(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    shutil.copytree(FORMS, forms)
    env = {"HOMESCHOOL_INSTANCE_DIR": str(tmp_path), "HOMESCHOOL_FORMS_DIR": str(forms),
           "HOMESCHOOL_PROCESSES_DIR": str(PROJECT / "processes")}
    assert CliRunner().invoke(main, ["validate"], env=env, catch_exceptions=False).exit_code == 0
    path = forms / "service_delivery" / "determine_class_and_language.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    del schema["properties"]["language"]["x-enum-labels"]["ru"]["uz"]
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate"], env={**env, "HOMESCHOOL_INSTRUCTION_LANGUAGES": "kk,ru,uz"},
                                catch_exceptions=False)
    assert result.exit_code == 1
    assert f"ERROR {path}: no label for the value 'uz' of setting 'instruction_languages'" in result.stderr


def test_every_language_of_instruction_has_its_name_for_the_order_in_kazakh_and_russian() -> None:
    from service.domain.schooling import instruction_language_name

    assert instruction_language_name("kk", "kk") == "қазақ тілі"
    assert instruction_language_name("ug", "ru") == "уйгурский язык"
    for language in ("kk", "ru"):
        names = [instruction_language_name(code, language) for code in INSTRUCTION_LANGUAGES]
        assert len(set(names)) == len(names) and not set(names) & set(INSTRUCTION_LANGUAGES), (language, names)
    assert instruction_language_name("xx", "kk") == "xx"
