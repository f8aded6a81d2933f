"""The whole interface in Kazakh (and in English): every demo role walks every page its navigation reaches,
in chromium.

A page fails on any phrase of the catalogue in another language whose wording differs (the words the
interface itself writes), and on any internal id shown as text: the process ids, the ids of the
shipped diagrams' elements, the role codes. What people typed (names, numbers) is not checked; text
the interface marks ``translate="no"`` is data, not interface: logins, the analysts' references to a
diagram's file and elements on the diagrams page, and the modeler's canvas (the diagram's own source,
edited in its own language: a translated name would be saved into it).

Russian names of diagram elements are checked apart from the catalogue's phrases (the second assertion):
they come from the names files beside the diagrams, not from the catalogue.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from functools import cache
from urllib.parse import urlparse

import pytest
from babel.messages.pofile import read_po
from lxml import etree
from playwright.sync_api import Browser, Page, expect

from service.application.deployments import deploy_shipped
from service.bootstrap import Services
from service.domain.staff import known_roles
from service.translations import catalogue_path

from ..support import PROJECT
from ..test_task_forms import COMPLAINT
from ..test_web import _client, _task_ids
from ..test_web import sign_in as web_sign_in
from .conftest import STEP_TIMEOUT_MS, LiveServer
from .test_staff_journeys import sign_in, submit_office_case

pytestmark = pytest.mark.browser

#: One demo account per role (the landing heading is the task list's, in Russian until switched).
WALKERS = ("clerk", "head", "specialist", "admin25", "reviewer", "akimat", "quality", "analyst", "legal")
#: The kinds of page the walk must reach (record ids as #), so a broken link or menu cannot shrink it.
EVERY_KIND = {"/tasks", "/tasks/#", "/cases", "/cases/#", "/intake/application", "/intake/complaint", "/diagrams",
              "/versions", "/modeler/service_delivery", "/operations", "/admin/staff", "/admin/organisations",
              "/legal", "/me/notifications"}
#: Who has a task page to walk: the head (the application's decision), the reviewer (the complaint).
OWN_TASKS = {"head": {"/tasks/#"}, "reviewer": {"/tasks/#"}}
#: Paths that are files, machine answers or actions, not pages of the interface.
NOT_PAGES = re.compile(r"^/(static|vendor|api|metrics|logout|language|documents|attachments)\b"
                       r"|\.(pdf|css|js|svg|bpmn|html|json|csv|xml|zip)$")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
#: The kinds of diagram element whose ids could leak into a page (not the drawing's own shapes and edges).
_ID_KINDS = {"process", "participant", "lane", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
             "manualTask", "businessRuleTask", "task", "callActivity", "subProcess", "startEvent", "endEvent",
             "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
             "parallelGateway", "eventBasedGateway", "inclusiveGateway", "sequenceFlow", "message",
             "timerEventDefinition", "dataObject", "dataObjectReference", "dataStoreReference"}

#: Ids shown on purpose beside names for operators (commit 290bad9): the operations page's element filter,
#: where unnamed gateways must be told apart. Not checked for ids; its names are (see ``problems``).
TECHNICAL = 'select[name="element"] option'

#: Every text node of the page and the attributes people read, except scripts, ``<code>``, ``translate="no"``
#: data and TECHNICAL, each as [zone, text]: "drawing" inside a diagram's drawing (svg), else "page".
_PAGE_TEXT = """(TECHNICAL) => {
  const skip = 'script, style, template, noscript, code, [translate="no"], ' + TECHNICAL;
  const zone = e => e.closest('svg') ? 'drawing' : 'page';
  const parts = [['page', document.title]];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const e = node.parentElement;
    if (e && !e.closest(skip)) parts.push([zone(e), node.textContent]);
  }
  for (const e of document.body.querySelectorAll('[placeholder], [aria-label], [title], [alt], input[type=submit]')) {
    if (e.closest(skip)) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt', 'value']) {
      if (e.hasAttribute(name) && (name !== 'value' || e.type === 'submit')) {
        parts.push([zone(e), e.getAttribute(name)]);
      }
    }
  }
  return parts.map(([z, p]) => [z, p.replace(/\\s+/g, ' ').trim()]).filter(([z, p]) => p);
}"""


def _messages(language: str) -> dict[str, str]:
    with catalogue_path("messages", language).open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po, locale=language) if m.id}


def _pattern(phrase: str) -> re.Pattern[str]:
    """A phrase found as whole words; its placeholders stand for any text."""
    parts = [re.escape(part) for part in re.split(r"\{\w*\}", phrase)]
    return re.compile(r"(?<![\w-])" + ".+?".join(parts) + r"(?![\w-])")


def _label(text: str) -> str:
    return text.strip().rstrip(":.?!…").strip()


#: What the interface puts between a label and other text; a phrase counts only between two of these
#: (or a text's ends), so a Russian word inside a quoted rule ("Документы, которые …") or a typed name
#: is not taken for the interface's.
_SEPARATOR = r"[\n·|—–:;()«»\[\]/]"


def _bounded(phrase: str) -> re.Pattern[str]:
    body = "".join(".+?" if part.startswith("{") else re.escape(part)
                   for part in re.split(r"(\{\w*\})", _label(phrase)) if part)
    return re.compile(rf"(?:^|(?<={_SEPARATOR}))[ ]*{body}[ ]*[:.?!…]?[ ]*(?=$|{_SEPARATOR})", re.MULTILINE)


@cache
def foreign_phrases(target: str = "kk") -> tuple[tuple[str, str, str, re.Pattern[str]], ...]:
    """(language, key, phrase, pattern) of each phrase of the other languages that ``target`` writes otherwise."""
    own = _messages(target)
    written = {_label(text) for text in own.values()}
    found: dict[tuple[str, str], str] = {}
    for language in sorted({"kk", "ru", "en"} - {target}):
        for key, text in _messages(language).items():
            wording = re.sub(r"\{\w*\}", "", text)  # a phrase of placeholders and quotes only is no language's
            if re.search(r"[^\W\d_]", wording) and text != own.get(key) and _label(text) not in written:
                found.setdefault((language, text), key)  # one phrase of several keys is named once
    return tuple((language, key, text, _bounded(text)) for (language, text), key in found.items())


@cache
def _diagrams(target: str = "kk") -> tuple[frozenset[str], dict[str, str]]:
    """The ids of the shipped diagrams' elements, and their Russian names with the ``target`` name beside them."""
    ids: set[str] = set()
    names: dict[str, str] = {}
    for diagram in (PROJECT / "processes").glob("*.bpmn"):
        names_file = diagram.with_name(diagram.name.replace(".bpmn", ".names.toml"))
        kazakh = tomllib.loads(names_file.read_text(encoding="utf-8")) if names_file.exists() else {}
        for element in etree.parse(str(diagram)).iter():
            tag = element.tag if isinstance(element.tag, str) else ""
            if not (tag.startswith(BPMN) and tag[len(BPMN):] in _ID_KINDS and element.get("id")):
                continue
            ids.add(element.get("id"))
            name = " ".join((element.get("name") or "").split())
            if name and tag != f"{BPMN}message" and kazakh.get(element.get("id"), {}).get(target) != name:
                names[name] = kazakh.get(element.get("id"), {}).get(target, "")
    return frozenset(ids), names


