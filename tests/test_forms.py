"""The task forms in forms/: they load, they say what is wrong and where, they read browser input.

Dates: the case was received on Friday 20 March 2026; its VKK conclusion was issued on
1 March 2026 and is valid until 1 March 2027. The child is the girl born 2 April 2015
(IIN 150402601230) and the applicant her father (IIN 850714304566); see tests/test_identity.py
for their check digits worked out by hand.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from service.application.forms import (
    MESSAGE_CODES,
    FieldMessage,
    Form,
    coerce_submission,
    format_path,
    load_form,
    localise,
    message_text,
    parse_path,
    validate_submission,
)
from service.domain.errors import DomainError, NotFound
from service.domain.package import PackageRules
from service.domain.phrases import phrase
from service.domain.schooling import INSTRUCTION_LANGUAGES

from .support import AKIMAT, PROJECT, SCHOOL_25

FORMS = PROJECT / "forms"
LANGUAGES = {"kk", "ru", "en"}

# Field names exactly as in docs/service-delivery.md.
CORRECTIONS = [
    "corrections.documents",
    "corrections.vkk_conclusion.number",
    "corrections.vkk_conclusion.issued_on",
    "corrections.vkk_conclusion.valid_until",
    "corrections.vkk_conclusion.recommends_home_schooling",
    "corrections.note",
]

EXPECTED_FIELDS = {
    ("service_delivery", "service_requested"): [
        "application_number",
        "channel",
        "received_at",
        "applicant.full_name",
        "applicant.iin",
        "applicant.phone",
        "applicant.relation",
        "child.full_name",
        "child.iin",
        "child.birth_date",
        "vkk_conclusion.number",
        "vkk_conclusion.issued_on",
        "vkk_conclusion.valid_until",
        "vkk_conclusion.recommends_home_schooling",
        "documents",
        "attachments",
        "consent.consent",
        "consent.phone",
        "consent.note",
        "provider_bin",
    ],
    ("service_delivery", "check_portal_request"): ["decision", "extra_reasons", *CORRECTIONS],
    ("service_delivery", "confirm_office_refusal"): ["decision", *CORRECTIONS],
    ("service_delivery", "attend_overdue_request"): ["note"],
    ("service_delivery", "attend_overdue_service"): ["note"],
    ("service_delivery", "determine_class_and_language"): ["head_decision", "grade", "language", "head_reasons"],
    ("service_delivery", "organise_home_schooling"): [
        "teachers",
        "weekly_hours",
        "curriculum_reference",
        "period_start",
        "period_end",
    ],
    ("service_delivery", "issue_admission_order"): ["order_number", "order_date"],
    ("proactive_offer", "vkk_conclusion_registered"): [
        "offer_number",
        "child.full_name",
        "child.iin",
        "child.birth_date",
        "applicant.full_name",
        "applicant.iin",
        "applicant.phone",
        "applicant.relation",
        "vkk_conclusion.number",
        "vkk_conclusion.issued_on",
        "vkk_conclusion.valid_until",
        "vkk_conclusion.recommends_home_schooling",
        "provider_bin",
    ],
    ("proactive_offer", "follow_up_silence"): ["consent", "note"],
    ("proactive_offer", "contact_after_silence"): ["outcome", "note"],
    ("proactive_offer", "follow_up_delivery"): ["outcome", "note"],
    ("complaint_review", "complaint_filed"): [
        "complaint_number",
        "channel",
        "addressee",
        "registered_at",
        "complainant.full_name",
        "complainant.iin",
        "complainant.address",
        "complainant.email",
        "complainant.phone",
        "appealed.subject",
        "appealed.description",
        "appealed.service_case",
        "against_provider",
        "text",
        "provider_bin",
        "addressee_bin",
    ],
    ("complaint_review", "provider_considers_complaint"): ["decision", "act_reference", "act_summary"],
    ("complaint_review", "attend_forwarding_overdue"): ["note"],
    ("complaint_review", "review_complaint"): ["decision", "reasons", "extension_days"],
    ("complaint_review", "notify_extension"): ["note"],
    ("complaint_review", "attend_late_extension_notice"): ["note"],
    ("complaint_review", "attend_missed_review"): ["note"],
}

VKK = {
    "number": "035-1/у-117",
    "issued_on": "2026-03-01",
    "valid_until": "2027-03-01",
    "recommends_home_schooling": True,
}
CONTEXT = {"request": {"application_number": "APP-2026-000123", "vkk_conclusion": VKK}}

VALID: dict[tuple[str, str], dict[str, Any]] = {
    ("service_delivery", "service_requested"): {
        "application_number": "APP-2026-000123",
        "channel": "office",
        "received_at": "2026-03-20T17:00:00+05:00",
        "applicant": {
            "full_name": "Ахметов Нурлан",
            "iin": "850714304566",
            "phone": "+77011234567",
            "relation": "parent",
        },
        "child": {"full_name": "Ахметова Айгерим", "iin": "150402601230", "birth_date": "2015-04-02"},
        "vkk_conclusion": VKK,
        "documents": ["application", "vkk_conclusion", "identity_document"],
        "attachments": [
            {"kind": "vkk_conclusion", "filename": "vkk.pdf", "content_type": "application/pdf", "size": 123456}
        ],
        "provider_bin": SCHOOL_25,
    },
    ("service_delivery", "check_portal_request"): {
        "decision": "refuse",
        "extra_reasons": [{"code": "unreliable_data", "note": "Номер заключения не найден в реестре."}],
    },
    ("service_delivery", "attend_overdue_request"): {"note": "Поручено специалисту, срок — 27.03.2026."},
    ("service_delivery", "attend_overdue_service"): {"note": "Приказ будет издан 05.03.2026, учителя назначены."},
    ("service_delivery", "confirm_office_refusal"): {
        "decision": "correct",
        "corrections": {"documents": ["application", "vkk_conclusion", "identity_document"],
                        "note": "Заключение ВКК было представлено, но не отмечено при регистрации."},
    },
    ("service_delivery", "determine_class_and_language"): {"grade": 5, "language": "kk"},
    ("service_delivery", "organise_home_schooling"): {
        "teachers": [{"full_name": "Сейткали Дина", "subject": "Математика"}],
        "weekly_hours": 8.5,
        "curriculum_reference": "ИУП № 14 от 25.03.2026",
        "period_start": "2026-04-01",
        "period_end": "2026-05-25",
    },
    ("service_delivery", "issue_admission_order"): {"order_number": "47-ө", "order_date": "2026-03-27"},
    ("proactive_offer", "vkk_conclusion_registered"): {
        "offer_number": "OFF-2026-000045",
        "child": {"full_name": "Ахметова Айгерим", "iin": "150402601230", "birth_date": "2015-04-02"},
        "applicant": {"full_name": "Ахметов Нурлан", "iin": "850714304566", "phone": "+77011234567"},
        "vkk_conclusion": VKK,
        "provider_bin": SCHOOL_25,
    },
    ("proactive_offer", "follow_up_silence"): {"consent": False, "note": "Звонок 21.03.2026: не ответил."},
    ("proactive_offer", "contact_after_silence"): {"outcome": "close", "note": "Звонок 21.03.2026: не ответил."},
    ("proactive_offer", "follow_up_delivery"): {"outcome": "resend", "note": "Шлюз был недоступен 20.03.2026."},
    ("complaint_review", "complaint_filed"): {
        "complaint_number": "COMP-2026-0007",
        "channel": "paper",
        "addressee": "local_executive_body",
        "registered_at": "2026-03-19T10:00:00+05:00",
        "complainant": {
            "full_name": "Ахметов Нурлан",
            "iin": "850714304566",
            "address": "050000, г. Алматы, пр. Абая, 1",
            "email": "nurlan@example.kz",
            "phone": "+77011234567",
        },
        "appealed": {
            "subject": "decision",
            "description": "Отказ в приеме документов",
            "service_case": "APP-2026-000123",
        },
        "against_provider": True,
        "text": "Прошу отменить отказ.",
        "provider_bin": SCHOOL_25,
        "addressee_bin": AKIMAT,
    },
    ("complaint_review", "provider_considers_complaint"): {
        "decision": "favourable_act",
        "act_reference": "Приказ № 12 от 26.03.2026",
        "act_summary": "Документы приняты.",
    },
    ("complaint_review", "attend_forwarding_overdue"): {"note": "Жалоба направлена 30.03.2026."},
    ("complaint_review", "review_complaint"): {"decision": "extend", "reasons": "Выезд на место.", "extension_days": 5},
    ("complaint_review", "notify_extension"): {"note": "Письмо отправлено почтой."},
    ("complaint_review", "attend_late_extension_notice"): {"note": "Уведомление направлено 02.04.2026."},
    ("complaint_review", "attend_missed_review"): {"note": "Назначена служебная проверка."},
}


def form(process_id: str, task_id: str) -> Form:
    return load_form(FORMS, process_id, task_id)


def errors_of(process_id: str, task_id: str, changes: dict[str, Any], context: Any = CONTEXT) -> dict[str, list[str]]:
    """Validate the valid example with ``changes`` applied; return field path -> message codes."""
    data = json.loads(json.dumps(VALID[(process_id, task_id)]))
    data.update(changes)
    found = validate_submission(form(process_id, task_id), data, context)
    return {path: [m.code for m in messages] for path, messages in found.items()}


def all_properties(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, sub in schema.get("properties", {}).items():
        found.append((f"{path}{name}", sub))
        found.extend(all_properties(sub, f"{path}{name}."))
        if isinstance(sub.get("items"), dict):
            found.append((f"{path}{name}[]", sub["items"]))
            found.extend(all_properties(sub["items"], f"{path}{name}[]."))
    return found


# --- the form files --------------------------------------------------------------------------


def test_exactly_the_contract_forms_exist() -> None:
    present = {(p.parent.name, p.name.removesuffix(".schema.json")) for p in FORMS.glob("*/*.schema.json")}
    assert present == set(EXPECTED_FIELDS)


@pytest.mark.parametrize("key", sorted(EXPECTED_FIELDS))
def test_each_form_is_a_valid_schema_with_the_contract_fields(key: tuple[str, str]) -> None:
    loaded = form(*key)
    Draft202012Validator.check_schema(loaded.schema)
    assert loaded.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert [f.name for f in loaded.fields()] == EXPECTED_FIELDS[key]


@pytest.mark.parametrize("key", sorted(EXPECTED_FIELDS))
def test_each_form_and_property_is_labelled_in_three_languages(key: tuple[str, str]) -> None:
    schema = form(*key).schema
    for path, node in [("(form)", schema), *all_properties(schema)]:
        labels = node.get("x-labels", {})
        assert set(labels) == LANGUAGES, path
        assert all(isinstance(text, str) and text.strip() for text in labels.values()), path
        assert node.get("title") == labels["ru"], path
        for language, names in node.get("x-enum-labels", {}).items():
            # A setting may allow more values than the schema's default enum: every one is labelled.
            allowed = set(INSTRUCTION_LANGUAGES) if node.get("x-enum-setting") else set(node["enum"])
            assert language in LANGUAGES and set(names) == allowed, path


@pytest.mark.parametrize("key", sorted(EXPECTED_FIELDS))
def test_each_valid_example_passes(key: tuple[str, str]) -> None:
    assert validate_submission(form(*key), VALID[key], CONTEXT) == {}


def test_labels_use_the_glossary_terms() -> None:
    grade = form("service_delivery", "determine_class_and_language").label("grade")
    language = form("service_delivery", "determine_class_and_language").label("language")
    assert grade["kk"] == "Сынып" and grade["ru"] == "Класс"
    assert language == {"kk": "Оқыту тілі", "ru": "Язык обучения", "en": "Language of instruction"}
    applicant = form("service_delivery", "service_requested").label("applicant.iin")
    assert applicant == {
        "kk": "Көрсетілетін қызметті алушы → ЖСН",
        "ru": "Услугополучатель → ИИН",
        "en": "Service recipient → IIN",
    }
    curriculum = form("service_delivery", "organise_home_schooling").label("curriculum_reference")
    assert curriculum["kk"].startswith("Жеке оқу жоспары") and curriculum["ru"].startswith(
        "Индивидуальный учебный план"
    )


def test_attachment_limits_match_the_package_rules() -> None:
    rules = PackageRules()
    attachment = form("service_delivery", "service_requested").schema["properties"]["attachments"]["items"]
    assert tuple(attachment["properties"]["content_type"]["enum"]) == rules.allowed_content_types
    assert attachment["properties"]["size"]["maximum"] == rules.max_attachment_bytes == 10485760
    kinds = form("service_delivery", "service_requested").schema["properties"]["documents"]["items"]["enum"]
    assert set(rules.office_documents) | set(rules.portal_documents) <= set(kinds)


def test_field_types_and_required_flags_for_rendering() -> None:
    fields = {f.name: f for f in form("service_delivery", "service_requested").fields()}
    assert fields["child.iin"].type == "iin" and fields["child.iin"].required
    assert fields["child.birth_date"].type == "date"
    assert fields["received_at"].type == "date-time"
    assert fields["applicant.phone"].type == "phone" and not fields["applicant.phone"].required
    assert fields["attachments"].type == "array" and not fields["attachments"].required
    assert fields["vkk_conclusion.recommends_home_schooling"].type == "boolean"
    assert fields["child.iin"].labels["kk"] == "ЖСН"


# --- invalid submissions: which field, which rule -----------------------------------------------


def test_a_missing_required_field() -> None:
    assert errors_of("service_delivery", "attend_overdue_service", {"note": None}) == {"note": ["required"]}
    found = validate_submission(form("service_delivery", "issue_admission_order"), {"order_date": "2026-03-31"})
    assert found["order_number"][0].text("ru") == "Заполните поле «Номер приказа»."


def test_the_grade_and_language_are_required_unless_the_head_refuses() -> None:
    head = form("service_delivery", "determine_class_and_language")
    found = validate_submission(head, {"grade": 5})
    assert list(found) == ["language"]
    assert found["language"][0].text("ru") == (
        "Заполните поле «Язык обучения»: оно обязательно, если только не «Решение» — "
        "«мотивированный отказ в дальнейшем рассмотрении заявления (refuse)».")
    refusal = {"head_decision": "refuse", "head_reasons": [{"code": "not_recommended", "note": "ВКК"}]}
    assert validate_submission(head, refusal) == {}


def test_accepting_is_refused_while_the_package_check_found_problems() -> None:
    check = form("service_delivery", "check_portal_request")
    problems = [{"code": "expired_document", "document": "vkk_conclusion", "ground": "law_art19"}]
    found = validate_submission(check, {"decision": "accept"}, {"request": {}, "package_problems": problems})
    assert [m.code for m in found["decision"]] == ["package_has_problems"]
    assert "Истек срок действия документа: заключение ВКК." in found["decision"][0].text("ru")
    assert "Құжаттың қолданылу мерзімі өтіп кеткен: ДКК қорытындысы." in found["decision"][0].text("kk")
    assert validate_submission(check, {"decision": "accept"}, {"request": {}, "package_problems": []}) == {}
    assert validate_submission(check, {"decision": "refuse"}, {"request": {}, "package_problems": problems}) == {}


def test_an_order_cannot_be_dated_before_the_documents_were_accepted() -> None:
    order = form("service_delivery", "issue_admission_order")
    accepted = {"request": {"received_at": "2026-03-19T10:00:00+05:00", "accepted_at": "2026-03-20T00:30:00+05:00"}}
    found = validate_submission(order, {"order_number": "1-ж", "order_date": "2026-03-19"}, accepted)
    assert [m.code for m in found["order_date"]] == ["before_acceptance"]
    assert "(2026-03-20)" in found["order_date"][0].text("ru")
    assert validate_submission(order, {"order_number": "1-ж", "order_date": "2026-03-20"}, accepted) == {}
    # a case accepted on an older version of the diagram has no accepted_at: its received_at counts
    older = {"request": {"received_at": "2026-03-19T10:00:00+05:00"}}
    assert validate_submission(order, {"order_number": "1-ж", "order_date": "2026-03-19"}, older) == {}


def test_a_missing_nested_field_is_named_by_its_path() -> None:
    found = errors_of("service_delivery", "organise_home_schooling", {"teachers": [{"full_name": "Сейткали Дина"}]})
    assert found == {"teachers[0].subject": ["required"]}
    message = validate_submission(
        form("service_delivery", "organise_home_schooling"),
        {**VALID[("service_delivery", "organise_home_schooling")], "teachers": [{"full_name": "Сейткали Дина"}]},
        CONTEXT,
    )["teachers[0].subject"][0]
    assert message.text("ru") == "Заполните поле «Учителя №1 → Предмет»."
    assert message.text("kk") == "«Мұғалімдер №1 → Пән» өрісін толтырыңыз."


def test_an_empty_text_is_missing() -> None:
    assert errors_of("service_delivery", "attend_overdue_request", {"note": ""}) == {"note": ["required"]}


def test_a_value_outside_the_enum() -> None:
    found = validate_submission(
        form("service_delivery", "determine_class_and_language"), {"grade": 5, "language": "en"}
    )
    assert [m.code for m in found["language"]] == ["enum"]
    assert found["language"][0].text("ru") == (
        "Поле «Язык обучения» может принимать только значения: «казахский (kk)», «русский (ru)» (введено: «en»)."
    )
    assert found["language"][0].text("en") == (
        "“Language of instruction” must be one of: “Kazakh (kk)”, “Russian (ru)” (entered: “en”)."
    )


@pytest.mark.parametrize(("grade", "code"), [(0, "minimum"), (12, "maximum"), (5.5, "type"), ("5", "type")])
def test_grade_is_a_whole_number_from_1_to_11(grade: Any, code: str) -> None:
    assert errors_of("service_delivery", "determine_class_and_language", {"grade": grade}) == {"grade": [code]}


def test_a_bad_child_iin_says_which_check_failed() -> None:
    child = {"full_name": "Ахметова Айгерим", "iin": "150402601231", "birth_date": "2015-04-02"}
    found = validate_submission(
        form("service_delivery", "service_requested"),
        {**VALID[("service_delivery", "service_requested")], "child": child},
    )
    assert list(found) == ["child.iin"]
    assert [m.code for m in found["child.iin"]] == ["iin_checksum"]
    assert found["child.iin"][0].text("ru") == (
        "Поле «Ребенок → ИИН»: контрольная (последняя) цифра ИИН 150402601231 не сходится — проверьте, нет ли опечатки."
    )


@pytest.mark.parametrize(
    ("iin", "codes"),
    [
        ("15040260123", ["iin_format"]),
        ("150230600012", ["iin_date"]),
        ("150230600013", ["iin_checksum", "iin_date"]),
    ],
)
def test_bad_applicant_iins(iin: str, codes: list[str]) -> None:
    applicant = {"full_name": "Ахметов Нурлан", "iin": iin, "relation": "parent"}
    assert errors_of("service_delivery", "service_requested", {"applicant": applicant}) == {"applicant.iin": codes}


def test_a_child_iin_that_disagrees_with_the_date_of_birth() -> None:
    child = {"full_name": "Ахметова Айгерим", "iin": "150402601230", "birth_date": "2015-04-03"}
    found = validate_submission(
        form("proactive_offer", "vkk_conclusion_registered"),
        {**VALID[("proactive_offer", "vkk_conclusion_registered")], "child": child},
    )
    assert [m.code for m in found["child.iin"]] == ["iin_birth_date_mismatch"]
    assert found["child.iin"][0].text("ru") == (
        "Поле «Ребенок → ИИН»: дата рождения в ИИН (2015-04-02) не совпадает с полем «Ребенок → Дата рождения» "
        "(2015-04-03)."
    )


def test_period_end_before_period_start() -> None:
    found = validate_submission(
        form("service_delivery", "organise_home_schooling"),
        {
            **VALID[("service_delivery", "organise_home_schooling")],
            "period_start": "2026-05-25",
            "period_end": "2026-04-01",
        },
        CONTEXT,
    )
    assert {path: [m.code for m in ms] for path, ms in found.items()} == {"period_end": ["date_not_before"]}
    assert found["period_end"][0].text("ru") == (
        "Поле «Окончание обучения на дому» (2026-04-01) не может быть раньше поля «Начало обучения на дому» "
        "(2026-05-25)."
    )


def test_the_same_start_and_end_day_is_allowed() -> None:
    same = {"period_start": "2026-04-01", "period_end": "2026-04-01"}
    assert errors_of("service_delivery", "organise_home_schooling", same) == {}


def test_a_period_outside_the_vkk_conclusion() -> None:
    period = {"period_start": "2026-02-20", "period_end": "2027-03-02"}
    found = validate_submission(
        form("service_delivery", "organise_home_schooling"),
        {**VALID[("service_delivery", "organise_home_schooling")], **period},
        CONTEXT,
    )
    assert {path: [m.code for m in ms] for path, ms in found.items()} == {
        "period_end": ["within_vkk_validity"],
        "period_start": ["within_vkk_validity"],
    }
    assert found["period_start"][0].text("ru") == (
        "Поле «Начало обучения на дому» (2026-02-20) должно быть в пределах срока действия заключения ВКК "
        "(2026-03-01 – 2027-03-01)."
    )


def test_the_vkk_validity_bounds_are_inclusive() -> None:
    period = {"period_start": "2026-03-01", "period_end": "2027-03-01"}
    assert errors_of("service_delivery", "organise_home_schooling", period) == {}


def test_without_the_case_the_period_cannot_be_checked() -> None:
    found = errors_of("service_delivery", "organise_home_schooling", {}, context=None)
    assert found == {"period_end": ["vkk_validity_unknown"], "period_start": ["vkk_validity_unknown"]}


def test_a_date_that_does_not_exist_is_not_also_compared() -> None:
    found = errors_of("service_delivery", "organise_home_schooling", {"period_end": "2026-02-30"})
    assert found == {"period_end": ["format_date"]}


def test_teachers_need_at_least_one_entry_and_hours_stay_within_1_to_40() -> None:
    assert errors_of("service_delivery", "organise_home_schooling", {"teachers": []}) == {"teachers": ["min_items"]}
    assert errors_of("service_delivery", "organise_home_schooling", {"weekly_hours": 41}) == {
        "weekly_hours": ["maximum"]
    }
    assert errors_of("service_delivery", "organise_home_schooling", {"weekly_hours": 0.5}) == {
        "weekly_hours": ["minimum"]
    }
    assert errors_of("service_delivery", "organise_home_schooling", {"weekly_hours": 40}) == {}


def test_an_attachment_of_type_text_plain() -> None:
    attachment = {"kind": "vkk_conclusion", "filename": "vkk.txt", "content_type": "text/plain", "size": 100}
    found = errors_of("service_delivery", "service_requested", {"attachments": [attachment]})
    assert found == {"attachments[0].content_type": ["enum"]}


def test_an_attachment_that_is_too_large() -> None:
    fits = {"kind": "vkk_conclusion", "filename": "vkk.pdf", "content_type": "application/pdf", "size": 10485760}
    too_large = {**fits, "filename": "scan.png", "content_type": "image/png", "size": 10485761}
    found = validate_submission(
        form("service_delivery", "service_requested"),
        {**VALID[("service_delivery", "service_requested")], "attachments": [fits, too_large]},
    )
    assert list(found) == ["attachments[1].size"]
    assert found["attachments[1].size"][0].text("ru") == (
        "Значение поля «Электронные копии документов №2 → Размер файла, байт» должно быть не больше 10485760 "
        "(введено: 10485761)."
    )


def test_a_document_listed_twice_and_an_unknown_kind() -> None:
    found = errors_of(
        "service_delivery", "service_requested", {"documents": ["application", "application", "passport"]}
    )
    assert found == {"documents": ["unique_items"], "documents[2]": ["enum"]}


def test_an_instant_without_its_offset_and_a_wrong_phone() -> None:
    applicant = {"full_name": "Ахметов Нурлан", "iin": "850714304566", "phone": "87011234567", "relation": "parent"}
    found = errors_of(
        "service_delivery", "service_requested", {"received_at": "2026-03-20T17:00", "applicant": applicant}
    )
    assert found == {"applicant.phone": ["format_phone"], "received_at": ["format_date_time"]}


@pytest.mark.parametrize(("process_id", "task_id", "fields"), [
    ("service_delivery", "service_requested", ["provider_bin"]),
    ("proactive_offer", "vkk_conclusion_registered", ["provider_bin"]),
    ("complaint_review", "complaint_filed", ["addressee_bin", "provider_bin"]),
])
def test_an_organisation_is_named_by_a_bin_of_12_digits(process_id: str, task_id: str, fields: list[str]) -> None:
    for wrong in ("05014000312", "0501400031250", "05014000312x"):
        found = errors_of(process_id, task_id, dict.fromkeys(fields, wrong))
        assert found == {field: ["pattern"] for field in fields}, wrong


def test_a_conclusion_valid_until_before_it_was_issued() -> None:
    vkk = {**VKK, "valid_until": "2026-02-28"}
    found = errors_of("service_delivery", "service_requested", {"vkk_conclusion": vkk})
    assert found == {"vkk_conclusion.valid_until": ["date_not_before"]}


def test_an_unknown_field_is_named() -> None:
    found = validate_submission(
        form("service_delivery", "issue_admission_order"),
        {**VALID[("service_delivery", "issue_admission_order")], "order_dat": "2026-03-27"},
    )
    assert [m.code for m in found["order_dat"]] == ["unknown_field"]
    assert found["order_dat"][0].text("en") == "The form has no field “order_dat”."


def test_consent_must_be_yes_or_no() -> None:
    found = validate_submission(form("proactive_offer", "follow_up_silence"), {"consent": "да", "note": "x"})
    assert [m.code for m in found["consent"]] == ["type"]
    assert (
        found["consent"][0].text("kk")
        == "«Келісім алынды» өрісінің мәні «иә» немесе «жоқ» болуы керек (енгізілгені: «да»)."
    )


def test_a_refusal_needs_a_reason() -> None:
    assert errors_of("service_delivery", "check_portal_request", {"extra_reasons": []}) == {
        "extra_reasons": ["refusal_without_reasons"]
    }
    found = validate_submission(form("service_delivery", "check_portal_request"), {"decision": "refuse"}, CONTEXT)
    assert [m.code for m in found["extra_reasons"]] == ["refusal_without_reasons"]
    assert (
        found["extra_reasons"][0]
        .text("ru")
        .startswith("Поле «Дополнительные основания для отказа»: при отказе укажите хотя бы одно основание")
    )


def test_a_refusal_may_rest_on_the_package_problems_alone() -> None:
    context = {"request": {"package_problems": [{"code": "missing_document", "document": "vkk_conclusion"}]}}
    assert validate_submission(form("service_delivery", "check_portal_request"), {"decision": "refuse"}, context) == {}


def test_an_acceptance_takes_no_reasons() -> None:
    assert errors_of("service_delivery", "check_portal_request", {"decision": "accept"}) == {
        "extra_reasons": ["reasons_without_refusal"]
    }
    assert validate_submission(form("service_delivery", "check_portal_request"), {"decision": "accept"}) == {}


def test_a_reason_needs_its_note() -> None:
    found = errors_of("service_delivery", "check_portal_request", {"extra_reasons": [{"code": "unreliable_data"}]})
    assert found == {"extra_reasons[0].note": ["required"]}


def test_a_submission_that_is_not_an_object() -> None:
    found = validate_submission(form("service_delivery", "attend_overdue_request"), ["note"])  # type: ignore[arg-type]
    assert [m.code for m in found[""]] == ["type"]


def test_localise_gives_texts_per_field() -> None:
    found = validate_submission(form("service_delivery", "determine_class_and_language"), {"grade": 12})
    assert localise(found, "ru") == {
        "grade": ["Значение поля «Класс» должно быть не больше 11 (введено: 12)."],
        "language": ["Заполните поле «Язык обучения»: оно обязательно, если только не «Решение» — "
                     "«мотивированный отказ в дальнейшем рассмотрении заявления (refuse)»."],
    }
    assert localise(found, "kk")["grade"] == ["«Сынып» өрісінің мәні 11 мәнінен аспауы керек (енгізілгені: 12)."]


# --- message texts ----------------------------------------------------------------------------------


def test_every_message_exists_in_three_languages_with_the_same_placeholders() -> None:
    assert len(MESSAGE_CODES) >= 38
    for code in MESSAGE_CODES:
        texts = {language: phrase(f"form_check_{code}", language) for language in LANGUAGES}
        placeholders = {language: set(re.findall(r"{(\w+)}", text)) for language, text in texts.items()}
        assert placeholders["kk"] == placeholders["ru"] == placeholders["en"], code
        assert len(set(texts.values())) == 3, code  # no language falls back on another's text


def test_message_text_picks_the_language_of_each_parameter() -> None:
    params = {"label": {"kk": "Сынып", "ru": "Класс", "en": "Class (grade)"}}
    assert message_text("required", params, "kk") == "«Сынып» өрісін толтырыңыз."
    assert message_text("required", params, "en") == "Fill in “Class (grade)”."
    assert FieldMessage("required", params).text("ru") == "Заполните поле «Класс»."


def test_message_text_refuses_unknown_codes_and_languages() -> None:
    with pytest.raises(ValueError, match="unknown language 'de'"):
        message_text("required", {}, "de")
    with pytest.raises(ValueError, match="code 'nonsense'"):
        message_text("nonsense", {}, "ru")


# --- coercion of browser input ------------------------------------------------------------------------


def test_a_number_typed_into_grade_becomes_an_integer() -> None:
    loaded = form("service_delivery", "determine_class_and_language")
    assert coerce_submission(loaded, {"grade": " 5 ", "language": "kk"}) == {"grade": 5, "language": "kk"}


def test_a_word_typed_into_grade_is_reported_not_raised() -> None:
    loaded = form("service_delivery", "determine_class_and_language")
    data = coerce_submission(loaded, {"grade": "пятый", "language": "ru"})
    assert data == {"grade": "пятый", "language": "ru"}
    found = validate_submission(loaded, data)
    assert list(found) == ["grade"]
    assert found["grade"][0].text("ru") == "Значение поля «Класс» должно быть целым числом (введено: «пятый»)."


@pytest.mark.parametrize(("raw", "value"), [("8", 8), ("8.5", 8.5), ("8,5", 8.5), ("-1", -1), ("1e3", "1e3")])
def test_numbers_accept_a_decimal_comma(raw: str, value: Any) -> None:
    data = coerce_submission(form("service_delivery", "organise_home_schooling"), {"weekly_hours": raw})
    assert data == {"weekly_hours": value}
    assert type(data["weekly_hours"]) is type(value)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("on", True), ("true", True), ("Да", True), ("иә", True), ("0", False), ("нет", False), ("?", "?")],
)
def test_booleans_from_checkboxes_and_radios(raw: str, value: Any) -> None:
    assert coerce_submission(form("proactive_offer", "follow_up_silence"), {"consent": raw}) == {"consent": value}


def test_nested_arrays_dates_and_repeated_fields() -> None:
    raw: dict[str, str | list[str]] = {
        "application_number": "APP-2026-000123",
        "channel": "office",
        "received_at": "2026-03-20T17:00:00+05:00",
        "applicant.full_name": "Ахметов Нурлан",
        "applicant.iin": "850714304566",
        "applicant.phone": "",
        "applicant.relation": "parent",
        "child.full_name": "Ахметова Айгерим",
        "child.iin": " 150402601230 ",
        "child.birth_date": "2015-04-02",
        "vkk_conclusion.number": "035-1/у-117",
        "vkk_conclusion.issued_on": "2026-03-01",
        "vkk_conclusion.valid_until": "2027-03-01",
        "vkk_conclusion.recommends_home_schooling": "on",
        "documents": ["application", "vkk_conclusion", "identity_document"],
        "attachments[1].kind": "application",
        "attachments[1].filename": "z.png",
        "attachments[1].content_type": "image/png",
        "attachments[1].size": "2048",
        "attachments[0].kind": "vkk_conclusion",
        "attachments[0].filename": "vkk.pdf",
        "attachments[0].content_type": "application/pdf",
        "attachments[0].size": "123456",
    }
    loaded = form("service_delivery", "service_requested")
    data = coerce_submission(loaded, raw)
    assert data["child"] == {"full_name": "Ахметова Айгерим", "iin": "150402601230", "birth_date": "2015-04-02"}
    assert "phone" not in data["applicant"]
    assert data["vkk_conclusion"]["recommends_home_schooling"] is True
    assert data["vkk_conclusion"]["issued_on"] == "2026-03-01"
    assert data["documents"] == ["application", "vkk_conclusion", "identity_document"]
    assert [a["size"] for a in data["attachments"]] == [123456, 2048]
    assert validate_submission(loaded, data) == {}


def test_bracketed_multi_values_and_a_single_item_list() -> None:
    loaded = form("service_delivery", "service_requested")
    assert coerce_submission(loaded, {"documents[]": ["application", ""]}) == {"documents": ["application"]}
    assert coerce_submission(loaded, {"documents": "application"}) == {"documents": ["application"]}
    assert coerce_submission(loaded, {"documents[0]": "application"}) == {"documents": ["application"]}


def test_blank_rows_are_dropped_and_later_rows_close_up() -> None:
    loaded = form("service_delivery", "organise_home_schooling")
    raw = {
        "teachers[0].full_name": "",
        "teachers[0].subject": "",
        "teachers[1].full_name": "Сейткали Дина",
        "teachers[1].subject": "Математика",
    }
    assert coerce_submission(loaded, raw) == {"teachers": [{"full_name": "Сейткали Дина", "subject": "Математика"}]}


def test_odd_keys_never_raise_and_are_reported_as_unknown() -> None:
    loaded = form("service_delivery", "issue_admission_order")
    raw: dict[str, str | list[str]] = {
        "order_number": "47-ө",
        "order_date": "2026-03-27",
        "a..b": "1",
        "x[y]": "2",
        "[0]": "3",
        "order_number.extra": "4",
        "two": ["1", "2"],
    }
    data = coerce_submission(loaded, raw)
    assert data["a..b"] == "1" and data["x[y]"] == "2" and data["[0]"] == "3"
    assert data["two"] == ["1", "2"]
    found = validate_submission(loaded, data)
    assert {path for path, messages in found.items() if messages[0].code == "unknown_field"} == {
        "a..b",
        "x[y]",
        "[0]",
        "two",
    }
    assert "order_number" in found  # turned into an object by "order_number.extra": not text any more


def test_paths_round_trip() -> None:
    assert parse_path("teachers[0].subject") == ["teachers", 0, "subject"]
    assert format_path(["teachers", 0, "subject"]) == "teachers[0].subject"
    assert parse_path("documents[]") == ["documents", -1]
    assert parse_path("a[]b") is None
    assert parse_path("") is None


# --- loading, caching and broken files ---------------------------------------------------------------


def write_form(forms_dir: Path, schema: dict[str, Any], task_id: str = "t") -> Path:
    path = forms_dir / "p" / f"{task_id}.schema.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return path


SMALL = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Форма",
    "x-labels": {"kk": "Нысан", "ru": "Форма", "en": "Form"},
    "type": "object",
    "properties": {
        "a": {"type": "string", "title": "А", "x-labels": {"kk": "А", "ru": "А", "en": "A"}},
        "b": {"type": "integer", "title": "Б", "x-labels": {"kk": "Б", "ru": "Б", "en": "B"}},
    },
}


def test_a_form_is_cached_until_its_file_changes(tmp_path: Path) -> None:
    path = write_form(tmp_path, SMALL)
    first = load_form(tmp_path, "p", "t")
    assert load_form(tmp_path, "p", "t") is first
    changed = {**SMALL, "required": ["a"]}
    path.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = load_form(tmp_path, "p", "t")
    assert second is not first
    assert second.schema["required"] == ["a"]


def test_ui_hints_set_the_order_of_fields(tmp_path: Path) -> None:
    write_form(tmp_path, SMALL)
    assert [f.name for f in load_form(tmp_path, "p", "t").fields()] == ["a", "b"]
    (tmp_path / "p" / "t.ui.json").write_text(json.dumps({"order": ["b"]}), encoding="utf-8")
    loaded = load_form(tmp_path, "p", "t")
    assert loaded.ui == {"order": ["b"]}
    assert [f.name for f in loaded.fields()] == ["b", "a"]


def test_a_missing_form_or_a_path_in_an_id_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no form for task 'nothing' of process 'p'"):
        load_form(tmp_path, "p", "nothing")
    with pytest.raises(NotFound, match="task id"):
        load_form(FORMS, "service_delivery", "../proactive_offer/follow_up_silence")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "objekt"}), "not a valid JSON Schema"),
        (json.dumps({**SMALL, "properties": {"e": {"type": "string", "format": "email"}}}), "unknown format 'email'"),
        (json.dumps({**SMALL, "x-rules": [{"rule": "be_nice"}]}), "x-rules #1: 'rule' must be one of"),
        (
            json.dumps({**SMALL, "x-rules": [{"rule": "date_not_before", "field": "a", "other": "c"}]}),
            r"x-rules #1 \(date_not_before\): no field 'c'",
        ),
        (json.dumps({**SMALL, "x-rules": [{"rule": "within_vkk_validity", "fields": []}]}), "'fields' must be"),
    ],
)
def test_a_broken_form_names_its_file_and_fault(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p" / "t.schema.json"
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DomainError, match=message) as caught:
        load_form(tmp_path, "p", "t")
    assert str(path) in str(caught.value)


def test_control_characters_and_lone_surrogates_are_refused_by_field() -> None:
    """They would break storage (PostgreSQL refuses NUL) and the issued documents."""
    data = json.loads(json.dumps(VALID[("service_delivery", "service_requested")]))
    data["child"]["full_name"] = "Ахметов\x00Нұрлан"
    data["applicant"]["full_name"] = "Ахметова \ud800"
    found = validate_submission(form("service_delivery", "service_requested"), data)
    assert [m.code for m in found["child.full_name"]] == ["bad_characters"]
    assert [m.code for m in found["applicant.full_name"]] == ["bad_characters"]
    assert "управляющие символы" in found["child.full_name"][0].text("ru")


def test_a_choice_the_cases_diagram_version_cannot_carry_out_is_refused() -> None:
    check = form("service_delivery", "check_portal_request")
    corrected = {"decision": "correct", "corrections": {"documents": ["application"], "note": "сверено"}}
    context = {"request": {}, "package_problems": []}
    old_version = frozenset({"check_portal_request", "portal_decision"})  # before corrections existed
    found = validate_submission(check, corrected, context, old_version)
    assert [m.code for m in found["decision"]] == ["not_in_this_version"]
    assert "начато на прежней версии схемы" in found["decision"][0].text("ru")
    assert validate_submission(check, corrected, context, old_version | {"apply_corrections"}) == {}
    head = form("service_delivery", "determine_class_and_language")
    refusal = {"head_decision": "refuse", "head_reasons": [{"code": "not_recommended", "note": "ВКК"}]}
    assert [m.code for m in validate_submission(head, refusal, {}, old_version)["head_decision"]] == [
        "not_in_this_version"]


def test_a_malformed_value_needs_element_rule_is_refused_at_load(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"decision": {"type": "string", "enum": ["a", "b"]}},
              "x-rules": [{"rule": "value_needs_element", "field": "decision", "values": {"c": "x"}}]}
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "task.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(DomainError, match="'c' is not a value field 'decision' can take"):
        load_form(tmp_path, "demo", "task")
