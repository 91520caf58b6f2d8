"""A table or query of any SQLAlchemy database, read into one Arrow table, optionally
incrementally by a watermark column (only rows with ``watermark > since``, ordered by it).

The URL's password never appears in an error or in ``describe()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.data.sources.base import ReadResult
from shipyard.errors import InvalidArgument, NotFound, StoreUnavailable

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection, Executable, Table
    from sqlalchemy.engine import URL


@dataclass(frozen=True)
class SqlSource:
    """Rows of one ``table`` or one ``query`` of the database at ``url``.

    >>> SqlSource("orders", "postgresql+psycopg://ml:s3cret@db/shop", table="orders").describe()
    ... # doctest: +ELLIPSIS
    {'name': 'orders', 'type': 'sql', 'url': 'postgresql+psycopg://ml:***@db/shop', ...}
    """

    name: str
    url: str
    _: KW_ONLY
    table: str | None = None
    query: str | None = None
    watermark: str | None = None
    kind: str = field(default="sql", init=False)

    def __post_init__(self) -> None:
        for attr in ("table", "query", "watermark"):
            value = getattr(self, attr)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidArgument(f"source {self.name!r}: {attr} must be a non-empty string")
        if (self.table is None) == (self.query is None):
            raise InvalidArgument(
                f"source {self.name!r}: set exactly one of table: (a table name) or query: "
                "(a SELECT statement)"
            )
        _parse_url(self.url, self.name)

    @property
    def safe_url(self) -> str:
        """The URL with its password masked."""
        return _parse_url(self.url, self.name).render_as_string(hide_password=True)

    def read(self, *, since: Any = None) -> ReadResult:
        """Read the rows (only ``watermark > since`` when both are set), ordered by watermark.

        Returns the table and, when ``watermark`` is set, the largest watermark value read (or
        ``since`` when there are no new rows). Raises ``StoreUnavailable`` when the database
        cannot be reached, ``NotFound`` for a missing table, ``InvalidArgument`` for a bad query
        or watermark column.
        """
        with self._connect() as conn:
            if self.table is not None:
                stmt, types = self._table_statement(conn, self.table, since)
            else:
                stmt, types = self._query_statement(conn, self.query or "", since), {}
            table = self._execute(conn, stmt, types)
        if self.watermark is None:
            return ReadResult(table=table)
        return ReadResult(table=table, watermark=_max_of(table, self.watermark, since))

    def describe(self) -> dict[str, Any]:
        """JSON-safe settings of this source (password masked)."""
        return {
            "name": self.name,
            "type": self.kind,
            "url": self.safe_url,
            "table": self.table,
            "query": self.query,
            "watermark": self.watermark,
        }

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        from sqlalchemy import create_engine, exc
        from sqlalchemy.pool import NullPool

        url = _parse_url(self.url, self.name)
        if url.get_backend_name() == "sqlite":
            _check_sqlite_file(url, self.safe_url)
        engine = create_engine(url, poolclass=NullPool)
        try:
            try:
                conn = engine.connect()
            except exc.DBAPIError as err:
                raise StoreUnavailable(
                    f"cannot reach the database {self.safe_url} for source {self.name!r}: "
                    f"{self._scrub(err.orig)}"
                ) from err
            with conn:
                yield conn
        finally:
            engine.dispose()

    def _scrub(self, error: BaseException | None) -> str:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        password = _parse_url(self.url, self.name).password
        return message.replace(str(password), "***") if password else message

    def _table_statement(
        self, conn: Connection, name: str, since: Any
    ) -> tuple[Executable, dict[str, pa.DataType]]:
        from sqlalchemy import select

        table = _reflect(conn, name, self.safe_url)
        stmt = select(table)
        if self.watermark is not None:
            if self.watermark not in table.c:
                raise InvalidArgument(
                    f"source {self.name!r}: watermark column {self.watermark!r} is not in table "
                    f"{name!r}; its columns are {', '.join(table.c.keys())}"
                )
            column = table.c[self.watermark]
            if since is not None:
                stmt = stmt.where(column > _coerce_since(since, column.type.python_type))
            stmt = stmt.order_by(column)
        return stmt, {c.name: _arrow_type(c.type) for c in table.c}

    def _query_statement(self, conn: Connection, query: str, since: Any) -> Executable:
        from sqlalchemy import bindparam, text

        query = query.strip().rstrip(";")
        if self.watermark is None:
            return text(query)
        column = conn.dialect.identifier_preparer.quote(self.watermark)
        where = f" WHERE q.{column} > :since" if since is not None else ""
        stmt = text(f"SELECT * FROM ({query}) AS q{where} ORDER BY q.{column}")
        return stmt.bindparams(bindparam("since", since)) if since is not None else stmt

    def _execute(
        self, conn: Connection, stmt: Executable, types: Mapping[str, pa.DataType]
    ) -> pa.Table:
        from sqlalchemy import exc

        try:
            result = conn.execute(stmt)
            names = list(result.keys())
            rows = result.fetchall()
        except exc.DBAPIError as err:
            if err.connection_invalidated:
                raise StoreUnavailable(
                    f"lost the connection to {self.safe_url} for source {self.name!r}: "
                    f"{self._scrub(err.orig)}"
                ) from err
            raise InvalidArgument(
                f"source {self.name!r}: the database rejected the query: {self._scrub(err.orig)}"
            ) from err
        return _to_arrow(names, rows, types, self.name)


def _parse_url(url: str, name: str) -> URL:
    from sqlalchemy import exc, make_url

    if not isinstance(url, str) or not url:
        raise InvalidArgument(f"source {name!r}: url must be a SQLAlchemy URL string")
    try:
        return make_url(url)
    except exc.ArgumentError as err:
        raise InvalidArgument(
            f"source {name!r}: {url.split('@')[-1]!r} is not a SQLAlchemy URL "
            "(e.g. sqlite:///shop.db or postgresql+psycopg://user@host/db)"
        ) from err


def _check_sqlite_file(url: URL, shown: str) -> None:
    """Reading must not create an empty SQLite file where the user mistyped a path."""
    database = url.database or ""
    in_memory = not database or database == ":memory:" or database.startswith("file:")
    if not in_memory and not Path(database).is_file():
        raise StoreUnavailable(
            f"cannot reach the database {shown}: the SQLite file {database} does not exist"
        )


def _reflect(conn: Connection, name: str, shown: str) -> Table:
    from sqlalchemy import MetaData, Table, inspect

    schema, _, table_name = name.rpartition(".")
    inspector = inspect(conn)
    if not inspector.has_table(table_name, schema=schema or None):
        existing = sorted(inspector.get_table_names(schema=schema or None))
        raise NotFound(
            f"table {name!r} does not exist in {shown}; existing tables: "
            f"{', '.join(existing) or '(none)'}"
        )
    return Table(table_name, MetaData(), schema=schema or None, autoload_with=conn)


def _coerce_since(since: Any, python_type: type) -> Any:
    """A watermark read back from YAML/JSON as text, turned into the column's type."""
    if not isinstance(since, str):
        return since
    try:
        if python_type is dt.datetime:
            return dt.datetime.fromisoformat(since)
        if python_type is dt.date:
            return dt.date.fromisoformat(since)
        if python_type is int:
            return int(since)
    except ValueError as err:
        raise InvalidArgument(f"watermark {since!r} is not a valid {python_type.__name__}") from err
    return since


