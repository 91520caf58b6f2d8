"""Shared machinery of the benchmark figures: spawn workers, alternate the sides, take medians.

Every figure script is both the orchestrator (run with any Python 3.11) and its own worker: the
harness runs ``<side's python> bench_x.py --worker TASK '<json args>'`` in a fresh temp folder
with a fresh store, and the worker prints one ``BENCH_RESULT {json}`` line. Shipyard's workers run
with the project's ``.venv/bin/python``, MLflow's with the peer venv (see ``peers.py``). This
module imports only the standard library, because both interpreters import it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import peers

Json = dict[str, Any]
Worker = Callable[[Json], Json]

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SIDES = ("shipyard", "mlflow")
RESULT_MARK = "BENCH_RESULT "
READY_MARK = "BENCH_READY"
LOCKED = "database is locked"


class WorkerFailed(RuntimeError):
    """A worker exited non-zero, timed out or printed no result."""


# -- interpreters and environment ---------------------------------------------------------------


@functools.cache
def python_for(side: str) -> Path:
    """The interpreter that runs ``side``'s workers.

    ``shipyard``: the project's ``.venv``; ``mlflow`` and any other peer in ``peers.py``: that
    peer's venv, created when missing.
    """
    if side == "shipyard":
        override = os.environ.get("BENCH_SHIPYARD_PYTHON")
        return Path(override) if override else ROOT / ".venv" / "bin" / "python"
    if side == "mlflow":
        return peers.mlflow_python()
    return peers.peer_python(side)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without SHIPYARD_*/MLFLOW_* settings, plus ``extra``.

    Telemetry is off and 127.0.0.1 bypasses any proxy, so nothing leaves the machine.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPYARD_", "MLFLOW_"))}
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _parse_result(stdout: str, what: str, stderr: str) -> Json:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result: Json = json.loads(line[len(RESULT_MARK) :])
            return result
    raise WorkerFailed(f"{what} printed no result.\n{_tail(stdout + stderr)}")


def worker_cmd(script: Path, side: str, task: str, args: Json) -> list[str]:
    """The command line that runs ``task`` of ``script`` with ``side``'s interpreter."""
    return [str(python_for(side)), str(script), "--worker", task, json.dumps(args)]