@cache
def internal_ids(target: str = "kk") -> re.Pattern[str]:
    """The process ids, the ids of the shipped diagrams' elements and the role codes, as whole words.

    In English an id that is one plain word ("head", "delivered", "legal") is also the interface's own
    word, so there only the ids joined with underscores count.
    """
    words = sorted((i for i in _diagrams()[0] | known_roles() if target != "en" or "_" in i), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in words) + r")(?![\w-])")


def problems(parts: Iterable[tuple[str, str]], target: str = "kk") -> tuple[list[str], list[str]]:
    """What on a page is not in ``target``: (the interface's own words and ids, the diagrams' element names).

    ``parts`` are (zone, text): "page" for the interface, "drawing" for text inside a diagram's drawing.
    A Russian element name of a shipped diagram (in a drawing or in a list of elements) counts as a
    name, not as a catalogue phrase, even where a catalogue phrase reads the same ("канцелярия").
    """
    russian_names = _diagrams(target)[1]
    page = [text for zone, text in parts if zone == "page"]
    drawing = [text for zone, text in parts if zone == "drawing"]
    named = {piece for text in page + drawing for piece in re.split(r"[ ]*[\n()·|][ ]*", text)
             if " ".join(piece.split()) in russian_names}
    page_text = "\n".join(page)
    for name in sorted(named, key=len, reverse=True):
        page_text = page_text.replace(name, "\n")
    interface = [f"{language} '{phrase}' ({key})" for language, key, phrase, pattern in foreign_phrases(target)
                 if pattern.search(page_text)]
    interface += [f"internal id '{match}'" for match in sorted(set(internal_ids(target).findall(page_text)))]
    names = [f"ru name '{name}'" for name in sorted(named)]
    names += [f"internal id in a drawing '{match}'"
              for match in sorted(set(internal_ids(target).findall("\n".join(drawing))))]
    return interface, names


def _shape(path: str) -> str:
    """A path with its record ids as #, so one page of each kind is walked."""
    return re.sub(r"/(\d+|[0-9a-f]{8}-[0-9a-f-]{27})(?=/|$)", "/#", path)


def _links(page: Page, selector: str) -> list[str]:
    hrefs: Iterable[str] = page.eval_on_selector_all(
        selector, "links => links.filter(a => !a.hasAttribute('download')).map(a => a.getAttribute('href'))")
    paths = []
    for href in hrefs:
        url = urlparse(href or "")
        if href and not url.scheme and not url.netloc and url.path.startswith("/") and not NOT_PAGES.search(url.path):
            paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


