"""Schema migrations with Alembic, applied on first use and by ``shipyard db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic.command import upgrade as _alembic_upgrade
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration this version of Shipyard knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package always ships migrations
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision`` (default: newest); a no-op when already there."""
    if revision == "head" and current_revision(engine) == head_revision():
        return head_revision()
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        _alembic_upgrade(cfg, revision)
    return current_revision(engine)


__all__ = ["current_revision", "head_revision", "upgrade"]
