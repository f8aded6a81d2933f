"""The completeness check of an application, on Friday 20 March 2026.

People used (check digits worked out by hand in tests/test_identity.py):
- the child: a girl born 2 April 2015, IIN 150402601230 — 10 years old on 20 March 2026;
- the applicant: her father, born 14 July 1985, IIN 850714304566.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest

from service.domain.errors import InvalidInput
from service.domain.identity import make_iin
from service.domain.package import (
    GROUNDS,
    PACKAGE_DOCUMENTS,
    REASON_CODES,
    PackageRules,
    age_on,
    check_package,
    describe_problem,
    document_name,
    ground_text,
)
from service.domain.phrases import DOCUMENTS, phrase

TODAY = date(2026, 3, 20)
RULES = PackageRules()
CONTRACT_CODES = {
    "missing_document",
    "expired_document",
    "invalid_iin",
    "iin_birth_date_mismatch",
    "outside_school_age",
    "not_recommended",
    "unreliable_data",
}


def request(channel: str = "office", **changes: Any) -> dict[str, Any]:
    """A complete application on ``channel``; ``changes`` replace top-level entries."""
    documents = {
        "office": ["application", "vkk_conclusion", "identity_document"],
        "portal": ["application", "vkk_conclusion"],
        "proactive": [],
    }[channel]
    base: dict[str, Any] = {
        "application_number": "APP-2026-000123",
        "channel": channel,
        "received_at": "2026-03-20T17:00:00+05:00",
        "applicant": {
            "full_name": "Ахметов Нурлан",
            "iin": "850714304566",
            "phone": "+77011234567",
            "relation": "parent",
        },
        "child": {"full_name": "Ахметова Айгерим", "iin": "150402601230", "birth_date": "2015-04-02"},
        "vkk_conclusion": {
            "number": "035-1/у-117",
            "issued_on": "2026-03-01",
            "valid_until": "2027-03-01",
            "recommends_home_schooling": True,
        },
        "documents": documents,
    }
    base.update(copy.deepcopy(changes))
    return base


def child_born(born: date) -> dict[str, str]:
    """A child with a valid IIN for ``born``."""
    for serial in range(1, 50):
        try:
            iin = make_iin(born, "male", serial)
        except ValueError:
            continue
        return {"full_name": "Бала", "iin": iin, "birth_date": born.isoformat()}
    raise AssertionError("no serial gives a check digit")  # pragma: no cover


# --- complete packages ------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["office", "portal", "proactive"])
def test_a_complete_package_has_no_problems(channel: str) -> None:
    assert check_package(request(channel), RULES, TODAY) == []


def test_the_portal_never_demands_the_identity_document() -> None:
    assert "identity_document" not in RULES.portal_documents
    assert check_package(request("portal", documents=["application", "vkk_conclusion"]), RULES, TODAY) == []


def test_the_proactive_channel_demands_nothing() -> None:
    assert check_package(request("proactive", documents=[]), RULES, TODAY) == []


# --- missing and expired documents: Art. 19 -----------------------------------------------------


def test_a_missing_identity_document_at_the_office() -> None:
    problems = check_package(request(documents=["application", "vkk_conclusion"]), RULES, TODAY)
    assert problems == [{"code": "missing_document", "document": "identity_document", "ground": "law_art19"}]


def test_no_documents_at_all_lists_each_in_the_order_of_the_rules() -> None:
    problems = check_package(request(documents=[]), RULES, TODAY)
    assert [p["document"] for p in problems] == ["application", "vkk_conclusion", "identity_document"]
    assert {p["code"] for p in problems} == {"missing_document"}
    assert {p["ground"] for p in problems} == {"law_art19"}


def test_documents_left_out_of_the_request_count_as_none() -> None:
    data = request("portal")
    del data["documents"]
    assert [p["document"] for p in check_package(data, RULES, TODAY)] == ["application", "vkk_conclusion"]


def test_a_portal_request_without_the_vkk_copy() -> None:
    problems = check_package(request("portal", documents=["application"]), RULES, TODAY)
    assert problems == [{"code": "missing_document", "document": "vkk_conclusion", "ground": "law_art19"}]


def test_no_vkk_data_means_the_conclusion_is_missing_even_proactively() -> None:
    data = request("proactive")
    del data["vkk_conclusion"]
    assert check_package(data, RULES, TODAY) == [
        {"code": "missing_document", "document": "vkk_conclusion", "ground": "law_art19"}
    ]


def test_a_conclusion_missing_both_ways_is_reported_once() -> None:
    data = request(documents=["application", "identity_document"])
    del data["vkk_conclusion"]
    problems = check_package(data, RULES, TODAY)
    assert problems == [{"code": "missing_document", "document": "vkk_conclusion", "ground": "law_art19"}]


def test_a_conclusion_that_expired_yesterday() -> None:
    vkk = {**request()["vkk_conclusion"], "valid_until": "2026-03-19"}
    assert check_package(request(vkk_conclusion=vkk), RULES, TODAY) == [
        {
            "code": "expired_document",
            "document": "vkk_conclusion",
            "field": "vkk_conclusion.valid_until",
            "ground": "law_art19",
        }
    ]


def test_a_conclusion_valid_until_today_is_still_valid() -> None:
    vkk = {**request()["vkk_conclusion"], "valid_until": "2026-03-20"}
    assert check_package(request(vkk_conclusion=vkk), RULES, TODAY) == []


def test_dates_may_also_be_date_objects() -> None:
    vkk = {**request()["vkk_conclusion"], "valid_until": date(2026, 3, 19)}
    child = {**request()["child"], "birth_date": date(2015, 4, 2)}
    assert [p["code"] for p in check_package(request(vkk_conclusion=vkk, child=child), RULES, TODAY)] == [
        "expired_document"
    ]


# --- not meeting the requirements: Art. 19-1 p.2 --------------------------------------------------


def test_a_conclusion_that_does_not_recommend_home_schooling() -> None:
    vkk = {**request()["vkk_conclusion"], "recommends_home_schooling": False}
    assert check_package(request(vkk_conclusion=vkk), RULES, TODAY) == [
        {
            "code": "not_recommended",
            "document": "vkk_conclusion",
            "field": "vkk_conclusion.recommends_home_schooling",
            "ground": "law_art19_1_p2",
        }
    ]


@pytest.mark.parametrize("recommends", [None, "true", 1])
def test_only_an_explicit_true_is_a_recommendation(recommends: Any) -> None:
    vkk = {**request()["vkk_conclusion"], "recommends_home_schooling": recommends}
    assert [p["code"] for p in check_package(request(vkk_conclusion=vkk), RULES, TODAY)] == ["not_recommended"]


def test_an_invalid_child_iin() -> None:
    child = {**request()["child"], "iin": "150402601231"}  # check digit should be 0
    assert check_package(request(child=child), RULES, TODAY) == [
        {"code": "invalid_iin", "field": "child.iin", "ground": "law_art19_1_p2"}
    ]


def test_an_invalid_applicant_iin() -> None:
    applicant = {**request()["applicant"], "iin": "85071430456"}  # 11 digits
    assert check_package(request(applicant=applicant), RULES, TODAY) == [
        {"code": "invalid_iin", "field": "applicant.iin", "ground": "law_art19_1_p2"}
    ]


def test_a_missing_iin_is_invalid() -> None:
    child = {"full_name": "Ахметова Айгерим", "birth_date": "2015-04-02"}
    assert [p["field"] for p in check_package(request(child=child), RULES, TODAY)] == ["child.iin"]


def test_a_child_iin_that_disagrees_with_the_date_of_birth() -> None:
    child = {**request()["child"], "birth_date": "2015-04-03"}
    assert check_package(request(child=child), RULES, TODAY) == [
        {"code": "iin_birth_date_mismatch", "field": "child.iin", "ground": "law_art19_1_p2"}
    ]


def test_an_invalid_iin_is_not_also_reported_as_a_mismatch() -> None:
    child = {**request()["child"], "iin": "150402601231", "birth_date": "2015-04-03"}
    assert [p["code"] for p in check_package(request(child=child), RULES, TODAY)] == ["invalid_iin"]


@pytest.mark.parametrize(
    ("born", "outside"),
    [
        (date(2020, 3, 21), True),  # 5 today, 6 tomorrow
        (date(2020, 3, 20), False),  # 6 today
        (date(2007, 3, 21), False),  # 18 until tomorrow
        (date(2007, 3, 20), True),  # 19 today
    ],
)
def test_school_age_bounds_are_inclusive(born: date, outside: bool) -> None:
    problems = check_package(request(child=child_born(born)), RULES, TODAY)
    expected = [{"code": "outside_school_age", "field": "child.birth_date", "ground": "law_art19_1_p2"}]
    assert problems == (expected if outside else [])


def test_the_age_comes_from_the_iin_when_no_date_of_birth_is_given() -> None:
    child = child_born(date(2021, 1, 10))
    del child["birth_date"]
    assert [p["code"] for p in check_package(request(child=child), RULES, TODAY)] == ["outside_school_age"]


def test_the_age_bounds_are_a_setting() -> None:
    six = request(child=child_born(date(2019, 9, 1)))
    assert check_package(six, RULES, TODAY) == []
    assert [p["code"] for p in check_package(six, PackageRules(min_age=7), TODAY)] == ["outside_school_age"]


def test_the_required_documents_are_a_setting() -> None:
    rules = PackageRules(portal_documents=("application", "vkk_conclusion", "identity_document"))
    problems = check_package(request("portal"), rules, TODAY)
    assert problems == [{"code": "missing_document", "document": "identity_document", "ground": "law_art19"}]


def test_age_on_counts_full_years() -> None:
    assert age_on(date(2015, 4, 2), TODAY) == 10
    assert age_on(date(2016, 3, 20), TODAY) == 10
    assert age_on(date(2016, 3, 21), TODAY) == 9
    # Born on 29 February: a year older on 1 March in a common year.
    assert age_on(date(2020, 2, 29), date(2026, 2, 28)) == 5
    assert age_on(date(2020, 2, 29), date(2026, 3, 1)) == 6


def test_everything_wrong_at_once_comes_in_a_fixed_order() -> None:
    data = request(
        documents=["identity_document"],
        vkk_conclusion={
            "number": "1",
            "issued_on": "2025-01-01",
            "valid_until": "2026-01-01",
            "recommends_home_schooling": False,
        },
        child={"full_name": "Бала", "iin": "150402601230", "birth_date": "2015-04-03"},
        applicant={"full_name": "Ата", "iin": "000000000001", "relation": "parent"},
    )
    assert [(p["code"], p.get("document") or p.get("field")) for p in check_package(data, RULES, TODAY)] == [
        ("missing_document", "application"),
        ("missing_document", "vkk_conclusion"),
        ("expired_document", "vkk_conclusion"),
        ("not_recommended", "vkk_conclusion"),
        ("iin_birth_date_mismatch", "child.iin"),
        ("invalid_iin", "applicant.iin"),
    ]


# --- requests not shaped like the contract -------------------------------------------------------


def test_an_unknown_channel_is_refused() -> None:
    data = request()
    data["channel"] = "fax"
    with pytest.raises(InvalidInput, match="unknown channel 'fax'"):
        check_package(data, RULES, TODAY)


@pytest.mark.parametrize("bad", ["01.03.2027", "2027-02-30", "2027-W09-1", "20270301"])
def test_a_malformed_date_names_the_field(bad: str) -> None:
    vkk = {**request()["vkk_conclusion"], "valid_until": bad}
    with pytest.raises(InvalidInput, match=r"vkk_conclusion\.valid_until must be a date"):
        check_package(request(vkk_conclusion=vkk), RULES, TODAY)


def test_documents_must_be_a_list() -> None:
    with pytest.raises(InvalidInput, match="documents must be a list"):
        check_package(request(documents="application"), RULES, TODAY)


def test_rules_refuse_impossible_settings() -> None:
    with pytest.raises(InvalidInput, match="min_age <= max_age"):
        PackageRules(min_age=19, max_age=18)
    with pytest.raises(InvalidInput, match="unknown document kind 'passport'"):
        PackageRules(office_documents=("application", "passport"))
    with pytest.raises(InvalidInput, match="max_attachment_bytes"):
        PackageRules(max_attachment_bytes=0)


# --- texts for the reasoned refusal ----------------------------------------------------------------


def test_every_contract_code_has_a_reason_in_three_languages() -> None:
    assert set(REASON_CODES) == CONTRACT_CODES
    for code in REASON_CODES:
        for language in ("kk", "ru", "en"):
            text = phrase(f"package.reason.{code}", language, DOCUMENTS)
            assert set(re.findall(r"%\((\w+)\)s", text)) <= {"document", "field"}, (code, text)


def test_document_names_use_the_glossary_terms() -> None:
    assert [document_name("application", language) for language in ("kk", "ru", "en")] == [
        "өтініш", "заявление", "application"]
    assert document_name("vkk_conclusion", "kk") == "ДКК қорытындысы"
    assert document_name("vkk_conclusion", "ru") == "заключение ВКК"
    assert document_name("identity_document", "kk") == "жеке басын куәландыратын құжат"
    assert document_name("identity_document", "ru") == "документ, удостоверяющий личность"
    assert set(RULES.office_documents) <= set(PACKAGE_DOCUMENTS)


def test_grounds_cite_the_law() -> None:
    assert GROUNDS == ("law_art19", "law_art19_1_p2")
    assert ground_text("law_art19", "ru") == "статья 19 Закона Республики Казахстан «О государственных услугах»"
    assert ground_text("law_art19_1_p2", "ru") == (
        "пункт 2 статьи 19-1 Закона Республики Казахстан «О государственных услугах»"
    )
    assert "19-бабы" in ground_text("law_art19", "kk")
    assert "19-1-бабының 2-тармағы" in ground_text("law_art19_1_p2", "kk")
    with pytest.raises(ValueError, match="legal ground 'art99'"):
        ground_text("art99", "ru")


def test_describe_a_missing_document_in_russian() -> None:
    problem = {"code": "missing_document", "document": "vkk_conclusion", "ground": "law_art19"}
    assert describe_problem(problem, "ru") == (
        "Не представлен документ: заключение ВКК. "
        "Основание: статья 19 Закона Республики Казахстан «О государственных услугах»."
    )


def test_describe_an_invalid_iin_in_kazakh_and_english() -> None:
    problem = {"code": "invalid_iin", "field": "applicant.iin", "ground": "law_art19_1_p2"}
    assert describe_problem(problem, "kk") == (
        "Көрсетілетін қызметті алушының ЖСН-і қате көрсетілген: ол ЖСН қалыптастыру қағидаларына сәйкес келмейді. "
        "Негіздеме: «Мемлекеттік көрсетілетін қызметтер туралы» Қазақстан Республикасы Заңының 19-1-бабының "
        "2-тармағы."
    )
    assert describe_problem(problem, "en", with_ground=False) == (
        "The service recipient's IIN is wrong: it does not follow the rules by which IINs are formed."
    )


def test_describe_adds_the_clerks_note() -> None:
    problem = {
        "code": "unreliable_data",
        "note": "Номер заключения ВКК не найден в реестре.",
        "ground": "law_art19_1_p2",
    }
    assert describe_problem(problem, "ru", with_ground=False) == (
        "Документы и (или) сведения, содержащиеся в них, признаны недостоверными. "
        "Номер заключения ВКК не найден в реестре."
    )


def test_every_problem_check_package_makes_can_be_described() -> None:
    data = request(
        documents=[],
        vkk_conclusion={"number": "1", "issued_on": "2025-01-01", "valid_until": "2026-01-01"},
        child={"full_name": "Бала", "iin": "150402601230", "birth_date": "2015-04-03"},
        applicant={"full_name": "Ата", "iin": "1", "relation": "parent"},
    )
    problems = check_package(data, RULES, TODAY) + check_package(
        request(child={**child_born(date(2021, 1, 10)), "iin": "150402601231"}), RULES, TODAY
    )
    codes = {p["code"] for p in problems}
    assert codes == CONTRACT_CODES - {"unreliable_data"}
    for problem in problems:
        for language in ("kk", "ru", "en"):
            text = describe_problem(problem, language)
            assert "{" not in text and text.endswith("."), text


def test_describe_refuses_unknown_language_code_and_ground() -> None:
    with pytest.raises(ValueError, match="unknown language 'de'"):
        describe_problem({"code": "missing_document", "document": "application"}, "de")
    with pytest.raises(ValueError, match="problem code 'lost'"):
        describe_problem({"code": "lost"}, "ru")
    with pytest.raises(ValueError, match="legal ground 'art99'"):
        describe_problem({"code": "not_recommended", "ground": "art99"}, "ru")
    with pytest.raises(ValueError, match="document kind 'passport'"):
        describe_problem({"code": "missing_document", "document": "passport"}, "ru")
