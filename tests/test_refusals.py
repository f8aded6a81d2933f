"""A diagram's refusal (``fail_if``) in the reader's language: keys declared in the names file, filled in.

The complaint review refuses a second extension over ten working days with the key
``extension_over_limit`` and the numbers; the reviewer reads the text of the case's version in
Kazakh or Russian beside the field, with nothing typed lost. A diagram that still refuses with a
sentence shows that sentence; ``homeschool names missing`` and the validator report keys without
their texts.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from service.application.case_diagram import names_dir
from service.application.demo import ensure_demo_accounts
from service.application.deployments import deploy, deploy_shipped, deployer
from service.application.name_check import missing_names
from service.application.staff import register_api_client
from service.application.validation import validate_files
from service.bootstrap import Services
from service.cli import main
from service.domain.calendar import WorkingCalendar
from service.domain.errors import ScriptError
from service.engine.names import refusal_keys, refusal_texts
from service.engine.scripting import Refusal, build_helpers

from .support import PROJECT, SCHOOL_25, shipped_services
from .test_task_forms import forwarded_complaint
from .test_web import _client, _task_ids, product, sign_in, web

__all__ = ["product", "web"]

REASONS = "Школа не представила дело в срок; повторный запрос направлен."
KK_OVER_LIMIT = ("Шағымды қарау мерзімін барлығы 10 жұмыс күнінен аспайтын мерзімге ұзартуға болады: "
                 "мерзім бұрын 5 жұмыс күніне ұзартылған, тағы 6 жұмыс күні сұралды.")
RU_OVER_LIMIT = ("Срок рассмотрения жалобы можно продлить всего не более чем на 10 рабочих дней: "
                 "уже продлён на 5, запрошено ещё 6.")
EN_OVER_LIMIT = "The review period may be extended by at most 10 working days in all"


def second_extension(reviewer: FlaskClient, review_task: str) -> str:
    """Extend by 5 working days, notify, then ask for 6 more: the page answering the refused submit."""
    assert reviewer.post(f"/tasks/{review_task}", data={
        "decision": "extend", "extension_days": "5", "reasons": "Запрошены материалы у школы."}).status_code == 302
    [notify] = _task_ids(reviewer.get("/tasks").data)
    assert reviewer.post(f"/tasks/{notify}", data={}).status_code == 302
    [again] = _task_ids(reviewer.get("/tasks").data)
    refused = reviewer.post(f"/tasks/{again}", data={"decision": "extend", "extension_days": "6", "reasons": REASONS})
    assert refused.status_code == 422
    return refused.data.decode()


def field_error(html: str) -> str:
    """The text of the extension field's error."""
    start = html.index('id="f-extension-days-error"')
    return html[start:html.index("</", start)]


def test_in_kazakh_the_reviewer_reads_the_refusal_in_kazakh_with_the_numbers_and_nothing_lost(
    product: Services,
) -> None:
    reviewer, review_task = forwarded_complaint(product)
    reviewer.post("/language", data={"lang": "kk", "next": "/tasks"})
    html = second_extension(reviewer, review_task)
    error = field_error(html)
    assert KK_OVER_LIMIT in error
    assert error.index("Қарау мерзімін барлығы он жұмыс күнінен") < error.index(KK_OVER_LIMIT)  # meaning first
    assert "extension_over_limit" not in html and EN_OVER_LIMIT not in html and RU_OVER_LIMIT not in html
    assert REASONS in html and 'value="6"' in html  # nothing typed is lost


def test_in_russian_the_reviewer_reads_the_russian_text(product: Services) -> None:
    reviewer, review_task = forwarded_complaint(product)
    html = second_extension(reviewer, review_task)
    assert RU_OVER_LIMIT in field_error(html)
    assert "extension_over_limit" not in html and KK_OVER_LIMIT not in html


def _complaint_review_files(reworded: str | None = None) -> dict[str, bytes]:
    """The shipped complaint review as deployment files; its names file reworded when given."""
    files = {f"processes/{path.name}": path.read_bytes()
             for path in (PROJECT / "processes").glob("complaint_review.*") if path.is_file()}
    files |= {f"forms/complaint_review/{path.name}": path.read_bytes()
              for path in (PROJECT / "forms" / "complaint_review").iterdir() if path.is_file()}
    if reworded is not None:
        files["processes/complaint_review.names.toml"] = reworded.encode()
    return files


def test_a_case_reads_the_refusal_texts_of_its_own_version(product: Services) -> None:
    with product.uow(write=False) as uow:
        analyst = deployer(uow, "analyst")
    deploy(product.write_uow, product.runtime, actor=analyst, now=product.now(), files=_complaint_review_files())
    reviewer, review_task = forwarded_complaint(product)  # the case runs on that version
    names = (PROJECT / "processes" / "complaint_review.names.toml").read_text(encoding="utf-8")
    reworded = names.replace("Срок рассмотрения жалобы можно продлить всего", "Новая редакция: продлить всего")
    assert reworded != names
    deploy(product.write_uow, product.runtime, actor=analyst, now=product.now(),
           files=_complaint_review_files(reworded))
    current = names_dir(product.runtime, "complaint_review", product.settings.processes_dir)
    assert "Новая редакция" in refusal_texts(current, "complaint_review")["extension_over_limit"]["ru"]
    html = second_extension(reviewer, review_task)
    assert RU_OVER_LIMIT in field_error(html) and "Новая редакция" not in html


