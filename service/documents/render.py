"""Rendering issued documents: HTML from one Jinja2 template per kind, its wording from gettext; PDF from HTML.

The templates are in ``templates/``: ``base.html`` (page layout, A4 print CSS, the provider's
header, the addressee and the signature) and ``<kind>.html`` for every kind, in no language: every
word is ``_("key", name=value)``, looked up in the ``documents`` catalogue of the document's
language (``service/translations/<language>/LC_MESSAGES/documents.po``, see ``catalogue.py``),
installed for each render. The words Python adds (titles, the service's name, channels,
relations, addressees, months and date formats, plural "working days", default signatories) come
from the same catalogue. Autoescaping is always on, so text that came from an applicant or a clerk
can never become markup: the values filled into a text are escaped, the catalogue's own text is
not. The refusal's reasons and grounds come from ``service.domain.package`` (``describe_problem``,
``ground_text``), the same texts the package check is written against.

Why symbolic msgids (``receipt.intro``, ``title.refusal``) and not the Russian text as msgid: the
documents are legal acts whose Kazakh and Russian wordings are both authoritative — neither is a
translation of the other, so neither can be the "source". A Russian msgid would make every
correction of the Russian wording a new msgid, orphaning the Kazakh text (gettext would then print
the Russian in a Kazakh act without a word of warning). A key stays put while either wording
changes, names where the text is used, and a key with no text is caught: :class:`Wording` raises
:class:`MissingTranslation` instead of printing it (tests/test_document_catalogue.py checks both
catalogues give every key a text with the same placeholders).

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

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup

from service.domain.documents import COMPLAINT_DOCUMENT_KINDS, DOCUMENT_KINDS, DOCUMENT_LANGUAGES
from service.domain.package import (
    GROUND_INCOMPLETE,
    GROUND_REQUIREMENTS,
    GROUNDS,
    PACKAGE_DOCUMENTS,
    RETURNED_DOCUMENTS,
    describe_problem,
    document_name,
    ground_text,
)
from service.domain.schooling import instruction_language_name
from service.domain.time import to_local

from .catalogue import MissingTranslation, Wording, wording
from .provider import ProviderInfo

TEMPLATES = Path(__file__).with_name("templates")

#: Codes with a catalogue entry (``channel.<code>``…); any other code is printed as it is, as before.
CHANNELS = ("office", "portal", "proactive")
RELATIONS = ("parent", "guardian")
#: How a complaint was filed (§9: the extension is notified in the same form).
COMPLAINT_CHANNELS = ("paper", "electronic")
#: The body a complaint is addressed to (§9); it sets the review period.
ADDRESSEES = ("provider", "local_executive_body", "akim", "central_state_body", "state_corporation",
              "quality_authority")
APPEALED_SUBJECTS = ("decision", "action", "inaction")
#: The outcome of a review (§9), as the decision states it (``complaint_decision.outcome.<code>``).
COMPLAINT_DECISIONS = ("satisfied", "partly_satisfied", "rejected")
_ADMISSION_FIELDS = ("order_number", "order_date", "grade", "language", "teachers", "weekly_hours",
                     "curriculum_reference", "period_start", "period_end")


@pass_context
def _no_language(context: Any, key: str, **values: Any) -> str:
    """What ``_`` is until a render installs a language: an error, never the key as text."""
    raise MissingTranslation(f"{key!r} looked up with no language installed (render through render_html)")


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    extensions=["jinja2.ext.i18n"],
)
# {% trans %} blocks pass their values as keywords (new style), like the _("key", name=value) calls.
_environment.newstyle_gettext = True  # type: ignore[attr-defined]
_environment.globals.update(gettext=_no_language, _=_no_language)


def document_title(kind: str, language: str) -> str:
    """The document's official name in ``language``; ValueError for an unknown kind or language."""
    _check(kind, language)
    return wording(language).text(f"title.{kind}")


def service_name(language: str) -> str:
    """The state service's name as the Rules give it (order No. 223 of 27 May 2020), in ``language``."""
    _check_language(language)
    return wording(language).text("service_name")


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
    words = wording(language)
    view = _view(kind, words, context)
    gettext = template_gettext(words)
    return _environment.get_template(f"{kind}.html").render(view, gettext=gettext, _=gettext)


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


def template_gettext(words: Wording) -> Any:
    """``_("key", name=value)`` for templates: the text of ``key`` in the document's language, values escaped."""

    @pass_context
    def gettext(context: Any, key: str, **values: Any) -> str:
        text = words.raw(key)
        if context.eval_ctx.autoescape:
            return Markup(text) % values
        return text % values

    return gettext


def _label(prefix: str, codes: tuple[str, ...], code: str, words: Wording) -> str:
    """The catalogue's name of a known ``code`` (``<prefix>.<code>``); an unknown code is printed as it is."""
    return words.text(f"{prefix}.{code}") if code in codes else code


