"""The one place that builds concrete parts from settings: database, calendar, diagrams, engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from service.adapters.transports import build_transports
from service.application.declarations import load_process_declarations
from service.application.deployed import DeploymentCache
from service.application.documents import attach_documents, issue_document
from service.application.outbox import OutboxTransport
from service.application.process_access import load_declarations
from service.application.runtime import Runtime
from service.config import Settings
from service.documents.signing import DocumentSigner
from service.domain.calendar import CalendarOverrides, WorkingCalendar, WorkingHours
from service.domain.errors import DomainError
from service.domain.package import PackageRules
from service.domain.time import ALMATY
from service.engine.library import DiagramLibrary
from service.engine.runtime import ProcessEngine
from service.persistence import migrate
from service.persistence.database import Database
from service.persistence.uow import UnitOfWork


class SchemaOutOfDate(DomainError):
    """The database is not at the schema this code needs."""


@dataclass
class Services:
    """Everything a use case needs, built once per process."""

    settings: Settings
    database: Database
    calendar: WorkingCalendar
    engine: ProcessEngine
    transports: dict[str, OutboxTransport]
    runtime: Runtime
    #: Signs every issued PDF with the issuing organisation's key (or the installation's).
    signer: DocumentSigner

    def uow(self, write: bool = True) -> UnitOfWork:
        """A new unit of work (one transaction)."""
        return UnitOfWork(self.database, write=write)

    def write_uow(self) -> UnitOfWork:
        """A new writing unit of work (for functions that take a factory)."""
        return UnitOfWork(self.database, write=True)

    @staticmethod
    def now() -> datetime:
        """The current instant in Asia/Almaty."""
        return datetime.now(ALMATY)


def build_calendar(settings: Settings) -> WorkingCalendar:
    """The working-day calendar with the configured hours and the operator's overrides."""
    return WorkingCalendar(
        hours=WorkingHours.parse(settings.working_hours),
        overrides=CalendarOverrides.load(settings.calendar_overrides),
    )


def build_services(settings: Settings, library: DiagramLibrary | None = None) -> Services:
    """Wire the product: diagrams from ``settings.processes_dir`` unless a library is given."""
    calendar = build_calendar(settings)
    # first: a declaration may add the roles and stages the diagrams' lanes and elements name
    declarations = load_process_declarations(settings.processes_dir)
    if library is None:
        library = (
            DiagramLibrary.from_directory(settings.processes_dir)
            if settings.processes_dir.is_dir() else DiagramLibrary()
        )
    engine = ProcessEngine(library, calendar, package_rules(settings), process_settings(settings))
    database = Database(settings.database_url)
    access = load_declarations(settings.processes_dir, library.diagrams())
    deployments = DeploymentCache(library, settings.instance_dir / "deployments",
                                  lambda: UnitOfWork(database, write=False), settings.deployment_check_seconds, access,
                                  declarations)
    runtime = Runtime(
        engine=engine,
        issue_document=issue_document,
        forms_dir=settings.forms_dir,
        access=access,
        form_choices=form_choices(settings),
        deployments=deployments,
        declarations=declarations,
    )
    signer = build_signer(settings)

    def uows(write: bool = True) -> UnitOfWork:
        return UnitOfWork(database, write=write)

    return Services(
        settings=settings,
        database=database,
        calendar=calendar,
        engine=engine,
        transports=build_transports(settings.outbox_targets, attach=partial(attach_documents, uows, runtime, signer),
                                    mail_from=settings.mail_from),
        runtime=runtime,
        signer=signer,
    )


def build_signer(settings: Settings) -> DocumentSigner:
    """The document signer from the signing settings (keys are read on the first signature)."""
    return DocumentSigner(settings.signing_key, settings.signing_key_passphrase, settings.signing_keys_dir,
                          settings.instance_dir)


def form_choices(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The settings forms may take their allowed values from (``"x-enum-setting"``)."""
    return {"instruction_languages": settings.instruction_languages}


def package_rules(settings: Settings) -> PackageRules:
    """The completeness rules for applications, from the settings."""
    return PackageRules(
        office_documents=settings.office_documents, portal_documents=settings.portal_documents,
        proactive_documents=settings.proactive_documents,
        min_age=settings.school_age_min, max_age=settings.school_age_max,
        max_attachment_bytes=settings.max_attachment_bytes,
    )


def process_settings(settings: Settings) -> dict[str, object]:
    """The settings diagrams may read with ``setting(name)``."""
    return {
        "proactive_silence_is_refusal": settings.proactive_silence_is_refusal,
        "proactive_delivery_wait_hours": settings.proactive_delivery_wait_hours,
        "complaint_max_extension_days": settings.complaint_max_extension_days,
        "service_period_working_days": settings.service_period_working_days,
    }


def prepare_database(services: Services) -> None:
    """Create the embedded database on first run; refuse to run on an out-of-date schema."""
    database = services.database
    current = migrate.current_revision(database)
    if current is None and database.dialect == "sqlite":
        migrate.upgrade(database)
        return
    if current != migrate.head_revision():
        raise SchemaOutOfDate(
            f"the database is at schema {current or 'none'}, this code needs {migrate.head_revision()}: "
            "run 'homeschool db upgrade'"
        )
