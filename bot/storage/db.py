"""The bot's database, shared by the core and every cog: one SQLite file (the embedded default), or a
PostgreSQL server that several bot processes share. Cogs see one API, whichever it is:

    await db.execute("UPDATE ... WHERE id = ?", (id,))          # one statement, committed on its own
    row = await db.fetchone("SELECT ... WHERE id = ?", (id,))   # rows read by name or by index
    async with db.transaction() as tx:                          # statements that land together, or not at all
        await tx.execute(...)

SQL is written once for both, with `?` placeholders, in what both understand (`INSERT ... ON CONFLICT`,
`RETURNING`, `NULLS FIRST`, `CAST(... AS DOUBLE PRECISION)`). What differs lives in `bot.storage.sqlite`
and `bot.storage.postgres`: placeholders, the types of migrations, the list of tables, backups.

Where SQLite's single writer made work take turns for free, PostgreSQL lets transactions run side by
side: a transaction that reads, decides and writes takes `await tx.lock(name)` first (nothing on SQLite,
whose transactions already take turns; an advisory lock on PostgreSQL).

Errors that a member or an operator can act on are turned into `StorageError` subclasses with a
sentence that says what happened.
"""

from __future__ import annotations

import re
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable, ClassVar, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

BUSY_TIMEOUT_MS = 5000  # how long a statement waits for another's lock before the database counts as busy
_TABLE = re.compile(r"^[a-z][a-z_]*$")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

Params = Sequence[Any]
Location = Path | str  # a path is an SQLite file; a string is a postgresql:// address


class StorageError(Exception):
    """The database could not do what was asked; `str()` explains it for an operator."""


class DatabaseBusy(StorageError):
    """Another process held the database (or the rows asked for) longer than the busy timeout."""


class DatabaseReadOnly(StorageError):
    """The database cannot be written: a read-only file or folder, or a read-only server."""


class DatabaseFull(StorageError):
    """The disk holding the database is full."""


def is_postgres(location: Location) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def shown(location: Location) -> str:
    """A location as it may be printed or logged: an address without its password."""
    if not is_postgres(location):
        return str(location)
    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}" if user else f":***@{host}"))


_KINDS: dict[str, type[Database]] = {}  # by dialect: SqliteDatabase, PostgresDatabase