def _view(kind: str, words: Wording, context: Mapping[str, Any]) -> dict[str, Any]:
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
        return _complaint_view(kind, words, context, provider, issued_at)
    request = _mapping(context["request"])
    applicant = _mapping(request.get("applicant"))
    child = _mapping(request.get("child"))
    vkk = _mapping(request.get("vkk_conclusion"))
    official = _mapping(context.get("official"))
    language = words.language
    if kind == "receipt":
        default_position, default_name = words.text("official.clerk"), ""
    else:
        default_position, default_name = provider.head_position(language), provider.head_name
    view = _common_view(kind, words, provider, str(context["case_number"]), issued_at)
    handed_in = [str(name) for name in request.get("documents") or ()]
    view.update({
        "application_number": str(request.get("application_number") or context["case_number"]),
        "document_number": document_number(kind, context, str(context["case_number"])),
        "channel": _label("channel", CHANNELS, str(request.get("channel") or ""), words),
        "proactive": request.get("channel") == "proactive",
        "received_at": request.get("received_at"),
        "applicant": {
            "full_name": str(applicant.get("full_name") or ""),
            "iin": str(applicant.get("iin") or ""),
            "phone": str(applicant.get("phone") or ""),
            "relation": _label("relation", RELATIONS, str(applicant.get("relation") or ""), words),
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
        "documents": [_capitalised(_document_name(name, language))
                      for name in handed_in if name not in RETURNED_DOCUMENTS],
        "returned_documents": [_document_name(name, language) for name in handed_in
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


def _document_name(name: str, language: str) -> str:
    """A handed-in document's name (service.domain.package, the package check's own words)."""
    return document_name(name, language) if name in PACKAGE_DOCUMENTS else name


def _common_view(kind: str, words: Wording, provider: ProviderInfo, case_number: str,
                 issued_at: datetime) -> dict[str, Any]:
    """What every document shows besides its own particulars: title, letterhead, date helpers."""
    language = words.language
    return {
        "lang": language,
        "kind": kind,
        "title": words.text(f"title.{kind}"),
        "service_name": words.text("service_name"),
        "case_number": case_number,
        "document_number": case_number,
        "issued_at": to_local(issued_at),
        "provider": provider,
        "provider_name": provider.name(language),
        "provider_address": provider.address(language),
        "provider_head_position": provider.head_position(language),
        "provider_locality": provider.locality(language),
        "long_date": lambda value: long_date(value, words),
        "long_datetime": lambda value: long_datetime(value, words),
        "dated": lambda value: _dated(value, words),
        "short_date": _short_date,
        "working_days": lambda value: words.plural("working_days", int(value)),
    }


def _complaint_view(kind: str, words: Wording, context: Mapping[str, Any], provider: ProviderInfo,
                    issued_at: datetime) -> dict[str, Any]:
    """The view of a complaint document (§9–§10): the complaint, its addressee and the kind's particulars."""
    complaint = _mapping(context["complaint"])
    complainant = _mapping(complaint.get("complainant"))
    appealed = _mapping(complaint.get("appealed"))
    number = str(complaint.get("complaint_number") or context["case_number"])
    addressee = str(complaint.get("addressee") or "")
    if addressee not in ADDRESSEES:
        raise ValueError(f"cannot render a {kind}: unknown addressee {addressee!r}; known: {', '.join(ADDRESSEES)}")
    channel = str(complaint.get("channel") or "")
    if channel not in COMPLAINT_CHANNELS:
        raise ValueError(f"cannot render a {kind}: unknown channel {channel!r}; known: paper, electronic")
    official = _mapping(context.get("official"))
    language = words.language
    if kind == "complaint_acknowledgement":  # registered by the office, signed by hand
        default_position, default_name = words.text("official.clerk"), ""
    elif kind in ("extension_notice", "complaint_decision") and addressee != "provider":
        default_position, default_name = words.text("official.reviewing"), ""
    else:
        default_position, default_name = provider.head_position(language), provider.head_name
    view = _common_view(kind, words, provider, str(context["case_number"]), issued_at)
    view.update({
        "complaint_number": number,
        "registered_at": complaint.get("registered_at"),
        "electronic": channel == "electronic",
        "complaint_channel": words.text(f"complaint_channel.{channel}"),
        "addressee": words.text(f"addressee.{addressee}"),
        "addressee_is_provider": addressee == "provider",
        # APPK Art. 91 p.4: a complaint addressed to the provider is reviewed by its head.
        "reviewing_body": words.text("reviewing_body.provider" if addressee == "provider"
                                     else f"addressee.{addressee}"),
        "against_provider": complaint.get("against_provider") is True,
        "complainant": {
            "full_name": str(complainant.get("full_name") or ""),
            "iin": str(complainant.get("iin") or ""),
            "address": str(complainant.get("address") or ""),
            "email": str(complainant.get("email") or ""),
            "phone": str(complainant.get("phone") or ""),
        },
        "appealed": {
            "subject": _label("appealed", APPEALED_SUBJECTS, str(appealed.get("subject") or ""), words),
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
    view.update(_COMPLAINT_PARTICULARS[kind](kind, context, words))
    return view


def _acknowledgement(kind: str, context: Mapping[str, Any], words: Wording) -> dict[str, Any]:
    days, deadline = context.get("review_days"), context.get("review_deadline")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1 or not deadline:
        raise ValueError(f"cannot render a {kind}: give review_days (working days) and review_deadline")
    return {"review_days": days, "review_deadline": deadline}


def _favourable_act(kind: str, context: Mapping[str, Any], words: Wording) -> dict[str, Any]:
    reference = str(context.get("act_reference") or "").strip()
    if not reference:
        raise ValueError(f"cannot render a {kind}: the payload lacks act_reference")
    return {"act_reference": reference, "act_summary": str(context.get("act_summary") or "").strip()}


def _forwarding(kind: str, context: Mapping[str, Any], words: Wording) -> dict[str, Any]:
    return {}


def _extension(kind: str, context: Mapping[str, Any], words: Wording) -> dict[str, Any]:
    days, deadline = context.get("extension_days"), context.get("review_deadline")
    reasons = str(context.get("reasons") or "").strip()
    if not isinstance(days, int) or isinstance(days, bool) or days < 1 or not deadline or not reasons:
        raise ValueError(f"cannot render a {kind}: give extension_days, reasons and the new review_deadline")
    return {"extension_days": days, "reasons": reasons, "review_deadline": deadline}


def _decision(kind: str, context: Mapping[str, Any], words: Wording) -> dict[str, Any]:
    decision = str(context.get("decision") or "")
    if decision not in COMPLAINT_DECISIONS:
        raise ValueError(f"cannot render a {kind}: unknown decision {decision!r}; known: "
                         f"{', '.join(COMPLAINT_DECISIONS)}")
    reasons = str(context.get("reasons") or "").strip()
    if not reasons:
        raise ValueError(f"cannot render a {kind}: a decision states its reasons")
    return {"decision": decision, "decision_text": words.text(f"complaint_decision.outcome.{decision}"),
            "reasons": reasons,
            "late": context.get("late") is True}


_COMPLAINT_PARTICULARS = {
    "complaint_acknowledgement": _acknowledgement,
    "favourable_act_notice": _favourable_act,
    "forwarding_letter": _forwarding,
    "extension_notice": _extension,
    "complaint_decision": _decision,
}


def _reasons(context: Mapping[str, Any], language: str) -> list[dict[str, str]]:
    """Each reason in words with its legal ground (Law Art. 19-1 p.1: a refusal states every reason)."""
    reasons = context.get("reasons")
    if not reasons or not isinstance(reasons, list | tuple):
        raise ValueError("cannot render a refusal without reasons: give 'reasons' as a non-empty list")
    described = []
    for reason in reasons:
        problem = {key: value for key, value in _mapping(reason).items() if key != "note"}
        ground = str(problem.get("ground") or _default_ground(str(problem.get("code"))))
        if ground not in GROUNDS:
            raise ValueError(f"cannot render a refusal: no text for legal ground {ground!r}")
        described.append({
            "text": describe_problem(problem, language, with_ground=False),
            "ground": ground_text(ground, language),
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
        "instruction_language": instruction_language_name(str(context["language"]), language),
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


def long_date(value: Any, words: Wording) -> str:
    """``2026 жылғы 20 наурыз`` / ``20 марта 2026 года``; text that is not a date is shown as it is."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return words.text("date.long", year=day.year, day=day.day, month=words.text(f"month.{day.month}"))


def _dated(value: Any, words: Wording) -> str:
    """A date qualifying a document: ``2026 жылғы 20 наурыздағы`` / ``от 20 марта 2026 года``."""
    day = _as_date(value)
    if day is None:
        return words.text("date.dated_text", text="" if value is None else str(value))
    return words.text("date.dated", year=day.year, day=day.day, month=words.text(f"month.{day.month}.dated"))


def long_datetime(value: Any, words: Wording) -> str:
    """A long date followed by the time of day (Almaty time) when the value has one."""
    instant = value
    if isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(instant, datetime) and instant.tzinfo is not None:
        local = to_local(instant)
        return words.text("date.with_time", date=long_date(local, words), time=f"{local:%H:%M}")
    return long_date(value, words)


def _short_date(value: Any) -> str:
    """``20.03.2026``; text that is not a date is shown as it is."""
    day = _as_date(value)
    if day is None:
        return "" if value is None else str(value)
    return f"{day:%d.%m.%Y}"
