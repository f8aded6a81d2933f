"""The ``homeschool`` command: database, validation, worker, timers, outbox, calendar."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from service import bootstrap
from service.application.case_diagram import element_namer
from service.application.declarations import load_process_declarations
from service.application.inbox import deliver_kept_messages
from service.application.legal import build_legal_document, legal_document_html, legal_document_pdf
from service.application.lint_checks import lint_checks
from service.application.notifications import notify_staff
from service.application.outbox import deliver_outbox
from service.application.timers import fire_due_timers
from service.application.trace import build_trace, failed_scenarios, read_report
from service.application.validation import FILE_CHECKS, errors_in, validation_report
from service.config import SETTINGS, Settings
from service.domain.errors import DomainError
from service.domain.incidents import Incident
from service.domain.regulation import LegalDocument
from service.domain.time import format_instant, parse_instant
from service.engine.library import DiagramLibrary
from service.persistence import migrate
from service.persistence.database import Database
from service.persistence.failures import translate as database_failure

log = logging.getLogger("homeschool")
_T = TypeVar("_T")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit (2: bad input, 1: the work itself failed)."""
    click.echo(f"homeschool: error: {message}", err=True)
    sys.exit(code)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        fail(str(exc))


@contextmanager
def _services(prepare: bool = True) -> Iterator[bootstrap.Services]:
    """The wired product for one command; its database connections are closed afterwards."""
    try:
        services = bootstrap.build_services(_settings())
    except (DomainError, ValueError) as exc:  # a broken diagram, calendar or provider file
        fail(str(exc), code=1)
    try:
        if prepare:
            bootstrap.prepare_database(services)
            if services.runtime.deployments is not None:  # the deployed versions, not only the files on disk
                services.runtime.deployments.refresh(force=True)
        yield services
    except DomainError as exc:
        fail(str(exc), code=1)
    finally:
        services.database.dispose()


class _Main(click.Group):
    """The command group; a database that cannot be reached, written or filled ends in one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a database failure or a domain error is printed as ``homeschool: error: …``."""
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            fail(str(exc), code=1)
        except Exception as exc:
            failure = database_failure(exc)
            if failure is None:
                raise
            fail(str(failure), code=1)


@click.group(cls=_Main)
@click.option("-v", "--verbose", is_flag=True, help="Log every step.")
def main(verbose: bool) -> None:
    """Orchestration of the state service 'individual free home schooling' (BPMN processes)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)


@main.command("config")
def show_config() -> None:
    """Print every setting, its effective value, and its environment variable."""
    settings = _settings()
    for name, value in settings.describe():
        click.echo(f"{name:24} {value}")
    click.echo("\nEnvironment variables:")
    for item in SETTINGS:
        click.echo(f"  {item.variable:34} default {item.default}\n  {'':34} {item.meaning}")


@main.group()
def db() -> None:
    """Create or upgrade the database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database if needed and apply every migration."""
    with _services(prepare=False) as services:
        owner_url = services.settings.migration_database_url
        database = Database(owner_url) if owner_url else services.database
        try:
            migrate.upgrade(database)
            click.echo(f"database at schema {migrate.current_revision(database)} ({database.dialect})")
        finally:
            if database is not services.database:
                database.dispose()


@db.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    with _services(prepare=False) as services:
        click.echo(migrate.current_revision(services.database) or "none (run 'homeschool db upgrade')")


@db.command("reindex-cases")
def db_reindex_cases() -> None:
    """Copy the child and applicant of cases from before the case index into it (once, after upgrading)."""
    from service.application.reindex import reindex_people

    with _services() as services:
        click.echo(f"{reindex_people(services.write_uow, services.runtime)} case(s) now searchable by person")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as a JSON list (machine-readable).")
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Validate diagrams and their forms: every problem, with file, line, element and what to do.

    FILES are the diagrams to validate (default: every diagram of the processes directory, which
    is the context either way). Exit 1 on any error; warnings do not fail.
    """
    settings = _settings()
    report = validation_report(
        list(files) or None, settings.forms_dir, processes_dir=settings.processes_dir,
        process_settings=bootstrap.process_settings(settings), form_choices=bootstrap.form_choices(settings),
        calendar=bootstrap.build_calendar(settings), checks=[*FILE_CHECKS, *lint_checks(settings.node_modules_dir)])
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in report.problems], ensure_ascii=False, indent=2))
        sys.exit(0 if report.ok else 1)
    for problem in errors_in(report.problems):
        click.echo(f"ERROR {problem.describe()}", err=True)
    failed = {p.file for p in errors_in(report.problems)}
    for diagram in report.diagrams:
        status = "FAIL " if diagram.file in failed else "ok   "
        what = (f"process '{diagram.process_id}', {diagram.user_tasks} user tasks" if diagram.process_id
                else "not loaded")
        click.echo(f"{status} {diagram.file}: {what}")
    if not report.diagrams:
        click.echo(f"no diagrams in {settings.processes_dir}")
    for problem in report.problems:
        if not problem.is_error:
            click.echo(f"warn  {problem.describe()}")
    sys.exit(0 if report.ok else 1)


