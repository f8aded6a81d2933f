"""Statements of the hot path, compiled once per database and run on the driver's own cursor.

A step issues the same handful of statements every time (lock and read the case with its task,
save the state, move the open task, log, queue). SQLAlchemy rebuilds an execution context for
each; here each statement is compiled once per dialect (with the column types' converters
looked up once) and then only its values travel: the driver does the rest. The statement
runs inside the unit of work's transaction, on its connection; a driver error is raised as
SQLAlchemy's wrapped error (and a lost connection invalidated), as if SQLAlchemy had run it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Converter = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: (position, converter) of the selected columns whose values the driver does not give as they are.
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]
    #: The parameters as the driver takes them, from the values by name (see :func:`_values_function`).
    values: Callable[[Mapping[str, Any]], Any]


class Prepared:
    """One Core statement, compiled per dialect on first use and reused after."""

    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
            assert isinstance(compiled, SQLCompiler)
            names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(compiled.binds)
            binds = tuple(_converter(compiled.binds[name].type, dialect) for name in names)
            results = (  # (key, name, objects, type) per selected column
                entry[3].dialect_impl(dialect).result_processor(dialect, None)
                for entry in getattr(compiled, "_result_columns", ())
            )
            converted = tuple((index, convert) for index, convert in enumerate(results) if convert is not None)
            # Values written into the statement itself (``values(assignee=None)``), used when not given.
            fixed = {name: compiled.binds[name].value for name in names if not compiled.binds[name].required}
            found = _Compiled(compiled.string, converted, _values_function(names, binds, fixed, dialect.positional))
            self._by_dialect[dialect.name] = found
        return found

    def _values(self, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        try:
            return compiled.values(params)
        except (TypeError, ValueError) as exc:  # a value its column refuses (a naive instant): as SQLAlchemy says it
            raise StatementError(f"({type(exc).__module__}.{type(exc).__name__}) {exc}", compiled.sql, dict(params),
                                 exc) from exc

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run once with ``params``; the number of rows it changed."""
        compiled = self._compiled(connection.dialect)
        values = self._values(compiled, params)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, values)
            return int(cursor.rowcount)
        except connection.dialect.loaded_dbapi.Error as exc:
            raise wrapped_error(connection, exc, compiled.sql, values) from exc
        finally:
            cursor.close()

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row of ``rows`` in one driver call."""
        if not rows:
            return
        if len(rows) == 1:
            self.execute(connection, rows[0])
            return
        compiled = self._compiled(connection.dialect)
        values = [self._values(compiled, row) for row in rows]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(compiled.sql, values)
        except connection.dialect.loaded_dbapi.Error as exc:
            raise wrapped_error(connection, exc, compiled.sql, values) from exc
        finally:
            cursor.close()

    def first(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row a SELECT returns (its values converted as SQLAlchemy would), or None."""
        rows = self._fetch(connection, params, many=False)
        return rows[0] if rows else None

    def all(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row a SELECT returns (its values converted as SQLAlchemy would)."""
        return self._fetch(connection, params, many=True)

    def _fetch(self, connection: Connection, params: Mapping[str, Any], many: bool) -> list[tuple[Any, ...]]:
        compiled = self._compiled(connection.dialect)
        values = self._values(compiled, params)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, values)
            if many:
                rows = cursor.fetchall()
            else:
                row = cursor.fetchone()
                rows = [] if row is None else [row]
        except connection.dialect.loaded_dbapi.Error as exc:
            raise wrapped_error(connection, exc, compiled.sql, values) from exc
        finally:
            cursor.close()
        converted = compiled.converted
        if not converted:
            return [tuple(row) for row in rows]
        found = []
        for row in rows:
            values = list(row)
            for index, convert in converted:
                if values[index] is not None:
                    values[index] = convert(values[index])
            found.append(tuple(values))
        return found


class PreparedInsert:
    """Rows of ``table`` inserted by one multi-row ``INSERT … VALUES (…), (…)``, compiled once per row count.

    One statement instead of the driver's ``executemany`` (which PostgreSQL's driver runs as one
    statement per row); at most ``chunk`` rows a statement. Every row must give every column.
    """

    def __init__(self, table: Table, columns: Sequence[str], chunk: int = 16) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.chunk = chunk
        self._by_count: dict[int, tuple[Prepared, tuple[tuple[tuple[str, str], ...], ...]]] = {}

    def _for(self, count: int) -> tuple[Prepared, tuple[tuple[tuple[str, str], ...], ...]]:
        """The statement for ``count`` rows, and per row its (parameter, column) pairs."""
        found = self._by_count.get(count)
        if found is None:
            names = tuple(tuple((f"{column}_{i}", column) for column in self.columns) for i in range(count))
            found = (Prepared(insert(self.table).values([
                {column: bindparam(name, type_=self.table.c[column].type) for name, column in row}
                for row in names
            ])), names)
            self._by_count[count] = found
        return found

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` in their order."""
        for start in range(0, len(rows), self.chunk):
            part = rows[start:start + self.chunk]
            statement, names = self._for(len(part))
            statement.execute(connection, {
                name: row[column] for row, pairs in zip(part, names, strict=True) for name, column in pairs
            })