@pytest.fixture
def plain_product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The product whose complaint review still refuses with an English sentence (as diagrams did before keys)."""
    folder = tmp_path / "processes"
    shutil.copytree(PROJECT / "processes", folder)
    diagram = folder / "complaint_review.bpmn"
    source = diagram.read_text(encoding="utf-8")
    keyed = source[source.index('"extension_over_limit"'):source.index("requested=extension_days)") + 25]
    diagram.write_text(source.replace(keyed, '"at most " + str(setting("complaint_max_extension_days")) '
                                             '+ " working days in all (" + str(extended_days) + " used)")'),
                       encoding="utf-8")
    services = shipped_services(tmp_path, database_url, {"HOMESCHOOL_PROCESSES_DIR": str(folder)})
    with services.uow() as uow:
        ensure_demo_accounts(uow, services.now())
    yield services
    services.database.dispose()


def test_a_diagram_refusing_with_a_sentence_still_shows_the_sentence(plain_product: Services) -> None:
    reviewer, review_task = forwarded_complaint(plain_product)
    reviewer.post("/language", data={"lang": "kk", "next": "/tasks"})
    html = second_extension(reviewer, review_task)
    assert "at most 10 working days in all (5 used)" in field_error(html)  # as written, values filled in
    assert REASONS in html


def test_fail_if_carries_the_key_and_the_values() -> None:
    fail_if = build_helpers(WorkingCalendar())["fail_if"]
    fail_if(False, "extension_over_limit", limit=10)  # nothing when the condition does not hold
    with pytest.raises(Refusal) as raised:
        fail_if(True, "extension_over_limit", limit=10, used=5, requested=6)
    assert (raised.value.key, raised.value.values) == ("extension_over_limit", {"limit": 10, "used": 5, "requested": 6})
    assert raised.value.message == "extension_over_limit (limit=10, used=5, requested=6)"  # for logs and operators
    with pytest.raises(ScriptError, match=r"^at most 3 days, 1 used$"):
        fail_if(True, "at most {limit} days, {used} used", limit=3, used=1)


def _names_missing(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["names", "missing", *args], env={"HOMESCHOOL_PROCESSES_DIR": str(folder)},
                              catch_exceptions=False)


def test_a_refusal_key_without_its_kazakh_text_is_listed_as_missing(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    shutil.copytree(PROJECT / "processes", folder)
    complete = _names_missing(folder, "complaint_review")
    assert complete.exit_code == 0
    assert "ok    complaint_review: every name in kk and en, every refusal in ru, kk and en" in complete.stdout
    names = folder / "complaint_review.names.toml"
    text = names.read_text(encoding="utf-8")
    kk_line = next(line for line in text.splitlines() if line.startswith('kk = "Шағымды қарау мерзімін барлығы'))
    names.write_text(text.replace(kk_line + "\n", "") + '\n[refusals.never_used]\nru = "…"\n', encoding="utf-8")
    result = _names_missing(folder, "complaint_review")
    assert result.exit_code == 1
    stale = "warn  stale complaint_review refusals.never_used: no fail_if of the diagram uses this refusal"
    assert stale in result.stdout
    assert [line for line in result.stdout.splitlines() if line.startswith("missing")] == [
        "missing complaint_review kk extension_over_limit (refusal): Срок рассмотрения жалобы можно продлить всего "
        "не более чем на {limit} рабочих дней: уже продлён на {used}, запрошено ещё {requested}.",
    ]


def test_the_validator_reports_a_key_used_by_fail_if_that_is_not_declared(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    shutil.copytree(PROJECT / "processes", folder)
    names = folder / "complaint_review.names.toml"
    names.write_text(names.read_text(encoding="utf-8").replace("[refusals.review_period_passed]",
                                                                "[refusals.renamed_key]"), encoding="utf-8")
    problems = validate_files(None, PROJECT / "forms", processes_dir=folder)
    undeclared = [p for p in problems if p.kind == "refusal-undeclared"]
    assert [(p.element_id, p.is_error) for p in undeclared] == [("extend_review", True)]
    assert "'review_period_passed'" in undeclared[0].message
    assert [p for p in validate_files(None, PROJECT / "forms", processes_dir=PROJECT / "processes")
            if p.kind == "refusal-undeclared"] == []


def test_only_a_literal_that_looks_like_a_key_is_taken_for_one() -> None:
    script = ('fail_if(a, "too_late")\nfail_if(b, "Too late, sorry")\nfail_if(c, message)\n'
              'fail_if(d, "over_{limit}", limit=3)')
    diagram = (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
        '<bpmn:process id="p" isExecutable="true"><bpmn:scriptTask id="s"><bpmn:script>'
        f"{script}</bpmn:script></bpmn:scriptTask></bpmn:process></bpmn:definitions>").encode()
    assert refusal_keys(diagram) == [("s", "too_late")]


def test_the_modeler_reports_a_key_the_live_version_does_not_declare(product: Services) -> None:
    settings = product.settings
    deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, product.now())
    analyst = _client(product)
    sign_in(analyst, "analyst")
    live = (PROJECT / "processes" / "complaint_review.bpmn").read_text(encoding="utf-8")
    sound = analyst.post("/modeler/complaint_review/validate", json={"xml": live}).get_json()
    assert sound["ok"] is True, sound["problems"]
    renamed = live.replace('"review_period_passed"', '"period_over"', 1)
    found = analyst.post("/modeler/complaint_review/validate", json={"xml": renamed}).get_json()
    undeclared = [p for p in found["problems"] if p["kind"] == "refusal-undeclared"]
    assert found["ok"] is False and [p["element_id"] for p in undeclared] == ["extend_review"]
    assert "'period_over'" in undeclared[0]["message"]


def test_a_refusals_entry_that_is_not_a_table_is_a_problem_and_the_element_names_still_count(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    shutil.copytree(PROJECT / "processes", folder)
    names = folder / "proactive_offer.names.toml"
    names.write_text('refusals = "not a table"\n' + names.read_text(encoding="utf-8"), encoding="utf-8")
    report = missing_names(folder, ["proactive_offer"])
    assert report.problems == ["proactive_offer.names.toml: 'refusals' must be a table of [refusals.<key>] tables"]
    assert report.missing == []


# --- a refusal outside the task form: the API's error body and the error page (issue 13, point 3) -------------

RU_PURPOSE = "Справка для цели «в казино» не выдаётся."
KK_PURPOSE = "«в казино» мақсаты үшін анықтама берілмейді."
PURPOSE_NAMES = """
[refusals.purpose_not_accepted]
ru = "Справка для цели «{purpose}» не выдаётся."
kk = "«{purpose}» мақсаты үшін анықтама берілмейді."
en = "No certificate is issued for “{purpose}”."
"""


@pytest.fixture
def refusing_service(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The second service, whose certificate task refuses a purpose as soon as it is reached (at the start)."""
    from .test_second_service import PROCESS, _services, _tree

    processes, forms = _tree(tmp_path / "tree")
    diagram = processes / f"{PROCESS}.bpmn"
    source = diagram.read_text(encoding="utf-8")
    refusing = ('<bpmn:extensionElements><spiffworkflow:preScript>fail_if("казино" in request.get("purpose", ""), '
                '"purpose_not_accepted", purpose=request.get("purpose"))</spiffworkflow:preScript>')
    source = source.replace('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="stage" '
                            'value="certificate_preparation"/>', refusing + '<spiffworkflow:properties>'
                            '<spiffworkflow:property name="stage" value="certificate_preparation"/>', 1)
    assert "purpose_not_accepted" in source
    diagram.write_text(source, encoding="utf-8")
    (processes / f"{PROCESS}.names.toml").write_text(PURPOSE_NAMES, encoding="utf-8")
    services = _services(tmp_path, database_url, processes, forms)
    assert deploy_shipped(services.write_uow, services.runtime, processes, forms, services.now()) is not None
    yield services
    services.database.dispose()


