"""Batch prediction: a registered model over a CSV or Parquet file of any size, streamed.

The main thread reads the input in chunks of ``chunk_rows`` rows (Parquet with
``ParquetFile.iter_batches``, CSV with pyarrow's streaming reader), hands each chunk to a bounded
pool of worker threads that validate it against the model's signature and call ``predict`` (and
``predict_proba``), and writes the results in input order as they come back (ParquetWriter or
Arrow's CSV writer). At most ``workers + 1`` chunks are in memory at once, whatever the file's
size. NumPy, scikit-learn and Arrow release the GIL for most of the work, so threads overlap
reading, predicting and writing without copying chunks between processes.

Each output row has the key column(s) (``key=``; all input columns when no key is given),
``prediction``, ``proba_<class>`` per class for a classifier, ``model_version`` and a
``prediction_id`` (see :mod:`shipyard.serving.ids`). The output goes to a hidden temporary file
next to the destination and is renamed into place at the end, so a failed run leaves no partial
file (and an older output stays intact). Paths may be local or any fsspec URL.

Example::

    from shipyard.serving.batch import predict_batch
    result = predict_batch("churn@champion", "customers.parquet", "scores.parquet", key="id")
    print(result.rows, result.version)
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard.errors import InvalidArgument, NotFound
from shipyard.registry.package.signature import TensorSpec
from shipyard.serving.ids import new_id_array

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from shipyard.pipelines.executors import Executor
    from shipyard.registry.package import LoadedModel

DEFAULT_CHUNK_ROWS = 100_000
FORMATS = ("csv", "parquet")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
_PARQUET_BUFFER = 1 << 20
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class BatchResult:
    """What a batch prediction did: the model version used, rows and chunks, the output."""

    model: str
    version: int
    input: str
    output: str
    rows: int
    chunks: int
    seconds: float
    columns: tuple[str, ...]


def predict_batch(
    ref: str,
    input_url: str | Path,
    output_url: str | Path,
    *,
    key: str | Sequence[str] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    progress: Progress | None = None,
    executor: str | Executor | None = None,
) -> BatchResult:
    """Predict with model ``ref`` (``churn@champion``, ``churn/3``) over a CSV or Parquet file.

    ``key`` names the column(s) to keep beside each prediction (default: every input column);
    ``workers`` threads predict at once (default: the number of CPUs); formats come from the
    suffixes (``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``) unless given. ``progress(done,
    total)`` is called after each chunk is written (``total`` is None for CSV). An existing
    output is replaced only when the run succeeds.

    Raises NotFound (no input file, unknown model or version), InvalidArgument (unknown format,
    a column the model needs or a key column missing from the input, values the signature
    refuses, a bad option).

    ``executor`` (``local``, ``local:N``, ``dask://host:port``, ``dask://local`` or a started
    :class:`~shipyard.pipelines.executors.Executor`) predicts the chunks on that executor's
    workers instead of threads here; each worker loads the model version once. Reading and
    writing stay here, so the input and output need not be visible to the workers.
    """
    started = time.perf_counter()
    keys = _check_options(key, chunk_rows, workers)
    n_workers = workers or os.cpu_count() or 1
    source = _Location.of(input_url, input_format, "input")
    target = _Location.of(output_url, output_format, "output")
    source.check_readable()
    if source.same_file(target):
        raise InvalidArgument(f"the output {target.url} is the input file; write somewhere else")
    plan = _Plan.load(ref, source, keys)
    reader = _open_reader(source, plan.read_columns, chunk_rows, plan.csv_types)
    if executor is not None:
        rows, chunks, columns = _run_on_executor(plan, reader, target, executor, progress)
    else:
        rows, chunks, columns = _run(plan, reader, target, n_workers, progress)
    return BatchResult(
        model=plan.name,
        version=plan.version,
        input=source.url,
        output=target.url,
        rows=rows,
        chunks=chunks,
        seconds=time.perf_counter() - started,
        columns=columns,
    )


def _check_options(
    key: str | Sequence[str] | None, chunk_rows: int, workers: int | None
) -> tuple[str, ...]:
    for name, value in (("chunk_rows", chunk_rows), ("workers", workers)):
        if value is None and name == "workers":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgument(f"{name} must be a whole number >= 1, got {value!r}")
    keys = (key,) if isinstance(key, str) else tuple(key or ())
    if any(not isinstance(k, str) or not k for k in keys) or len(set(keys)) != len(keys):
        raise InvalidArgument(f"key must name distinct columns, got {key!r}")
    return keys


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class _Location:
    """A file by path or fsspec URL, its format and (for CSV) compression codec."""

    url: str
    fs: AbstractFileSystem
    path: str
    format: str
    codec: str | None

    @classmethod
    def of(cls, url: str | Path, fmt: str | None, what: str) -> _Location:
        from fsspec.core import url_to_fs

        text = str(url)
        if not text:
            raise InvalidArgument(f"the {what} path is empty; give a file path or URL")
        try:
            fs, path = url_to_fs(text)
        except (ImportError, ValueError) as exc:
            raise InvalidArgument(f"cannot open {what} {text!r}: {exc}") from exc
        stem, codec = _strip_codec(path)
        if fmt is not None and fmt not in FORMATS:
            raise InvalidArgument(f"unknown {what} format {fmt!r}; use one of {', '.join(FORMATS)}")
        fmt = fmt or _SUFFIXES.get(Path(stem).suffix.lower())
        if fmt not in FORMATS:
            raise InvalidArgument(
                f"cannot tell the format of {what} {text!r}: batch prediction reads and writes "
                ".csv (optionally .gz/.bz2/.zst) and .parquet/.pq files; rename it or pass the "
                f"{what} format (one of {', '.join(FORMATS)})"
            )
        if codec and fmt == "parquet":
            raise InvalidArgument(
                f"{what} {text!r}: a Parquet file is compressed inside; drop the {codec} suffix"
            )
        return cls(text, fs, path, fmt, codec)

    @property
    def local(self) -> bool:
        protocol = self.fs.protocol
        return "file" in (protocol if isinstance(protocol, tuple) else (protocol,))

    def check_readable(self) -> None:
        if not self.fs.isfile(self.path):
            raise NotFound(f"no input file at {self.url}; check the path or URL")

    def same_file(self, other: _Location) -> bool:
        if self.local and other.local:
            return os.path.realpath(self.path) == os.path.realpath(other.path)
        return bool(self.fs.protocol == other.fs.protocol and self.path == other.path)


def _strip_codec(path: str) -> tuple[str, str | None]:
    for suffix, codec in _CODECS.items():
        if path.lower().endswith(suffix):
            return path[: -len(suffix)], codec
    return path, None


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class _Plan:
    """The model version to use and the columns to read, feed it and write."""

    name: str
    version: int
    model: LoadedModel
    model_columns: tuple[str, ...]
    keep: tuple[str, ...]
    read_columns: tuple[str, ...] | None
    classes: tuple[str, ...] | None
    argmax_labels: Any
    csv_types: dict[str, pa.DataType]
    exact_types: dict[str, pa.DataType]
    text_keys: tuple[str, ...]

    @classmethod
    def load(cls, ref: str, source: _Location, keys: tuple[str, ...]) -> _Plan:
        from shipyard.registry.fluent import get_model_version, load_model

        mv = get_model_version(ref)  # resolve the alias once: every chunk uses this version
        model = load_model(f"{mv.name}/{mv.version}")
        schema = _input_schema(source)
        names = schema.names
        signature_columns = model.signature.columns if model.signature else None
        wanted = tuple(signature_columns or (n for n in names if n not in keys))
        _require(names, keys, "key column(s)", source, hint="pass --key with an input column")
        _require(names, wanted, f"column(s) model {mv.name}/{mv.version} needs", source)
        keep = keys or tuple(names)
        classes = _classes(model)
        plan = cls(
            name=mv.name,
            version=mv.version,
            model=model,
            model_columns=wanted,
            keep=keep,
            read_columns=tuple(dict.fromkeys(keys + wanted)) if keys else None,
            classes=classes,
            argmax_labels=_argmax_labels(model, classes),
            # from CSV, the columns passed through (keys) are read as written: "007" stays
            # "007", and a column that looks numeric early cannot fail on text later
            csv_types={**{k: pa.string() for k in keep if k not in wanted}, **_csv_types(model)},
            exact_types=_exact_types(model),
            text_keys=tuple(k for k in keep if _repeats(schema.field(k).type)),
        )
        plan.check_output_names()
        return plan

    @property
    def dictionary_columns(self) -> tuple[str, ...]:
        """Output columns worth dictionary encoding: textual keys, the prediction, the version."""
        return (*self.text_keys, "prediction", "model_version")

    @property
    def output_columns(self) -> tuple[str, ...]:
        proba = tuple(f"proba_{c}" for c in self.classes or ())
        return (*self.keep, "prediction", *proba, "model_version", "prediction_id")

    def check_output_names(self) -> None:
        made = set(self.output_columns[len(self.keep) :])
        clash = [c for c in self.keep if c in made]
        if clash:
            raise InvalidArgument(
                f"input column(s) {clash} would clash with the output columns; choose the "
                "columns to keep with --key (key=...)"
            )


def _require(
    names: Sequence[str], wanted: Sequence[str], what: str, source: _Location, hint: str = ""
) -> None:
    missing = [c for c in wanted if c not in names]
    if missing:
        tail = f"; {hint}" if hint else ""
        raise InvalidArgument(
            f"the input {source.url} has no {what} {missing}; it has columns {list(names)}{tail}"
        )


def _classes(model: LoadedModel) -> tuple[str, ...] | None:
    """The class labels naming the ``proba_<class>`` columns (None: no probabilities)."""
    import numpy as np

    if "predict_proba" not in model.capabilities:
        return None
    classes = getattr(model.native, "classes_", None)
    try:
        labels = None if classes is None else np.asarray(classes)
    except ValueError:  # ragged: one array of classes per output
        return None
    if labels is None or labels.ndim != 1:
        return None
    return tuple(str(c) for c in labels)


def _argmax_labels(model: LoadedModel, classes: tuple[str, ...] | None) -> Any:
    """The class labels when the prediction can be read off ``predict_proba`` (one pass over
    the model instead of two), else None."""
    from shipyard.serving.models import argmax_labels

    return None if classes is None else argmax_labels(model.native)


def _csv_types(model: LoadedModel) -> dict[str, pa.DataType]:
    """Arrow types for the signature's float and text columns, so a CSV file is read the way
    the model was trained (``1`` in a float column stays a float; ``007`` stays text)."""
    inputs = model.signature.inputs if model.signature is not None else None
    if inputs is None or isinstance(inputs, TensorSpec):
        return {}
    types: dict[str, pa.DataType] = {}
    for spec in inputs:
        if spec.dtype.startswith("float"):
            types[spec.name] = pa.float64()
        elif spec.dtype in ("string", "category"):
            types[spec.name] = pa.string()
    return types


# --------------------------------------------------------------------------- reading


@dataclass
class _Reader:
    """Chunks of exactly ``chunk_rows`` rows (the last may be shorter) and the total if known."""

    chunks: Iterator[pa.Table]
    schema: pa.Schema
    total_rows: int | None
    close: Callable[[], None]


def _input_schema(source: _Location) -> pa.Schema:
    """The input's columns, from the Parquet footer or the CSV header and first block."""
    if source.format == "parquet":
        import pyarrow.parquet as pq

        with _open_input(source) as fh:
            return _translate(lambda: pq.ParquetFile(fh).schema_arrow, source)
    import pyarrow.csv as pacsv

    with _open_input(source) as fh:
        reader = _translate(lambda: pacsv.open_csv(fh), source)
        return reader.schema


