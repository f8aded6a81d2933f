"""The registry of organisations: reading the operator's CSV file (every problem named by line and
column), importing it all or nothing and idempotently, and the migration that turns a single-school
installation (config/provider.toml) into its first organisation."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Boolean, Integer, LargeBinary, String, Text, column, create_engine, insert, select, table, text

from service.application.organisations import (
    REQUIRED_COLUMNS,
    ImportReport,
    RegistryRefused,
    RowProblem,
    import_registry,
    organisation_by_bin,
    parse_registry,
)
from service.domain.errors import NotPermitted
from service.domain.organisations import bin_problem, with_check_digit
from service.domain.staff import Actor, Membership
from service.persistence import migrate
from service.persistence.database import Database
from service.persistence.models import OrganisationRow, UtcDateTime
from service.persistence.uow import UnitOfWork

from .support import (
    AKIMAT,
    DEPARTMENT,
    GYMNASIUM_3,
    PROJECT,
    QUALITY,
    REGISTRY,
    SCHOOL_25,
    SCHOOL_112,
    SYSTEM,
    at,
    pg_url,
)

NOW = at("2026-12-02T10:00+05:00")
LATER = NOW + timedelta(days=1)
DEMO_BINS = [SCHOOL_25, SCHOOL_112, GYMNASIUM_3, DEPARTMENT, AKIMAT, QUALITY]
HEADER = ",".join(REQUIRED_COLUMNS)


def _row(bin_: str, kind: str = "school", **values: str) -> dict[str, str]:
    """One organisation's required columns (and any optional ones given)."""
    return {"bin": bin_, "kind": kind, "name_kk": f"Мектеп {bin_}", "name_ru": f"Школа {bin_}",
            "address_kk": "Алматы қ., Абай даңғылы, 1", "address_ru": "г. Алматы, проспект Абая, 1",
            "phone": "+7 727 300 00 00", "region": "Алматы қ.", "head_name": "Иванов Иван Иванович", **values}