#: Where ``make test`` writes the Cucumber report; read when --report is not given and it exists.
DEFAULT_REPORT = Path("reports/cucumber.json")


@main.command()
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help=f"Cucumber JSON report of the last feature run; must exist if given "
                   f"[default: {DEFAULT_REPORT} if present].")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the legal team's document: a self-contained printable HTML page.")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the legal team's document as an A4 PDF.")
@click.option("--language", type=click.Choice(["ru", "kk"]), default="ru", show_default=True,
              help="Language of the document's headings (the Rules are quoted in Kazakh either way).")
def trace(report: Path | None, html_file: Path | None, pdf_file: Path | None, language: str) -> None:
    """For each paragraph of the Rules: diagram elements, rules, scenarios and results.

    Exit 1 if a paragraph has neither elements nor scenarios, a scenario failed, or a rule names a
    diagram element (``На схеме: «…»``) that no diagram has.
    """
    settings = _settings()
    if report is None and DEFAULT_REPORT.is_file():
        report = DEFAULT_REPORT
    try:
        rules = load_process_declarations(settings.processes_dir).rules()  # first: it may add stages
        library = DiagramLibrary.from_directory(settings.processes_dir)
        table = build_trace(library.diagrams(), settings.features_dir, report, rules=rules)
        failures = failed_scenarios(read_report(report)) if report is not None else []
        document = build_legal_document(library.diagrams(), settings.features_dir, report,
                                        settings.rules_file if html_file or pdf_file else None)
    except DomainError as exc:
        fail(str(exc), code=1)
    obligations = {p.paragraph: p.obligations for p in document.paragraphs}
    uncovered = []
    for row in table:
        kind = " (definition)" if row.definition else ""
        click.echo(f"{row.paragraph}{kind} — {row.subject}")
        for element in row.elements:
            click.echo(f"    element   {element}")
        for scenario in row.scenarios:
            click.echo(f"    scenario  {scenario}  [{row.results.get(scenario, 'not run')}]")
        for obligation in obligations.get(row.paragraph, ()):
            named = ", ".join(f"«{name}»" for name in obligation.named) or "no diagram element named"
            click.echo(f"    rule      {obligation.title} → {named}")
        if not row.covered:
            click.echo("    NOT COVERED")
            uncovered.append(row.paragraph)
        if any(result != "passed" for result in row.results.values()):
            uncovered.append(row.paragraph)
    if uncovered:
        click.echo(f"not covered or failing: {', '.join(dict.fromkeys(uncovered))}", err=True)
    if failures:
        click.echo(f"failed in {report}: {'; '.join(failures)}", err=True)
    broken = document.broken_links()
    for link in broken:
        click.echo(f"no diagram element has this name: {link}", err=True)
    _write_legal_document(document, library, language, html_file, pdf_file)
    sys.exit(1 if uncovered or failures or broken else 0)


def _write_legal_document(document: LegalDocument, library: DiagramLibrary, language: str,
                          html_file: Path | None, pdf_file: Path | None) -> None:
    """Write the legal team's document as HTML and/or PDF; exit 1 with one line if it cannot be written."""
    if html_file is None and pdf_file is None:
        return
    html = legal_document_html(document, library.diagrams(), language, datetime.now(UTC))
    for chatty in ("weasyprint", "fontTools"):  # page-by-page progress and font subsetting, not for people
        logging.getLogger(chatty).setLevel(logging.ERROR)
    try:
        if html_file is not None:
            html_file.write_text(html, encoding="utf-8")
            click.echo(f"wrote {html_file}")
        if pdf_file is not None:
            pdf_file.write_bytes(legal_document_pdf(html))
            click.echo(f"wrote {pdf_file}")
    except OSError as exc:  # a folder that does not exist, no permission, or PDF libraries missing
        fail(f"cannot write the legal document: {exc}", code=1)


@main.group()
def timers() -> None:
    """Timer operations."""


