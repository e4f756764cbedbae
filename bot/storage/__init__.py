"""Storage: the database (an SQLite file, or PostgreSQL) and the migration runner."""

from bot.storage.db import (Database, DatabaseBusy, DatabaseFull, DatabaseReadOnly, Location, StorageError,
                            Transaction, is_postgres, shown)
from bot.storage.migrations import apply_migrations
from bot.storage import postgres, sqlite  # noqa: F401 - the kinds of database Database.open opens

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseFull",
    "DatabaseReadOnly",
    "Location",
    "StorageError",
    "Transaction",
    "apply_migrations",
    "is_postgres",
    "shown",
]