def run_worker(
    script: Path,
    side: str,
    task: str,
    args: Json,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
) -> Json:
    """Run one worker in a fresh subprocess and return its result.

    Raises WorkerFailed (non-zero exit, timeout, no result) with the tail of its output.
    """
    what = f"{side} worker {task!r}"
    try:
        proc = subprocess.run(
            worker_cmd(script, side, task, args),
            cwd=cwd,
            env=clean_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkerFailed(f"{what} timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        out = _tail(proc.stdout + "\n" + proc.stderr)
        raise WorkerFailed(f"{what} exited {proc.returncode}:\n{out}")
    result = _parse_result(proc.stdout, what, proc.stderr)
    result.setdefault("locked_in_output", proc.stderr.count(LOCKED))
    return result


def run_workers_together(
    script: Path,
    side: str,
    task: str,
    args_list: Sequence[Json],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    on_ready: Callable[[], None] | None = None,
) -> list[Json]:
    """Start one worker per ``args_list`` entry, release them all at once, return their results.

    Each worker calls :func:`wait_for_go` once it is set up; the harness sends "go" only when
    every worker has reported ready (and ``on_ready()`` has returned), so the measured parts
    overlap. Each result gains
    ``locked_in_output``: how often "database is locked" appeared in that worker's stderr.
    """
    procs: list[subprocess.Popen[str]] = []
    errs: list[IO[str]] = []
    try:
        for i, args in enumerate(args_list):
            err = (cwd / f"worker-{i}.stderr").open("w+")
            errs.append(err)
            procs.append(
                subprocess.Popen(
                    worker_cmd(script, side, task, args),
                    cwd=cwd,
                    env=clean_env(env),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                )
            )
        for i, proc in enumerate(procs):
            _await_ready(proc, errs[i], f"{side} worker {i}")
        if on_ready is not None:
            on_ready()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [_collect(p, errs[i], f"{side} worker {i}", timeout) for i, p in enumerate(procs)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for stream in errs:
            stream.close()


def _await_ready(proc: subprocess.Popen[str], err: IO[str], what: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == READY_MARK:
            return
    proc.wait()
    err.seek(0)
    raise WorkerFailed(f"{what} exited {proc.returncode} before it was ready:\n{_tail(err.read())}")


def _collect(proc: subprocess.Popen[str], err: IO[str], what: str, timeout: float) -> Json:
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise WorkerFailed(f"{what} timed out after {timeout:.0f} s") from exc
    err.seek(0)
    stderr = err.read()
    if proc.returncode != 0:
        raise WorkerFailed(f"{what} exited {proc.returncode}:\n{_tail(stdout + stderr)}")
    result = _parse_result(stdout, what, stderr)
    result["locked_in_output"] = stderr.count(LOCKED)
    return result


def wait_for_go() -> None:
    """In a worker started by :func:`run_workers_together`: report ready, block until released."""
    print(READY_MARK, flush=True)
    sys.stdin.readline()


# -- temp folders, ports and servers ------------------------------------------------------------


@contextmanager
def fresh_dir(prefix: str) -> Iterator[Path]:
    """A new empty folder (under ``$BENCH_TMPDIR`` if set), removed afterwards."""
    base = os.environ.get("BENCH_TMPDIR")
    path = Path(tempfile.mkdtemp(prefix=f"shipyard-bench-{prefix}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A tracking server subprocess (its own process group) and the URL it answers on."""

    side: str
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def listener(self) -> int:
        """The pid of the process that answers HTTP (the root of the tree if not found)."""
        return listener_pid(self.proc.pid, self.port)


@functools.cache
def _shipyard_cli_serves() -> bool:
    cli = python_for("shipyard").parent / "shipyard"
    return subprocess.run([str(cli), "server", "--help"], capture_output=True).returncode == 0


def _shipyard_server_cmd(port: int) -> list[str]:
    if _shipyard_cli_serves():
        cli = python_for("shipyard").parent / "shipyard"
        return [str(cli), "server", "--host", "127.0.0.1", "--port", str(port)]
    code = (
        "from shipyard.config import load_settings; from shipyard.server.run import serve; "
        f"serve(load_settings(), host='127.0.0.1', port={port})"
    )
    return [str(python_for("shipyard")), "-c", code]


def _mlflow_server_cmd(port: int, workdir: Path) -> list[str]:
    mlflow = python_for("mlflow").parent / "mlflow"
    return [
        str(mlflow), "server",
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination", str(workdir / "mlartifacts"),
        "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip


@contextmanager
def serve(side: str, workdir: Path, *, timeout: float = 180) -> Iterator[Server]:
    """Start ``side``'s tracking server on a fresh SQLite store in ``workdir``; stop it after.

    Shipyard: ``shipyard server`` with ``SHIPYARD_HOME=workdir/server-home``. MLflow:
    ``mlflow server --backend-store-uri sqlite:///workdir/mlflow.db --workers 1`` (artifacts
    proxied, the 3.x default). Raises WorkerFailed if it does not answer within ``timeout``.
    """
    port = free_port()
    if side == "shipyard":
        cmd, ready = _shipyard_server_cmd(port), "/health/live"
        env = clean_env({"SHIPYARD_HOME": str(workdir / "server-home")})
    else:
        cmd, ready = _mlflow_server_cmd(port, workdir), "/health"
        env = clean_env()
    log = workdir / f"{side}-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(side, f"http://127.0.0.1:{port}", port, proc, log)
    try:
        _wait_ready(server, ready, timeout)
        yield server
    finally:
        stop_process_group(proc)


def _wait_ready(server: Server, path: str, timeout: float) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise WorkerFailed(
                f"{server.side} server exited {server.proc.returncode}:\n"
                f"{_tail(server.log.read_text(errors='replace'))}"
            )
        try:
            with opener.open(server.url + path, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise WorkerFailed(f"{server.side} server did not answer {path} within {timeout:.0f} s")


def stop_process_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group led by ``proc`` (which we started), SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


# -- memory sampling ----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids.extend(int(k) for k in fh.read().split())
    except OSError:
        pass
    return kids


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def table_memory(table: Any, before_kib: int, peak_kib: int) -> Json:
    """The size of an Arrow table and the process RSS around the measured work, in MiB."""
    return {
        "rows": table.num_rows,
        "columns": table.num_columns,
        "table_mib": round(table.nbytes / 2**20, 1),
        "rss_before_mib": round(before_kib / 1024, 1),
        "rss_peak_mib": round(peak_kib / 1024, 1),
        "rss_peak_above_before_mib": round((peak_kib - before_kib) / 1024, 1),
    }


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def tree_rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` plus all its descendants, in KiB (0 for a process that is gone)."""
    return sum(rss_kib(p) for p in descendants(pid))


def settle(root: int, *, tolerance_kib: int = 2048, timeout: float = 30) -> None:
    """Wait until the tree under ``root`` keeps its process count and RSS (± tolerance) for 1 s.

    Servers that start helper processes after they answer HTTP (MLflow's job runner) grow for
    a few seconds; idle is only meaningful once that is over. Gives up after ``timeout``.
    """
    deadline = time.monotonic() + timeout
    last = (len(descendants(root)), tree_rss_kib(root))
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = (len(descendants(root)), tree_rss_kib(root))
        if now[0] == last[0] and abs(now[1] - last[1]) <= tolerance_kib:
            return
        last = now


def _listen_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                rows = [line.split() for line in fh.readlines()[1:]]
        except OSError:
            continue
        for row in rows:
            if row[3] == "0A" and int(row[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(row[9])
    return inodes


def listener_pid(root: int, port: int) -> int:
    """The process in ``root``'s tree that holds the listening socket on ``port``.

    Falls back to ``root`` when no such process is found.
    """
    wanted = {f"socket:[{inode}]" for inode in _listen_inodes(port)}
    for pid in descendants(root):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return pid
            except OSError:
                continue
    return root


@dataclass
class RssSampler:
    """Samples, every ``interval_s`` in a background thread, the RSS of the process ``pid``
    (``samples``) and of the whole tree under ``tree_root`` (``tree_samples``), in KiB."""

    pid: int
    tree_root: int
    interval_s: float = 0.02
    samples: list[int] = field(default_factory=list)
    tree_samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin sampling in a background thread."""
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling (a no-op when it never started)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid))
            self.tree_samples.append(tree_rss_kib(self.tree_root))
            self._stop.wait(self.interval_s)


# -- options, alternation, summaries ------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The command-line options every figure takes."""

    samples: int
    sides: tuple[str, ...]
    quick: bool


def parse_options(
    description: str, argv: Sequence[str] | None = None, *, sides: Sequence[str] = SIDES
) -> Options:
    """Parse ``--samples N`` (default 5), ``--sides`` (a subset of ``sides``, default all of
    them: shipyard,mlflow) and ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--samples", type=int, default=5, help="measured runs per side (>= 1)")
    parser.add_argument(
        "--sides", default=",".join(sides), help=f"comma-separated: {','.join(sides)}"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    ns = parser.parse_args(argv)
    chosen = tuple(s.strip() for s in ns.sides.split(",") if s.strip())
    unknown = set(chosen) - set(sides)
    if unknown or not chosen:
        parser.error(f"--sides takes a comma-separated subset of {','.join(sides)}")
    if ns.samples < 1:
        parser.error("--samples must be at least 1")
    return Options(samples=ns.samples, sides=chosen, quick=ns.quick)


@dataclass
class Series:
    """Samples of one measured quantity, per side, with each worker's full result."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, list[Json]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the figure's JSON)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rotated(sides: Sequence[str], i: int) -> tuple[str, ...]:
    """``sides`` started at position ``i`` (mod its length): the order of sample ``i``."""
    k = i % len(sides)
    return (*sides[k:], *sides[:k])


def alternate(
    opts: Options,
    measure: Callable[[str, int], Json],
    *,
    label: str,
    key: str = "value",
    rotate: bool = False,
) -> Series:
    """Measure the sides in turn (shipyard, mlflow, shipyard, …) ``opts.samples`` times each.

    ``measure(side, i)`` returns a worker result holding ``key``. A side whose measurement
    fails is recorded with its error and skipped from then on; the other side carries on.
    ``rotate``: sample ``i`` runs the sides in the order ``rotated(opts.sides, i)``, so no side
    always goes first (useful with more than two sides).
    """
    series = Series({s: [] for s in opts.sides}, {s: [] for s in opts.sides})
    for i in range(opts.samples):
        for side in rotated(opts.sides, i) if rotate else opts.sides:
            if side in series.errors:
                continue
            try:
                result = measure(side, i)
            except (WorkerFailed, OSError, subprocess.SubprocessError, KeyError, ValueError) as exc:
                series.errors[side] = f"{type(exc).__name__}: {exc}"
                log(f"{label} {side} #{i + 1} FAILED: {exc}")
                continue
            series.samples[side].append(float(result[key]))
            series.details[side].append(result)
            log(f"{label} {side} #{i + 1}/{opts.samples}: {key}={result[key]:.6g}")
    return series


@dataclass(frozen=True)
class Target:
    """An issue's target. ``kind``: "ratio_at_least" (Shipyard at least ``value`` times better
    than MLflow), "below" or "equals" (on Shipyard's median)."""

    kind: str
    value: float
    text: str

    def met(self, shipyard: float | None, ratio: float | None) -> bool | None:
        if self.kind == "ratio_at_least":
            return None if ratio is None else ratio >= self.value
        if shipyard is None:
            return None
        return shipyard < self.value if self.kind == "below" else shipyard == self.value


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(
    series: Series,
    *,
    unit: str,
    better: str,
    target: Target | None = None,
    require_all: int | None = None,
) -> Json:
    """One case of a figure: each side's median and samples, the ratio and the target.

    ``better`` is "higher" or "lower"; ``ratio`` is always "how many times better Shipyard is"
    (shipyard/mlflow for higher-is-better, mlflow/shipyard for lower-is-better).
    ``require_all``: a side counts as complete only with that many samples.
    """
    case: Json = {"unit": unit, "better": better}
    medians: dict[str, float | None] = {}
    for side, values in series.samples.items():
        medians[side] = _median(values)
        entry: Json = {"median": medians[side], "samples": values, "runs": series.details[side]}
        if side in series.errors:
            entry["error"] = series.errors[side]
        case[side] = entry
    sy, ml = medians.get("shipyard"), medians.get("mlflow")
    ratio = None
    if sy and ml:
        ratio = sy / ml if better == "higher" else ml / sy
    case["ratio"] = ratio
    case["ratio_meaning"] = (
        "shipyard/mlflow (times faster)" if better == "higher" else "mlflow/shipyard (times less)"
    )
    if target is not None:
        case["target"] = {"text": target.text, "met": target.met(sy, ratio)}
    complete = all(
        side not in series.errors and (require_all is None or len(v) >= require_all)
        for side, v in series.samples.items()
    )
    case["complete"] = complete
    return case


# -- figure entry point -------------------------------------------------------------------------


def _version(side: str) -> str | None:
    if side == "mlflow":
        code = "import mlflow; print(mlflow.__version__)"
    else:
        dist = "shipyard" if side == "shipyard" else peers.known_peers()[side].distributions[0]
        code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    try:
        out = subprocess.run(
            [str(python_for(side)), "-c", code], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError, RuntimeError):
        return None
    return out.stdout.strip() or None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _has_version(side: str) -> bool:
    """Shipyard, MLflow and the peers of ``peers.py`` have a version; in-process reference
    sides of a figure (a hand-written floor, a plain DuckDB query) do not."""
    return side in ("shipyard", "mlflow") or side in peers.known_peers()


def environment(sides: Sequence[str]) -> Json:
    """Versions and machine facts recorded with every figure."""
    return {
        "versions": {side: _version(side) for side in sides if _has_version(side)},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": _git_commit(),
    }


def case_ok(case: Json) -> bool:
    """A case passes when every side ran completely and the target (if any) was not missed."""
    target = case.get("target")
    return bool(case.get("complete")) and not (target and target.get("met") is False)


def main(
    *,
    figure: str,
    description: str,
    measure: Callable[[Options], Json],
    workers: Mapping[str, Worker],
    sides: Sequence[str] = SIDES,
) -> None:
    """Entry point of a figure script: a worker when called with ``--worker``, else the figure.

    As the figure, prints one JSON object (``figure``, ``cases``, ``environment``, ``ok``) and
    exits 1 when a case is incomplete or misses its target. ``sides``: what ``--sides`` may name
    (peers other than MLflow must be known to ``peers.py``).
    """
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        result = workers[sys.argv[2]](json.loads(sys.argv[3]))
        print(RESULT_MARK + json.dumps(result), flush=True)
        return
    opts = parse_options(description, sides=sides)
    started = dt.datetime.now(dt.UTC)
    cases = measure(opts)
    ok = all(case_ok(c) for c in cases.values())
    report = {
        "figure": figure,
        "description": description,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "samples_per_side": opts.samples,
        "sides": list(opts.sides),
        "quick": opts.quick,
        "cases": cases,
        "ok": ok,
        "environment": environment(opts.sides),
    }
    print(json.dumps(report, indent=2))
    sys.exit(0 if ok else 1)


def fail(message: str) -> None:
    """In a worker: stop with ``message`` on stderr and exit 1 (a failed check is never quiet)."""
    print(f"CHECK FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)
