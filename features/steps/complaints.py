"""Steps about complaints (§9): a complaint is registered, goes through the official whose decision is
appealed or straight to review, the review period is extended and the complainant told, the
complaint is decided — and the documents the complainant (or the reviewing body) receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pytest_bdd import given, parsers, then, when

from service.bootstrap import Services
from service.domain.model import TaskSummary
from tests.support import SCHOOL_25

from . import people, wording
from .cases import PARENT, Case, start
from .documents import issued
from .messages import sent
from .tasks import complete, tasks_seen

#: Whom a complaint is addressed to, as the features say it (dative) → the addressee in the data contract.
ADDRESSEES = {
    "услугодателю": "provider",
    "местному исполнительному органу": "local_executive_body",
    "акиму": "akim",
    "центральному государственному органу": "central_state_body",
    "Государственной корпорации": "state_corporation",
    "уполномоченному органу по оценке и контролю за качеством оказания государственных услуг": "quality_authority",
}

#: How the complaint was filed (§9: the extension notice follows the same form).
CHANNELS = {"на бумажном носителе": "paper", "в электронной форме": "electronic"}

#: The officials of the complaint process (the BPMN lanes), in the genitive: «у … ожидает задача»; the
#: organisation may be named after «должностного лица» («у должностного лица акимата, рассматривающего
#: жалобу»), else it is the one the complaint says (the reviewing body; the school appealed against).
_ORGANISATION = "|".join(people.ORGANISATIONS)
_OFFICIAL = (rf"должностного лица(?: (?:{_ORGANISATION}))?, рассматривающего жалобу"
             rf"|обжалуемого должностного лица(?: (?:{_ORGANISATION}))?")


def official_of(case: Case, who: str) -> tuple[str, str]:
    """The role (lane) and the organisation (BIN) of the official named like «должностного лица акимата, …»."""
    role = "appealed_official" if who.startswith("обжалуемого") else "reviewing_official"
    named = [bin_ for name, bin_ in people.ORGANISATIONS.items() if f"лица {name}" in who]
    return role, named[0] if named else case.organisation_of(role)

#: Documents of the complaint process, by their Russian titles and the forms sentences use.
COMPLAINT_DOCUMENTS = (
    wording.DocumentName("complaint_acknowledgement", "Уведомление о регистрации жалобы",
                         ("уведомление о регистрации жалобы", "уведомлении о регистрации жалобы")),
    wording.DocumentName("favourable_act_notice", "Уведомление о принятии благоприятного административного акта",
                         ("уведомление о благоприятном акте", "уведомлении о благоприятном акте")),
    wording.DocumentName("forwarding_letter", "Сопроводительное письмо о направлении жалобы и административного дела",
                         ("сопроводительное письмо", "сопроводительном письме")),
    wording.DocumentName("extension_notice", "Уведомление о продлении срока рассмотрения жалобы",
                         ("уведомление о продлении срока", "уведомлении о продлении срока")),
    wording.DocumentName("complaint_decision", "Решение по результатам рассмотрения жалобы",
                         ("решение по жалобе", "решении по жалобе")),
)
_FORMS = "|".join(form for name in COMPLAINT_DOCUMENTS for form in name.forms)
_LANGUAGES = "|".join(wording.DOCUMENT_LANGUAGES)

#: The reviewing official's decisions, as the features say them (present and past).
DECISIONS = {
    "удовлетворяет жалобу частично": "partly_satisfied", "удовлетворило жалобу частично": "partly_satisfied",
    "удовлетворяет жалобу": "satisfied", "удовлетворило жалобу": "satisfied",
    "отказывает в удовлетворении жалобы": "rejected", "отказало в удовлетворении жалобы": "rejected",
}
_DECISION = "|".join(sorted(DECISIONS, key=len, reverse=True))  # «…жалобу частично» before «…жалобу»


def complaint_document(text: str) -> wording.DocumentName:
    """A complaint document named by its title or a short form («в решении по жалобе»)."""
    wanted = text.strip().strip("«»").lower()
    for name in COMPLAINT_DOCUMENTS:
        if wanted == name.title.lower() or wanted in name.forms:
            return name
    raise ValueError(f"unknown complaint document «{text}»; known: {', '.join(d.title for d in COMPLAINT_DOCUMENTS)}")


def complaint_of(number: str, channel: str, addressee: str, registered: datetime, through_provider: bool,
                 application: str | None) -> dict[str, Any]:
    """A complaint by the mother of Ахметов Нұрлан about school № 25, as the registrar's intake form (or the
    portal) submits it."""
    appealed: dict[str, Any] = {"subject": "decision",
                                "description": "Мотивированный отказ в дальнейшем рассмотрении заявления"}
    if application is not None:
        appealed["service_case"] = application
    return {
        "complaint_number": number, "channel": CHANNELS[channel], "addressee": ADDRESSEES[addressee],
        "registered_at": registered.isoformat(),
        "complainant": {"full_name": PARENT["full_name"], "iin": PARENT["iin"], "phone": PARENT["phone"],
                        "address": "050000, г. Алматы, проспект Абая, 1, кв. 5", "email": "aigul@example.kz"},
        "appealed": appealed,
        "against_provider": through_provider,
        "text": "Прошу отменить отказ: заключение ВКК действительно.",
        "provider_bin": SCHOOL_25,
    }


# --- registering a complaint ------------------------------------------------------------------

_COMPLAINT = (
    r"жалоба № (?P<number>\S+) (?P<channel>на бумажном носителе|в электронной форме)"
    r"(?: на отказ услугодателя по заявлению № (?P<application>\S+))?"
    r", адресованная (?P<addressee>[^,(]+?)(?: \(БИН (?P<body>\d{12})\))?, "
    r"(?P<through>(?:подаётся|подана) услугодателю, чьё решение обжалуется, и )?"
    r"(?:регистрируется|зарегистрирована) (?P<at>(?:в|во) .+)"
)


@given(parsers.re(_COMPLAINT), target_fixture="case")
@when(parsers.re(_COMPLAINT), target_fixture="case")
def complaint_registered(product: Services, number: str, channel: str, application: str | None, addressee: str,
                         body: str | None, through: str | None, at: str) -> Case:
    """The complaint is registered at ``at``; its periods run from then (§9).

    It is registered where it was handed in — at the school whose decision is appealed, or at the
    body it is addressed to (by the BIN given, else the body of that kind for school № 25) — by
    that organisation's registrar; the organisations it belongs to are found from the BINs in it.
    """
    if addressee not in ADDRESSEES:
        raise ValueError(f"unknown addressee «{addressee}»; known: {', '.join(ADDRESSEES)}")
    registered = wording.moment(at)
    filed = complaint_of(number, channel, addressee, registered, through is not None, application)
    kind = ADDRESSEES[addressee]
    reviewer = SCHOOL_25 if kind == "provider" else body or people.REVIEWING_BODY[kind]
    if kind != "provider":
        filed["addressee_bin"] = reviewer
    office = SCHOOL_25 if through is not None else reviewer
    instance_id = start(product, "complaint_filed", number, filed, registered,
                        people.actor(product, office, "complaint_registrar"), registered_at=office)
    return Case(instance_id, number, SCHOOL_25, reviewer)


# --- the official whose decision is appealed (APPK Art. 91 p.4) ---------------------------------


@when(parsers.re(r"обжалуемое должностное лицо направляет жалобу и административное дело в орган, "
                 r"рассматривающий жалобу, (?P<at>.+)"))
def forwarded(product: Services, case: Case, at: str) -> None:
    """No favourable act: the complaint goes on to the reviewing body with the administrative case."""
    complete(product, case, "appealed_official", "provider_considers_complaint", {"decision": "forward"}, at)


@when(parsers.re(r"обжалуемое должностное лицо (?P<at>.+?) принимает благоприятный административный акт "
                 r"«(?P<reference>.+?)», полностью удовлетворяющий требования жалобы: «(?P<summary>.+)»"))
def favourable_act(product: Services, case: Case, at: str, reference: str, summary: str) -> None:
    """The appealed official satisfies the complaint in full by a favourable administrative act."""
    data = {"decision": "favourable_act", "act_reference": reference, "act_summary": summary}
    complete(product, case, "appealed_official", "provider_considers_complaint", data, at)


# --- the official reviewing the complaint ------------------------------------------------------

_EXTENSION = (r"должностное лицо, рассматривающее жалобу, (?:продлевает|продлило) срок рассмотрения на "
              r"(?P<days>\d+) рабоч(?:ий день|их дня|их дней) (?P<at>.+?) по причине «(?P<reasons>.+)»")


@given(parsers.re(_EXTENSION))
@when(parsers.re(_EXTENSION))
def extended(product: Services, case: Case, days: str, at: str, reasons: str) -> None:
    """The review period is extended by ``days`` working days, for the reasons given."""
    data = {"decision": "extend", "extension_days": int(days), "reasons": reasons}
    complete(product, case, "reviewing_official", "review_complaint", data, at)


@when(parsers.re(r"должностное лицо, рассматривающее жалобу, уведомляет услугополучателя о продлении срока "
                 r"(?P<at>.+)"))
def extension_notified(product: Services, case: Case, at: str) -> None:
    """The complainant is told of the extension (the notice is issued in the complaint's form)."""
    complete(product, case, "reviewing_official", "notify_extension", {}, at)


_DECIDED = (rf"должностное лицо, рассматривающее жалобу, (?P<decision>{_DECISION}) (?P<at>.+?) "
            r"по мотивам «(?P<reasons>.+)»")


@given(parsers.re(_DECIDED))
@when(parsers.re(_DECIDED))
def decided(product: Services, case: Case, decision: str, at: str, reasons: str) -> None:
    """The complaint is decided, with its reasons."""
    data = {"decision": DECISIONS[decision], "reasons": reasons}
    complete(product, case, "reviewing_official", "review_complaint", data, at)


# --- what waits for whom ----------------------------------------------------------------------


def official_tasks(product: Services, case: Case, who: str) -> list[TaskSummary]:
    """The complaint's tasks in the named official's own task list, in the role the phrase names."""
    role, organisation = official_of(case, who)
    return tasks_seen(product, people.actor(product, organisation, role), case, role)


@then(parsers.re(rf"у (?P<who>{_OFFICIAL}),? ожидает задача «(?P<title>.+?)»(?: со сроком до (?P<due>.+))?"))
def official_task_waits(product: Services, case: Case, who: str, title: str, due: str | None) -> None:
    """The official's task list shows this task for the complaint (and when it is due)."""
    waiting = official_tasks(product, case, who)
    tasks = [t for t in waiting if t.title == title]
    assert len(tasks) == 1, f"{who}: {[t.title for t in waiting]}"
    if due is not None:
        assert tasks[0].due_at == wording.moment(due), f"«{title}» is due {tasks[0].due_at}"


@then(parsers.re(rf"у (?P<who>{_OFFICIAL}),? нет задачи «(?P<title>.+)»"))
def official_task_absent(product: Services, case: Case, who: str, title: str) -> None:
    """This task is not in the official's list for the complaint."""
    assert title not in [t.title for t in official_tasks(product, case, who)]


@then(parsers.re(rf"у (?P<who>{_OFFICIAL}),? нет задач по этой жалобе"))
def official_has_nothing(product: Services, case: Case, who: str) -> None:
    """Nothing of the complaint is in the official's task list."""
    assert official_tasks(product, case, who) == []


# --- the documents of the complaint -------------------------------------------------------------


def complaint_text(product: Services, case: Case, document: str, language: str) -> str:
    """What a reader sees of the complaint's document (named as in the features) in «казахском»/«русском»."""
    name = complaint_document(document)
    code = wording.DOCUMENT_LANGUAGES[language]
    found = [d for d in issued(product, case, name.kind) if d.language == code]
    assert len(found) == 1, f"{name.title} ({code}) issued {len(found)} times on complaint {case.number}"
    with product.uow(write=False) as uow:
        stored = uow.documents.get(found[0].id)
    assert stored is not None
    return wording.visible_text(stored.html)


@then(parsers.re(r"по жалобе выдан[аоы]? «(?P<title>.+)» на казахском и русском языках"))
def complaint_document_issued(product: Services, case: Case, title: str) -> None:
    """The document exists once in each language, under its official name."""
    name = complaint_document(title)
    documents = issued(product, case, name.kind)
    assert sorted(d.language for d in documents) == ["kk", "ru"], documents
    russian = next(d for d in documents if d.language == "ru")
    assert russian.title.startswith(name.title), russian.title


@then(parsers.re(rf"(?P<document>{_FORMS}) не выдан[аоы]?"))
def complaint_document_not_issued(product: Services, case: Case, document: str) -> None:
    """No such document exists on the complaint (in any language)."""
    assert issued(product, case, complaint_document(document).kind) == []


@then(parsers.re(rf"в (?P<document>{_FORMS}) на (?P<language>{_LANGUAGES}) языке сказано:"))
def complaint_document_says(product: Services, case: Case, document: str, language: str,
                            datatable: list[list[str]]) -> None:
    """Each line of the table appears in the document's text, as written."""
    text = complaint_text(product, case, document, language)
    for line in wording.table_lines(datatable):
        assert line in text, f"«{line}» is not in the {document} ({language}):\n{text}"


@then(parsers.re(rf"в (?P<document>{_FORMS}) на (?P<language>{_LANGUAGES}) языке нет слов:"))
def complaint_document_does_not_say(product: Services, case: Case, document: str, language: str,
                                    datatable: list[list[str]]) -> None:
    """None of the table's lines appears in the document's text."""
    text = complaint_text(product, case, document, language).lower()
    for line in wording.table_lines(datatable):
        assert line.lower() not in text, f"«{line}» is in the {document} ({language})"


@then(parsers.re(r"«(?P<title>.+)» направлен[аоы]? в личный кабинет услугополучателя"))
def complaint_document_to_cabinet(product: Services, case: Case, title: str) -> None:
    """The personal cabinet on egov.kz was sent this document of the complaint, once."""
    kind = complaint_document(title).kind
    documents = [item.payload.get("document") for item in sent(product, case, "portal_cabinet")]
    assert documents.count(kind) == 1, f"the personal cabinet got {documents}"
