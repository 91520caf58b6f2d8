"""The metadata store: SQLAlchemy Core tables on SQLite or PostgreSQL, migrated by Alembic."""

from shipyard.store.database import Database

__all__ = ["Database"]
