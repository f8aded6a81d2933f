"""Forms that help, through the web client: a refusal of the diagram is a field error with nothing lost,
a task a colleague has taken opens read-only with their name, rows are added without losing anything,
every bad file is named and files are kept across a failed submit."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from pathlib import Path

from flask.testing import FlaskClient

from service.application.demo import DemoAccount, ensure_demo_accounts
from service.application.task_facts import check_contexts
from service.application.validation import validate_files
from service.bootstrap import Services
from service.engine.library import DiagramLibrary

from .support import DEPARTMENT, PROJECT, SCHOOL_25
from .test_web import INTAKE_FORM, _client, _submit, _task_ids, product, sign_in, web

__all__ = ["product", "web"]

COMPLAINT = {
    "channel": "electronic", "addressee": "local_executive_body", "complainant.full_name": "Ахметова Айгүл",
    "complainant.email": "aigul@example.kz", "appealed.subject": "decision",
    "appealed.description": "Отказ в приеме документов", "against_provider": "true",
    "text": "Прошу пересмотреть отказ: документы были поданы полностью.", "addressee_bin": DEPARTMENT,
}


def forwarded_complaint(product: Services) -> tuple[FlaskClient, str]:
    """A complaint registered by gymnasium № 3's clerk and forwarded by its head: the reviewer's task."""
    clerk, head, reviewer = _client(product), _client(product), _client(product)
    sign_in(clerk, "clerk3")
    assert clerk.post("/intake/complaint", data=COMPLAINT).status_code == 302
    sign_in(head, "head3")
    [provider_task] = _task_ids(head.get("/tasks?role=appealed_official").data)
    assert head.post(f"/tasks/{provider_task}", data={"decision": "forward"}).status_code == 302
    sign_in(reviewer, "reviewer")
    [review_task] = _task_ids(reviewer.get("/tasks").data)
    return reviewer, review_task


def test_a_second_extension_over_ten_days_is_a_field_error_and_the_reasons_are_kept(product: Services) -> None:
    reviewer, review_task = forwarded_complaint(product)
    first = reviewer.post(f"/tasks/{review_task}", data={
        "decision": "extend", "extension_days": "5", "reasons": "Запрошены материалы у школы."})
    assert first.status_code == 302
    [notify] = _task_ids(reviewer.get("/tasks").data)
    assert reviewer.post(f"/tasks/{notify}", data={}).status_code == 302
    [again] = _task_ids(reviewer.get("/tasks").data)
    reasons = "Школа не представила дело в срок; повторный запрос направлен."
    refused = reviewer.post(f"/tasks/{again}", data={"decision": "extend", "extension_days": "6", "reasons": reasons})
    html = refused.data.decode()
    assert refused.status_code == 422
    assert reasons in html  # nothing typed is lost
    assert 'id="f-extension-days-error"' in html
    assert ("Срок рассмотрения жалобы можно продлить всего не более чем на 10 рабочих дней: "
            "уже продлён на 5, запрошено ещё 6.") in html  # the diagram's own refusal, in Russian
    assert "Срок рассмотрения можно продлить не более чем на десять рабочих дней в сумме" in html
    assert 'value="6"' in html and '<button type="submit" class="primary"' in html  # the form again


# --- the case beside the task ------------------------------------------------------------------------


def facts_of(html: str) -> dict[str, str]:
    """The facts section of a task page: label → its text (tags dropped, spaces collapsed)."""
    found = re.search(r'<section class="facts".*?</section>', html, re.S)
    if found is None:
        return {}
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd data-fact>(.*?)</dd>", found.group(0), re.S)
    return {label.strip(): " ".join(re.sub(r"<[^>]+>", " ", text).split()) for label, text in pairs}


def _task_of(client: FlaskClient, query: str = "") -> str:
    [task_id] = _task_ids(client.get(f"/tasks{query}").data)
    return task_id


TEACHERS = {
    "teachers[0].full_name": "Серікова Алма Төлегенқызы", "teachers[0].subject": "Математика",
    "teachers[1].full_name": "Ли Ольга Сергеевна", "teachers[1].subject": "Русский язык",
    "weekly_hours": "8", "curriculum_reference": "ИУП № 14 от 01.04.2026",
    "period_start": "2026-04-06", "period_end": "2026-12-25",
}


def test_each_task_shows_the_facts_its_decision_depends_on(product: Services) -> None:
    head, specialist, clerk = _client(product), _client(product), _client(product)
    _submit(product)
    sign_in(head, "head")
    decide = _task_of(head)
    facts = facts_of(head.get(f"/tasks/{decide}").data.decode())
    assert "№ ВКК-17" not in facts.get("Заключение ВКК", "")  # shown as its fields, labelled
    assert "ВКК-17" in facts["Заключение ВКК"] and "1 марта 2027" in facts["Заключение ВКК"]
    assert facts["Ребёнок"].startswith("Фамилия, имя, отчество (при его наличии): Ахметов Нұрлан")
    assert head.post(f"/tasks/{decide}", data={"grade": "7", "language": "kk"}).status_code == 302

    sign_in(specialist, "specialist")
    organise = _task_of(specialist)
    facts = facts_of(specialist.get(f"/tasks/{organise}").data.decode())
    assert facts["Класс (определён руководителем)"] == "7"
    assert facts["Язык обучения (определён руководителем)"] == "казахский"
    assert specialist.post(f"/tasks/{organise}", data=TEACHERS).status_code == 302

    order = _task_of(head)
    facts = facts_of(head.get(f"/tasks/{order}").data.decode())
    assert facts["Учителя"] == ("Фамилия, имя, отчество (при его наличии) Предмет Серікова Алма Төлегенқызы "
                                "Математика Ли Ольга Сергеевна Русский язык")
    assert (facts["Начало обучения на дому"], facts["Окончание обучения на дому"]) == (
        "6 апреля 2026 г.", "25 декабря 2026 г.")
    assert facts["Индивидуальный учебный план (реквизиты)"] == "ИУП № 14 от 01.04.2026"
    assert (facts["Класс"], facts["Язык обучения"]) == ("7", "казахский")

    _submit(product, number="APP-P", channel="portal")
    sign_in(clerk, "clerk")
    check = _task_of(clerk, "?role=office_clerk")
    facts = facts_of(clerk.get(f"/tasks/{check}").data.decode())
    assert facts["Представленные документы"] == "заявление заключение ВКК"
    assert "ВКК-17" in facts["Заключение ВКК"]
    assert facts["Приложенные файлы"] == "Вложений нет"


def test_the_complaint_text_is_beside_the_appealed_officials_and_the_reviewers_task(product: Services) -> None:
    clerk, head = _client(product), _client(product)
    sign_in(clerk, "clerk3")
    assert clerk.post("/intake/complaint", data=COMPLAINT).status_code == 302
    sign_in(head, "head3")
    provider_task = _task_of(head, "?role=appealed_official")
    facts = facts_of(head.get(f"/tasks/{provider_task}").data.decode())
    assert facts["Текст жалобы"] == COMPLAINT["text"]
    assert "Отказ в приеме документов" in facts["Что обжалуется"]
    assert head.post(f"/tasks/{provider_task}", data={"decision": "forward"}).status_code == 302
    reviewer = _client(product)
    sign_in(reviewer, "reviewer")
    facts = facts_of(reviewer.get(f"/tasks/{_task_of(reviewer)}").data.decode())
    assert facts["Текст жалобы"] == COMPLAINT["text"]
    assert "Ахметова Айгүл" in facts["Заявитель жалобы"]


def _registered_with_scan(product: Services) -> None:
    clerk = _client(product)
    sign_in(clerk, "clerk")
    scan = b"%PDF-1.4\n% a scanned VKK conclusion\n%%EOF\n"
    form = dict(INTAKE_FORM, **{"child.full_name": "Ахметов Нұрлан",
                                "upload.vkk_conclusion": (io.BytesIO(scan), "vkk-17.pdf")})
    assert clerk.post("/intake/application", data=form, content_type="multipart/form-data").status_code == 302


def test_the_vkk_scan_beside_the_heads_task_only_for_roles_that_need_medical_data(product: Services) -> None:
    _registered_with_scan(product)
    head = _client(product)
    sign_in(head, "head")
    task_id = _task_of(head)
    facts = facts_of(head.get(f"/tasks/{task_id}").data.decode())
    assert facts["Скан заключения ВКК"].startswith("vkk-17.pdf")

    access = product.runtime.access["service_delivery"]
    product.runtime = dataclasses.replace(product.runtime, access={
        **product.runtime.access, "service_delivery": dataclasses.replace(
            access, medical_roles=access.medical_roles - {"head"})})
    facts = facts_of(head.get(f"/tasks/{task_id}").data.decode())
    assert "vkk-17.pdf" not in facts["Скан заключения ВКК"]
    assert facts["Скан заключения ВКК"] == "Медицинские сведения: для вашей роли не показываются"
    assert facts["Заключение ВКК"] == "Медицинские сведения: для вашей роли не показываются"


def test_every_declared_fact_is_written_by_an_upstream_form(tmp_path: Path) -> None:
    library = DiagramLibrary.from_directory(PROJECT / "processes")
    assert check_contexts(library.diagrams(), PROJECT / "forms") == []
    forms = tmp_path / "forms"
    shutil.copytree(PROJECT / "forms", forms)
    broken = forms / "service_delivery" / "organise_home_schooling.context.json"
    declared = json.loads(broken.read_text(encoding="utf-8"))
    declared["facts"].append({"path": "request.child.shoe_size", "labels": {"kk": "a", "ru": "b", "en": "c"}})
    declared["refusal_field"] = "nothing"
    broken.write_text(json.dumps(declared), encoding="utf-8")
    (forms / "service_delivery" / "no_such_task.context.json").write_text('{"facts": []}', encoding="utf-8")
    problems = check_contexts(library.diagrams(), forms)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "no user task 'no_such_task' in a process 'service_delivery'",
        "no form of process 'service_delivery' writes 'request.child.shoe_size'",
        "the refusal field 'nothing' is not a field of its form",
    ]


# --- a task taken by a colleague; rows --------------------------------------------------------------


def test_a_task_taken_by_a_colleague_opens_read_only_with_their_name(product: Services) -> None:
    with product.uow() as uow:
        ensure_demo_accounts(uow, product.now(), (DemoAccount(
            "head25b", "head25b-demo-2026", "Омаров Бауыржан Кенжеұлы", SCHOOL_25, ("head",)),))
    _submit(product)
    head, colleague = _client(product), _client(product)
    sign_in(head, "head")
    task_id = _task_of(head)
    head.post(f"/tasks/{task_id}/claim")
    colleague.post("/login", data={"login": "head25b", "password": "head25b-demo-2026"})
    html = colleague.get(f"/tasks/{task_id}").data.decode()
    assert "Сәрсенбаева Гүлнұр Қайратқызы" in html and "<strong>head</strong>" not in html
    assert '<fieldset class="read-only" disabled>' in html and 'class="primary"' not in html
    refused = colleague.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk"})
    assert refused.status_code == 403 and "Сәрсенбаева Гүлнұр Қайратқызы" in refused.data.decode()
    own = head.get(f"/tasks/{task_id}").data.decode()  # the one who took it fills it in
    assert 'class="primary"' in own and "data-taken-by" not in own
    assert head.post(f"/tasks/{task_id}", data={"grade": "5", "language": "kk"}).status_code == 302


def test_rows_are_added_and_removed_without_a_submit_and_nothing_typed_is_lost(product: Services) -> None:
    _submit(product)
    head, specialist = _client(product), _client(product)
    sign_in(head, "head")
    assert head.post(f"/tasks/{_task_of(head)}", data={"grade": "7", "language": "kk"}).status_code == 302
    sign_in(specialist, "specialist")
    task_id = _task_of(specialist)
    page = specialist.get(f"/tasks/{task_id}").data.decode()
    assert 'name="teachers[1].subject"' in page and 'name="teachers[2].subject"' not in page
    added = specialist.post(f"/tasks/{task_id}", data={
        "_add_row": "teachers", "_rows.teachers": "2", "weekly_hours": "8",
        "teachers[0].full_name": "Серікова Алма Төлегенқызы", "teachers[0].subject": "Математика"})
    html = added.data.decode()
    assert added.status_code == 200 and 'class="field-error"' not in html
    assert 'name="teachers[2].subject"' in html and 'name="teachers[3].subject"' not in html  # 2 shown + 1
    assert 'value="Серікова Алма Төлегенқызы"' in html and 'value="8"' in html
    removed = specialist.post(f"/tasks/{task_id}", data={
        "_remove_row": "teachers[0]", "_rows.teachers": "4", **TEACHERS})
    html = removed.data.decode()
    assert removed.status_code == 200 and "Серікова Алма Төлегенқызы" not in html
    assert re.search(r'name="teachers\[0\]\.full_name" value="Ли Ольга Сергеевна"', html)
    assert ">ИУП № 14 от 01.04.2026</textarea>" in html
    with product.uow(write=False) as uow:  # nothing was completed by a row button
        assert uow.tasks.get(task_id) is not None


# --- files: every bad one named, the good ones kept -------------------------------------------------


SCAN = b"%PDF-1.4\n% a scanned application\n%%EOF\n"


def test_every_bad_file_is_named_in_the_interface_language(product: Services) -> None:
    clerk = _client(product)
    sign_in(clerk, "clerk")
    clerk.post("/language", data={"lang": "kk", "next": "/tasks"})
    both_bad = dict(INTAKE_FORM, **{"child.full_name": "Ахметов Нұрлан",
                                    "upload.application": (io.BytesIO(b""), "otinish.pdf"),
                                    "upload.vkk_conclusion": (io.BytesIO(b"just text"), "dkk.pdf")})
    refused = clerk.post("/intake/application", data=both_bad, content_type="multipart/form-data")
    html = refused.data.decode()
    assert refused.status_code == 422
    assert "«otinish.pdf» файлы бос." in html
    assert "«dkk.pdf» файлы PDF, JPEG немесе PNG емес." in html
    assert 'id="f-upload-application-error"' in html and 'id="f-upload-vkk-conclusion-error"' in html
    with product.uow(write=False) as uow:
        assert uow.instances.count() == 0


def test_a_good_file_is_kept_across_a_failed_submit(product: Services) -> None:
    clerk = _client(product)
    sign_in(clerk, "clerk")
    typo = dict(INTAKE_FORM, **{"child.full_name": "Ахметов Нұрлан", "child.iin": "150402500019",
                                "upload.application": (io.BytesIO(SCAN), "zayavlenie.pdf"),
                                "upload.vkk_conclusion": (io.BytesIO(b"not a scan"), "vkk.docx")})
    refused = clerk.post("/intake/application", data=typo, content_type="multipart/form-data")
    html = refused.data.decode()
    assert refused.status_code == 422
    assert 'id="f-child-iin-error"' in html  # the typed fields are checked too, beside the bad file
    assert "Файл «vkk.docx» не является PDF, JPEG или PNG." in html
    kept = re.search(r'name="pending.application" value="([0-9a-f]{32})"', html)
    assert kept is not None and "zayavlenie.pdf" in html
    assert 'name="pending.vkk_conclusion"' not in html  # a bad file is not kept
    fixed = dict(INTAKE_FORM, **{"child.full_name": "Ахметов Нұрлан", "pending.application": kept.group(1)})
    other = _client(product)  # a kept file is its owner's only
    sign_in(other, "clerk112")
    elsewhere = other.post("/intake/application", data=fixed, content_type="multipart/form-data")
    assert elsewhere.status_code == 302
    with product.uow(write=False) as uow:
        other_key = uow.instances.get(int(elsewhere.headers["Location"].rsplit("/", 1)[1])).business_key
        assert uow.attachments.for_key(other_key) == []
    registered = clerk.post("/intake/application", data=fixed, content_type="multipart/form-data")
    assert registered.status_code == 302, registered.data.decode()[:3000]
    case = int(registered.headers["Location"].rsplit("/", 1)[1])
    with product.uow(write=False) as uow:
        key = uow.instances.get(case).business_key
        [stored] = uow.attachments.for_key(key)
    assert (stored.kind, stored.filename) == ("application", "zayavlenie.pdf")


def test_homeschool_validate_names_a_context_that_reads_what_no_form_writes(tmp_path: Path) -> None:
    """The analyst's typo in a declared fact path is caught by the validator, not by an empty box on the page."""
    forms = tmp_path / "forms"
    shutil.copytree(PROJECT / "forms", forms)
    declared = forms / "service_delivery" / "organise_home_schooling.context.json"
    text = declared.read_text(encoding="utf-8")
    declared.write_text(text.replace('"path": "grade"', '"path": "grdae"', 1), encoding="utf-8")
    problems = validate_files(None, forms, processes_dir=PROJECT / "processes")
    found = [p for p in problems if p.kind == "task-context"]
    assert found and "grdae" in found[0].message and "organise_home_schooling" in found[0].message
    assert found[0].is_error
    clean = validate_files(None, PROJECT / "forms", processes_dir=PROJECT / "processes")
    assert not [p for p in clean if p.kind == "task-context"]
