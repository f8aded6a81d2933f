"""The unit of work: one transaction per use case, rolled back unless committed."""

from __future__ import annotations

from contextlib import suppress
from types import TracebackType

from sqlalchemy.exc import DBAPIError, IntegrityError

from .database import Database
from .deployment_repository import DeploymentRepository
from .document_repository import DocumentRepository
from .failures import translate
from .incident_repository import IncidentRepository
from .notification_repository import NotificationRepository
from .operations_queries import OperationsQueries
from .organisation_repository import MembershipRepository, OrganisationRepository
from .repositories import (
    ApiClientRepository,
    AttachmentRepository,
    AwaitedMessageRepository,
    DiagramRepository,
    EventLogRepository,
    InboxRepository,
    InstanceRepository,
    OutboxRepository,
    StaffRepository,
    TaskRepository,
    TimerRepository,
)
from .session_repository import SessionRepository


class UnitOfWork:
    """Opens a session and its repositories; commit() makes the use case's changes durable."""

    def __init__(self, database: Database, write: bool = True) -> None:
        self.database = database
        self.write = write
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self.database.session(write=self.write)
        self._committed = False
        skip = self.database.supports_skip_locked
        self.diagrams = DiagramRepository(self.session, skip)
        self.deployments = DeploymentRepository(self.session, skip)
        self.instances = InstanceRepository(self.session, skip)
        self.tasks = TaskRepository(self.session, skip)
        self.timers = TimerRepository(self.session, skip)
        self.awaited = AwaitedMessageRepository(self.session, skip)
        self.inbox = InboxRepository(self.session, skip)
        self.outbox = OutboxRepository(self.session, skip)
        self.events = EventLogRepository(self.session, skip)
        self.documents = DocumentRepository(self.session, skip)
        self.staff = StaffRepository(self.session, skip)
        self.api_clients = ApiClientRepository(self.session, skip)
        self.attachments = AttachmentRepository(self.session, skip)
        self.organisations = OrganisationRepository(self.session, skip)
        self.memberships = MembershipRepository(self.session, skip)
        self.sessions = SessionRepository(self.session, skip)
        self.incidents = IncidentRepository(self.session, skip)
        self.operations = OperationsQueries(self.session, skip)
        self.notifications = NotificationRepository(self.session, skip)
        try:
            # Start the transaction now, so on SQLite a writer waits for the lock up front.
            self.session.connection()
        except DBAPIError as exc:
            self.session.close()
            raise (translate(exc) or exc) from exc
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        except DBAPIError:
            if exc is None:
                raise
        finally:
            self.session.close()
        failure = translate(exc) if exc is not None and not isinstance(exc, IntegrityError) else None
        if failure is not None:  # a driver error inside the use case: say what it means, in domain terms
            raise failure from exc

    def commit(self) -> None:
        """Make every change of this use case durable at once."""
        try:
            self.session.commit()
        except DBAPIError as exc:
            with suppress(DBAPIError):  # the connection may be gone: the failure below says so
                self.session.rollback()
            raise (translate(exc) or exc) from exc
        self._committed = True

    def rollback(self) -> None:
        """Undo everything this use case did so far (the unit of work stays usable for reads)."""
        self.session.rollback()

    def flush(self) -> None:
        """Send pending statements now (to surface constraint errors inside the use case)."""
        self.session.flush()
