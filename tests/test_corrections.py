"""A clerk's correction of a registered request: what may change, and that every change is kept."""

from __future__ import annotations

from datetime import date

import pytest

from service.domain.corrections import corrected_request
from service.domain.errors import InvalidInput
from service.domain.package import PackageRules, check_package

AT = "2026-03-26T10:00:00+05:00"
VKK = {"number": "ВКК-17", "issued_on": "2025-03-19", "valid_until": "2026-03-19", "recommends_home_schooling": True}
REQUEST = {
    "application_number": "APP-1", "channel": "portal", "vkk_conclusion": VKK,
    "documents": ["application", "vkk_conclusion"],
    "child": {"full_name": "Ахметов Нұрлан", "iin": "150402500018", "birth_date": "2015-04-02"},
    "applicant": {"full_name": "Ахметова Айгүл", "iin": "850615400076"},
}


def test_a_corrected_date_clears_the_problem_and_the_old_value_is_kept() -> None:
    today = date(2026, 3, 26)
    assert [p["code"] for p in check_package(REQUEST, PackageRules(), today)] == ["expired_document"]
    fixed = corrected_request(REQUEST, {"vkk_conclusion": dict(VKK, valid_until="2027-03-19"),
                                        "note": "Сверено с ИС ВКК"}, AT)
    assert check_package(fixed, PackageRules(), today) == []
    assert fixed["corrections"] == [{"at": AT, "note": "Сверено с ИС ВКК", "changed": ["vkk_conclusion"],
                                     "before": {"vkk_conclusion": VKK}}]
    assert REQUEST["vkk_conclusion"]["valid_until"] == "2026-03-19"  # the original is not touched


def test_corrections_accumulate() -> None:
    once = corrected_request(REQUEST, {"documents": ["application"], "note": "первая"}, AT)
    twice = corrected_request(once, {"documents": ["application", "vkk_conclusion"], "note": "вторая"}, AT)
    assert [c["note"] for c in twice["corrections"]] == ["первая", "вторая"]
    assert twice["documents"] == ["application", "vkk_conclusion"]


@pytest.mark.parametrize("corrections", [
    {"note": "ничего не исправлено"},
    {"documents": ["application"]},
    {"documents": ["application"], "note": "   "},
    {"child": {"iin": "000000000000"}, "note": "данные ребёнка не исправляются здесь"},
])
def test_a_correction_without_a_note_or_a_correctable_field_is_refused(corrections: dict) -> None:
    with pytest.raises(InvalidInput):
        corrected_request(REQUEST, corrections, AT)
