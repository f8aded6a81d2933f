"""Rendering issued documents: HTML from Jinja2 templates (one per kind and language), PDF from HTML.

The templates are in ``templates/``: ``base.html`` (page layout, A4 print CSS, the provider's
header, the addressee and the signature) and ``<kind>.<language>.html`` for every kind and
language. Autoescaping is always on, so text that came from an applicant or a clerk can never
become markup. The wording of each document is in its template; what several documents share is
here (titles, dates), and the refusal's reasons and grounds come from ``service.domain.package``
(``describe_problem``, ``GROUND_TEXTS``), the same texts the package check is written against.

The complaint documents (§9–§10, ``COMPLAINT_DOCUMENT_KINDS``) are made from the complaint
process's ``complaint`` instead of an application's ``request``; they extend
``complaint_base.html``, which addresses them to the complainant (the forwarding letter: to the
body that reviews the complaint) and names the complaint in the running footer.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service.domain.documents import COMPLAINT_DOCUMENT_KINDS, DOCUMENT_KINDS, DOCUMENT_LANGUAGES
from service.domain.package import (
    DOCUMENT_NAMES,
    GROUND_INCOMPLETE,
    GROUND_REQUIREMENTS,
    GROUND_TEXTS,
    RETURNED_DOCUMENTS,
    describe_problem,
)
from service.domain.schooling import INSTRUCTION_LANGUAGE_NAMES
from service.domain.time import to_local

from .provider import ProviderInfo

TEMPLATES = Path(__file__).with_name("templates")

#: The official name of each document (glossary wording), per kind and language.
DOCUMENT_TITLES: dict[str, dict[str, str]] = {
    "receipt": {
        "kk": "Құжаттардың қабылданғаны туралы қолхат",
        "ru": "Расписка о приеме документов",
    },
    "refusal": {
        "kk": "Өтінішті одан әрі қараудан дәлелді бас тарту",
        "ru": "Мотивированный отказ в дальнейшем рассмотрении заявления",
    },
    "acceptance_notification": {
        "kk": "Құжаттарды қабылдау туралы хабарлама",
        "ru": "Уведомление о приеме документов",
    },
    "admission_order": {
        "kk": "Үйде жеке тегін оқытуға қабылдау туралы бұйрық",
        "ru": "Приказ о зачислении на индивидуальное бесплатное обучение на дому",
    },
    "complaint_acknowledgement": {
        "kk": "Шағымның тіркелгені туралы хабарлама",
        "ru": "Уведомление о регистрации жалобы",
    },
    "favourable_act_notice": {
        "kk": "Қолайлы әкімшілік актінің қабылданғаны туралы хабарлама",
        "ru": "Уведомление о принятии благоприятного административного акта",
    },
    "forwarding_letter": {
        "kk": "Шағымды және әкімшілік істі жіберу туралы ілеспе хат",
        "ru": "Сопроводительное письмо о направлении жалобы и административного дела",
    },
    "extension_notice": {
        "kk": "Шағымды қарау мерзімін ұзарту туралы хабарлама",
        "ru": "Уведомление о продлении срока рассмотрения жалобы",
    },
    "complaint_decision": {
        "kk": "Шағымды қарау нәтижелері бойынша шешім",
        "ru": "Решение по результатам рассмотрения жалобы",
    },
}

#: The state service's name as the Rules give it (order No. 223 of 27 May 2020).
SERVICE_NAME: dict[str, str] = {
    "kk": "«Денсаулық жағдайы бойынша ұзақ уақыт бойы бастауыш, негізгі орта, жалпы орта білім беру "
          "ұйымдарына бара алмайтын балаларды үйде жеке тегін оқытуды ұйымдастыру үшін құжаттарды қабылдау»",
    "ru": "«Прием документов для организации индивидуального бесплатного обучения на дому детей, которые "
          "по состоянию здоровья в течение длительного времени не могут посещать организации начального, "
          "основного среднего, общего среднего образования»",
}

_CHANNELS: dict[str, dict[str, str]] = {
    "office": {"kk": "көрсетілетін қызметті берушінің кеңсесі", "ru": "канцелярия услугодателя"},
    "portal": {"kk": "«электрондық үкімет» веб-порталы", "ru": "веб-портал «электронного правительства»"},
    "proactive": {"kk": "проактивті қызмет", "ru": "проактивная услуга"},
}
_RELATIONS: dict[str, dict[str, str]] = {
    "parent": {"kk": "ата-анасы", "ru": "родитель"},
    "guardian": {"kk": "заңды өкілі", "ru": "законный представитель"},
}
_MONTHS = {
    "kk": ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
           "қараша", "желтоқсан"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
           "ноября", "декабря"),
}
#: Kazakh month names with the attributive suffix, as in "2013 жылғы 15 сәуірдегі Заң".
_MONTHS_ATTRIBUTIVE_KK = ("қаңтардағы", "ақпандағы", "наурыздағы", "сәуірдегі", "мамырдағы", "маусымдағы",
                          "шілдедегі", "тамыздағы", "қыркүйектегі", "қазандағы", "қарашадағы", "желтоқсандағы")
#: How a complaint was filed (§9: the extension is notified in the same form).
_COMPLAINT_CHANNELS: dict[str, dict[str, str]] = {
    "paper": {"kk": "қағаз жеткізгіште", "ru": "на бумажном носителе"},
    "electronic": {"kk": "электрондық түрде", "ru": "в электронной форме"},
}
#: The body a complaint is addressed to (§9), glossary wording; it sets the review period.
_ADDRESSEES: dict[str, dict[str, str]] = {
    "provider": {"kk": "Көрсетілетін қызметті беруші", "ru": "Услугодатель"},
    "local_executive_body": {"kk": "Жергілікті атқарушы орган", "ru": "Местный исполнительный орган"},
    "akim": {"kk": "Әкім", "ru": "Аким"},
    "central_state_body": {"kk": "Орталық мемлекеттік орган", "ru": "Центральный государственный орган"},
    "state_corporation": {"kk": "Мемлекеттік корпорация", "ru": "Государственная корпорация"},
    "quality_authority": {
        "kk": "Мемлекеттік қызметтер көрсету сапасын бағалау және бақылау жөніндегі уәкілетті орган",
        "ru": "Уполномоченный орган по оценке и контролю за качеством оказания государственных услуг",
    },
}
#: Who receives the forwarded complaint and administrative case (APPK Art. 91 p.4): the body the
#: complaint is addressed to; a complaint addressed to the provider is reviewed by its head.
_REVIEWING_BODIES: dict[str, dict[str, str]] = {
    **_ADDRESSEES,
    "provider": {"kk": "Көрсетілетін қызметті берушінің басшысы", "ru": "Руководитель услугодателя"},
}
_APPEALED_SUBJECTS: dict[str, dict[str, str]] = {
    "decision": {"kk": "шешім", "ru": "решение"},
    "action": {"kk": "әрекет", "ru": "действие"},
    "inaction": {"kk": "әрекетсіздік", "ru": "бездействие"},
}
#: The outcome of a review (§9), as the decision states it.
_COMPLAINT_DECISIONS: dict[str, dict[str, str]] = {
    "satisfied": {"kk": "Шағым қанағаттандырылды.", "ru": "Жалоба удовлетворена."},
    "partly_satisfied": {"kk": "Шағым ішінара қанағаттандырылды.", "ru": "Жалоба удовлетворена частично."},
    "rejected": {"kk": "Шағымды қанағаттандырудан бас тартылды.", "ru": "В удовлетворении жалобы отказано."},
}
#: Who signs what the reviewing body issues when it is not the provider (§9's own words).
_REVIEWING_OFFICIAL = {
    "kk": "Шағымды қарау өкілеттігі берілген лауазымды адам",
    "ru": "Должностное лицо, уполномоченное на рассмотрение жалобы",
}
_ADMISSION_FIELDS = ("order_number", "order_date", "grade", "language", "teachers", "weekly_hours",
                     "curriculum_reference", "period_start", "period_end")

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def document_title(kind: str, language: str) -> str:
    """The document's official name in ``language``; ValueError for an unknown kind or language."""
    _check(kind, language)
    return DOCUMENT_TITLES[kind][language]


