"""Files on any fsspec URL — one file, a glob or a folder — read into one Arrow table.

Each file is read with pyarrow's vectorised reader (CSV, Parquet, JSON Lines); the tables are
concatenated with their schemas unified (``int`` + ``float`` → ``float``, missing columns →
nulls). With ``partitioning=True`` the hive-style ``key=value/`` folders become columns.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from shipyard.data.sources.base import ReadResult
from shipyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pyarrow as pa
    from fsspec import AbstractFileSystem

FORMATS = ("csv", "parquet", "jsonl")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
_SUFFIXES[".ndjson"] = "jsonl"
_COMPRESSIONS = (".gz", ".bz2", ".zst", ".xz")
_GLOB_CHARS = re.compile(r"[*?\[]")
_PARTITION = re.compile(r"^([^=/]+)=([^/]*)$")
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class FileSource:
    """Rows from files: a path, a glob (``data/*.csv``) or a folder, on any fsspec URL.

    >>> FileSource("sales", "data/*.csv").describe()["format"] is None
    True
    """

    name: str
    path: str
    _: KW_ONLY
    format: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    partitioning: bool = False
    kind: str = field(default="files", init=False)

    def __post_init__(self) -> None:
        for attr in ("name", "path", "delimiter", "encoding"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value:
                raise InvalidArgument(f"source {self.name!r}: {attr} must be a non-empty string")
        if self.format is not None and self.format not in FORMATS:
            raise InvalidArgument(
                f"source {self.name!r}: unknown format {self.format!r}; use one of "
                f"{', '.join(FORMATS)} (or leave it out to infer it from the file suffix)"
            )
        if len(self.delimiter) != 1:
            raise InvalidArgument(
                f"source {self.name!r}: delimiter must be one character, got {self.delimiter!r}"
            )
        if not isinstance(self.partitioning, bool):
            raise InvalidArgument(f"source {self.name!r}: partitioning must be true or false")
        try:
            "".encode(self.encoding)
        except LookupError as exc:
            raise InvalidArgument(
                f"source {self.name!r}: unknown encoding {self.encoding!r} (e.g. utf-8, latin-1)"
            ) from exc

    def read(self, *, since: Any = None) -> ReadResult:
        """Read every matching file into one table (``since`` is ignored: files are not
        incremental).

        Raises ``NotFound`` when nothing matches, ``InvalidArgument`` for a ragged CSV row, a
        wrong encoding, an unknown format or files whose column types clash.
        """
        import fsspec

        fs, root = fsspec.core.url_to_fs(self.path)
        files, base = _list_files(fs, root, self.path)
        fmt = self.format or _infer_format(files, self.path)
        # an inferred format keeps only its own suffix; a set one also takes suffix-less files
        keep = (fmt,) if self.format is None else (fmt, None)
        if files != [root]:  # a file named explicitly is read whatever its suffix
            files = [f for f in files if _format_of(f) in keep]
        if not files:
            raise NotFound(f"no {fmt} file matches {self.path!r}; check the path or format:")
        parts = [self._read_one(fs, f, fmt) for f in files]
        if self.partitioning:
            parts = _add_partitions(parts, base, self._display(fs, base))
        return ReadResult(table=_concat([(self._display(fs, f), t) for f, t in parts]))

    def describe(self) -> dict[str, Any]:
        """JSON-safe settings of this source."""
        return {
            "name": self.name,
            "type": self.kind,
            "path": self.path,
            "format": self.format,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "partitioning": self.partitioning,
        }

    def _display(self, fs: AbstractFileSystem, path: str) -> str:
        return path if _is_local(fs) else str(fs.unstrip_protocol(path))

    def _read_one(self, fs: AbstractFileSystem, path: str, fmt: str) -> tuple[str, pa.Table]:
        shown = self._display(fs, path)
        with fs.open(path, "rb", compression=_compression_of(path)) as fh:
            raw = fh.read()
        if fmt == "parquet":
            return path, _read_parquet(raw, shown)
        data = _to_utf8(raw, self.encoding, shown)
        if fmt == "csv":
            return path, _read_csv(data, shown, self.delimiter)
        return path, _read_jsonl(data, shown)


def _is_local(fs: AbstractFileSystem) -> bool:
    protocol = fs.protocol
    return "file" in (protocol if isinstance(protocol, tuple) else (protocol,))


def _list_files(fs: AbstractFileSystem, root: str, shown: str) -> tuple[list[str], str]:
    """The data files under ``root`` (sorted; hidden and ``_``-files skipped) and their base."""
    glob = _GLOB_CHARS.search(root)
    if glob:
        base = root[: glob.start()].rsplit("/", 1)[0]
        files = [f for f in fs.glob(root) if fs.isfile(f)]
    elif fs.isdir(root):
        base = root.rstrip("/")
        files = list(fs.find(root))
    elif fs.isfile(root):
        return [root], root.rsplit("/", 1)[0]
    else:
        raise NotFound(f"no file matches {shown!r}; check the path (a file, a glob or a folder)")
    files = sorted(f for f in files if not _hidden(f[len(base) :]))
    if not files:
        raise NotFound(f"no file matches {shown!r}; check the path (a file, a glob or a folder)")
    return files, base


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) for part in relative.split("/") if part)


def _compression_of(path: str) -> str | None:
    from fsspec.utils import infer_compression

    return infer_compression(path) if path.endswith(_COMPRESSIONS) else None


def _format_of(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1].lower()
    for comp in _COMPRESSIONS:
        name = name.removesuffix(comp)
    dot = name.rfind(".")
    return _SUFFIXES.get(name[dot:]) if dot >= 0 else None


def _infer_format(files: Sequence[str], shown: str) -> str:
    found = sorted({f for f in map(_format_of, files) if f is not None})
    if len(found) == 1:
        return found[0]
    if not found:
        raise InvalidArgument(
            f"cannot tell the format of {shown!r} from its file suffix; set format: to one of "
            f"{', '.join(FORMATS)}"
        )
    raise InvalidArgument(
        f"{shown!r} matches files of several formats ({', '.join(found)}); narrow the path or "
        "set format: to read only one of them"
    )


def _to_utf8(raw: bytes, encoding: str, shown: str) -> bytes:
    """The bytes as UTF-8, or ``InvalidArgument`` naming the file, line and the fix."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidArgument(
            f"{shown} is not valid {encoding} (byte {exc.start}, line {line}: {exc.reason}); "
            "set encoding: to the file's encoding, e.g. encoding=latin-1 or encoding=utf-16"
        ) from exc
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        return raw
    return text.encode("utf-8")


def _read_parquet(raw: bytes, shown: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(pa.BufferReader(raw))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgument(f"{shown} is not a readable Parquet file: {exc}") from exc


def _read_csv(data: bytes, shown: str, delimiter: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as csv

    parse = csv.ParseOptions(delimiter=delimiter)
    try:
        return csv.read_csv(io.BytesIO(data), parse_options=parse)
    except pa.ArrowInvalid as exc:
        if "Expected" in str(exc) and "columns, got" in str(exc):
            raise _ragged_row(data, shown, delimiter) from exc
        raise InvalidArgument(f"{shown} is not a readable CSV file: {exc}") from exc


def _ragged_row(data: bytes, shown: str, delimiter: str) -> InvalidArgument:
    """Re-parse single-threaded (pyarrow only numbers rows then) to name the bad row."""
    import pyarrow as pa
    import pyarrow.csv as csv

    bad: list[Any] = []

    def handler(row: Any) -> str:
        bad.append(row)
        return "error"

    parse = csv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler)
    try:
        csv.read_csv(
            io.BytesIO(data), parse_options=parse, read_options=csv.ReadOptions(use_threads=False)
        )
    except pa.ArrowInvalid as exc:
        if not bad:
            return InvalidArgument(f"{shown} is not a readable CSV file: {exc}")
    row = bad[-1]
    return InvalidArgument(
        f"{shown} row {row.number} (counting the header as row 1) has {row.actual_columns} "
        f"columns but the header has {row.expected_columns}: {row.text[:200]!r}; fix the row, "
        "quote values that contain the delimiter, or set delimiter:"
    )


def _read_jsonl(data: bytes, shown: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        return pj.read_json(io.BytesIO(data))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgument(
            f"{shown} is not valid JSON Lines (one JSON object per line): {exc}"
        ) from exc


def _add_partitions(
    parts: list[tuple[str, pa.Table]], base: str, shown_base: str
) -> list[tuple[str, pa.Table]]:
    """Add one column per hive ``key=value`` folder between ``base`` and each file."""
    import pyarrow as pa

    keys = [_partition_values(path, base) for path, _ in parts]
    names = list(dict.fromkeys(k for found in keys for k in found))
    types = {name: _partition_type([found.get(name) for found in keys]) for name in names}
    out = []
    for (path, table), found in zip(parts, keys, strict=True):
        for name in names:
            if name in table.column_names:
                raise InvalidArgument(
                    f"{path} has a column {name!r} and also sits in a {name}=… folder under "
                    f"{shown_base}; rename one of them or set partitioning: false"
                )
            value = pa.scalar(found.get(name), type=pa.string()).cast(types[name])
            table = table.append_column(name, pa.repeat(value, table.num_rows))
        out.append((path, table))
    return out


def _partition_values(path: str, base: str) -> dict[str, str | None]:
    folders = path[len(base) :].strip("/").split("/")[:-1]
    found: dict[str, str | None] = {}
    for folder in folders:
        match = _PARTITION.match(folder)
        if match:
            value = unquote(match.group(2))
            found[unquote(match.group(1))] = None if value in ("", _HIVE_NULL) else value
    return found


def _partition_type(values: list[str | None]) -> pa.DataType:
    """``int64`` or ``float64`` when every value parses as one, else ``string``."""
    import pyarrow as pa

    array = pa.array(values, type=pa.string())
    for candidate in (pa.int64(), pa.float64()):
        try:
            array.cast(candidate)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return candidate
    return pa.string()


def _concat(parts: list[tuple[str, pa.Table]]) -> pa.Table:
    """One table; ``InvalidArgument`` naming both files and the column when types clash."""
    import pyarrow as pa

    try:
        return pa.concat_tables([t for _, t in parts], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _schema_clash(parts) from exc


def _schema_clash(parts: list[tuple[str, pa.Table]]) -> InvalidArgument:
    import pyarrow as pa

    seen: dict[str, tuple[str, pa.DataType]] = {}
    for path, table in parts:
        for fld in table.schema:
            if fld.name not in seen:
                seen[fld.name] = (path, fld.type)
                continue
            first, first_type = seen[fld.name]
            try:
                merged = pa.unify_schemas(
                    [pa.schema([(fld.name, first_type)]), pa.schema([fld])],
                    promote_options="permissive",
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return InvalidArgument(
                    f"column {fld.name!r} is {first_type} in {first} but {fld.type} in {path}; "
                    "make the files agree on its type or read them as separate sources"
                )
            seen[fld.name] = (first, merged.field(0).type)
    return InvalidArgument(f"the files' schemas cannot be combined: {[p for p, _ in parts]}")
