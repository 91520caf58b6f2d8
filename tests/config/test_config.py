"""Configuration: environment over shipyard.yaml over defaults, with sources reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import load_settings
from shipyard.errors import ConfigError


def test_defaults_live_under_the_home(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path)
    assert s.home == tmp_path / ".shipyard"
    assert s.tracking_uri == f"sqlite:///{tmp_path / '.shipyard' / 'shipyard.db'}"
    assert s.artifact_uri == (tmp_path / ".shipyard" / "artifacts").as_uri()
    assert s.online_store_uri.endswith("online.db")
    assert set(s.sources.values()) == {"default"} and not s.is_remote


def test_env_beats_file_beats_default(tmp_path: Path) -> None:
    (tmp_path / "shipyard.yaml").write_text(
        "tracking_uri: postgresql+psycopg://u@db/x\nartifact_uri: s3://bucket/a\n"
        "flush_interval_ms: 50\nsources:\n  crm: {type: sql}\n"
    )
    env = {"SHIPYARD_TRACKING_URI": "http://ml:5000", "SHIPYARD_HOME": str(tmp_path / "h")}
    s = load_settings(env, cwd=tmp_path)
    assert s.tracking_uri == "http://ml:5000" and s.is_remote
    assert s.sources["tracking_uri"] == "env SHIPYARD_TRACKING_URI"
    assert s.artifact_uri == "s3://bucket/a"
    assert s.sources["artifact_uri"].startswith("file ")
    assert s.flush_interval_ms == 50
    assert s.home == tmp_path / "h"
    assert s.extra == {"sources": {"crm": {"type": "sql"}}}
    rows = {name: source for name, _, source in s.describe()}
    assert rows["online_store_uri"] == "default"


def test_explicit_arguments_win(tmp_path: Path) -> None:
    s = load_settings(
        {"SHIPYARD_TRACKING_URI": "sqlite:///a.db"}, cwd=tmp_path, tracking_uri="sqlite:///b.db"
    )
    assert s.tracking_uri == "sqlite:///b.db" and s.sources["tracking_uri"] == "argument"


def test_token_is_masked(tmp_path: Path) -> None:
    s = load_settings({"SHIPYARD_TOKEN": "secret-token"}, cwd=tmp_path)
    assert ("token", "secr…", "env SHIPYARD_TOKEN") in s.describe()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("tracking_uri: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "mapping"),
        ("flush_interval_ms: soon\n", "flush_interval_ms"),
    ],
)
def test_bad_file_is_a_clear_error(tmp_path: Path, content: str, match: str) -> None:
    (tmp_path / "shipyard.yaml").write_text(content)
    with pytest.raises(ConfigError, match=match):
        load_settings({}, cwd=tmp_path)


def test_missing_config_file_named_by_env(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"SHIPYARD_CONFIG": str(tmp_path / "nope.yaml")}, cwd=tmp_path)