def document_number(kind: str, payload: Mapping[str, Any], case_number: str) -> str:
    """The number a document is registered under: an admission order's own number, else the case's."""
    if kind == "admission_order" and payload.get("order_number"):
        return str(payload["order_number"])
    return case_number


def render_html(kind: str, language: str, context: Mapping[str, Any]) -> str:
    """Render one document as a complete HTML page.

    ``context`` holds ``case_number`` (the business key), ``issued_at`` (an aware datetime),
    ``provider`` (:class:`ProviderInfo`) and the ``document.<kind>`` message's payload:
    ``request`` always, ``reasons`` for a refusal, the order's fields for an admission order, and
    optionally ``official`` (``{"full_name", "position"}``) — who signs, by default the provider's
    head (the office clerk, left blank to sign by hand, for a receipt).

    A complaint document's payload holds ``complaint`` instead of ``request``, and what its kind
    needs besides (docs/complaint-review.md): ``review_days`` and ``review_deadline`` for the
    acknowledgement; ``act_reference`` and ``act_summary`` for the favourable act notice;
    ``extension_days``, ``reasons`` and ``review_deadline`` (the new one) for the extension
    notice; ``decision``, ``reasons`` and ``late`` for the decision.
    """
    _check(kind, language)
    view = _view(kind, language, context)
    return _environment.get_template(f"{kind}.{language}.html").render(view)


