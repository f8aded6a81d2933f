"""The registry of organisations: imported from the operator's CSV file, all or nothing.

The file has a header row naming its columns (any order); :data:`REQUIRED_COLUMNS` must be
there, :data:`OPTIONAL_COLUMNS` may be. One row per organisation, keyed by BIN: a BIN already in
the registry updates that organisation, a new one adds it, and importing the same file again
changes nothing. Any bad row refuses the whole file, with every problem named by line and column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain.calendar import WorkingHours
from service.domain.errors import CalendarError, DomainError, NotPermitted
from service.domain.organisations import Organisation, OrganisationKind, bin_problem
from service.domain.staff import Actor
from service.persistence.uow import UnitOfWork

REQUIRED_COLUMNS = ("bin", "kind", "name_kk", "name_ru", "address_kk", "address_ru", "phone", "region",
                    "head_name")
OPTIONAL_COLUMNS = ("district", "email", "working_hours", "head_position_kk", "head_position_ru", "locality_kk",
                    "locality_ru", "active")
_DEFAULTS = {"district": "", "email": "", "working_hours": "", "head_position_kk": "Директор",
             "head_position_ru": "Директор", "locality_kk": "", "locality_ru": "", "active": "yes"}
_YES = {"yes", "true", "1", "иә", "да"}
_NO = {"no", "false", "0", "жоқ", "нет"}
#: Longest text each column holds.
_LIMITS = {"bin": 12, "kind": 40, "phone": 60, "email": 200, "working_hours": 20}
_DEFAULT_LIMIT = 500
#: Largest registry file accepted (the whole country's ~7,500 schools and bodies fit easily).
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with the file: where (line, column) and what."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.message}"


class RegistryRefused(DomainError):
    """The registry file was not imported; ``problems`` lists every bad row and column."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems
        super().__init__(f"the registry was not imported: {len(problems)} problem(s); first: {problems[0]}")


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    added: int
    updated: int
    unchanged: int


def parse_registry(content: bytes) -> list[dict[str, Any]]:
    """The organisations a registry file describes, or RegistryRefused naming every problem."""
    if len(content) > MAX_FILE_BYTES:
        raise RegistryRefused([RowProblem(0, "", f"the file is larger than {MAX_FILE_BYTES:,} bytes")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryRefused([RowProblem(0, "", f"the file is not UTF-8 text (byte {exc.start})")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise RegistryRefused([RowProblem(1, "", f"not a CSV file ({exc})")]) from None
    problems = _header_problems([name.strip() for name in header])
    if problems:
        raise RegistryRefused(problems)
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            row, row_problems = _row(record, line)
            if row is not None and row["bin"] in seen:
                row_problems.append(RowProblem(line, "bin", f"BIN {row['bin']} is also on line {seen[row['bin']]}"))
            problems += row_problems
            if row is not None and not row_problems:
                seen[row["bin"]] = line
                rows.append(row)
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, "", f"the CSV is malformed ({exc})"))
    if problems:
        raise RegistryRefused(problems)
    if not rows:
        raise RegistryRefused([RowProblem(1, "", "the file has no organisations")])
    return rows


def _header_problems(header: list[str]) -> list[RowProblem]:
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    problems = [RowProblem(1, name, "this column is required but missing") for name in REQUIRED_COLUMNS
                if name not in header]
    problems += [RowProblem(1, name, f"unknown column; known: {', '.join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))}")
                 for name in header if name not in known]
    return problems


def _row(record: dict[str | Any, Any], line: int) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    """One organisation from one CSV row, and what is wrong with it."""
    if None in record:
        return None, [RowProblem(line, "", "the row has more values than the header has columns")]
    values = {str(key).strip(): (value or "").strip() for key, value in record.items()}
    problems: list[RowProblem] = []
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            problems.append(RowProblem(line, column, "is empty"))
    for column, value in values.items():
        limit = _LIMITS.get(column, _DEFAULT_LIMIT)
        if len(value) > limit:
            problems.append(RowProblem(line, column, f"is longer than {limit} characters"))
        if any(ord(c) < 32 for c in value):
            problems.append(RowProblem(line, column, "contains control characters"))
    row: dict[str, Any] = {**_DEFAULTS, **{k: v for k, v in values.items() if v}}
    if values.get("bin") and (problem := bin_problem(values["bin"])):
        problems.append(RowProblem(line, "bin", problem))
    if values.get("kind") and values["kind"] not in set(OrganisationKind):
        problems.append(RowProblem(line, "kind", f"'{values['kind']}' is not one of "
                                                 f"{', '.join(k.value for k in OrganisationKind)}"))
    if row["working_hours"]:
        try:
            WorkingHours.parse(row["working_hours"])
        except CalendarError as exc:
            problems.append(RowProblem(line, "working_hours", str(exc)))
    active = row["active"].lower()
    if active not in _YES | _NO:
        problems.append(RowProblem(line, "active", "must be yes or no"))
    row["active"] = active in _YES
    return row, problems


def import_registry(uow: UnitOfWork, *, actor: Actor, content: bytes, now: datetime) -> ImportReport:
    """Add and update organisations from a registry file in one transaction (idempotent)."""
    if not (actor.kind == "system" or actor.national_admin):
        raise NotPermitted("only a national administrator manages the registry of organisations")
    rows = parse_registry(content)
    existing = uow.organisations.by_bins(row["bin"] for row in rows)
    new = [row for row in rows if row["bin"] not in existing]
    updated = unchanged = 0
    for row in rows:
        current = existing.get(row["bin"])
        if current is None:
            continue
        changes = {key: value for key, value in row.items() if getattr(current, key) != value}
        if changes:
            uow.organisations.update(current.id, changes, now)
            updated += 1
        else:
            unchanged += 1
    uow.organisations.add_many(new, now)
    uow.commit()
    return ImportReport(added=len(new), updated=updated, unchanged=unchanged)


def organisation_by_bin(uow: UnitOfWork, bin_: str, *, providers_only: bool = False) -> Organisation | None:
    """An active organisation by BIN (``providers_only``: only a school providing the service)."""
    found = uow.organisations.by_bin(bin_.strip())
    if found is None or not found.active or (providers_only and not found.provides_service):
        return None
    return found