def _repeats(kind: pa.DataType) -> bool:
    """Whether values of this type usually repeat (worth a Parquet dictionary)."""
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_dictionary(kind)
        or pa.types.is_boolean(kind)
    )


def _open_input(source: _Location) -> Any:
    """A pyarrow file for reading (decompressing when the name says so)."""
    if source.local:
        if source.codec or source.format == "csv":
            return pa.input_stream(source.path, compression=source.codec)
        return pa.OSFile(source.path, "rb")
    raw = pa.PythonFile(source.fs.open(source.path, "rb"), mode="r")
    return pa.CompressedInputStream(raw, source.codec) if source.codec else raw


def _open_reader(
    source: _Location, columns: Sequence[str] | None, chunk_rows: int, types: dict[str, Any]
) -> _Reader:
    fh = _open_input(source)
    if source.format == "parquet":
        import pyarrow.parquet as pq

        # stream each column chunk through a small buffer: memory stays near the chunk size
        # even when the file is one huge row group (pyarrow's default reads whole chunks)
        pf = pq.ParquetFile(fh, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        cols = list(columns) if columns is not None else None
        batches = pf.iter_batches(batch_size=chunk_rows, columns=cols, use_threads=True)
        schema = pf.schema_arrow if cols is None else _select(pf.schema_arrow, cols)
        chunks = _rechunk(batches, chunk_rows, source)
        return _Reader(chunks, schema, pf.metadata.num_rows, fh.close)
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(column_types=types)
    if columns is not None:
        convert.include_columns = list(columns)
    reader = _translate(lambda: pacsv.open_csv(fh, convert_options=convert), source)
    return _Reader(_rechunk(reader, chunk_rows, source), reader.schema, None, fh.close)


def _select(schema: pa.Schema, names: Sequence[str]) -> pa.Schema:
    return pa.schema([schema.field(n) for n in names])


def _rechunk(batches: Iterator[pa.RecordBatch], rows: int, source: _Location) -> Iterator[pa.Table]:
    """Regroup record batches into tables of ``rows`` rows (zero-copy slices)."""
    held: list[pa.RecordBatch] = []
    have = 0
    for batch in _translate_iter(batches, source):
        while batch.num_rows:
            take = min(rows - have, batch.num_rows)
            held.append(batch.slice(0, take))
            have += take
            batch = batch.slice(take)
            if have == rows:
                yield pa.Table.from_batches(held)
                held, have = [], 0
    if held:
        yield pa.Table.from_batches(held)


def _translate(fn: Callable[[], Any], source: _Location) -> Any:
    try:
        return fn()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InvalidArgument(f"cannot read the input {source.url}: {exc}") from exc


def _translate_iter(batches: Iterator[pa.RecordBatch], source: _Location) -> Iterator[Any]:
    while True:
        batch = _translate(lambda: next(batches, None), source)
        if batch is None:
            return
        yield batch


# --------------------------------------------------------------------------- predicting


def _predict_chunk(plan: _Plan, chunk: pa.Table, offset: int = 0) -> pa.Table:
    """The output rows for one chunk: keys, prediction, probabilities, version, ids.

    ``offset`` is the chunk's first row in the input, so a validation error names the row.
    """
    import numpy as np
    import pandas as pd

    frame = chunk.select(list(plan.model_columns)).to_pandas()
    frame.index = pd.RangeIndex(offset, offset + chunk.num_rows)
    if _already_valid(plan, chunk):
        prepared = frame  # what the signature's checks would return, unchanged: skip them
    else:
        prepared = plan.model.prepare(frame)
        del frame  # free the unvalidated copy before the model makes its own
    native = plan.model.native
    proba: Any = None if plan.classes is None else native.predict_proba(prepared)
    if proba is not None and plan.argmax_labels is not None:
        predicted = plan.argmax_labels[np.argmax(proba, axis=1)]  # one pass, not two
    else:
        predicted = native.predict(prepared)
    n = chunk.num_rows
    columns: dict[str, Any] = {name: chunk.column(name) for name in plan.keep}
    columns.update(_prediction_columns(predicted))
    if proba is not None:
        for j, label in enumerate(plan.classes or ()):
            columns[f"proba_{label}"] = pa.array(proba[:, j])
    columns["model_version"] = pa.repeat(pa.scalar(plan.version, pa.int64()), n)
    columns["prediction_id"] = new_id_array(n)
    return pa.table(columns)


# Arrow types whose pandas column already has the signature's dtype, with nothing to check
_EXACT = {"float64": pa.float64(), "float32": pa.float32(), "int64": pa.int64()}


def _already_valid(plan: _Plan, chunk: pa.Table) -> bool:
    """True when every model column arrives in exactly the signature's dtype (float64 as
    double, float32 as float, int64 as int64 without nulls; NaN is a valid float), so that
    ``model.prepare`` would return the very same frame: then it is skipped."""
    if not plan.exact_types:
        return False
    for name, kind in plan.exact_types.items():
        column = chunk.column(name)
        if column.type != kind or (kind == pa.int64() and column.null_count):
            return False
    return True


def _exact_types(model: LoadedModel) -> dict[str, pa.DataType]:
    """The Arrow type of each signature column when all have one in ``_EXACT``, else {}."""
    inputs = model.signature.inputs if model.signature is not None else None
    if inputs is None or isinstance(inputs, TensorSpec):
        return {}
    if not all(spec.dtype in _EXACT for spec in inputs):
        return {}
    return {spec.name: _EXACT[spec.dtype] for spec in inputs}


def _prediction_columns(predicted: Any) -> dict[str, pa.Array]:
    import numpy as np

    values = np.asarray(predicted)
    if values.ndim == 1:
        return {"prediction": pa.array(values)}
    if values.ndim == 2:
        return {f"prediction_{j}": pa.array(values[:, j]) for j in range(values.shape[1])}
    raise InvalidArgument(f"the model returned predictions of shape {values.shape}; expected 1-D")


# --------------------------------------------------------------------------- writing


class _Writer:
    """Writes tables to a hidden temporary file beside the target; ``commit`` renames it."""

    def __init__(self, target: _Location, dictionary: Sequence[str] = ()) -> None:
        self.target = target
        self.dictionary = list(dictionary)
        head, sep, name = target.path.rpartition("/")
        self.tmp = f"{head}{sep}.{name}.tmp-{new_id_array(1)[0].as_py()[-12:]}"
        self._raw: Any = None
        self._sink: Any = None
        self._writer: Any = None
        self.schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._open(table.schema)
        elif table.schema != self.schema:
            table = _cast(table, self.schema)
        self._writer.write_table(table)

    def _open(self, schema: pa.Schema) -> None:
        self.schema = schema
        if self.target.local:
            os.makedirs(os.path.dirname(self.tmp) or ".", exist_ok=True)
            self._raw = pa.OSFile(self.tmp, "wb")
        else:
            parent = self.tmp.rpartition("/")[0]
            if parent:
                self.target.fs.makedirs(parent, exist_ok=True)
            self._raw = pa.PythonFile(self.target.fs.open(self.tmp, "wb"), mode="w")
        codec = self.target.codec
        self._sink = pa.CompressedOutputStream(self._raw, codec) if codec else self._raw
        if self.target.format == "parquet":
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(
                self._sink, schema, **_parquet_options(schema, self.dictionary)
            )
        else:
            import pyarrow.csv as pacsv

            self._writer = pacsv.CSVWriter(self._sink, schema)

    def commit(self, schema: pa.Schema) -> tuple[str, ...]:
        """Finish the file (an empty one with ``schema`` if nothing was written), rename it
        into place and return its column names."""
        if self._writer is None:
            self._open(schema)
        self._close()
        if self.target.local:
            os.replace(self.tmp, self.target.path)
        else:
            self.target.fs.mv(self.tmp, self.target.path)
        return tuple(self.schema.names) if self.schema is not None else ()

    def abort(self) -> None:
        """Close and delete the temporary file (the target is untouched)."""
        try:
            self._close()
        finally:
            if self._raw is not None:
                if self.target.local:
                    Path(self.tmp).unlink(missing_ok=True)
                elif self.target.fs.exists(self.tmp):
                    self.target.fs.rm(self.tmp)

    def _close(self) -> None:
        for part in (self._writer, self._sink, self._raw):
            if part is not None and not getattr(part, "closed", False):
                part.close()


def _parquet_options(schema: pa.Schema, dictionary: Sequence[str]) -> dict[str, Any]:
    """Dictionary-encode only what repeats (ids and probabilities never do); store the ids
    uncompressed: snappy spends a third of the write on them to save 14 bytes a row."""
    codecs = {name: "snappy" for name in schema.names}
    codecs["prediction_id"] = "none"
    return {
        "use_dictionary": [n for n in dictionary if n in schema.names],
        "compression": codecs,
    }


def _cast(table: pa.Table, schema: pa.Schema | None) -> pa.Table:
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
        raise InvalidArgument(
            f"a later chunk has columns {table.schema} that do not fit the first chunk's "
            f"{schema}: {exc}"
        ) from exc


# --------------------------------------------------------------------------- the pipeline


def _run_on_executor(
    plan: _Plan,
    reader: _Reader,
    target: _Location,
    executor: str | Executor,
    progress: Progress | None,
) -> tuple[int, int, tuple[str, ...]]:
    """:func:`_run` with each chunk predicted on an executor's worker (the model loaded there)."""
    from dataclasses import replace

    from shipyard.pipelines.executors import open_executor
    from shipyard.pipelines.runner import worker_settings
    from shipyard.tracking.fluent import services

    pool = open_executor(executor) if isinstance(executor, str) else executor
    pool.start()
    settings = worker_settings(services().settings)
    remote = replace(plan, model=None)  # type: ignore[arg-type]  # loaded on the worker

    def submit(chunk: pa.Table, offset: int) -> Future[pa.Table]:
        return pool.submit(_predict_remote, settings, remote, chunk, offset)

    try:
        return _run(plan, reader, target, pool.workers, progress, submit=submit)
    finally:
        if isinstance(executor, str):
            pool.close()


_REMOTE_MODELS: dict[tuple[str, str, int], LoadedModel] = {}


def _predict_remote(
    settings: dict[str, str], plan: _Plan, chunk: pa.Table, offset: int
) -> pa.Table:
    """On an executor's worker: load the plan's model version once per process, predict."""
    from dataclasses import replace

    from shipyard.pipelines.worker import configure_worker
    from shipyard.registry.fluent import load_model

    configure_worker(settings)
    key = (settings.get("tracking_uri", ""), plan.name, plan.version)
    if key not in _REMOTE_MODELS:
        _REMOTE_MODELS.clear()
        _REMOTE_MODELS[key] = load_model(f"{plan.name}/{plan.version}")
    return _predict_chunk(replace(plan, model=_REMOTE_MODELS[key]), chunk, offset)


def _run(
    plan: _Plan,
    reader: _Reader,
    target: _Location,
    workers: int,
    progress: Progress | None,
    *,
    submit: Callable[[pa.Table, int], Future[pa.Table]] | None = None,
) -> tuple[int, int, tuple[str, ...]]:
    """Read on this thread, predict on ``workers`` threads, write in order on another one.

    Returns (rows, chunks, output columns). On any error the temporary output is deleted and
    the error raised.
    """
    writer = _Writer(target, plan.dictionary_columns)
    drain = _Drain(writer, workers, progress, reader.total_rows)
    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="shipyard-predict") as pool:
            drain.start()
            try:
                offset = 0
                for chunk in reader.chunks:
                    if drain.error is not None:
                        break
                    if submit is not None:
                        drain.put(submit(chunk, offset))
                    else:
                        drain.put(pool.submit(_predict_chunk, plan, chunk, offset))
                    offset += chunk.num_rows
            except BaseException:
                drain.stop.set()
                raise
            finally:
                drain.finish()
        if drain.error is not None:
            raise drain.error
        columns = writer.commit(_empty_output(plan, reader.schema))
    except BaseException:
        writer.abort()
        raise
    finally:
        reader.close()
    return drain.rows, drain.chunks, columns


