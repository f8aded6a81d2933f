"""Is the document package complete and admissible? Checked before a request enters the process.

``check_package`` returns the problems of an application as the contract in
``docs/service-delivery.md`` names them; the diagram only reads them. Each problem carries
its legal ground:

- ``law_art19`` — Law of the Republic of Kazakhstan "On State Services", Article 19: an
  incomplete package or documents whose validity has expired;
- ``law_art19_1_p2`` — the same Law, Article 19-1 paragraph 2: documents or data found
  unreliable, or the applicant or materials not meeting the statutory requirements.

The reasons' texts (``package.*`` in the documents catalogue) are used on the reasoned refusal
(Appendix 2 of the Rules), which must state every concrete reason with its ground (Article 19-1
paragraph 1 of the Law).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.domain.errors import InvalidInput
from service.domain.identity import IIN_BIRTH_DATE_MISMATCH, iin_birth_date, validate_iin
from service.domain.phrases import DOCUMENTS, phrase

LANGUAGES = ("kk", "ru", "en")

GROUND_INCOMPLETE = "law_art19"
GROUND_REQUIREMENTS = "law_art19_1_p2"

# date.fromisoformat also takes 20260320 and week dates like 2026-W12-5; the contract does not.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


#: The documents each channel requires by default (appendices.md, Appendix 1: settings
#: ``HOMESCHOOL_OFFICE_DOCUMENTS``, ``HOMESCHOOL_PORTAL_DOCUMENTS``, ``HOMESCHOOL_PROACTIVE_DOCUMENTS``).
DEFAULT_OFFICE_DOCUMENTS: tuple[str, ...] = ("application", "vkk_conclusion", "identity_document")
DEFAULT_PORTAL_DOCUMENTS: tuple[str, ...] = ("application", "vkk_conclusion")
DEFAULT_PROACTIVE_DOCUMENTS: tuple[str, ...] = ()

#: Documents shown at the office and handed back, never kept: the identity document is shown for
#: identification only (Appendix 1), so a receipt names it apart from the documents accepted.
RETURNED_DOCUMENTS = frozenset({"identity_document"})


def document_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds as a per-channel list, checked: each known and named once; InvalidInput otherwise."""
    chosen = tuple(kinds)
    unknown = [kind for kind in chosen if kind not in PACKAGE_DOCUMENTS]
    if unknown:
        raise InvalidInput(f"unknown document kind {unknown[0]!r}; known kinds: {', '.join(PACKAGE_DOCUMENTS)}")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput(f"a document kind is named twice in {', '.join(chosen)}")
    return chosen


@dataclass(frozen=True)
class PackageRules:
    """What a package must contain, per channel, and the other admission limits.

    These are documented settings (the regulation's appendices, Appendix 1:
    "documents, office", "documents, portal"): the text of Appendix 1 is not available, so
    the typical lists are the defaults and an operator may change them (``HOMESCHOOL_*_DOCUMENTS``).

    - ``office_documents``: handed in at the provider's office — the application of the
      parent or legal representative, the VKK conclusion (form 035-1/у) and an identity
      document (shown for identification only).
    - ``portal_documents``: attached to the electronic request. Identity data come from
      state information systems and are never demanded (§5 of the Rules).
    - ``proactive_documents``: nothing is demanded; the VKK conclusion comes from the
      information system that registered it (§7-1).
    - ``min_age`` / ``max_age``: the school age accepted, in full years on the day of the
      check, both bounds included. General secondary education covers grades 1-11 and
      pupils enter grade 1 in the year they turn 6 or 7 (glossary, "School age").
    - ``allowed_content_types`` / ``max_attachment_bytes``: the files accepted as electronic
      copies (the intake form's schema carries the same limits).
    """

    office_documents: tuple[str, ...] = DEFAULT_OFFICE_DOCUMENTS
    portal_documents: tuple[str, ...] = DEFAULT_PORTAL_DOCUMENTS
    proactive_documents: tuple[str, ...] = DEFAULT_PROACTIVE_DOCUMENTS
    min_age: int = 6
    max_age: int = 18
    allowed_content_types: tuple[str, ...] = ("application/pdf", "image/jpeg", "image/png")
    max_attachment_bytes: int = 10 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 0 <= self.min_age <= self.max_age:
            raise InvalidInput(
                f"school age bounds must satisfy 0 <= min_age <= max_age, got {self.min_age}-{self.max_age}"
            )
        if self.max_attachment_bytes < 1:
            raise InvalidInput(f"max_attachment_bytes must be positive, got {self.max_attachment_bytes}")
        for kinds in (self.office_documents, self.portal_documents, self.proactive_documents):
            document_kinds(kinds)

    def required_documents(self, channel: str) -> tuple[str, ...]:
        """The document kinds a request on ``channel`` must contain."""
        by_channel = {
            "office": self.office_documents,
            "portal": self.portal_documents,
            "proactive": self.proactive_documents,
        }
        if channel not in by_channel:
            raise InvalidInput(f"unknown channel {channel!r}; expected office, portal or proactive")
        return by_channel[channel]


