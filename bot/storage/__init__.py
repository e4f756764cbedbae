"""Storage: the database (an SQLite file, or PostgreSQL) and the migration runner."""

from bot.storage.db import (Database, DatabaseBusy, DatabaseFull, DatabaseReadOnly, Location, StorageError,
                            Transaction, is_postgres, shown)
from bot.storage.migrations import apply_migrations

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