def test_the_api_gives_a_refusal_in_kazakh_with_its_key_and_values(refusing_service: Services) -> None:
    from .test_second_service import _client

    with refusing_service.uow() as uow:
        token = register_api_client(uow, name="portal", scopes=("applications:submit",), now=refusing_service.now())
    refused = _client(refusing_service).post(
        "/api/v1/certificates", json={"provider_bin": SCHOOL_25, "applicant_name": "Серікова Дана",
                                      "purpose": "в казино"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "casino-1", "Accept-Language": "kk-KZ"})
    assert refused.status_code == 422, refused.data
    error = refused.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == KK_PURPOSE and error["fields"] == {"": [KK_PURPOSE]}
    assert error["refusal"] == {"key": "purpose_not_accepted", "values": {"purpose": "в казино"}}


def test_the_error_page_gives_a_refusal_in_the_interface_language(refusing_service: Services) -> None:
    from .test_second_service import _signed_in

    clerk = _signed_in(refusing_service, "clerk")
    request = {"applicant_name": "Ахметова Айгүл", "purpose": "в казино"}
    refused = clerk.post("/intake/certificate", data=request)
    assert refused.status_code == 422, refused.data.decode()[:2000]
    html = refused.data.decode()
    assert RU_PURPOSE in html and "purpose_not_accepted" not in html
    clerk.post("/language", data={"lang": "kk", "next": "/tasks"})
    html = clerk.post("/intake/certificate", data=request).data.decode()
    assert KK_PURPOSE in html and RU_PURPOSE not in html and "purpose_not_accepted" not in html