def _arrow_type(sql_type: Any) -> pa.DataType | None:
    """The Arrow type for a reflected SQLAlchemy column type (None: let Arrow infer)."""
    import pyarrow as pa
    from sqlalchemy import types as sa

    if isinstance(sql_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sa.Integer):
        return pa.int64()
    if isinstance(sql_type, sa.Float):
        return pa.float64()
    if isinstance(sql_type, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if sql_type.timezone else None)
    if isinstance(sql_type, sa.Date):
        return pa.date32()
    if isinstance(sql_type, sa.String):
        return pa.string()
    if isinstance(sql_type, sa.LargeBinary):
        return pa.binary()
    return None


def _to_arrow(
    names: list[str], rows: Sequence[Any], types: Mapping[str, pa.DataType | None], source: str
) -> pa.Table:
    """Columns from the fetched rows (one transpose, then Arrow's vectorised conversion)."""
    import pyarrow as pa

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    arrays = {}
    for name, values in zip(names, columns, strict=True):
        try:
            arrays[name] = pa.array(values, type=types.get(name))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise InvalidArgument(
                f"source {source!r}: column {name!r} holds values of mixed types ({err}); "
                "cast it to one type in a query:"
            ) from err
    return pa.table(arrays)


def _max_of(table: pa.Table, column: str, since: Any) -> Any:
    import pyarrow.compute as pc

    if column not in table.column_names:
        raise InvalidArgument(f"watermark column {column!r} is not in the result")
    if table.num_rows == 0:
        return since
    value = pc.max(table[column]).as_py()
    return since if value is None else value