class _Drain:
    """Writes finished chunks in input order on its own thread, so writing overlaps reading.

    Holds at most ``workers`` pending chunks: ``put`` blocks beyond that, which bounds memory.
    The first error is kept in ``error``; later chunks are then cancelled, not written.
    """

    def __init__(
        self, writer: _Writer, workers: int, progress: Progress | None, total: int | None
    ) -> None:
        self.writer = writer
        self.progress = progress
        self.total = total
        self.rows = self.chunks = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self._queue: queue.Queue[Future[pa.Table] | None] = queue.Queue(maxsize=workers)
        self._thread = threading.Thread(target=self._loop, name="shipyard-predict-writer")

    def start(self) -> None:
        self._thread.start()

    def put(self, future: Future[pa.Table]) -> None:
        self._queue.put(future)

    def finish(self) -> None:
        """Wait until every chunk put so far is written (or cancelled after an error)."""
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        while (future := self._queue.get()) is not None:
            if self.error is not None or self.stop.is_set():
                future.cancel()
                continue
            try:
                table = future.result()
                self.writer.write(table)
                self.rows += table.num_rows
                self.chunks += 1
                if self.progress is not None:  # a callback that raises stops the run, not us
                    self.progress(self.rows, self.total)
            except BaseException as exc:
                self.error = exc


def _empty_output(plan: _Plan, schema: pa.Schema) -> pa.Schema:
    """The output schema when the input has no rows (the prediction's type is unknown: float)."""
    fields = [schema.field(name) for name in plan.keep]
    fields.append(pa.field("prediction", pa.float64()))
    fields += [pa.field(f"proba_{c}", pa.float64()) for c in plan.classes or ()]
    fields += [pa.field("model_version", pa.int64()), pa.field("prediction_id", pa.string())]
    return pa.schema(fields)


__all__ = ["DEFAULT_CHUNK_ROWS", "FORMATS", "BatchResult", "predict_batch"]
