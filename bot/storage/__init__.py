"""Storage: the SQLite database and the migration runner."""

from bot.storage.db import Database, DatabaseBusy, DatabaseFull, DatabaseReadOnly, StorageError, Transaction
from bot.storage.migrations import apply_migrations

__all__ = [
    "Database",
    "DatabaseBusy",
    "DatabaseFull",
    "DatabaseReadOnly",
    "StorageError",
    "Transaction",
    "apply_migrations",
]
