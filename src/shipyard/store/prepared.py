"""Statements compiled once per dialect and run straight on the DBAPI cursor.

For the few statements every run executes (create, log a batch, end): SQLAlchemy's execution
path costs more than SQLite takes to run them. A :class:`Prepared` statement keeps SQLAlchemy's
SQL (so one definition serves SQLite and PostgreSQL) but skips its per-call machinery. Use it
only inside ``Database.begin()`` (the transaction is already open), with plain parameter values
(str, int, float, None) and no expanding ``IN`` parameters.

>>> from sqlalchemy import bindparam, select
>>> from shipyard.store.schema import runs
>>> p = Prepared(select(runs.c.name).where(runs.c.run_id == bindparam("rid")))
>>> p.sql("sqlite")
'SELECT runs.name \\nFROM runs \\nWHERE runs.run_id = ?'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class _Compiled(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # parameter names in order, for positional paramstyles
    fixed: dict[str, Any]  # values baked into the statement (literal())


class Prepared:
    """One statement, compiled on first use for each dialect it meets."""

    def __init__(self, statement: ClauseElement, *, columns: Sequence[str] = ()) -> None:
        """``columns``: for an INSERT, the columns given (each row maps them by name)."""
        self.statement = statement
        self.columns = list(columns)
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c = cast(
                SQLCompiler,
                self.statement.compile(dialect=dialect, column_keys=self.columns or None),
            )
            order = tuple(c.positiontup or ()) if c.positional else None
            fixed = {k: v for k, v in c.params.items() if v is not None}  # literal() values
            compiled = self._compiled[dialect.name] = _Compiled(str(c), order, fixed)
        return compiled

    def sql(self, dialect_name: str) -> str:
        """The SQL text for a dialect (for tests and debugging)."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = {"sqlite": sqlite.dialect, "postgresql": postgresql.dialect}[dialect_name]()
        return self._compile(dialect).sql

    @staticmethod
    def _args(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        values = {**compiled.fixed, **params} if compiled.fixed else params
        if compiled.order is None:
            return values
        return tuple(values[name] for name in compiled.order)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute once and return the first row as a tuple (None when there is none)."""
        compiled = self._compile(conn.dialect)
        cursor = conn.connection.cursor()
        cursor.execute(compiled.sql, self._args(compiled, params))
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else tuple(row)

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute for every row (``executemany``); returns the rows affected (-1 if unknown)."""
        compiled = self._compile(conn.dialect)
        cursor = conn.connection.cursor()
        cursor.executemany(compiled.sql, [self._args(compiled, row) for row in rows])
        count = int(cursor.rowcount)
        cursor.close()
        return count


__all__ = ["Prepared"]