def _csv(*rows: dict[str, str], columns: tuple[str, ...] | None = None) -> bytes:
    """A registry file with ``columns`` (the required ones, then any optional ones the rows use)."""
    if columns is None:
        extra = [name for row in rows for name in row if name not in REQUIRED_COLUMNS]
        columns = (*REQUIRED_COLUMNS, *dict.fromkeys(extra))
    lines = [",".join(columns)] + [",".join(f'"{row.get(name, "")}"' for name in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _refused(content: bytes) -> list[RowProblem]:
    with pytest.raises(RegistryRefused) as caught:
        parse_registry(content)
    return caught.value.problems


def _where(problems: list[RowProblem]) -> list[tuple[int, str]]:
    return [(p.line, p.column) for p in problems]


# --- reading the file ---------------------------------------------------------------------------


def test_the_demo_registry_reads_with_every_column() -> None:
    rows = parse_registry(REGISTRY.read_bytes())
    assert [row["bin"] for row in rows] == DEMO_BINS
    by_bin = {row["bin"]: row for row in rows}
    assert by_bin[DEPARTMENT]["kind"] == "education_department"
    assert by_bin[DEPARTMENT]["head_position_ru"] == "Руководитель отдела"
    assert by_bin[SCHOOL_112]["working_hours"] == "08:30-18:00"
    assert all(row["active"] is True for row in rows)


def test_optional_columns_take_their_defaults() -> None:
    [row] = parse_registry(_csv(_row(SCHOOL_25)))
    assert (row["head_position_kk"], row["head_position_ru"]) == ("Директор", "Директор")
    assert (row["district"], row["email"], row["working_hours"]) == ("", "", "")
    assert row["active"] is True
    [inactive] = parse_registry(_csv(_row(SCHOOL_25, active="no")))
    assert inactive["active"] is False


@pytest.mark.parametrize("bin_", DEMO_BINS)
def test_the_check_digit_of_a_bin_is_verified(bin_: str) -> None:
    assert bin_problem(bin_) is None
    assert with_check_digit(bin_[:11]) == bin_
    for digit in "0123456789":
        if digit != bin_[-1]:
            assert "wrong check digit" in (bin_problem(bin_[:11] + digit) or ""), digit


def test_a_bin_with_a_wrong_check_digit_is_refused_with_its_line_and_column() -> None:
    wrong = SCHOOL_25[:11] + "6"
    problems = _refused(_csv(_row(SCHOOL_112), _row(wrong)))
    assert _where(problems) == [(3, "bin")]
    assert "wrong check digit (expected 5 at the end)" in problems[0].message
    assert str(problems[0]).startswith("line 3, column 'bin': ")


@pytest.mark.parametrize("bin_", ["05014000312", "0501400031255", "05014000312X", "０５０１４０００３１２５"])
def test_a_bin_that_is_not_12_digits_is_refused(bin_: str) -> None:
    problems = _refused(_csv(_row(bin_)))
    assert {(p.line, p.column) for p in problems} == {(2, "bin")}
    assert "must be 12 digits" in [p.message for p in problems]


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    problems = _refused(_csv(_row(SCHOOL_25), _row(SCHOOL_112, kind="university")))
    assert _where(problems) == [(3, "kind")]
    assert "'university' is not one of school, education_department" in problems[0].message


def test_a_missing_required_column_is_named_in_the_header() -> None:
    columns = tuple(name for name in REQUIRED_COLUMNS if name != "head_name")
    problems = _refused(_csv(_row(SCHOOL_25), columns=columns))
    assert [(p.line, p.column, p.message) for p in problems] == [
        (1, "head_name", "this column is required but missing")]


def test_an_unknown_column_is_named_in_the_header() -> None:
    problems = _refused(_csv(_row(SCHOOL_25, website="https://school25.kz")))
    assert _where(problems) == [(1, "website")]
    assert problems[0].message.startswith("unknown column; known: bin, kind")


def test_an_empty_required_value_is_named() -> None:
    problems = _refused(_csv(_row(SCHOOL_25, head_name="", phone="")))
    assert sorted(_where(problems)) == [(2, "head_name"), (2, "phone")]
    assert {p.message for p in problems} == {"is empty"}


def test_a_bin_twice_in_one_file_is_refused_naming_both_lines() -> None:
    problems = _refused(_csv(_row(SCHOOL_25), _row(SCHOOL_112), _row(SCHOOL_25, name_ru="Другая школа")))
    assert [(p.line, p.column, p.message) for p in problems] == [
        (4, "bin", f"BIN {SCHOOL_25} is also on line 2")]


@pytest.mark.parametrize(("hours", "says"), [
    ("9-18", "must be written like 09:00-18:30"),
    ("18:30-09:00", "must start before they end"),
    ("09:00-25:00", "does not exist"),
])
def test_bad_working_hours_are_refused(hours: str, says: str) -> None:
    problems = _refused(_csv(_row(SCHOOL_25, working_hours="09:00-18:30"), _row(SCHOOL_112, working_hours=hours)))
    assert _where(problems) == [(3, "working_hours")]
    assert says in problems[0].message


def test_every_bad_row_is_reported_not_only_the_first() -> None:
    problems = _refused(_csv(
        _row(SCHOOL_25),
        _row(SCHOOL_25[:11] + "0"),
        _row(SCHOOL_112, kind="castle"),
        _row(GYMNASIUM_3, working_hours="late"),
        _row(DEPARTMENT, kind="education_department", active="maybe"),
    ))
    assert _where(problems) == [(3, "bin"), (4, "kind"), (5, "working_hours"), (6, "active")]


def test_a_file_that_is_not_utf8_or_has_no_organisations_is_refused() -> None:
    [problem] = _refused(_csv(_row(SCHOOL_25)).replace("Мектеп".encode(), "Мектеп".encode("cp1251")))
    assert problem.message.startswith("the file is not UTF-8 text")
    assert [p.message for p in _refused((HEADER + "\n").encode())] == ["the file has no organisations"]


def test_a_row_with_more_values_than_columns_is_refused() -> None:
    content = _csv(_row(SCHOOL_25)) + (",".join(_row(SCHOOL_112).values()) + ",extra\n").encode()
    problems = _refused(content)
    assert [(p.line, p.message) for p in problems] == [(3, "the row has more values than the header has columns")]


# --- importing ----------------------------------------------------------------------------------


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty database: no organisation yet."""
    db = Database(database_url)
    yield db
    db.dispose()


def _import(database: Database, content: bytes, now=NOW, actor: Actor = SYSTEM) -> ImportReport:
    with UnitOfWork(database) as uow:
        return import_registry(uow, actor=actor, content=content, now=now)


def _stored(database: Database) -> dict[str, tuple]:
    """Every organisation as stored: BIN -> (id, phone, head_name, active, updated_at)."""
    columns = OrganisationRow.__table__.c  # type: ignore[attr-defined]
    with UnitOfWork(database, write=False) as uow:
        rows = uow.session.execute(select(columns.bin, columns.id, columns.phone, columns.head_name,
                                          columns.active, columns.updated_at))
        return {row.bin: tuple(row)[1:] for row in rows}


def test_importing_the_demo_registry_adds_every_organisation(database: Database) -> None:
    assert _import(database, REGISTRY.read_bytes()) == ImportReport(added=6, updated=0, unchanged=0)
    with UnitOfWork(database, write=False) as uow:
        assert uow.organisations.count() == 6
        school = uow.organisations.by_bin(SCHOOL_25)
        body = organisation_by_bin(uow, QUALITY)
        assert organisation_by_bin(uow, QUALITY, providers_only=True) is None
    assert school is not None and school.provides_service and school.working_hours == "09:00-18:30"
    assert school.name_ru.startswith("Коммунальное государственное учреждение «Общеобразовательная школа № 25»")
    assert body is not None and body.kind == "quality_authority" and not body.provides_service


def test_importing_the_same_file_again_changes_nothing(database: Database) -> None:
    _import(database, REGISTRY.read_bytes())
    before = _stored(database)
    assert _import(database, REGISTRY.read_bytes(), now=LATER) == ImportReport(added=0, updated=0, unchanged=6)
    assert _stored(database) == before  # not even the time of the last change


def test_a_changed_row_updates_that_organisation_in_place(database: Database) -> None:
    _import(database, REGISTRY.read_bytes())
    before = _stored(database)
    lines = REGISTRY.read_text(encoding="utf-8").splitlines(keepends=True)
    [index] = [i for i, line in enumerate(lines) if line.startswith(SCHOOL_25)]
    lines[index] = (lines[index].replace("+7 727 300 00 25", "+7 727 300 99 25")
                    .replace("Сәрсенбаева Гүлнұр Қайратқызы", "Омаров Ерлан Серікұлы"))
    report = _import(database, "".join(lines).encode("utf-8"), now=LATER)
    assert report == ImportReport(added=0, updated=1, unchanged=5)
    after = _stored(database)
    assert after[SCHOOL_25][0] == before[SCHOOL_25][0]  # the same organisation: its cases stay its own
    assert after[SCHOOL_25][1:4] == ("+7 727 300 99 25", "Омаров Ерлан Серікұлы", True)
    assert after[SCHOOL_25][4] == LATER
    assert {bin_: row for bin_, row in after.items() if bin_ != SCHOOL_25} == {
        bin_: row for bin_, row in before.items() if bin_ != SCHOOL_25}


def test_a_new_row_is_added_beside_the_existing_ones(database: Database) -> None:
    _import(database, _csv(_row(SCHOOL_25)))
    new_bin = with_check_digit("05014000999")
    assert new_bin is not None
    report = _import(database, _csv(_row(SCHOOL_25), _row(new_bin)))
    assert report == ImportReport(added=1, updated=0, unchanged=1)
    assert set(_stored(database)) == {SCHOOL_25, new_bin}


def test_a_deactivated_organisation_is_kept_but_no_longer_found(database: Database) -> None:
    _import(database, _csv(_row(SCHOOL_25), _row(SCHOOL_112)))
    assert _import(database, _csv(_row(SCHOOL_25), _row(SCHOOL_112, active="no"))) == ImportReport(0, 1, 1)
    with UnitOfWork(database, write=False) as uow:
        assert organisation_by_bin(uow, SCHOOL_112) is None
        assert organisation_by_bin(uow, f" {SCHOOL_25} ") is not None
        assert uow.organisations.count() == 2


def test_one_bad_row_imports_nothing(database: Database) -> None:
    content = _csv(*(_row(bin_) for bin_ in (SCHOOL_25, SCHOOL_112, GYMNASIUM_3)), _row(DEPARTMENT, kind="x"))
    with pytest.raises(RegistryRefused) as caught:
        _import(database, content)
    assert _where(caught.value.problems) == [(5, "kind")]
    with UnitOfWork(database, write=False) as uow:
        assert uow.organisations.count() == 0


def test_one_bad_row_changes_nothing_already_imported(database: Database) -> None:
    _import(database, _csv(_row(SCHOOL_25), _row(SCHOOL_112)))
    before = _stored(database)
    with pytest.raises(RegistryRefused):
        _import(database, _csv(_row(SCHOOL_25, phone="+7 727 000 00 01"), _row(SCHOOL_112),
                               _row(GYMNASIUM_3, working_hours="never")), now=LATER)
    assert _stored(database) == before


def test_only_a_national_administrator_imports_the_registry(database: Database) -> None:
    _import(database, _csv(_row(SCHOOL_25)))
    [school_id] = [row[0] for row in _stored(database).values()]
    administrator = Actor("admin25", "Admin", memberships=(Membership(school_id, frozenset({"administrator"})),))
    with pytest.raises(NotPermitted, match="national administrator"):
        _import(database, _csv(_row(SCHOOL_25), _row(SCHOOL_112)), actor=administrator)
    assert set(_stored(database)) == {SCHOOL_25}
    national = Actor("analyst", "Analyst", national_admin=True)
    assert _import(database, _csv(_row(SCHOOL_25), _row(SCHOOL_112)), actor=national) == ImportReport(1, 0, 1)


# --- the migration from a single-school installation ---------------------------------------------

_STAFF_0006 = table(
    "staff_users", column("id", Integer), column("login", String), column("full_name", String),
    column("password_hash", String), column("roles", String), column("language", String),
    column("active", Boolean), column("failed_logins", Integer), column("locked_until", UtcDateTime()),
    column("created_at", UtcDateTime()),
)
_DIAGRAMS_0006 = table(
    "diagram_versions", column("content_hash", String), column("process_id", String), column("file", String),
    column("source", LargeBinary), column("stored_at", UtcDateTime()),
)
_INSTANCES_0006 = table(
    "process_instances", column("id", Integer), column("process_id", String), column("business_key", String),
    column("diagram_hash", String), column("status", String), column("state", Text),
    column("serializer_version", String), column("version", Integer), column("created_at", UtcDateTime()),
    column("updated_at", UtcDateTime()),
)
_TASKS_0006 = table(
    "open_tasks", column("task_id", String), column("instance_id", Integer), column("process_id", String),
    column("business_key", String), column("element_id", String), column("title", String),
    column("lane", String), column("due_at", UtcDateTime()), column("assignee", String),
    column("created_at", UtcDateTime()),
)
OLD_REVISION = "0006_staff_sessions"


@contextlib.contextmanager
def _database_at(revision: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database migrated only up to ``revision`` (SQLite file or PostgreSQL schema)."""
    base = pg_url()
    if base is None:
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
        _upgrade(url, revision)
        yield url
        return
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        _upgrade(url, revision)
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _upgrade(url: str, revision: str = "head") -> None:
    database = Database(url)
    try:
        migrate.upgrade(database, revision)
        assert migrate.current_revision(database) == (migrate.head_revision() if revision == "head" else revision)
    finally:
        database.dispose()


def _single_school_install(url: str) -> None:
    """What an installation of revision 0006 holds: accounts with roles, a case with an open task."""
    database = Database(url)
    try:
        with database.write_engine.begin() as connection:
            for staff_id, login, roles in ((1, "clerk", "office_clerk"), (2, "head", "head,office_clerk"),
                                           (3, "analyst", "analyst")):
                connection.execute(insert(_STAFF_0006).values(
                    id=staff_id, login=login, full_name=f"Old {login}", password_hash="argon2-hash", roles=roles,
                    language="ru", active=True, failed_logins=0, locked_until=None, created_at=NOW))
            connection.execute(insert(_DIAGRAMS_0006).values(
                content_hash="d" * 64, process_id="service_delivery", file="service_delivery.bpmn",
                source=b"<bpmn/>", stored_at=NOW))
            connection.execute(insert(_INSTANCES_0006).values(
                id=1, process_id="service_delivery", business_key="APP-OLD-1", diagram_hash="d" * 64,
                status="running", state="{}", serializer_version="1.5", version=3, created_at=NOW, updated_at=NOW))
            connection.execute(insert(_TASKS_0006).values(
                task_id="task-old-1", instance_id=1, process_id="service_delivery", business_key="APP-OLD-1",
                element_id="check_portal_request", title="Check", lane="office_clerk", due_at=None,
                assignee=None, created_at=NOW))
    finally:
        database.dispose()


def test_a_single_school_installation_becomes_its_first_organisation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESCHOOL_PROVIDER_FILE", str(PROJECT / "config" / "provider.toml"))
    with _database_at(OLD_REVISION, tmp_path) as url:
        _single_school_install(url)
        _upgrade(url)
        database = Database(url)
        try:
            with UnitOfWork(database, write=False) as uow:
                assert uow.organisations.count() == 1
                school = uow.organisations.by_bin(SCHOOL_25)
                found = {login: uow.staff.by_login(login) for login in ("clerk", "head", "analyst")}
                case = uow.instances.get(1)
                task = uow.tasks.get("task-old-1")
        finally:
            database.dispose()
    assert school is not None and school.kind == "school" and school.active
    assert school.name_ru.startswith("Коммунальное государственное учреждение «Общеобразовательная школа № 25»")
    assert school.head_name == "Сәрсенбаева Гүлнұр Қайратқызы" and school.phone == "+7 727 300 00 25"
    members = {login: entry[0] for login, entry in found.items() if entry is not None}
    assert set(members) == {"clerk", "head", "analyst"}
    assert {login: [(m.organisation_id, m.roles) for m in member.memberships] for login, member in members.items()} == {
        "clerk": [(school.id, frozenset({"office_clerk"}))],
        "head": [(school.id, frozenset({"head", "office_clerk"}))],
        "analyst": [(school.id, frozenset({"analyst"}))],
    }
    assert [login for login, member in members.items() if member.national_admin] == ["analyst"]
    assert case is not None and case.organisation_id == school.id and case.version == 3
    assert task is not None and task.organisation_id == school.id


def test_a_new_database_gets_no_organisation_from_the_provider_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMESCHOOL_PROVIDER_FILE", str(PROJECT / "config" / "provider.toml"))
    with _database_at(OLD_REVISION, tmp_path) as url:
        _upgrade(url)
        database = Database(url)
        try:
            with UnitOfWork(database, write=False) as uow:
                assert uow.organisations.count() == 0
        finally:
            database.dispose()


def test_an_installation_with_data_is_not_upgraded_without_its_school(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the settings file the accounts would lose their roles and the cases their owner: refused, untouched."""
    from service.domain.errors import DomainError

    monkeypatch.setenv("HOMESCHOOL_PROVIDER_FILE", str(tmp_path / "missing.toml"))
    with _database_at(OLD_REVISION, tmp_path) as url:
        _single_school_install(url)
        with pytest.raises(DomainError, match="HOMESCHOOL_PROVIDER_FILE"):
            _upgrade(url)
        database = Database(url)
        try:
            assert migrate.current_revision(database) == OLD_REVISION
        finally:
            database.dispose()


def test_an_organisation_kind_is_named_from_the_interface_catalogue_and_an_unknown_one_by_its_code() -> None:
    from service.domain.organisations import OrganisationKind, kind_name

    assert kind_name("school", "kk") == "Жалпы білім беретін мектеп"
    assert kind_name("akimat", "ru") == "Местный исполнительный орган (акимат)"
    assert kind_name("akim", "en") == "Akim"
    assert all(kind_name(kind, "kk") != kind for kind in OrganisationKind)
    assert kind_name("ministry_of_magic", "kk") == "ministry_of_magic"
