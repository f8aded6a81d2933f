"""Organisations that provide the service or review complaints about it, and their identifiers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.domain.phrases import phrase


class OrganisationKind(StrEnum):
    """What an organisation is (§3 providers, §9 reviewing bodies)."""

    SCHOOL = "school"
    EDUCATION_DEPARTMENT = "education_department"
    AKIMAT = "akimat"
    AKIM = "akim"
    CENTRAL_STATE_BODY = "central_state_body"
    STATE_CORPORATION = "state_corporation"
    QUALITY_AUTHORITY = "quality_authority"


def kind_name(kind: str, language: str) -> str:
    """The organisation's kind in ``language`` (``organisation_kind_<kind>`` in the interface's catalogue).

    A kind the product does not know is named by its code.
    """
    if kind not in set(OrganisationKind):
        return kind
    return phrase(f"organisation_kind_{kind}", language)


#: §9: the complaint form's ``addressee`` each kind of organisation stands for.
COMPLAINT_ADDRESSEE: dict[str, str] = {
    "school": "provider",
    "education_department": "local_executive_body",
    "akimat": "local_executive_body",
    "akim": "akim",
    "central_state_body": "central_state_body",
    "state_corporation": "state_corporation",
    "quality_authority": "quality_authority",
}


@dataclass(frozen=True)
class Organisation:
    """A school or a reviewing body as the registry describes it."""

    id: int
    bin: str
    kind: str
    name_kk: str
    name_ru: str
    address_kk: str
    address_ru: str
    phone: str
    region: str
    district: str
    head_name: str
    head_position_kk: str = "Директор"
    head_position_ru: str = "Директор"
    working_hours: str = ""
    email: str = ""
    locality_kk: str = ""
    locality_ru: str = ""
    active: bool = True

    def name(self, language: str) -> str:
        """The official name in ``language`` (kk or ru; English readers get the Russian)."""
        return self.name_kk if language == "kk" else self.name_ru

    @property
    def provides_service(self) -> bool:
        """Whether this organisation provides the state service (§3: schools do)."""
        return self.kind == OrganisationKind.SCHOOL


def bin_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BIN (12 digits, check digit as for the IIN), or None."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return "must be 12 digits"
    digits = [int(c) for c in value]
    check = sum(d * w for d, w in zip(digits[:11], range(1, 12), strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits[:11], (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True)) % 11
        if check == 10:
            return "is not a valid BIN (its check digit cannot be computed)"
    if check != digits[11]:
        return f"has a wrong check digit (expected {check} at the end): check the number"
    return None


def with_check_digit(first_eleven: str) -> str | None:
    """The BIN made of these 11 digits and its check digit, or None if no check digit exists."""
    for last in "0123456789":
        if bin_problem(first_eleven + last) is None:
            return first_eleven + last
    return None
