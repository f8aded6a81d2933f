"""Issued documents: every kind in Kazakh and Russian, the refusal's reasons and rights, escaping,
PDF output, storage on SQLite and PostgreSQL, and the provider settings file."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import inspect

from service.application import documents as documents_module
from service.application.documents import document_pdf, issue_document
from service.application.organisations import parse_registry
from service.application.runtime import Signatory
from service.bootstrap import Services
from service.config import Settings
from service.documents import ProviderFileError, ProviderInfo, document_title, render_html, render_pdf
from service.domain.documents import DOCUMENT_KINDS
from service.domain.errors import NotFound
from service.domain.organisations import Organisation
from service.domain.package import describe_problem, ground_text
from service.persistence.database import Database
from service.persistence.document_repository import DocumentRepository
from service.persistence.uow import UnitOfWork

from .support import PROJECT, REGISTRY, SCHOOL_25, SCHOOL_112, SYSTEM, at, person

NOW = at("2026-03-23T10:15+05:00")
CASE = "APP-2026-000123"
HOSTILE = "<script>alert(1)</script>"

REQUEST: dict[str, Any] = {
    "application_number": CASE,
    "channel": "office",
    "received_at": "2026-03-20T17:00:00+05:00",
    "applicant": {"full_name": "Қасымова Әйгерім Нұрланқызы", "iin": "850101400012", "phone": "+77011234567",
                  "relation": "parent"},
    "child": {"full_name": "Қасымов Ұлан Ерғалиұлы", "iin": "150402500013", "birth_date": "2015-04-02"},
    "vkk_conclusion": {"number": "ВКК-77/2026", "issued_on": "2026-03-01", "valid_until": "2027-03-01",
                       "recommends_home_schooling": True},
    "documents": ["application", "vkk_conclusion", "identity_document"],
}
REASONS: list[dict[str, str]] = [
    {"code": "missing_document", "document": "vkk_conclusion", "ground": "law_art19"},
    {"code": "invalid_iin", "field": "child.iin", "ground": "law_art19_1_p2"},
    {"code": "unreliable_data", "note": "ДКК қорытындысының нөмірі тізілімде жоқ"},
]
ORDER: dict[str, Any] = {
    "grade": 5, "language": "kk",
    "teachers": [{"full_name": "Әбілқасымова Гүлжан Серікқызы", "subject": "Қазақ тілі мен әдебиеті"},
                 {"full_name": "Петров Иван Сергеевич", "subject": "Математика"}],
    "weekly_hours": 8, "curriculum_reference": "Жеке оқу жоспары № 12",
    "period_start": "2026-03-25", "period_end": "2027-03-01", "order_number": "45-О", "order_date": "2026-03-24",
}
#: A complaint (docs/complaint-review.md) by the same parent; complaint documents are made from it.
COMPLAINT: dict[str, Any] = {
    "complaint_number": "COMP-2026-0007", "channel": "paper", "addressee": "local_executive_body",
    "registered_at": "2026-03-19T10:00:00+05:00",
    "complainant": {"full_name": REQUEST["applicant"]["full_name"], "address": "Алматы қ., Абай даңғылы, 1"},
    "appealed": {"subject": "decision", "description": "Бас тарту", "service_case": CASE},
    "against_provider": True, "text": "Бас тартуды жоюды сұраймын.",
}
COMPLAINT_PARTICULARS: dict[str, dict[str, Any]] = {
    "complaint_acknowledgement": {"review_days": 5, "review_deadline": "2026-03-31T18:30:00+05:00"},
    "favourable_act_notice": {"act_reference": "Бұйрық № 12-ө", "act_summary": ""},
    "forwarding_letter": {},
    "extension_notice": {"extension_days": 5, "reasons": "Тексеру", "review_deadline": "2026-04-07T18:30:00+05:00"},
    "complaint_decision": {"decision": "rejected", "reasons": "Негізсіз", "late": False},
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "receipt": {"request": REQUEST},
    "refusal": {"request": REQUEST, "reasons": REASONS},
    "acceptance_notification": {"request": {**REQUEST, "channel": "portal", "documents": ["application",
                                                                                         "vkk_conclusion"]}},
    "admission_order": {"request": REQUEST, **ORDER},
    **{kind: {"complaint": COMPLAINT, **particulars} for kind, particulars in COMPLAINT_PARTICULARS.items()},
}
#: How each language writes the issue date of NOW in the running footer.
ISSUED = {"kk": "2026 жылғы 23 наурыз, 10:15", "ru": "23 марта 2026 года, 10:15"}


@pytest.fixture(scope="module")
def provider() -> ProviderInfo:
    """The letterhead of school № 25 as the demo registry describes it."""
    [row] = [row for row in parse_registry(REGISTRY.read_bytes()) if row["bin"] == SCHOOL_25]
    return ProviderInfo.from_organisation(Organisation(id=1, **row))


def _render(kind: str, language: str, provider: ProviderInfo, **changes: Any) -> str:
    context = {**PAYLOADS[kind], "case_number": CASE, "issued_at": NOW, "provider": provider, **changes}
    return render_html(kind, language, context)


# --- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["kk", "ru"])
@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_every_kind_renders_in_both_languages_with_its_essentials(
    kind: str, language: str, provider: ProviderInfo
) -> None:
    html = _render(kind, language, provider)
    assert html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in html
    assert str(escape(document_title(kind, language))) in html
    assert CASE in html
    assert ISSUED[language] in html
    assert str(escape(provider.name(language))) in html and provider.bin in html
    assert REQUEST["applicant"]["full_name"] in html
    assert "@page" in html and "A4" in html and "DejaVu Sans" in html
    assert "http://" not in html and "https://" not in html  # no external assets
    other = "ru" if language == "kk" else "kk"
    assert str(escape(provider.name(other))) not in html


def test_titles_use_the_glossary_wording() -> None:
    assert document_title("receipt", "kk") == "Құжаттардың қабылданғаны туралы қолхат"
    assert document_title("refusal", "ru") == "Мотивированный отказ в дальнейшем рассмотрении заявления"
    assert document_title("acceptance_notification", "kk") == "Құжаттарды қабылдау туралы хабарлама"
    assert document_title("admission_order", "ru") == (
        "Приказ о зачислении на индивидуальное бесплатное обучение на дому"
    )


def test_receipt_lists_the_documents_accepted_and_the_time_received(provider: ProviderInfo) -> None:
    kk = _render("receipt", "kk", provider)
    ru = _render("receipt", "ru", provider)
    assert "2026 жылғы 20 наурыз, 17:00" in kk and "20 марта 2026 года, 17:00" in ru
    for text in ("<li>Өтініш</li>", "<li>ДКК қорытындысы</li>", "қайтарылды: жеке басын куәландыратын құжат.",
                 "Кеңсе қызметкері"):
        assert text in kk
    for text in ("<li>Заявление</li>", "<li>Заключение ВКК</li>", "Сотрудник канцелярии",
                 "возвращен услугополучателю: документ, удостоверяющий личность."):
        assert text in ru
    assert "<li>Документ, удостоверяющий личность</li>" not in ru  # shown and returned, not accepted
    assert "<li>Жеке басын куәландыратын құжат</li>" not in kk


def test_a_time_received_in_utc_is_printed_in_kazakhstan_time(provider: ProviderInfo) -> None:
    html = _render("receipt", "ru", provider, request={**REQUEST, "received_at": "2026-03-20T12:00:00+00:00"})
    assert "20 марта 2026 года, 17:00" in html


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_refusal_states_every_reason_with_its_ground_and_the_applicants_rights(
    language: str, provider: ProviderInfo
) -> None:
    html = _render("refusal", language, provider)
    grounds = {"law_art19": 0, "law_art19_1_p2": 0}
    for reason in REASONS:
        problem = {key: value for key, value in reason.items() if key != "note"}
        assert str(escape(describe_problem(problem, language, with_ground=False))) in html
    # missing_document cites Art. 19; invalid_iin and the clerk's unreliable_data (no ground given) Art. 19-1 p.2
    for ground in grounds:
        grounds[ground] = html.count(str(escape(ground_text(ground, language))))
    assert grounds == {"law_art19": 1, "law_art19_1_p2": 2}
    assert str(escape(REASONS[2]["note"])) in html
    assert html.count('<div class="reason">') == len(REASONS)
    if language == "kk":
        assert "Заңының 19-1-бабының 3-тармағы" in html and "қайта жүгінуге құқылысыз" in html
        assert "Қағидалардың 9-тармағына" in html and "бес жұмыс күні" in html and "он бес жұмыс күні" in html
        assert "сотқа жүгінуге құқылысыз (Қағидалардың 10-тармағы)" in html
        assert "2026 жылғы 20 наурыздағы № APP-2026-000123" in html
    else:
        assert "пункт 3 статьи 19-1 Закона" in html and "повторно обратиться" in html
        assert "пунктом 9" in html and "пяти рабочих дней" in html and "пятнадцати рабочих дней" in html
        assert "обратиться в суд" in html and "(пункт 10 Правил)" in html
        assert "№ APP-2026-000123 от 20 марта 2026 года" in html
    assert provider.head_name in html  # the responsible official


def test_a_refusal_without_reasons_or_with_an_unknown_ground_is_not_issued(provider: ProviderInfo) -> None:
    with pytest.raises(ValueError, match="without reasons"):
        _render("refusal", "kk", provider, reasons=[])
    with pytest.raises(ValueError, match="law_art99"):
        _render("refusal", "ru", provider, reasons=[{"code": "missing_document", "document": "application",
                                                       "ground": "law_art99"}])


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_admission_order_carries_its_particulars(language: str, provider: ProviderInfo) -> None:
    html = _render("admission_order", language, provider)
    assert "№ 45-О" in html
    assert ("2026 жылғы 24 наурыз" if language == "kk" else "24 марта 2026 года") in html
    assert "25.03.2026 – 01.03.2027" in html
    assert ("<th>Сынып</th><td>5</td>" if language == "kk" else "<th>Класс</th><td>5</td>") in html
    assert ("қазақ тілі" if language == "kk" else "казахский язык") in html
    for teacher in ORDER["teachers"]:
        assert teacher["full_name"] in html and teacher["subject"] in html
    assert "Жеке оқу жоспары № 12" in html and ">8<" in html
    assert REQUEST["child"]["full_name"] in html and REQUEST["child"]["iin"] in html
    assert ("БҰЙЫРАМЫН" if language == "kk" else "ПРИКАЗЫВАЮ") in html


def test_an_order_without_its_number_is_not_issued(provider: ProviderInfo) -> None:
    with pytest.raises(ValueError, match="order_number"):
        _render("admission_order", "kk", provider, order_number="")


def test_unknown_kind_or_language_is_a_clear_error(provider: ProviderInfo) -> None:
    with pytest.raises(ValueError, match="unknown document kind 'certificate'.*receipt"):
        render_html("certificate", "kk", {})
    with pytest.raises(ValueError, match="unknown document language 'en'.*kk, ru"):
        render_html("receipt", "en", {})
    with pytest.raises(ValueError, match="lacks provider"):
        render_html("receipt", "kk", {"case_number": CASE, "issued_at": NOW, "request": REQUEST})


@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_user_text_is_always_escaped(kind: str, provider: ProviderInfo) -> None:
    request = {**REQUEST, "application_number": HOSTILE, "channel": HOSTILE,
               "applicant": {**REQUEST["applicant"], "full_name": HOSTILE, "phone": HOSTILE},
               "child": {**REQUEST["child"], "full_name": HOSTILE}, "documents": [HOSTILE],
               "vkk_conclusion": {**REQUEST["vkk_conclusion"], "number": HOSTILE}}
    changes: dict[str, Any] = {"request": request, "official": {"full_name": HOSTILE, "position": HOSTILE}}
    if kind == "refusal":
        changes["reasons"] = [{"code": "unreliable_data", "note": HOSTILE + '" onload="x'}]
    if kind == "admission_order":
        changes.update(teachers=[{"full_name": HOSTILE, "subject": HOSTILE}], curriculum_reference=HOSTILE,
                       order_number=HOSTILE, grade=HOSTILE)
    for language in ("kk", "ru"):
        html = _render(kind, language, provider, case_number=HOSTILE, **changes)
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert '" onload="' not in html


# --- PDF --------------------------------------------------------------------------------------


def _pdf_text(pdf: bytes, tmp_path: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize("kind", ["refusal", "admission_order"])
def test_pdf_is_an_a4_document_with_kazakh_text(kind: str, provider: ProviderInfo, tmp_path: Path) -> None:
    pdf = render_pdf(_render(kind, "kk", provider))
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 5_000 < len(pdf) < 200_000
    text = _pdf_text(pdf, tmp_path)
    if text is None:
        return  # poppler-utils not installed: the size and markers above are all we can check
    flat = " ".join(text.split())
    assert CASE in flat
    assert "Қасымова Әйгерім Нұрланқызы" in flat  # ә, қ, ұ, ң, і survive as text, not boxes
    assert document_title(kind, "kk") in flat or "БҰЙРЫҚ" in flat
    info = subprocess.run(["pdfinfo", str(tmp_path / "document.pdf")], check=True, capture_output=True,
                          text=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info or "(A4)" in info
    fonts = subprocess.run(["pdffonts", str(tmp_path / "document.pdf")], check=True, capture_output=True,
                           text=True).stdout
    assert "DejaVu-Sans" in fonts


def test_pdf_never_fetches_anything(provider: ProviderInfo, tmp_path: Path) -> None:
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = _render("receipt", "ru", provider).replace(
        "</head>", f'<link rel="stylesheet" href="file://{secret}"><img src="http://127.0.0.1:9/x.png"></head>'
    )
    assert render_pdf(html).startswith(b"%PDF-")  # the fetcher refuses both; rendering still succeeds


# --- storage ----------------------------------------------------------------------------------


@pytest.fixture
def database(product: Services) -> Database:
    """The test database with the demo registry imported (the ``product`` fixture disposes of it)."""
    return product.database


def _organisation(database: Database, bin_: str = SCHOOL_25) -> Organisation:
    with UnitOfWork(database, write=False) as uow:
        found = uow.organisations.by_bin(bin_)
    assert found is not None
    return found


def _case(database: Database, organisation: Organisation | None = None) -> int:
    owner = organisation or _organisation(database)
    with UnitOfWork(database) as uow:
        uow.diagrams.ensure("d" * 64, "service_delivery", "service_delivery.bpmn", b"<bpmn/>", NOW)
        case = uow.instances.add(process_id="service_delivery", business_key=CASE, diagram_hash="d" * 64,
                                 state="{}", serializer_version="1.5", status="running", now=NOW,
                                 organisation_id=owner.id)
        uow.commit()
    return case


def test_issued_documents_are_stored_in_both_languages_and_read_back(database: Database) -> None:
    school = _organisation(database)
    case = _case(database, school)
    with UnitOfWork(database) as uow:
        ids = issue_document(uow, instance_id=case, business_key=CASE, kind="refusal",
                             payload=PAYLOADS["refusal"], letterhead=school, signatory=None, now=NOW)
        uow.commit()
    assert len(ids) == 2
    with UnitOfWork(database, write=False) as uow:
        listed = DocumentRepository(uow.session, False).for_instance(case)
        stored = [DocumentRepository(uow.session, False).get(i) for i in ids]
    assert [(d.kind, d.language) for d in listed] == [("refusal", "kk"), ("refusal", "ru")]
    assert [d.id for d in listed] == ids
    assert listed[0].title == f"Өтінішті одан әрі қараудан дәлелді бас тарту № {CASE}"
    assert listed[1].title == f"Мотивированный отказ в дальнейшем рассмотрении заявления № {CASE}"
    assert all(d.business_key == CASE and d.instance_id == case and not d.has_pdf for d in listed)
    assert all(d.created_at == NOW and d.created_at.utcoffset() == NOW.utcoffset() for d in listed)
    for info, document in zip(listed, stored, strict=True):
        assert document is not None and document.pdf is None
        assert document.html == render_html("refusal", info.language, {
            **PAYLOADS["refusal"], "case_number": CASE, "issued_at": NOW,
            "provider": ProviderInfo.from_organisation(school)})
        assert info.content_hash == document.content_hash == hashlib.sha256(document.html.encode()).hexdigest()
    with UnitOfWork(database, write=False) as uow:
        assert DocumentRepository(uow.session, False).get(10_000) is None
        assert DocumentRepository(uow.session, False).for_instance(case + 1) == []


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_a_document_carries_the_issuing_schools_letterhead_and_the_official_who_acted(
    database: Database, language: str
) -> None:
    school, other = _organisation(database, SCHOOL_112), _organisation(database, SCHOOL_25)
    case = _case(database, school)
    signatory = Signatory("Омарова Сәуле Маратқызы", "Директордың орынбасары", "Заместитель директора")
    with UnitOfWork(database) as uow:
        ids = issue_document(uow, instance_id=case, business_key=CASE, kind="refusal",
                             payload=PAYLOADS["refusal"], letterhead=school, signatory=signatory, now=NOW)
        uow.commit()
    with UnitOfWork(database, write=False) as uow:
        documents = {d.language: d for d in (uow.documents.get(i) for i in ids) if d is not None}
    html = documents[language].html
    assert str(escape(school.name(language))) in html and school.bin in html and school.phone in html
    assert str(escape(other.name(language))) not in html and other.bin not in html
    assert signatory.full_name in html
    assert (signatory.position_kk if language == "kk" else signatory.position_ru) in html
    assert school.head_name not in html  # the official who acted signs, not the head by default


def test_without_a_signatory_the_head_of_the_issuing_school_signs(database: Database) -> None:
    school = _organisation(database, SCHOOL_112)
    case = _case(database, school)
    with UnitOfWork(database) as uow:
        [kk, ru] = issue_document(uow, instance_id=case, business_key=CASE, kind="refusal",
                                  payload=PAYLOADS["refusal"], letterhead=school, signatory=None, now=NOW)
        uow.commit()
    with UnitOfWork(database, write=False) as uow:
        for document_id in (kk, ru):
            document = uow.documents.get(document_id)
            assert document is not None and school.head_name in document.html


def test_issuing_belongs_to_the_callers_transaction(database: Database) -> None:
    case = _case(database)
    with UnitOfWork(database) as uow:
        issue_document(uow, instance_id=case, business_key=CASE, kind="receipt", payload=PAYLOADS["receipt"],
                       letterhead=_organisation(database), signatory=None, now=NOW)
        # not committed: the case's use case failed after issuing
    with UnitOfWork(database, write=False) as uow:
        assert DocumentRepository(uow.session, False).for_instance(case) == []


def test_pdf_is_rendered_once_then_reused(product: Services, database: Database, monkeypatch) -> None:
    case = _case(database)
    with UnitOfWork(database) as uow:
        kk, ru = issue_document(uow, instance_id=case, business_key=CASE, kind="admission_order",
                                payload=PAYLOADS["admission_order"], letterhead=_organisation(database),
                                signatory=None, now=NOW)
        uow.commit()
    head = person(product, "head")
    first = document_pdf(product.uow, product.runtime, product.signer, actor=head, document_id=kk)
    assert first.file_name == f"{CASE}_admission_order_kk.pdf"
    assert first.pdf.startswith(b"%PDF-") and b"/ETSI.CAdES.detached" in first.pdf  # kept signed

    def no_second_rendering(html: str) -> bytes:
        raise AssertionError("the stored PDF should have been reused")

    monkeypatch.setattr(documents_module, "render_pdf", no_second_rendering)
    assert document_pdf(product.uow, product.runtime, product.signer, actor=SYSTEM, document_id=kk) == first
    with UnitOfWork(database) as uow:
        listed = {d.id: (d.has_pdf, d.pdf_sha256) for d in DocumentRepository(uow.session, False).for_instance(case)}
    assert listed == {kk: (True, first.sha256), ru: (False, None)}
    with pytest.raises(NotFound, match="no document 999"):
        document_pdf(product.uow, product.runtime, product.signer, actor=SYSTEM, document_id=999)


def test_a_document_of_another_schools_case_is_not_found(product: Services, database: Database) -> None:
    case = _case(database)  # school № 25's
    with UnitOfWork(database) as uow:
        [kk, _] = issue_document(uow, instance_id=case, business_key=CASE, kind="receipt",
                                 payload=PAYLOADS["receipt"], letterhead=_organisation(database), signatory=None,
                                 now=NOW)
        uow.commit()
    stranger = person(product, "head", "office_clerk", bin_=SCHOOL_112)
    with pytest.raises(NotFound, match=f"no document {kk}"):
        document_pdf(product.uow, product.runtime, product.signer, actor=stranger, document_id=kk)
    with UnitOfWork(database, write=False) as uow:
        assert DocumentRepository(uow.session, False).get(kk).pdf is None  # nothing rendered for them


def test_the_first_stored_pdf_wins(product: Services, database: Database) -> None:
    case = _case(database)
    with UnitOfWork(database) as uow:
        [kk, _] = issue_document(uow, instance_id=case, business_key="APP/2026 №7", kind="receipt",
                                 payload=PAYLOADS["receipt"], letterhead=_organisation(database), signatory=None,
                                 now=NOW)
        repository = DocumentRepository(uow.session, False)
        assert repository.set_pdf(kk, b"%PDF-first") is True
        assert repository.set_pdf(kk, b"%PDF-second") is False
        uow.commit()
    kept = document_pdf(product.uow, product.runtime, product.signer, actor=SYSTEM, document_id=kk)
    assert (kept.file_name, kept.pdf) == ("APP_2026_7_receipt_kk.pdf", b"%PDF-first")
    assert kept.sha256 == hashlib.sha256(b"%PDF-first").hexdigest()


def test_documents_table_is_indexed_by_case(database: Database) -> None:
    indexes = {tuple(ix["column_names"]) for ix in inspect(database.write_engine).get_indexes("documents")}
    assert ("instance_id",) in indexes and ("business_key",) in indexes


# --- provider settings ------------------------------------------------------------------------


def test_the_sample_provider_file_loads() -> None:
    provider = ProviderInfo.load(PROJECT / "config" / "provider.toml")
    assert provider.name("kk").startswith("Алматы қаласы") and "Общеобразовательная школа" in provider.name("ru")
    assert provider.bin == "050140003125" and provider.head_name and provider.phone
    assert provider.address("kk") != provider.address("ru")
    assert Settings.from_env({}, base=PROJECT).provider_file == PROJECT / "config" / "provider.toml"
    assert Settings.from_env({"HOMESCHOOL_PROVIDER_FILE": "/etc/school.toml"}, base=PROJECT).provider_file == Path(
        "/etc/school.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[provider]\nname_kk = "x"\n', "name_ru is missing"),
        ("name_kk = 'x'\n", "there is no \\[provider\\] table"),
        ("[provider\n", "not valid TOML"),
    ],
)
def test_a_wrong_provider_file_names_the_problem(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "provider.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProviderFileError, match=message):
        ProviderInfo.load(path)


def test_provider_bin_is_checked(tmp_path: Path) -> None:
    sample = (PROJECT / "config" / "provider.toml").read_text(encoding="utf-8")
    path = tmp_path / "provider.toml"
    path.write_text(sample.replace('bin = "050140003125"', 'bin = "050140003124"'), encoding="utf-8")
    with pytest.raises(ProviderFileError, match="bin has a wrong check digit"):
        ProviderInfo.load(path)
    path.write_text(sample.replace('bin = "050140003125"', 'bin = "0501400031"'), encoding="utf-8")
    with pytest.raises(ProviderFileError, match="bin must be 12 digits"):
        ProviderInfo.load(path)
    path.write_text(sample + 'website = "x"\n', encoding="utf-8")
    with pytest.raises(ProviderFileError, match="unknown key.*website"):
        ProviderInfo.load(path)


def test_a_missing_provider_file_says_which_setting_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ProviderFileError, match="HOMESCHOOL_PROVIDER_FILE"):
        ProviderInfo.load(tmp_path / "nowhere.toml")