class _Reading:
    """What a Database and a Transaction both derive from their own `fetchone`."""

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        raise NotImplementedError

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table with an `id` key and return the new row's id."""
        return await self.fetchval(f"{sql} RETURNING id", params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database(_Reading):
    """The bot's database. Open it with `await Database.open(location)`: a path (SQLite) or a
    `postgresql://` address (PostgreSQL, with the `postgres` extra installed)."""

    dialect: ClassVar[str]  # "sqlite" | "postgresql"
    location: Location

    @classmethod
    async def open(cls, location: Location) -> Database:
        """Open the database, creating an SQLite file if needed. Raises StorageError with a plain
        explanation when it cannot be opened or written."""
        if is_postgres(location):
            return await _KINDS["postgresql"].connect(location)
        return await _KINDS["sqlite"].connect(Path(location))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each kind of database (bot.storage.sqlite, bot.storage.postgres, loaded with bot.storage) makes itself
        # known by its dialect, so that this module, below them, need not import them.
        super().__init_subclass__(**kwargs)
        if "dialect" in cls.__dict__:
            _KINDS[cls.dialect] = cls

    @property
    def path(self) -> str:
        """Where the database is, as it may be shown to an operator."""
        return shown(self.location)

    # Whether several processes of the bot may share the database (PostgreSQL): what one process kept in memory
    # (a pace) is kept in the database instead.
    shared: ClassVar[bool] = False

    # Checkpoints copy SQLite's write-ahead log into its file (see SqliteDatabase.checkpoint);
    # PostgreSQL does its own.
    needs_checkpoints: ClassVar[bool] = False

    async def checkpoint(self) -> None:
        """Nothing to do unless `needs_checkpoints`."""

    async def close(self) -> None:
        raise NotImplementedError

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement for each row of parameters, in one transaction; returns the rows changed."""
        async with self.transaction() as tx:
            return await tx.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        """The first row, or None. A row reads by column name (`row["id"]`) and by index (`row[0]`)."""
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        raise NotImplementedError

    async def executescript(self, script: str) -> None:
        """Run several statements (without parameters) as one transaction: a migration."""
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Statements that must land together: all of them, or none."""
        raise NotImplementedError

    async def other_processes(self) -> int:
        """How many other processes of the bot are connected to the database now (PostgreSQL; an SQLite file
        is one process's)."""
        return 0

    async def tables(self) -> list[str]:
        """The names of the bot's tables."""
        raise NotImplementedError

    @asynccontextmanager
    async def migrating(self) -> AsyncIterator[None]:
        """Held while migrations are applied, so that processes starting together apply each once."""
        yield

    async def listen(self, channel: str, callback: Callable[[str], None], lost: Callable[[], None]) -> None:
        """Call `callback(payload)` whenever another process's transaction notifies `channel`, until the
        database is closed (PostgreSQL's LISTEN). Should the connection that listens be lost (the server
        restarted, an administrator ended the session), `lost()` is called, once, and nothing is heard until
        `listen` is called again: what was notified meanwhile is missed. Nothing on SQLite: no other process
        writes there for this one to hear of; the periodic jobs find their work."""

    def schema(self, sql: str) -> str:
        """A migration, written for SQLite, in this database's own words (its types)."""
        return sql


class Transaction(_Reading):
    """Statements inside `Database.transaction()`, on its one connection."""

    # Added to a SELECT, locks the rows it reads until the transaction ends, where the database can lock
    # rows (PostgreSQL); SQLite's transactions already hold the whole database.
    for_update: ClassVar[str] = ""
    # The same, passing over rows another transaction holds: each of several processes claims rows of its own.
    skip_locked: ClassVar[str] = ""

    def __init__(self) -> None:
        self._committed: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the transaction has committed (not at all if it rolls back): work that
        must see what it wrote, such as delivering the messages it queued, starts then."""
        self._committed.append(callback)

    def _ended(self) -> None:
        for callback in self._committed:
            callback()

    async def execute(self, sql: str, params: Params = ()) -> int:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        raise NotImplementedError

    async def lock(self, name: str, *, shared: bool = False) -> None:
        """Take turns with every other transaction that locks `name` (in any process), until this one
        ends: what it read stays true until it has written. `shared` locks let each other through, and
        wait only for a lock that is not. Nothing to do on SQLite, where every transaction already holds
        the database's one write lock."""

    async def notify(self, channel: str, payload: str = "") -> None:
        """Once this transaction has committed, wake whatever listens on `channel` in the other processes
        (`Database.listen`). Nothing to do on SQLite, one process's database."""

    async def defer_foreign_keys(self) -> None:
        """Check foreign keys at the commit, not after each statement (children and parents deleted in
        any order)."""
        raise NotImplementedError

    async def next_number(self, community: str, table: str) -> int:
        """The id for a new row of `table` (testimonials, stories, events, ...), which members and
        moderators know as its number: never one given before in `community`, even if the row that had
        it was erased since. Insert the row with it in this same transaction."""
        if not _TABLE.match(table):
            raise ValueError(f"not a table name: {table!r}")
        # The id is the row's key, shared by every community: numbers of one table take turns everywhere.
        await self.lock(f"numbers:{table}")
        number = await self.fetchval(
            "SELECT MAX(n) + 1 FROM (SELECT last AS n FROM numbers WHERE community = ? AND kind = ?"
            f" UNION ALL SELECT MAX(id) FROM {table} UNION ALL SELECT 0) AS known", (community, table))
        await self.execute("INSERT INTO numbers (community, kind, last) VALUES (?, ?, ?)"
                           " ON CONFLICT (community, kind) DO UPDATE SET last = excluded.last", (community, table, number))
        return number
