"""What every command group shares: consoles, error handling, formatting."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from shipyard.errors import InvalidArgument, NotFound, ShipyardError

if TYPE_CHECKING:
    from shipyard.client import Services

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a ShipyardError into a red one-line message and exit code 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ShipyardError as exc:
            err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(1) from exc

    return wrapper


def services() -> Services:
    from shipyard.tracking.fluent import services as _services

    return _services()


RUN_ID = re.compile(r"[0-9a-f]{4,32}")


def resolve_run_id(ref: str) -> str:
    """A full run id from a full id or a unique prefix of at least 4 characters."""
    ref = ref.strip().lower()
    if not RUN_ID.fullmatch(ref):
        raise typer.BadParameter(
            f"{ref!r} is not a run id: give its 32 hex characters or a unique prefix (4 or more)"
        )
    if len(ref) == 32:
        return ref
    tracking = services().tracking
    experiments = tracking.list_experiments() + tracking.list_experiments(deleted=True)
    ids = [e.experiment_id for e in experiments]
    found: set[str] = set()
    for deleted in (False, True):
        page = tracking.search_runs(
            ids, filter=f"run_id LIKE '{ref}%'", max_results=2, deleted=deleted
        )
        found.update(r.run_id for r in page.runs)
    if not found:
        raise NotFound(f"no run id starts with {ref!r}; list runs with `shipyard runs list`")
    if len(found) > 1:
        raise InvalidArgument(f"run id prefix {ref!r} is ambiguous; give more characters")
    return found.pop()


def fmt_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def parse_pairs(items: Iterable[str], what: str) -> dict[str, str]:
    """``["k=v", …]`` → dict; a malformed item is a clear error."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {item!r} must look like key=value")
        out[key] = value
    return out


def parse_when(text: str) -> int:
    """A date or datetime (ISO 8601, UTC unless it says otherwise) → ms since the epoch."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not a date; use ISO 8601 like 2026-11-01 or 2026-11-01T12:00"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def print_json(data: Any) -> None:
    console.print_json(json.dumps(data, default=str))