def walk(page: Page, seen_shapes: set[str], target: str) -> dict[str, tuple[list[str], list[str]]]:
    """Every page the navigation reaches, and one page of each kind linked from those; their problems."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    queue = _links(page, "header a")
    depth = {path: 0 for path in queue}
    while queue:
        path = queue.pop(0)
        shape = _shape(path.split("?")[0])
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        response = page.goto(path)
        status = response.status if response is not None else 0
        expect(page.locator("html")).to_have_attribute("lang", target)
        interface, names = problems(page.evaluate(_PAGE_TEXT, TECHNICAL), target)
        interface += [f"HTTP {status}"] if not 200 <= status < 400 else []
        if interface or names:
            found[path] = (interface, names)
        if depth[path] == 0:
            for link in _links(page, "main a"):
                if link not in depth:
                    depth[link] = 1
                    queue.append(link)
    return found


@pytest.mark.parametrize(("target", "label", "locale"), [("kk", "Қазақша", "kk-KZ"), ("en", "English", "en-GB")],
                         ids=["kk", "en"])
def test_every_page_in_kazakh_or_english_shows_no_other_language_s_phrase_and_no_internal_id(
        chromium: Browser, live_server: LiveServer, target: str, label: str, locale: str) -> None:
    services, settings = live_server.services, live_server.services.settings
    deploy_shipped(services.write_uow, services.runtime, settings.processes_dir, settings.forms_dir, services.now())
    submit_office_case(live_server, "APP-KK-WALK")
    forward_a_complaint(services)
    found: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    visited: set[str] = set()
    walked = 0
    for login in WALKERS:
        context = chromium.new_context(base_url=live_server.url, locale=locale, timezone_id="Asia/Almaty")
        context.set_default_timeout(STEP_TIMEOUT_MS)
        page = context.new_page()
        try:
            sign_in(page, login)
            page.get_by_label("Язык", exact=True).select_option(label=label)
            page.get_by_role("button", name="Сменить язык", exact=True).click()
            expect(page.locator("html")).to_have_attribute("lang", target)
            seen: set[str] = set()
            found.update({(login, path): wrong for path, wrong in walk(page, seen, target).items()})
            visited |= seen
            assert seen >= OWN_TASKS.get(login, set()), (login, sorted(seen))
            walked += 1
        finally:
            context.close()
    assert walked == len(WALKERS)
    assert visited >= EVERY_KIND, sorted(EVERY_KIND - visited)
    interface = {where: wrong for where, (wrong, _) in found.items() if wrong}
    assert not interface, "\n".join(f"{login} {path}: {wrong}" for (login, path), wrong in interface.items())
    names = {where: wrong for where, (_, wrong) in found.items() if wrong}
    assert not names, "element names in Russian or as ids (processes/*.names.toml, service/engine/names.py):\n" + (
        "\n".join(f"{login} {path}: {wrong}" for (login, path), wrong in names.items()))


def forward_a_complaint(services: Services) -> None:
    """A complaint registered by gymnasium № 3's clerk and forwarded by its head: the reviewer's task."""
    clerk, head = _client(services), _client(services)
    web_sign_in(clerk, "clerk3")
    assert clerk.post("/intake/complaint", data=COMPLAINT).status_code == 302
    web_sign_in(head, "head3")
    [provider_task] = _task_ids(head.get("/tasks?role=appealed_official").data)
    assert head.post(f"/tasks/{provider_task}", data={"decision": "forward"}).status_code == 302


def _interface(text: str) -> list[str]:
    return problems([("page", text)])[0]


def test_the_walk_finds_a_russian_phrase_and_an_internal_id() -> None:
    assert _interface("Тапсырмалар · Задач нет") == ["ru 'Задач нет' (no_tasks)"]
    assert _interface("Тапсырмалар · Open") == ["en 'Open' (open)"]
    assert _interface("Тапсырмалар: determine_class_and_language") == ["internal id 'determine_class_and_language'"]
    assert _interface("Тапсырма жоқ · Иванова Мария Петровна · ВКК-17") == []
    assert _interface("Срок: 3") == ["ru 'Срок' (due)"]
    assert _interface("Стадия передаётся кодом из постоянного перечня") == []  # a quoted rule, not a label
    assert _interface("Файл «a.pdf» пустой.") == ["ru 'Файл «{name}» пустой.' (file_empty)"]
    assert problems([("page", "Tasks · Тапсырма жоқ")], "en")[0] == ["kk 'Тапсырма жоқ' (no_tasks)"]
    assert problems([("page", "Unknown: «Payment»")], "en")[0] == []  # «{value}» is no language's wording


def test_a_russian_element_name_is_told_apart_from_the_interface() -> None:
    russian = next(name for name in _diagrams()[1] if re.search("[а-я]", name))
    interface, names = problems([("drawing", russian), ("page", "Тапсырмалар")])
    assert interface == [] and names == [f"ru name '{russian}'"]
