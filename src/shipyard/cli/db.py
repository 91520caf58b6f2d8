"""``shipyard db`` — migrations of the metadata database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from shipyard.cli._common import console, handle_errors

if TYPE_CHECKING:
    from shipyard.store import Database

app = typer.Typer(
    help="The metadata database: upgrade its schema, show its revision.", no_args_is_help=True
)


def _database(migrate: bool) -> Database:
    from shipyard.config import load_settings
    from shipyard.errors import ConfigError
    from shipyard.store import Database

    settings = load_settings()
    if settings.is_remote:
        raise ConfigError(
            f"the tracking URI {settings.tracking_uri} is a team server; run `shipyard db` "
            "on the server's machine, against its database URL"
        )
    return Database(settings.tracking_uri, migrate=migrate)


@app.command()
@handle_errors
def upgrade(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Apply pending migrations (also done automatically on first use)."""
    from shipyard.store.migrate import current_revision
    from shipyard.store.migrate import upgrade as do_upgrade

    database = _database(migrate=False)
    before = current_revision(database.engine)
    after = do_upgrade(database.engine, revision)
    console.print(f"database {database.url}: {before or 'empty'} → {after}")


@app.command()
@handle_errors
def current() -> None:
    """Show the schema revision of the database and the newest one known."""
    from shipyard.store.migrate import current_revision, head_revision

    database = _database(migrate=False)
    rev = current_revision(database.engine)
    console.print(f"current: {rev or 'empty'}   head: {head_revision()}")
