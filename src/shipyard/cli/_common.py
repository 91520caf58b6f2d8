"""What every command group shares: consoles, error handling, formatting."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from shipyard.errors import ShipyardError

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