def check_package(request: Mapping[str, Any], rules: PackageRules, today: date) -> list[dict[str, str]]:
    """The problems of ``request`` on ``today`` (an empty list means it may be accepted).

    Order: missing documents (in the order of the rules), the VKK conclusion (expired, not
    recommending home schooling), the child's IIN, the applicant's IIN, the child's age.

    Raises ``InvalidInput`` for a request that is not shaped like the contract (unknown
    channel, a date that is not ISO ``YYYY-MM-DD``): that is a fault of the sender, not a
    reason to refuse the citizen.
    """
    problems: list[dict[str, str]] = []
    handed_in = set(_list(request.get("documents"), "documents"))
    for kind in rules.required_documents(str(request.get("channel"))):
        if kind not in handed_in:
            problems.append({"code": "missing_document", "document": kind, "ground": GROUND_INCOMPLETE})

    vkk = request.get("vkk_conclusion")
    if isinstance(vkk, Mapping):
        valid_until = _date(vkk.get("valid_until"), "vkk_conclusion.valid_until")
        if valid_until is not None and valid_until < today:
            problems.append(
                {
                    "code": "expired_document",
                    "document": "vkk_conclusion",
                    "field": "vkk_conclusion.valid_until",
                    "ground": GROUND_INCOMPLETE,
                }
            )
        if vkk.get("recommends_home_schooling") is not True:
            problems.append(
                {
                    "code": "not_recommended",
                    "document": "vkk_conclusion",
                    "field": "vkk_conclusion.recommends_home_schooling",
                    "ground": GROUND_REQUIREMENTS,
                }
            )
    elif not any(p["code"] == "missing_document" and p["document"] == "vkk_conclusion" for p in problems):
        # Without the conclusion there is nothing to admit the child on, on any channel.
        problems.append({"code": "missing_document", "document": "vkk_conclusion", "ground": GROUND_INCOMPLETE})

    child = _mapping(request.get("child"), "child")
    birth_date = _date(child.get("birth_date"), "child.birth_date")
    child_iin_problems = validate_iin(child.get("iin", ""), birth_date)
    if any(code != IIN_BIRTH_DATE_MISMATCH for code in child_iin_problems):
        problems.append({"code": "invalid_iin", "field": "child.iin", "ground": GROUND_REQUIREMENTS})
    elif IIN_BIRTH_DATE_MISMATCH in child_iin_problems:
        problems.append({"code": "iin_birth_date_mismatch", "field": "child.iin", "ground": GROUND_REQUIREMENTS})

    applicant = _mapping(request.get("applicant"), "applicant")
    if validate_iin(applicant.get("iin", "")):
        problems.append({"code": "invalid_iin", "field": "applicant.iin", "ground": GROUND_REQUIREMENTS})

    born = birth_date if birth_date is not None else iin_birth_date(child.get("iin", ""))
    if born is not None and not rules.min_age <= age_on(born, today) <= rules.max_age:
        problems.append({"code": "outside_school_age", "field": "child.birth_date", "ground": GROUND_REQUIREMENTS})
    return problems


def age_on(birth_date: date, today: date) -> int:
    """Full years of age on ``today``; someone born on 29 February turns a year older on 1 March."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


# --- texts for the reasoned refusal ---------------------------------------------------------
# Their wording is in the documents catalogue (``package.*`` in service/translations/*/documents.po):
# Kazakh and Russian print on the refusal, English is for staff reading the interface in English.

#: The problem codes check_package returns (each has a reason text ``package.reason.<code>``).
REASON_CODES = ("missing_document", "expired_document", "not_recommended", "invalid_iin",
                "iin_birth_date_mismatch", "outside_school_age", "unreliable_data")
#: The legal grounds a reason may cite (each has a text ``package.ground.<ground>``).
GROUNDS = (GROUND_INCOMPLETE, GROUND_REQUIREMENTS)
#: The data a problem can point at (each named by ``package.field.<path>``).
FIELDS = ("child.iin", "applicant.iin", "child.birth_date", "vkk_conclusion.valid_until",
          "vkk_conclusion.recommends_home_schooling")
#: The documents a package may contain (each named by ``package.document.<kind>``).
PACKAGE_DOCUMENTS = ("application", "vkk_conclusion", "identity_document")


def document_name(kind: str, language: str) -> str:
    """A handed-in document's name in ``language`` (lower case, as a reason names it); ValueError if unknown."""
    if kind not in PACKAGE_DOCUMENTS:
        raise ValueError(f"no name for document kind {kind!r}")
    return phrase(f"package.document.{kind}", language, DOCUMENTS)


def ground_text(ground: str, language: str) -> str:
    """The legal ground's text in ``language``; ValueError for a ground the product does not know."""
    if ground not in GROUNDS:
        raise ValueError(f"no text for legal ground {ground!r}")
    return phrase(f"package.ground.{ground}", language, DOCUMENTS)


def describe_problem(problem: Mapping[str, Any], language: str, *, with_ground: bool = True) -> str:
    """The sentence for one problem in ``language`` (kk, ru or en), followed by its legal ground.

    A ``note`` on the problem (the clerk's explanation of an extra reason) is added after
    the sentence. Raises ``ValueError`` for an unknown language, code, document, field or ground.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    code = problem.get("code")
    if code not in REASON_CODES:
        raise ValueError(f"no reason text for problem code {code!r}")
    document, field = problem.get("document"), problem.get("field")
    if field is not None and field not in FIELDS:
        raise ValueError(f"no name for field {field!r}")
    text = phrase(f"package.reason.{code}", language, DOCUMENTS,
                  document="" if document is None else document_name(str(document), language),
                  field="" if field is None else phrase(f"package.field.{field}", language, DOCUMENTS))
    note = str(problem.get("note") or "").strip()
    if note:
        text = f"{text} {note}"
    ground = problem.get("ground")
    if with_ground and ground is not None:
        text = f"{text} {phrase('package.ground_label', language, DOCUMENTS)}: {ground_text(str(ground), language)}."
    return text


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise InvalidInput(f"{where} must be a date without a time, got {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{where} must be a date written like 2026-03-20, got {value!r}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must be an object, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise InvalidInput(f"{where} must be a list, got {type(value).__name__}")
    return list(value)
