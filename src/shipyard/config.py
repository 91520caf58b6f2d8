"""Resolved configuration: environment over ``shipyard.yaml`` over defaults.

Every value remembers where it came from, so ``shipyard config`` can show it. The file is looked
up as ``$SHIPYARD_CONFIG`` or ``./shipyard.yaml``; its settings live at the top level with the
same names as the environment variables minus the ``SHIPYARD_`` prefix, in lower case::

    tracking_uri: postgresql+psycopg://ml@db/shipyard
    artifact_uri: s3://ml-artifacts/shipyard

Other top-level sections of the file (``sources:``, ``pipelines:`` ...) belong to other services.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError

ENV_PREFIX = "SHIPYARD_"


@dataclass(frozen=True)
class Option:
    """One setting: its name, default (a function of the home folder) and help text."""

    name: str
    help: str
    kind: type = str


OPTIONS: tuple[Option, ...] = (
    Option("home", "Folder for the embedded stores (database, artifacts, online features)."),
    Option("tracking_uri", "Metadata store: sqlite:///…, postgresql+psycopg://… or http(s)://…"),
    Option("artifact_uri", "Artifact store: file://… or any fsspec URL."),
    Option("online_store_uri", "Online feature store: sqlite:///… or redis://…"),
    Option("executor", "Compute: local or dask://host:port."),
    Option("token", "Bearer token for a team server with auth on."),
    Option("flush_interval_ms", "How often buffered metrics are flushed in the background.", int),
    Option("heartbeat_interval_s", "How often a live run reports it is alive.", float),
    Option("stale_after_s", "A RUNNING run silent for this long is shown KILLED.", float),
)
_NAMES = {o.name for o in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """The resolved configuration. ``sources`` maps each name to env/file/default."""

    home: Path
    tracking_uri: str
    artifact_uri: str
    online_store_uri: str
    executor: str = "local"
    token: str | None = None
    flush_interval_ms: int = 200
    heartbeat_interval_s: float = 10.0
    stale_after_s: float = 60.0
    config_file: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_remote(self) -> bool:
        """True when the tracking URI names a team server."""
        return self.tracking_uri.startswith(("http://", "https://"))

    def describe(self) -> list[tuple[str, str, str]]:
        """Rows of (name, value, source) for display; the token is masked."""
        rows = []
        for opt in OPTIONS:
            value = getattr(self, opt.name)
            shown = "" if value is None else str(value)
            if opt.name == "token" and value:
                shown = shown[:4] + "…"
            rows.append((opt.name, shown, self.sources.get(opt.name, "default")))
        return rows


def _read_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}. Fix the file or remove it.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings at the top level.")
    return data


def _coerce(opt: Option, raw: Any, origin: str) -> Any:
    if raw is None or opt.kind is str:
        return None if raw is None else str(raw)
    try:
        return opt.kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{opt.name}={raw!r} from {origin} is not a valid {opt.kind.__name__}."
        ) from exc


def _sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def load_settings(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None, **overrides: Any
) -> Settings:
    """Resolve settings from ``overrides`` > environment > ``shipyard.yaml`` > defaults.

    >>> s = load_settings({"SHIPYARD_HOME": "/tmp/sy"}, cwd=Path("/nonexistent"))
    >>> s.tracking_uri
    'sqlite:////tmp/sy/shipyard.db'
    >>> s.sources["tracking_uri"]
    'default'
    """
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    file_path = Path(env[f"{ENV_PREFIX}CONFIG"]) if f"{ENV_PREFIX}CONFIG" in env else None
    if file_path is None and (cwd / "shipyard.yaml").is_file():
        file_path = cwd / "shipyard.yaml"
    if file_path is not None and not file_path.is_file():
        raise ConfigError(f"SHIPYARD_CONFIG points at {file_path}, which does not exist.")
    file_data = _read_file(file_path) if file_path else {}

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for opt in OPTIONS:
        env_key = ENV_PREFIX + opt.name.upper()
        if opt.name in overrides and overrides[opt.name] is not None:
            values[opt.name] = _coerce(opt, overrides[opt.name], "argument")
            sources[opt.name] = "argument"
        elif env.get(env_key):
            values[opt.name] = _coerce(opt, env[env_key], env_key)
            sources[opt.name] = f"env {env_key}"
        elif opt.name in file_data and file_data[opt.name] is not None:
            values[opt.name] = _coerce(opt, file_data[opt.name], str(file_path))
            sources[opt.name] = f"file {file_path}"

    home = Path(values.pop("home", None) or cwd / ".shipyard")
    if not home.is_absolute():
        home = (cwd / home).resolve()
    defaults = {
        "tracking_uri": _sqlite_uri(home / "shipyard.db"),
        "artifact_uri": (home / "artifacts").resolve().as_uri(),
        "online_store_uri": _sqlite_uri(home / "online.db"),
    }
    for name, default in defaults.items():
        values.setdefault(name, default)
    for opt in OPTIONS:
        sources.setdefault(opt.name, "default")
    extra = {k: v for k, v in file_data.items() if k not in _NAMES}
    return Settings(home=home, config_file=file_path, extra=extra, sources=sources, **values)


__all__ = ["OPTIONS", "Option", "Settings", "load_settings"]