@timers.command("fire")
@click.option("--now", "now_text", required=True, help="Fire as of this instant, e.g. 2026-03-27T18:31+05:00.")
def timers_fire(now_text: str) -> None:
    """Fire every timer due by --now (one sweep; for replaying a day, and for tests)."""
    try:
        now = parse_instant(now_text)
    except DomainError as exc:
        fail(str(exc))
    with _services() as services:
        sweep = fire_due_timers(services.write_uow, services.runtime, now=now,
                                retry_delay=_seconds(services.settings.timer_retry_seconds))
    click.echo(f"fired timers of {len(sweep.fired)} case(s) as of {format_instant(now)}")
    for instance_id, error in sweep.failed.items():
        click.echo(f"FAILED case {instance_id}: {error}", err=True)
    sys.exit(1 if sweep.failed else 0)


@main.group()
def outbox() -> None:
    """Outbox operations."""


@outbox.command("deliver")
def outbox_deliver() -> None:
    """Deliver due outbox messages once."""
    with _services() as services:
        result = deliver_outbox(services.write_uow, services.transports, now=services.now(),
                                first_retry=_seconds(services.settings.outbox_retry_seconds))
    click.echo(f"delivered {len(result.delivered)}, failed {len(result.failed)}, held {len(result.held)}")


@outbox.command("list")
@click.option("--pending", is_flag=True, help="Only undelivered messages.")
def outbox_list(pending: bool) -> None:
    """List the newest outbox messages."""
    with _services() as services, services.uow(write=False) as uow:
        items = uow.outbox.listing(pending_only=pending)
    for item in items:
        state = f"delivered to {item.delivered_to}" if item.delivered_at else f"pending ({item.last_error or 'new'})"
        click.echo(f"{item.id:6} {item.channel:15} {item.message_name:35} {item.business_key or '-':15} {state}")


@main.group()
def incidents() -> None:
    """Cases parked because they failed while running (see also the operations page)."""