def _values_function(names: Sequence[str], binds: Sequence[Converter], fixed: Mapping[str, Any],
                     positional: bool) -> Callable[[Mapping[str, Any]], Any]:
    """A function turning values by name into the driver's parameters: a tuple in order, or a dict.

    Written out once per compiled statement (as :mod:`dataclasses` writes ``__init__``), so each
    execution is one expression instead of a loop over the columns. Only the statement's own bind
    names (quoted with ``repr``) and its converters go into it; a value missing from ``fixed`` and
    from the parameters raises ``KeyError``, as indexing would.
    """
    scope: dict[str, Any] = {"_fixed": dict(fixed)}
    parts = []
    for number, (name, convert) in enumerate(zip(names, binds, strict=True)):
        value = f"p.get({name!r}, _fixed[{name!r}])" if name in fixed else f"p[{name!r}]"
        if convert is not None:
            scope[f"_convert{number}"] = convert
            value = f"_convert{number}({value})"
        parts.append(value if positional else f"{name!r}: {value}")
    listed = ", ".join(parts)
    body = "{" + listed + "}" if not positional else f"({listed},)" if parts else "()"
    exec(f"def values(p):\n    return {body}\n", scope)  # noqa: S102 — the text above, made of our own names
    made: Callable[[Mapping[str, Any]], Any] = scope["values"]
    return made


#: The last instant each kind of instant column was given and what it became (one per kind and database).
_LAST_INSTANT: dict[tuple[str, str], tuple[Any, Any]] = {}


def _converter(type_: Any, dialect: Dialect) -> Converter:
    """The column type's bind converter; for instants, one that converts the same object once.

    A step writes one instant ("now") into many columns and rows (the state, the open task, three
    events, the outbox row); a datetime is immutable, so its converted form is kept and reused
    while the same object comes again, for every column of the same type and settings.
    """
    convert = type_.dialect_impl(dialect).bind_processor(dialect)
    if convert is None or not _is_instant(type_):
        return convert
    kind = (repr(type_), dialect.name)
    bare = convert

    def converted(value: Any) -> Any:
        if not isinstance(value, datetime):  # None (an empty column) must not push "now" out of the memo
            return bare(value)
        last = _LAST_INSTANT.get(kind)
        if last is not None and last[0] is value:
            return last[1]
        result = bare(value)
        _LAST_INSTANT[kind] = (value, result)
        return result

    return converted


def _is_instant(type_: Any) -> bool:
    underneath = getattr(type_, "impl_instance", type_)  # a TypeDecorator says "object" of itself
    try:
        return underneath.python_type is datetime
    except NotImplementedError:
        return False


def wrapped_error(connection: Connection, exc: Any, sql: str, values: Any) -> BaseException:
    """The driver's error as SQLAlchemy raises it; a lost connection is invalidated, as SQLAlchemy does."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(exc)
    return DBAPIError.instance(sql, values, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost,
                               dialect=dialect)