def render_pdf(html: str) -> bytes:
    """Lay out ``html`` on A4 pages and return the PDF; nothing outside the HTML is ever fetched."""
    with warnings.catch_warnings():
        # Without the system library libharfbuzz-subset0 WeasyPrint warns at import and subsets fonts
        # with fontTools instead (about three times slower, same output). Install it on servers.
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML, URLFetcher  # imported here: loading pango and fonts takes ~0.5 s

    fetcher = URLFetcher(allowed_protocols=frozenset())
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def _check(kind: str, language: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document kind {kind!r}; known kinds: {', '.join(DOCUMENT_KINDS)}")
    _check_language(language)


def _check_language(language: str) -> None:
    if language not in DOCUMENT_LANGUAGES:
        raise ValueError(f"unknown document language {language!r}; known languages: {', '.join(DOCUMENT_LANGUAGES)}")


def _label(table: Mapping[str, Mapping[str, str]], key: str, language: str) -> str:
    return table.get(key, {}).get(language, key)


def _view(kind: str, language: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a template reads, with defaults filled in, so templates never guess."""
    subject = "complaint" if kind in COMPLAINT_DOCUMENT_KINDS else "request"
    missing = [key for key in ("case_number", "issued_at", "provider", subject) if key not in context]
    if missing:
        raise ValueError(f"cannot render a {kind}: the context lacks {', '.join(missing)}")
    provider = context["provider"]
    if not isinstance(provider, ProviderInfo):
        raise ValueError("cannot render a document: 'provider' must be a ProviderInfo")
    issued_at = context["issued_at"]
    if not isinstance(issued_at, datetime):
        raise ValueError("cannot render a document: 'issued_at' must be a timezone-aware datetime")
    if subject == "complaint":
        return _complaint_view(kind, language, context, provider, issued_at)
    request = _mapping(context["request"])
    applicant = _mapping(request.get("applicant"))
    child = _mapping(request.get("child"))
    vkk = _mapping(request.get("vkk_conclusion"))
    official = _mapping(context.get("official"))
    if kind == "receipt":
        default_position = "Кеңсе қызметкері" if language == "kk" else "Сотрудник канцелярии"
        default_name = ""
    else:
        default_position, default_name = provider.head_position(language), provider.head_name
    view = _common_view(kind, language, provider, str(context["case_number"]), issued_at)
    handed_in = [str(name) for name in request.get("documents") or ()]
    view.update({
        "application_number": str(request.get("application_number") or context["case_number"]),
        "document_number": document_number(kind, context, str(context["case_number"])),
        "channel": _label(_CHANNELS, str(request.get("channel") or ""), language),
        "proactive": request.get("channel") == "proactive",
        "received_at": request.get("received_at"),
        "applicant": {
            "full_name": str(applicant.get("full_name") or ""),
            "iin": str(applicant.get("iin") or ""),
            "phone": str(applicant.get("phone") or ""),
            "relation": _label(_RELATIONS, str(applicant.get("relation") or ""), language),
        },
        "child": {
            "full_name": str(child.get("full_name") or ""),
            "iin": str(child.get("iin") or ""),
            "birth_date": child.get("birth_date"),
        },
        "vkk": {
            "number": str(vkk.get("number") or ""),
            "issued_on": vkk.get("issued_on"),
            "valid_until": vkk.get("valid_until"),
        },
        "documents": [_capitalised(_label(DOCUMENT_NAMES, name, language))
                      for name in handed_in if name not in RETURNED_DOCUMENTS],
        "returned_documents": [_label(DOCUMENT_NAMES, name, language) for name in handed_in
                               if name in RETURNED_DOCUMENTS],
        "official": {
            "position": str(official.get("position") or default_position),
            "full_name": str(official.get("full_name") or default_name),
        },
    })
    if kind == "refusal":
        view["reasons"] = _reasons(context, language)
    if kind == "admission_order":
        view.update(_admission(context, language))
    return view


def _common_view(kind: str, language: str, provider: ProviderInfo, case_number: str,
                 issued_at: datetime) -> dict[str, Any]:
    """What every document shows besides its own particulars: title, letterhead, date helpers."""
    return {
        "lang": language,
        "kk": language == "kk",
        "kind": kind,
        "title": DOCUMENT_TITLES[kind][language],
        "service_name": SERVICE_NAME[language],
        "case_number": case_number,
        "document_number": case_number,
        "issued_at": to_local(issued_at),
        "provider": provider,
        "provider_name": provider.name(language),
        "provider_address": provider.address(language),
        "provider_head_position": provider.head_position(language),
        "provider_locality": provider.locality(language),
        "long_date": lambda value: _long_date(value, language),
        "long_datetime": lambda value: _long_datetime(value, language),
        "dated": lambda value: _dated(value, language),
        "short_date": _short_date,
        "working_days": lambda value: _working_days(value, language),
    }


def _complaint_view(kind: str, language: str, context: Mapping[str, Any], provider: ProviderInfo,
                    issued_at: datetime) -> dict[str, Any]:
    """The view of a complaint document (§9–§10): the complaint, its addressee and the kind's particulars."""
    complaint = _mapping(context["complaint"])
    complainant = _mapping(complaint.get("complainant"))
    appealed = _mapping(complaint.get("appealed"))
    number = str(complaint.get("complaint_number") or context["case_number"])
    addressee = str(complaint.get("addressee") or "")
    if addressee not in _ADDRESSEES:
        raise ValueError(f"cannot render a {kind}: unknown addressee {addressee!r}; known: {', '.join(_ADDRESSEES)}")
    channel = str(complaint.get("channel") or "")
    if channel not in _COMPLAINT_CHANNELS:
        raise ValueError(f"cannot render a {kind}: unknown channel {channel!r}; known: paper, electronic")
    official = _mapping(context.get("official"))
    if kind == "complaint_acknowledgement":  # registered by the office, signed by hand
        default_position = "Кеңсе қызметкері" if language == "kk" else "Сотрудник канцелярии"
        default_name = ""
    elif kind in ("extension_notice", "complaint_decision") and addressee != "provider":
        default_position, default_name = _REVIEWING_OFFICIAL[language], ""
    else:
        default_position, default_name = provider.head_position(language), provider.head_name
    view = _common_view(kind, language, provider, str(context["case_number"]), issued_at)
    view.update({
        "complaint_number": number,
        "registered_at": complaint.get("registered_at"),
        "electronic": channel == "electronic",
        "complaint_channel": _COMPLAINT_CHANNELS[channel][language],
        "addressee": _ADDRESSEES[addressee][language],
        "addressee_is_provider": addressee == "provider",
        "reviewing_body": _REVIEWING_BODIES[addressee][language],
        "against_provider": complaint.get("against_provider") is True,
        "complainant": {
            "full_name": str(complainant.get("full_name") or ""),
            "iin": str(complainant.get("iin") or ""),
            "address": str(complainant.get("address") or ""),
            "email": str(complainant.get("email") or ""),
            "phone": str(complainant.get("phone") or ""),
        },
        "appealed": {
            "subject": _label(_APPEALED_SUBJECTS, str(appealed.get("subject") or ""), language),
            "description": str(appealed.get("description") or ""),
            "service_case": str(appealed.get("service_case") or ""),
        },
        "complaint_text": str(complaint.get("text") or ""),
        "official": {
            "position": str(official.get("position") or default_position),
            "full_name": str(official.get("full_name") or default_name),
        },
    })
    if not view["complainant"]["full_name"]:
        raise ValueError(f"cannot render a {kind}: the complaint does not name its complainant")
    view.update(_COMPLAINT_PARTICULARS[kind](kind, context, language))
    return view


def _acknowledgement(kind: str, context: Mapping[str, Any], language: str) -> dict[str, Any]:
    days, deadline = context.get("review_days"), context.get("review_deadline")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1 or not deadline:
        raise ValueError(f"cannot render a {kind}: give review_days (working days) and review_deadline")
    return {"review_days": days, "review_deadline": deadline}


def _favourable_act(kind: str, context: Mapping[str, Any], language: str) -> dict[str, Any]:
    reference = str(context.get("act_reference") or "").strip()
    if not reference:
        raise ValueError(f"cannot render a {kind}: the payload lacks act_reference")
    return {"act_reference": reference, "act_summary": str(context.get("act_summary") or "").strip()}


def _forwarding(kind: str, context: Mapping[str, Any], language: str) -> dict[str, Any]:
    return {}


def _extension(kind: str, context: Mapping[str, Any], language: str) -> dict[str, Any]:
    days, deadline = context.get("extension_days"), context.get("review_deadline")
    reasons = str(context.get("reasons") or "").strip()
    if not isinstance(days, int) or isinstance(days, bool) or days < 1 or not deadline or not reasons:
        raise ValueError(f"cannot render a {kind}: give extension_days, reasons and the new review_deadline")
    return {"extension_days": days, "reasons": reasons, "review_deadline": deadline}


def _decision(kind: str, context: Mapping[str, Any], language: str) -> dict[str, Any]:
    decision = str(context.get("decision") or "")
    if decision not in _COMPLAINT_DECISIONS:
        raise ValueError(f"cannot render a {kind}: unknown decision {decision!r}; known: "
                         f"{', '.join(_COMPLAINT_DECISIONS)}")
    reasons = str(context.get("reasons") or "").strip()
    if not reasons:
        raise ValueError(f"cannot render a {kind}: a decision states its reasons")
    return {"decision": decision, "decision_text": _COMPLAINT_DECISIONS[decision][language], "reasons": reasons,
            "late": context.get("late") is True}


_COMPLAINT_PARTICULARS = {
    "complaint_acknowledgement": _acknowledgement,
    "favourable_act_notice": _favourable_act,
    "forwarding_letter": _forwarding,
    "extension_notice": _extension,
    "complaint_decision": _decision,
}


def _working_days(value: Any, language: str) -> str:
    """``5 жұмыс күні`` / ``5 рабочих дней``, ``1 рабочий день``, ``3 рабочих дня``."""
    count = int(value)
    if language == "kk":
        return f"{count} жұмыс күні"
    if count % 10 == 1 and count % 100 != 11:
        return f"{count} рабочий день"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return f"{count} рабочих дня"
    return f"{count} рабочих дней"


def _reasons(context: Mapping[str, Any], language: str) -> list[dict[str, str]]:
    """Each reason in words with its legal ground (Law Art. 19-1 p.1: a refusal states every reason)."""
    reasons = context.get("reasons")
    if not reasons or not isinstance(reasons, list | tuple):
        raise ValueError("cannot render a refusal without reasons: give 'reasons' as a non-empty list")
    described = []
    for reason in reasons:
        problem = {key: value for key, value in _mapping(reason).items() if key != "note"}
        ground = str(problem.get("ground") or _default_ground(str(problem.get("code"))))
        if ground not in GROUND_TEXTS:
            raise ValueError(f"cannot render a refusal: no text for legal ground {ground!r}")
        described.append({
            "text": describe_problem(problem, language, with_ground=False),
            "ground": GROUND_TEXTS[ground][language],
            "note": str(_mapping(reason).get("note") or "").strip(),
        })
    return described


def _default_ground(code: str) -> str:
    """The ground of a reason that names none (a clerk's extra reason): Appendix 1, grounds for refusal."""
    return GROUND_INCOMPLETE if code in ("missing_document", "expired_document") else GROUND_REQUIREMENTS


def _admission(context: Mapping[str, Any], language: str) -> dict[str, Any]:
    missing = [key for key in _ADMISSION_FIELDS if context.get(key) in (None, "", [])]
    if missing:
        raise ValueError(f"cannot render an admission order: the payload lacks {', '.join(missing)}")
    teachers = [
        {"full_name": str(_mapping(t).get("full_name") or ""), "subject": str(_mapping(t).get("subject") or "")}
        for t in context["teachers"]
    ]
    return {
        "order_number": str(context["order_number"]),
        "order_date": context["order_date"],
        "grade": str(context["grade"]),
        "instruction_language": _label(INSTRUCTION_LANGUAGE_NAMES, str(context["language"]), language),
        "teachers": teachers,
        "weekly_hours": _number(context["weekly_hours"]),
        "curriculum_reference": str(context["curriculum_reference"]),
        "period_start": context["period_start"],
        "period_end": context["period_end"],
    }


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_date(value: Any) -> date | None:
    """A date from a date, an aware datetime (in Almaty time) or ISO text; None if it is none of those."""
    if isinstance(value, datetime):
        return to_local(value).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return _as_date(parsed)
    return None


def _long_date(value: Any, language: str) -> str:
    """``2026 жылғы 20 наурыз`` / ``20 марта 2026 года``; text that is not a date is shown as it is."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    month = _MONTHS[language][day.month - 1]
    return f"{day.year} жылғы {day.day} {month}" if language == "kk" else f"{day.day} {month} {day.year} года"


def _dated(value: Any, language: str) -> str:
    """A date qualifying a document: ``2026 жылғы 20 наурыздағы`` / ``от 20 марта 2026 года``."""
    day = _as_date(value)
    if day is None:
        text = "" if value is None else str(value)
        return text if language == "kk" else f"от {text}"
    if language == "kk":
        return f"{day.year} жылғы {day.day} {_MONTHS_ATTRIBUTIVE_KK[day.month - 1]}"
    return f"от {_long_date(day, language)}"


def _long_datetime(value: Any, language: str) -> str:
    """A long date followed by the time of day (Almaty time) when the value has one."""
    instant = value
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(instant, datetime) and instant.tzinfo is not None:
        local = to_local(instant)
        return f"{_long_date(local, language)}, {local:%H:%M}"
    return _long_date(value, language)


def _short_date(value: Any) -> str:
    """``20.03.2026``; text that is not a date is shown as it is."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return f"{day:%d.%m.%Y}"
