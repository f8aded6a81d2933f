"""What staff see in Kazakh: diagram names from the names files, never the diagram's Russian or an element id."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from service.application.deployments import deploy, deploy_shipped
from service.bootstrap import Services
from service.domain.staff import Actor
from service.engine.names import named_elements, translations

from .support import PROJECT
from .test_web import _submit, sign_in
from .test_web import product as product  # noqa: F401 - the shipped product with the demo accounts
from .test_web import web as web  # noqa: F401


def _kk(process_id: str) -> dict[str, str]:
    """Element id → Kazakh name from the shipped names file."""
    table = translations(PROJECT / "processes", process_id)  # element names only, not [refusals]
    return {element_id: names["kk"] for element_id, names in table.items()}


def _russian(process_id: str) -> dict[str, str]:
    """Element id → the diagram's own (Russian) name."""
    return {e.element_id: e.name for e in named_elements((PROJECT / "processes" / f"{process_id}.bpmn").read_bytes())}


def _visible(page: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", lambda m: m.group(0)[7:-8], page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _in_kazakh(client: FlaskClient, login: str) -> None:
    sign_in(client, login)
    client.post("/language", data={"lang": "kk", "next": "/tasks"})


def test_the_case_page_in_kazakh_names_its_timer_steps_and_process_in_kazakh_and_shows_no_id(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    case = _submit(product)
    _in_kazakh(web, "head")
    page = web.get(f"/cases/{case}").get_data(as_text=True)
    text = _visible(page)
    kk, ru = _kk("service_delivery"), _russian("service_delivery")
    deadlines = re.findall(r"<li data-timer>(.*?)</li>", page)
    assert deadlines and deadlines[0].startswith(kk["head_period_passed"] + " · ")  # the head's timer, by its name
    assert kk["service_delivery"] in text  # the process, not 'service_delivery'
    assert kk["determine_class_and_language"] in text  # the open task in the deadlines
    for step in ("service_requested", "check_package", "send_receipt"):  # the history's steps
        assert f"· {kk[step]}" in text, step
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert kk["determine_class_and_language"].split()[0] in svg  # the server's drawing is in Kazakh too
    shown_russian = [name for element_id, name in ru.items()
                     if name != kk[element_id] and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
    assert shown_russian == []
    ids = [element_id for element_id in ru if re.search(rf"(?<![\w-]){re.escape(element_id)}(?![\w-])", text)]
    assert ids == []


def test_the_task_list_and_case_list_filters_name_the_processes_in_kazakh(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    _submit(product)
    _in_kazakh(web, "head")
    tasks = web.get("/tasks").get_data(as_text=True)
    select = tasks[tasks.index('name="process"'):]
    options = dict(re.findall(r'<option value="(\w+)"\s*>([^<]*)</option>', select[:select.index("</select>")]))
    for process_id in ("service_delivery", "complaint_review", "proactive_offer"):
        assert options[process_id] == _kk(process_id)[process_id]
        assert _russian(process_id)[process_id] not in tasks
    assert _kk("service_delivery")["determine_class_and_language"] in _visible(tasks)  # the task's title
    cases = web.get("/cases").get_data(as_text=True)
    listed = _visible(cases[cases.index("<table"):])
    assert _kk("service_delivery")["service_delivery"] in listed  # the process column
    assert _russian("service_delivery")["service_delivery"] not in cases  # neither there nor in the filter


def test_the_task_page_in_kazakh_is_titled_and_its_history_named_in_kazakh(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    _submit(product)
    _in_kazakh(web, "head")
    listing = web.get("/tasks").get_data(as_text=True)
    task_id = re.findall(r'/tasks/([0-9a-f-]{36})"', listing)[0]
    page = web.get(f"/tasks/{task_id}").get_data(as_text=True)
    kk, ru = _kk("service_delivery"), _russian("service_delivery")
    title = re.search(r"<title>(.*?)</title>", page, flags=re.S)
    assert title and kk["determine_class_and_language"] in title.group(1)
    history = _visible(page[page.index('class="history"'):])
    assert f"· {kk['check_package']}" in history and ru["check_package"] not in history


def test_in_russian_the_diagram_names_stay(product: Services, web: FlaskClient) -> None:  # noqa: F811
    case = _submit(product)
    sign_in(web, "head")
    text = _visible(web.get(f"/cases/{case}").get_data(as_text=True))
    ru = _russian("service_delivery")
    assert f"{ru['head_period_passed']} · " in text and f"· {ru['check_package']}" in text
    assert "head_period_passed" not in text


def test_the_versions_diff_in_kazakh_names_a_changed_element_in_kazakh_beside_its_id(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    settings = product.settings
    shipped = deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir,
                             product.now())
    assert shipped is not None
    first = next(v.content_hash for v in shipped.versions if v.process_id == "service_delivery")
    ru = _russian("service_delivery")
    source = (PROJECT / "processes" / "service_delivery.bpmn").read_bytes()
    changed = source.replace(f'name="{ru["check_package"]}"'.encode(), 'name="Проверить пакет"'.encode())
    assert changed != source
    deploy(product.write_uow, product.runtime, actor=Actor.system("test"), now=product.now(),
           files={"processes/service_delivery.bpmn": changed})
    _in_kazakh(web, "analyst")
    page = web.get(f"/versions/service_delivery/diff?old={first}&new=current").get_data(as_text=True)
    row = re.search(r'<tr data-element="check_package">(.*?)</tr>', page, flags=re.S)
    assert row is not None
    assert _kk("service_delivery")["check_package"] in row.group(1) and "<code>check_package</code>" in row.group(1)
    assert _kk("service_delivery")["service_delivery"] in _visible(page[page.index("<h1"):page.index("</h1>")])


def test_a_complaint_case_page_in_kazakh_shows_no_russian_element_name_and_no_id(web: FlaskClient) -> None:  # noqa: F811
    _in_kazakh(web, "clerk")
    registered = web.post("/intake/complaint", data={
        "channel": "paper", "addressee": "provider",
        "complainant.full_name": "Ахметова Айгүл", "complainant.address": "Алматы, Абай даңғ., 1",
        "appealed.subject": "decision", "appealed.description": "Құжаттарды қабылдаудан бас тарту",
        "against_provider": "true", "text": "Бас тартуды қайта қарауды сұраймын.",
    })
    assert registered.status_code == 302, registered.data.decode()[:2000]
    page = web.get(registered.headers["Location"]).get_data(as_text=True)
    text = _visible(page)
    kk, ru = _kk("complaint_review"), _russian("complaint_review")
    assert kk["complaint_review"] in text and f"· {kk['complaint_filed']}" in text
    assert any(line.startswith(kk["review_deadline_missed"] + " · ")  # straight to the reviewer: their timer
               for line in re.findall(r"<li data-timer>(.*?)</li>", page))
    shown_russian = [name for element_id, name in ru.items()
                     if name != kk[element_id] and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
    assert shown_russian == []
    assert [e for e in ru if re.search(rf"(?<![\w-]){re.escape(e)}(?![\w-])", text)] == []


def test_the_task_list_takes_the_names_of_the_deployed_current_version(
        product: Services, web: FlaskClient) -> None:  # noqa: F811
    settings = product.settings
    deploy_shipped(product.write_uow, product.runtime, settings.processes_dir, settings.forms_dir, product.now())
    names = (PROJECT / "processes" / "service_delivery.names.toml").read_text(encoding="utf-8")
    kk = _kk("service_delivery")
    process_entry = names.index("\n[service_delivery]")  # the process's own entry (the pool has the same name)
    renamed = names[:process_entry] + names[process_entry:].replace(
        f'kk = "{kk["service_delivery"]}"', 'kk = "Үйде оқыту: құжаттар"', 1)
    assert renamed != names
    deploy(product.write_uow, product.runtime, actor=Actor.system("test"), now=product.now(),
           files={"processes/service_delivery.names.toml": renamed.encode("utf-8")})
    _submit(product)
    _in_kazakh(web, "head")
    tasks = web.get("/tasks").get_data(as_text=True)
    assert '<option value="service_delivery" >Үйде оқыту: құжаттар</option>' in tasks
