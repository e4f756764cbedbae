"""Looking after the database from the command line: a backup while the bot runs, a check of the
database and of its migrations, and the bot's state at a glance. It only reads: SQLite's file is
opened read-only, a PostgreSQL session is read-only."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from glob import glob
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, AsyncIterator
from urllib.parse import urlsplit, urlunsplit

from bot.storage.db import Location, StorageError, is_postgres, shown
from bot.storage.migrations import read_migrations


class Reader:
    """Read-only statements on the database, with the names of its tables."""

    tables: set[str]

    async def rows(self, sql: str) -> list[Any]:
        raise NotImplementedError

    async def value(self, sql: str) -> Any:
        return (await self.rows(sql))[0][0]


class _SqliteReader(Reader):
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path

    async def rows(self, sql: str) -> list[sqlite3.Row]:
        try:
            return await asyncio.to_thread(lambda: self._conn.execute(sql).fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"{self._path}: {exc}") from None


class _PostgresReader(Reader):
    def __init__(self, conn: Any, where: str) -> None:
        self._conn = conn
        self._where = where

    async def rows(self, sql: str) -> list[Any]:
        from bot.storage.postgres import ERRORS, translate

        try:
            return await self._conn.fetch(sql)
        except ERRORS as exc:
            raise translate(exc, self._where) from None


@asynccontextmanager
async def reading(location: Location, *, wait_seconds: float = 5) -> AsyncIterator[Reader]:
    """The database, read-only; a lock held elsewhere is waited for at most `wait_seconds`."""
    if is_postgres(location):
        from bot.storage.postgres import ERRORS, cannot_open, asyncpg

        if asyncpg is None:
            raise StorageError("the database is a PostgreSQL address, but asyncpg is not installed: "
                               "pip install 'smallstep-bot[postgres]'")
        try:
            conn = await asyncpg.connect(location, timeout=wait_seconds, server_settings={
                "default_transaction_read_only": "on", "lock_timeout": str(int(wait_seconds * 1000))})
        except ERRORS as exc:
            raise cannot_open(exc, shown(location)) from None
        try:
            reader = _PostgresReader(conn, shown(location))
            reader.tables = {row[0] for row in await reader.rows(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
            yield reader
        finally:
            await conn.close()
        return
    path = Path(location)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=wait_seconds, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StorageError(f"{path}: {exc}") from None
    conn.row_factory = sqlite3.Row
    try:
        reader = _SqliteReader(conn, path)
        reader.tables = {row[0] for row in await reader.rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
        yield reader
    finally:
        conn.close()


async def backup(source: Location, target: Path) -> str:
    """Copy the database, consistently even while the bot writes; says what was done. SQLite: its online
    backup API, into a new file. PostgreSQL: handed over to pg_dump (a custom-format archive, which
    pg_restore reads)."""
    if is_postgres(source):
        return await _pg_dump(source, target)

    def copy() -> int:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
            return dst.execute("PRAGMA page_count").fetchone()[0]

    try:
        pages = await asyncio.to_thread(copy)
    except sqlite3.Error as exc:  # either file may be at fault: name both
        raise StorageError(f"cannot copy {source} to {target}: {exc}") from None
    return f"copied {source} to {target} ({pages} pages)"


def pg_dump_program() -> str | None:
    """PostgreSQL's pg_dump: on the PATH, else the newest of Debian's versioned ones."""
    return shutil.which("pg_dump") or next(iter(sorted(glob("/usr/lib/postgresql/*/bin/pg_dump"),
                                                       key=lambda p: int(Path(p).parts[-3]), reverse=True)), None)


async def _pg_dump(url: str, target: Path) -> str:
    program = pg_dump_program()
    if program is None:
        raise StorageError("a backup of PostgreSQL is made by pg_dump, which was not found: install PostgreSQL's"
                           " client programs (Debian: apt-get install postgresql-client), as new as the server")
    parts = urlsplit(url)
    environment = dict(os.environ)
    if parts.password is not None:  # to pg_dump's environment, not its command line, which others can see
        environment["PGPASSWORD"] = parts.password
        url = urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@", 1)))
    process = await asyncio.create_subprocess_exec(
        program, "--format=custom", f"--file={target}", f"--dbname={url}", env=environment,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, errors = await process.communicate()
    if process.returncode != 0:
        target.unlink(missing_ok=True)
        raise StorageError(f"pg_dump could not copy {shown(url)}: {errors.decode(errors='replace').strip()}")
    return (f"handed over to pg_dump: copied {shown(url)} to {target} ({target.stat().st_size} bytes, custom format;"
            f" restore with pg_restore --dbname=... {target})")


@dataclass
class Check:
    integrity: list[str]
    applied: dict[str, list[str]] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"]


async def check(location: Location, components: dict[str, Traversable]) -> Check:
    """The database's integrity, and each component's migrations: applied, and still to apply
    (`components` names each migrations folder, e.g. {"core": ..., "cog:share": ...}). SQLite's
    integrity check reads the whole file; PostgreSQL checks its pages as it reads them (pg_amcheck
    goes further), so there only reading every table is checked."""
    async with reading(location) as db:
        if is_postgres(location):
            for table in sorted(db.tables):
                await db.rows(f"SELECT COUNT(*) FROM {table}")
            result = Check(["ok"])
        else:
            result = Check([row[0] for row in await db.rows("PRAGMA integrity_check")])
        rows = await db.rows("SELECT component, name FROM schema_migrations ORDER BY component, version") \
            if "schema_migrations" in db.tables else []
    for row in rows:
        result.applied.setdefault(row["component"], []).append(row["name"])
    for component, folder in components.items():
        missing = [m.name for m in read_migrations(folder, component) if m.name not in result.applied.get(component, [])]
        if missing:
            result.pending[component] = missing
    return result


async def status(location: Location) -> dict[str, object]:
    """What the bot has on its hands: how its loops are doing, messages waiting, scheduled jobs, open forms,
    communities."""
    async with reading(location) as db:
        async def rows(sql: str, table: str) -> list[Any]:
            return await db.rows(sql) if table in db.tables else []

        return {
            "loops": [(r["name"], r["last_ok_at"], r["last_error_at"], r["last_error"], r["failures"]) for r in await rows(
                "SELECT name, last_ok_at, last_error_at, last_error, failures FROM loop_health ORDER BY name",
                "loop_health")],
            "outbox": {r["status"]: r["n"] for r in await rows(
                "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status", "outbox")},
            "jobs": [(r["component"], r["name"], r["platforms"], r["next_run_at"]) for r in await rows(
                "SELECT component, name, platforms, next_run_at FROM scheduled_jobs ORDER BY next_run_at",
                "scheduled_jobs")],
            "open_forms": {r["form"]: r["n"] for r in await rows(
                "SELECT form, COUNT(*) AS n FROM form_drafts GROUP BY form", "form_drafts")},
            "communities": [r["community"] for r in await rows(
                "SELECT DISTINCT community FROM domain_events ORDER BY community", "domain_events")],
            "channel_problems": await channel_problems(db),
            "missing_permissions": await missing_permissions(db),
        }


async def left_waiting(location: Location) -> dict[str, int]:
    """What waits for the bot's next start: messages in the outbox, open forms (read beside a bot that
    may be stuck; WAL lets a reader through whatever a writer holds)."""
    async with reading(location, wait_seconds=1) as db:
        async def count(sql: str, table: str) -> int:
            return await db.value(sql) if table in db.tables else 0

        return {"outbox": await count("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'unreachable')",
                                      "outbox"),
                "forms": await count("SELECT COUNT(*) FROM form_drafts", "form_drafts")}


async def unusable_channels(location: Location) -> list[str]:
    """The channels the running bot found missing or closed to it, and what the platform does not allow it (a
    permission its role lacks), as warnings to print (none without a database yet)."""
    if not is_postgres(location) and not Path(location).exists():
        return []
    try:
        async with reading(location) as db:
            return await channel_problems(db) + await missing_permissions(db)
    except StorageError:  # a PostgreSQL database not made yet, a server not reached: nothing seen there yet
        return []


async def missing_permissions(db: Reader) -> list[str]:
    """What the cogs need of Discord that the bot's role lacked when the bot last looked (the Discord adapter
    keeps it, and forgets it once granted)."""
    if "discord_missing_permissions" not in db.tables:
        return []
    rows = await db.rows("SELECT community, permission, lost, seen_at FROM discord_missing_permissions"
                         " ORDER BY community, permission")
    return [f"{r['community']}: the bot lacks {r['permission']}, so {r['lost']} (seen {r['seen_at'][:16].replace('T', ' ')}"
            f" UTC); give its role {r['permission']}, or invite it again with the link `smallstep invite-url` prints"
            for r in rows]


async def channel_problems(db: Reader) -> list[str]:
    if "channel_problems" not in db.tables:
        return []
    rows = await db.rows("SELECT community, channel, problem, seen_at FROM channel_problems ORDER BY community, channel")
    return [f"{r['community']}: the moderators' channel {r['channel']!r}: {r['problem']}"
            f" (seen {r['seen_at'][:16].replace('T', ' ')} UTC); submissions wait in the queue commands" for r in rows]
