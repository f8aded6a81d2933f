"""The unit of work: one transaction per use case, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from .database import Database
from .deployment_repository import DeploymentRepository
from .document_repository import DocumentRepository
from .failures import translate
from .incident_repository import IncidentRepository
from .notification_repository import NotificationRepository
from .operations_queries import OperationsQueries
from .organisation_repository import MembershipRepository, OrganisationRepository
from .prepared import wrapped_error
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

R = TypeVar("R")


class _Lazy(Generic[R]):
    """A repository of the unit of work, made when a use case first asks for it (most use a few)."""

    def __init__(self, factory: Callable[[Connection, bool], R]) -> None:
        self.factory = factory
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, uow: None, owner: type) -> _Lazy[R]: ...

    @overload
    def __get__(self, uow: UnitOfWork, owner: type) -> R: ...

    def __get__(self, uow: UnitOfWork | None, owner: type) -> _Lazy[R] | R:
        if uow is None:
            return self
        found: R | None = uow._repositories.get(self.name)
        if found is None:
            found = self.factory(uow.session, uow.database.supports_skip_locked)
            uow._repositories[self.name] = found
        return found


class UnitOfWork:
    """Opens a session and its repositories; commit() makes the use case's changes durable."""

    diagrams = _Lazy(DiagramRepository)
    deployments = _Lazy(DeploymentRepository)
    instances = _Lazy(InstanceRepository)
    tasks = _Lazy(TaskRepository)
    timers = _Lazy(TimerRepository)
    awaited = _Lazy(AwaitedMessageRepository)
    inbox = _Lazy(InboxRepository)
    outbox = _Lazy(OutboxRepository)
    events = _Lazy(EventLogRepository)
    documents = _Lazy(DocumentRepository)
    staff = _Lazy(StaffRepository)
    api_clients = _Lazy(ApiClientRepository)
    attachments = _Lazy(AttachmentRepository)
    organisations = _Lazy(OrganisationRepository)
    memberships = _Lazy(MembershipRepository)
    sessions = _Lazy(SessionRepository)
    incidents = _Lazy(IncidentRepository)
    operations = _Lazy(OperationsQueries)
    notifications = _Lazy(NotificationRepository)

    def __init__(self, database: Database, write: bool = True) -> None:
        self.database = database
        self.write = write
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        # A Core connection, not an ORM session: every repository runs Core statements, and the
        # session's own bookkeeping (identity map, flush, transaction states) cost more than a
        # step's statements on SQLite. ``session`` keeps its name for the repositories and tests.
        self._committed = False
        self._repositories: dict[str, Any] = {}
        try:
            self.session = self.database.connect(write=self.write)
        except DBAPIError as exc:  # the server cannot be reached: "unavailable", as for any statement
            raise (translate(exc) or exc) from exc
        try:
            # Start the transaction now, so on SQLite a writer waits for the lock up front.
            self.session.begin()
        except DBAPIError as exc:
            self.session.close()
            raise (translate(exc) or exc) from exc
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        ended = False
        try:
            if not self._committed:
                self._end(clean=exc is None)
            ended = True
        except DBAPIError:
            if exc is None:
                raise
        finally:
            if ended:  # the transaction is over: the next unit of work may take the connection
                self.database.release(self.session, write=self.write)
            else:
                self.session.close()
        failure = translate(exc) if exc is not None and not isinstance(exc, IntegrityError) else None
        if failure is not None:  # a driver error inside the use case: say what it means, in domain terms
            raise failure from exc

    def _end(self, clean: bool) -> None:
        """End a transaction nobody committed: a read that went well commits, anything else rolls back.

        A read unit of work has nothing to undo, and PostgreSQL's driver forgets every server-side
        prepared statement of the connection at a ROLLBACK: rolled back reads would keep the hot
        statements from ever being prepared (each then parsed and planned anew, about 0.1 ms).
        """
        if clean and not self.write:
            self.session.commit()
        else:
            self.session.rollback()

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Send the statements issued inside together: one round trip on PostgreSQL (the driver's pipeline mode).

        For writes whose answer nobody reads (no row count, no returned rows): a failure shows when
        the block ends, raised as any statement's would be. On SQLite (or a libpq older than 14, which
        has no pipeline mode) statements run as they come.
        """
        if not self.database.pipelines:
            yield
            return
        driver = self.session.connection.dbapi_connection
        error = self.session.dialect.loaded_dbapi.Error
        try:
            with driver.pipeline():  # type: ignore[union-attr]
                yield
        except error as exc:
            raise wrapped_error(self.session, exc, "(the step's batched writes)", ()) from exc

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
        """Send pending statements now (each statement runs when issued: nothing is pending)."""