@incidents.command("list")
@click.option("--all", "show_all", is_flag=True, help="Resolved incidents too (default: open ones only).")
@click.option("--process", "process_id", default=None, help="Only cases of this process id.")
@click.option("--element", "element_id", default=None, help="Only incidents at this diagram element id.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
def incidents_list(show_all: bool, process_id: str | None, element_id: str | None, limit: int) -> None:
    """One line per incident: id, state, kind, case, element, tries, last failure, next try, error."""
    with _services() as services, services.uow(write=False) as uow:
        found = uow.incidents.listing(status="all" if show_all else "open", process_id=process_id,
                                      element_id=element_id, limit=limit)
    for incident in found:
        click.echo(incident_line(incident))
    if not found:
        click.echo("no incidents", err=True)


def incident_line(incident: Incident) -> str:
    """One incident on one line (the error's first line, shortened)."""
    state = "open" if incident.open else f"resolved by {incident.resolved_by} ({incident.resolution})"
    element = incident.element_id or "-"
    if incident.element_name:
        element += f" ({incident.element_name})"
    next_try = f" next try {format_instant(incident.next_try_at)}" if incident.next_try_at and incident.open else ""
    error = (incident.error.splitlines() or [""])[0][:200]
    return (f"#{incident.id} {state} {incident.kind} {incident.process_id}/{incident.business_key} case "
            f"{incident.instance_id} at {element} tries {incident.tries} last {format_instant(incident.last_at)}"
            f"{next_try}: {error}")


@main.command()
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--poll", type=float, default=None, help="Seconds between idle passes (default: the setting).")
def worker(once: bool, poll: float | None) -> None:
    """Fire due timers, deliver kept inbox messages and the outbox, until stopped (SIGTERM/Ctrl-C)."""
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with _services() as services:
            _deploy_commands.take_up_shipped(services)
            interval = poll if poll is not None else services.settings.worker_poll_seconds
            log.info("worker started: %s, poll every %.2fs", services.database.dialect, interval)
            while not stopping:
                busy = _work_once(services, lambda: stopping)
                if once:
                    break
                if not busy:
                    time.sleep(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("worker stopped")


def _work_once(services: bootstrap.Services, stop: Callable[[], bool] = lambda: False) -> bool:
    """One pass of the worker; True if anything happened. No case, message or diagram stops it."""
    now = services.now()
    if services.runtime.deployments is not None:  # versions deployed meanwhile (HOMESCHOOL_DEPLOYMENT_CHECK_SECONDS)
        services.runtime.deployments.poll()
    sweep = _guarded("timer sweep", lambda: fire_due_timers(
        services.write_uow, services.runtime, now=now, limit=200,
        retry_delay=_seconds(services.settings.timer_retry_seconds), stop=stop,
        settle=_seconds(services.settings.timer_settle_seconds)))
    moved = _guarded("inbox delivery", lambda: deliver_kept_messages(services.write_uow, services.runtime,
                                                                     now=now, stop=stop))
    _guarded("staff notifications", lambda: notify_staff(
        services.write_uow, services.calendar, now, services.settings.public_url,
        _seconds(services.settings.notify_seconds),
        namer=element_namer(services.runtime, services.settings.processes_dir)))
    sent = _guarded("outbox delivery", lambda: deliver_outbox(
        services.write_uow, services.transports, now=now,
        first_retry=_seconds(services.settings.outbox_retry_seconds)))
    for instance_id, error in (sweep.failed.items() if sweep else ()):
        log.error("timer of case %s failed: %s", instance_id, error)
    fired, delivered, failed = len(sweep.fired) if sweep else 0, len(sent.delivered) if sent else 0, \
        len(sent.failed) if sent else 0
    if fired or moved or delivered or failed:
        log.info("timers fired: %d, inbox delivered: %d, outbox delivered: %d failed: %d",
                 fired, moved or 0, delivered, failed)
    return bool(fired or moved or delivered)


def _guarded(what: str, step: Callable[[], _T]) -> _T | None:
    """Run one step of a worker pass; whatever it raises is logged and the pass goes on (None).

    ``KeyboardInterrupt`` and ``SystemExit`` are contained too: the worker's own SIGTERM/SIGINT
    handlers only set its stop flag, so these can only come from a diagram's script.
    """
    try:
        return step()
    except GeneratorExit:
        raise
    except BaseException:  # noqa: BLE001 — the worker process never exits because of a case
        log.exception("worker: %s failed; retrying after the poll interval", what)
        return None


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


@main.command()
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Also fire timers and deliver the outbox in this process (the embedded default).")
@click.option("--threads", default=8, show_default=True, help="Request threads.")
def serve(worker: bool, threads: int) -> None:
    """Run the staff web app on HOMESCHOOL_BIND with gunicorn (one process; see README for more)."""
    from service.application.demo import load_demo
    from service.web import create_app
    from service.web.server import WebServer

    with _services() as services:
        _deploy_commands.take_up_shipped(services)
        if services.settings.demo_users:
            try:
                report, accounts = load_demo(services.write_uow, services.settings.demo_registry, services.now())
            except (DomainError, OSError) as exc:
                fail(f"the demo registry {services.settings.demo_registry} could not be loaded: {exc}")
            click.echo(f"Demo registry: {report.added} organisations added, {report.updated} updated.")
            click.echo("Demo staff accounts (embedded default): login / password, organisation (BIN), roles")
            for account in accounts:
                national = "  + national administrator" if account.national_admin else ""
                click.echo(f"  {account.login:13} / {account.password:24} {account.organisation_bin}  "
                           f"{', '.join(account.roles)}{national}")
        click.echo(f"Open http://{services.settings.bind}/ and sign in.")
        background = (lambda stop: _background_worker(services, stop)) if worker else None
        # Connections opened before gunicorn forks must not be shared with the worker process.
        after_fork = services.database.dispose
        WebServer(create_app(services.settings, services), services.settings.bind, threads, background,
                  after_fork).run()


def _background_worker(services: bootstrap.Services, stop: Any) -> None:
    """The worker's loop inside the web process (embedded default)."""
    while not stop.is_set():
        try:
            busy = _work_once(services, stop.is_set)
        except Exception:  # keep the web app up; the next pass retries
            log.exception("background worker pass failed")
            busy = False
        if not busy:
            stop.wait(services.settings.worker_poll_seconds)


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.option("--login", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--organisation", "organisation_bin", required=True, help="The BIN of the organisation they work at.")
@click.option("--role", "roles", multiple=True, required=True,
              help="A lane of the diagrams (e.g. office_clerk), administrator, analyst or legal (repeatable).")
@click.option("--position-kk", default="", help="Position printed on documents, in Kazakh.")
@click.option("--position-ru", default="", help="Position printed on documents, in Russian.")
@click.option("--national-admin", is_flag=True, help="May manage the registry of organisations.")
@click.option("--language", default="ru", show_default=True)
@click.password_option()
def staff_add(login: str, full_name: str, organisation_bin: str, roles: tuple[str, ...], position_kk: str,
              position_ru: str, national_admin: bool, language: str, password: str) -> None:
    """Create a staff account in an organisation (the password is asked for, never shown)."""
    from service.application.organisations import organisation_by_bin
    from service.application.people import create_staff
    from service.application.process_access import known_roles
    from service.domain.staff import Actor

    with _services() as services, services.uow() as uow:
        organisation = organisation_by_bin(uow, organisation_bin)
        if organisation is None:
            fail(f"there is no active organisation with BIN {organisation_bin}: import the registry first")
        try:
            create_staff(uow, actor=Actor.system("cli"), organisation_id=organisation.id, login=login,
                         full_name=full_name, password=password, roles=roles,
                         known_roles=known_roles(services.engine.library.diagrams()), language=language,
                         position_kk=position_kk, position_ru=position_ru, national_admin=national_admin,
                         now=services.now())
        except DomainError as exc:
            fail(str(exc))
    click.echo(f"created {login} at {organisation.name_ru}")


@main.group()
def organisations() -> None:
    """The registry of organisations (schools and reviewing bodies)."""


@organisations.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def organisations_import(file: Path) -> None:
    """Add and update organisations from a registry CSV file (all or nothing; safe to repeat)."""
    from service.application.organisations import RegistryRefused, import_registry
    from service.domain.staff import Actor

    try:
        content = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    with _services() as services, services.uow() as uow:
        try:
            report = import_registry(uow, actor=Actor.system("cli"), content=content, now=services.now())
        except RegistryRefused as exc:
            for problem in exc.problems:
                click.echo(f"{file}: {problem}", err=True)
            fail(f"nothing was imported: {len(exc.problems)} problem(s) in {file}")
    click.echo(f"{file}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged")


@organisations.command("list")
@click.option("--search", default="", help="Part of the BIN or the name.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def organisations_list(search: str, limit: int) -> None:
    """Organisations in the registry: BIN, kind, region, name."""
    with _services() as services, services.uow(write=False) as uow:
        for org in uow.organisations.search(search, limit=limit):
            state = "" if org.active else "  (inactive)"
            click.echo(f"{org.bin}  {org.kind:22} {org.region:20} {org.name_ru}{state}")


@main.group("api-client")
def api_client() -> None:
    """Outside systems allowed to call /api/v1."""


@api_client.command("add")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="e.g. applications:submit (repeatable).")
@click.option("--organisation", "organisation_bin", default=None,
              help="Bind the client to one organisation (BIN): it sees and submits only that organisation's cases.")
def api_client_add(name: str, scopes: tuple[str, ...], organisation_bin: str | None) -> None:
    """Register a client and print its token once (only its hash is stored)."""
    from service.application.organisations import organisation_by_bin
    from service.application.staff import register_api_client

    with _services() as services, services.uow() as uow:
        organisation_id = None
        if organisation_bin is not None:
            organisation = organisation_by_bin(uow, organisation_bin)
            if organisation is None:
                fail(f"there is no active organisation with BIN {organisation_bin}")
            organisation_id = organisation.id
        try:
            token = register_api_client(uow, name=name, scopes=scopes, now=services.now(),
                                        organisation_id=organisation_id)
        except DomainError as exc:
            fail(str(exc))
    click.echo(token)


@main.group()
def calendar() -> None:
    """The working-day calendar."""


@calendar.command("deadline")
@click.option("--from", "start_text", required=True, help="When it was received, e.g. 2026-03-20T17:00+05:00.")
@click.option("--working-days", "days_text", required=True, help="How many working days (a whole number ≥ 1).")
def calendar_deadline(start_text: str, days_text: str) -> None:
    """Print the deadline (end of working hours of the N-th working day) as ISO 8601."""
    _calendar_call(lambda cal: format_instant(cal.working_deadline(parse_instant(start_text), _whole(days_text))))


@calendar.command("is-working-day")
@click.argument("day")
def calendar_is_working_day(day: str) -> None:
    """Print 'yes' or 'no' for a date (YYYY-MM-DD)."""
    _calendar_call(lambda cal: "yes" if cal.is_working_day(_date(day)) else "no")


def _calendar_call(compute: Callable[[Any], str]) -> None:
    try:
        click.echo(compute(bootstrap.build_calendar(_settings())))
    except (DomainError, ValueError) as exc:
        fail(str(exc))


def _whole(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"--working-days must be a whole number, got '{text}'") from None
    if value < 1:
        raise ValueError(f"--working-days must be at least 1, got {value}")
    return value


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(f"'{text}' is not a date like 2026-03-20") from None

from service import cli_deploy as _deploy_commands  # noqa: E402 - ``homeschool deploy``, ``deployments …``
from service.cli_names import names as _names_commands  # noqa: E402 - ``homeschool names missing``
from service.cli_repair import case as _repair_commands  # noqa: E402 - ``homeschool case …`` lives apart

main.add_command(_repair_commands)
main.add_command(_deploy_commands.deploy_command)
main.add_command(_deploy_commands.deployments)
main.add_command(_names_commands)
