"""The database on one SQLite file, through aiosqlite: the embedded default.

The connection runs in autocommit mode: a single statement is its own transaction
(one thread hop, one commit). Several statements that must land together go in
`async with db.transaction() as tx:`, which holds a lock for its whole life.

Single statements do not take that lock from each other: aiosqlite runs them in the
order they were queued, so many coroutines' statements flow through its thread back
to back. They only wait while a transaction is open, so that none of them lands
inside someone else's transaction (and is lost if it rolls back).
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, ClassVar, Iterable

import aiosqlite

from bot.storage.db import (BUSY_TIMEOUT_MS, Database, DatabaseBusy, DatabaseFull, DatabaseReadOnly, Params,
                            StorageError, Transaction)


def _translate(exc: sqlite3.Error, path: Path) -> StorageError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return DatabaseBusy(f"the database {path} is busy (locked by another process): {exc}")
    if "readonly" in text or "read-only" in text:
        return DatabaseReadOnly(f"the database {path} cannot be written (read-only): {exc}")
    if "full" in text:
        return DatabaseFull(f"the disk holding {path} is full: {exc}")
    return StorageError(f"database error on {path}: {exc}")


def _probe(path: Path) -> None:
    """Open the file, switch it to WAL and take the write lock once, so that a database that
    cannot be written fails at start, not in the middle of a conversation."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits: what readers still use is copied next time
    finally:
        conn.close()


def _cannot_open(exc: sqlite3.Error, path: Path) -> StorageError:
    """Why the database cannot be opened, and what to do about it."""
    if "not a database" in str(exc).lower():
        return StorageError(f"{path} is not an SQLite database ({exc}). Set bot.database (or --db) to the bot's "
                            "database, or to a new file name.")
    error = _translate(exc, path)
    if type(error) is StorageError:
        return StorageError(f"cannot open the database {path}: {exc}. "
                            "Set bot.database (or --db) to a file in a folder you can write.")
    return type(error)(f"{error}. Check the file's permissions, or set bot.database (or --db) elsewhere.")


class SqliteDatabase(Database):
    """The bot's SQLite file, in WAL mode with foreign keys on."""

    dialect = "sqlite"
    needs_checkpoints: ClassVar[bool] = True

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.location = path
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteDatabase:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the folder {path.parent} for the database: {exc.strerror or exc}. "
                "Set bot.database (or --db) to a file in a folder you can write."
            ) from None
        if path.is_dir():
            raise StorageError(f"the database path {path} is a folder; give a file name, e.g. {path / 'smallstep.db'}")
        try:
            # Try the file with the standard library first: a failed aiosqlite.connect leaves its
            # worker thread to report to an event loop that may be gone (a traceback at exit).
            await asyncio.to_thread(_probe, path)
        except sqlite3.Error as exc:
            raise _cannot_open(exc, path) from None
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA wal_autocheckpoint = 0")  # see `checkpoint`
            await conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            await conn.close()
            raise _cannot_open(exc, path) from None
        return db

    async def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the database file, from a connection of its own on a
        thread (a loop of the serving bot does it every few seconds; closing does the rest). SQLite would
        otherwise do it inside whichever commit finds a thousand pages waiting, disk sync included: up
        to a second in which every member's statement waits behind it."""
        try:
            await asyncio.to_thread(_checkpoint, self.location)
        except sqlite3.Error as exc:
            raise _translate(exc, self.location) from exc

    async def close(self) -> None:
        await self._conn.close()

    # -- single statements (each commits on its own) -----------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        await self._outside_transactions()
        return (await self._cursor(sql, params)).rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        await self._outside_transactions()
        return await self._fetch(sql, params, one=True)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        await self._outside_transactions()
        return await self._fetch(sql, params, one=False)

    async def executescript(self, script: str) -> None:
        async with self._lock:
            try:
                await self._conn.executescript(f"BEGIN;\n{script}\n;\nCOMMIT;")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise _translate(exc, self.location) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, self.location) from exc
            transaction = SqliteTransaction(self)
            try:
                yield transaction
            except BaseException:
                await self._conn.rollback()
                raise
            else:
                try:
                    await self._conn.commit()
                except sqlite3.Error as exc:
                    await self._conn.rollback()
                    raise _translate(exc, self.location) from exc
        transaction._ended()

    async def tables(self) -> list[str]:
        rows = await self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                                   " ORDER BY name")
        return [row[0] for row in rows]

    # -- internals -----------------------------------------------------------------

    async def _outside_transactions(self) -> None:
        """Wait until no transaction is open. The caller must queue its statement right
        after this returns, with no await in between, so no transaction can start first."""
        if self._lock.locked():
            async with self._lock:
                pass

    async def _cursor(self, sql: str, params: Any) -> aiosqlite.Cursor:
        try:
            return await self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise _translate(exc, self.location) from exc

    async def _fetch(self, sql: str, params: Any, *, one: bool) -> Any:
        try:
            rows = await self._conn.execute_fetchall(sql, params)  # one thread hop for the query and its rows
        except sqlite3.Error as exc:
            raise _translate(exc, self.location) from exc
        if one:
            return rows[0] if rows else None
        return list(rows)


class SqliteTransaction(Transaction):
    """Statements inside `SqliteDatabase.transaction()`; the lock is already held."""

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__()
        self._db = db

    async def execute(self, sql: str, params: Params = ()) -> int:
        return (await self._db._cursor(sql, params)).rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        try:
            cursor = await self._db._conn.executemany(sql, rows)
            return cursor.rowcount
        except sqlite3.Error as exc:
            raise _translate(exc, self._db.location) from exc

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        return await self._db._fetch(sql, params, one=True)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return await self._db._fetch(sql, params, one=False)

    async def defer_foreign_keys(self) -> None:
        await self.execute("PRAGMA defer_foreign_keys = ON")
