"""The database each test runs on, so that the whole suite runs on SQLite and on PostgreSQL.

By default a test's database is an SQLite file in its folder, `tmp_path / "bot.db"`. With
`SMALLSTEP_TEST_DATABASE=postgresql` it is a PostgreSQL database of its own, cloned from a template on
which every migration of the core, the services, the adapters and the cogs already ran (about 60 ms), on a throwaway
server the tests start themselves from Debian's `postgresql` package (as the `postgres` user when run
as root, on a Unix socket only, fsync off), or on the server `SMALLSTEP_TEST_POSTGRES` names (an
address whose user may create databases).

    database = database_for(tmp_path)       # a Path (SQLite) or a postgresql:// address
    rows = query(database, "SELECT ...")     # read it from a test, whichever it is

Nothing is skipped: on PostgreSQL, a server that cannot be started or reached fails the tests, saying why.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import getpass
import glob
import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Coroutine, Iterator
from urllib.parse import urlsplit, urlunsplit

from bot.storage import Database, Location, is_postgres

KIND = os.environ.get("SMALLSTEP_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
if KIND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"SMALLSTEP_TEST_DATABASE must be sqlite or postgresql, not {KIND!r}")
ON_POSTGRES = KIND == "postgresql"
TEMPLATE = "smallstep_template"


def database_for(folder: Path, *, empty: bool = False) -> Location:
    """The database of the test that owns `folder` (the same one each time it is asked); `empty`: without
    the tables of the migrations (a new SQLite file is empty anyway)."""
    if not ON_POSTGRES:
        return folder / "bot.db"
    return _server().database(folder, empty=empty)


def postgresql_database(folder: Path) -> str:
    """A PostgreSQL database of its own for `folder`, cloned from the migrated template on the tests' server,
    whichever pass this is: for the benchmarks, which compare PostgreSQL with SQLite in one run."""
    return _server().database(folder)


def query(database: Location, sql: str, params: tuple = ()) -> list[Any]:
    """Run one statement (`?` placeholders) on a test's database from outside the bot; its rows, if any."""
    if not is_postgres(database):
        with sqlite3.connect(database, timeout=10) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()
    return _server().run(_query(database, sql, params))


async def _query(url: str, sql: str, params: tuple) -> list[Any]:
    import asyncpg

    from bot.storage.postgres import numbered

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(numbered(sql), *params)
    finally:
        await conn.close()


def forget_databases() -> None:
    """Drop the databases made since the last call (after each test)."""
    if _SERVER is not None:
        _SERVER.drop_made()


# -- the server -----------------------------------------------------------------------------------

_SERVER: Server | None = None
_LOCK = threading.Lock()


def _server() -> Server:
    global _SERVER
    with _LOCK:
        if _SERVER is None:
            _SERVER = Server()
            atexit.register(_SERVER.close)
        return _SERVER


def _bin(program: str) -> str:
    """A PostgreSQL server program: Debian keeps them under /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return found[-1]
    if on_path := shutil.which(program):
        return on_path
    raise RuntimeError(f"PostgreSQL's {program} was not found: install Debian's postgresql package "
                       "(apt-get install postgresql), or set SMALLSTEP_TEST_POSTGRES to a server's address")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class Server:
    """A PostgreSQL server for the session, its template, and a loop on a thread of its own that talks to
    it (the tests' own loops come and go with each test)."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="test postgres", daemon=True).start()
        self._folder: Path | None = None
        self._databases: dict[Path, str] = {}
        self._made: list[str] = []
        given = os.environ.get("SMALLSTEP_TEST_POSTGRES", "").strip()
        self.admin = given or self._start()
        self.run(self._make_template())

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=120)

    def _start(self) -> str:
        """initdb and pg_ctl start, as the `postgres` user when this is root (initdb refuses root)."""
        as_root = os.geteuid() == 0
        user = "postgres" if as_root else getpass.getuser()
        self._folder = Path(tempfile.mkdtemp(prefix="smallstep-pg-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        if as_root:
            shutil.chown(self._folder, user)
        data, sockets = self._folder / "data", self._folder
        port = _free_port()
        run_as = {"user": user} if as_root else {}
        subprocess.run([_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True, **run_as)
        options = (f"-k {sockets} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
                   " -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB")
        started = subprocess.run([_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(self._folder / "log"),
                                  "-w", "start"], capture_output=True, text=True, **run_as)
        if started.returncode != 0:
            log = (self._folder / "log").read_text() if (self._folder / "log").exists() else ""
            raise RuntimeError(f"the test PostgreSQL did not start: {started.stderr}{started.stdout}{log[-2000:]}")
        self._data = data
        self._run_as = run_as
        return f"postgresql://postgres@/postgres?host={sockets}&port={port}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def set_read_only(self, name: str, read_only: bool) -> None:
        """Every session of database `name` refuses writes, or accepts them again. PostgreSQL reads a
        database's defaults when a session starts, so every session that began before the change is ended,
        and waited for: pg_terminate_backend only signals, and a session still starting up is not yet
        named in pg_stat_activity (its datname is NULL until then)."""
        import asyncpg

        conn = await asyncpg.connect(self.admin)
        try:
            change = "SET default_transaction_read_only = on" if read_only else "RESET default_transaction_read_only"
            await conn.execute(f"ALTER DATABASE {name} {change}")
            changed_at = await conn.fetchval("SELECT clock_timestamp()")
            for _ in range(200):
                older = await conn.fetchval(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' AND (datname = $1 OR datname IS NULL)"
                    " AND backend_start <= $2", name, changed_at)
                if not older:
                    return
                await asyncio.sleep(0.05)
            raise RuntimeError(f"sessions of {name} begun before it was made read-only={read_only} did not end")
        finally:
            await conn.close()

    async def _make_template(self) -> None:
        """A database on which every migration ran, as the bot applies them: the core's, each service's
        (the outbox, the audit log, moderation, privacy, the forms), each adapter's, each cog's."""
        from importlib.resources import files

        from bot.app.bot import migration_folders
        from bot.storage import Database, apply_migrations

        await self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await self._admin(f"CREATE DATABASE {TEMPLATE}")
        db = await Database.open(_with_database(self.admin, TEMPLATE))
        try:
            cogs = sorted(p.name for p in Path(files("cogs")).iterdir() if (p / "migrations").is_dir())
            folders = migration_folders(cogs)
            for component, folder in folders.items():
                if not component.startswith("cog:"):
                    await apply_migrations(db, component, folder)
            for platform in ("console", "discord", "slack"):
                await apply_migrations(db, platform, files(f"bot.platforms.{platform}") / "migrations")
            for component, folder in folders.items():
                if component.startswith("cog:"):
                    await apply_migrations(db, component, folder)
        finally:
            await db.close()

    def database(self, folder: Path, *, empty: bool = False) -> str:
        with _LOCK:
            if folder not in self._databases:
                name = "t_" + hashlib.sha256(str(folder).encode()).hexdigest()[:20]
                self.run(self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                self.run(self._admin(f"CREATE DATABASE {name} TEMPLATE {'template0' if empty else TEMPLATE}"))
                self._databases[folder] = _with_database(self.admin, name)
                self._made.append(name)
            return self._databases[folder]

    def drop_made(self) -> None:
        with _LOCK:
            made, self._made = self._made, []
            self._databases = {f: url for f, url in self._databases.items() if urlsplit(url).path[1:] not in made}
        for name in made:
            self.run(self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def close(self) -> None:
        if self._folder is not None:
            subprocess.run([_bin("pg_ctl"), "-D", str(self._data), "-m", "immediate", "stop"], capture_output=True,
                           **self._run_as)
            shutil.rmtree(self._folder, ignore_errors=True)
        self._loop.call_soon_threadsafe(self._loop.stop)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def read_only(db: Database) -> AsyncIterator[None]:
    """The bot's database refuses every write while the block runs, as a read-only file or server would."""
    if not is_postgres(db.location):
        await db.execute("PRAGMA query_only = ON")
        try:
            yield
        finally:
            await db.execute("PRAGMA query_only = OFF")
        return
    name = urlsplit(db.location).path[1:]
    server = _server()
    await asyncio.to_thread(server.run, server.set_read_only(name, True))
    try:
        yield
    finally:
        await asyncio.to_thread(server.run, server.set_read_only(name, False))


def columns(database: Location, table: str) -> list[str]:
    """A table's columns, in order."""
    if not is_postgres(database):
        return [row["name"] for row in query(database, f"PRAGMA table_info({table})")]
    return [row[0] for row in query(database, "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
                                              " ORDER BY ordinal_position", (table,))]


def restored(backup: Path, folder: Path) -> Location:
    """A database made from what `smallstep db backup` wrote: the copied SQLite file itself, or a new
    PostgreSQL database into which pg_restore read pg_dump's archive (which checks it whole)."""
    if not ON_POSTGRES:
        with sqlite3.connect(backup) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return backup
    url = _server().database(folder / "restored", empty=True)
    subprocess.run([_bin("pg_restore"), "--no-owner", f"--dbname={url}", "--clean", "--if-exists", str(backup)],
                   check=True, capture_output=True)
    return url


Rows = Callable[..., list[Any]]


@contextlib.contextmanager
def reading(database: Location) -> Iterator[Rows]:
    """One connection to a test's database, kept open to read it again and again (as fast as it goes):
    `rows(sql, params)`."""
    if not is_postgres(database):
        conn = sqlite3.connect(database, timeout=10)
        conn.row_factory = sqlite3.Row
        try:
            yield lambda sql, params=(): conn.execute(sql, params).fetchall()
        finally:
            conn.close()
        return
    import asyncpg

    from bot.storage.postgres import numbered

    server = _server()
    conn = server.run(asyncpg.connect(database))
    try:
        yield lambda sql, params=(): server.run(conn.fetch(numbered(sql), *params))
    finally:
        server.run(conn.close())


@contextlib.contextmanager
def write_lock(database: Location) -> Iterator[None]:
    """Another process holding the writes to the whole database until the block ends, as a backup tool or
    a second bot would: SQLite's write lock (`BEGIN IMMEDIATE`), or on PostgreSQL every table locked in
    EXCLUSIVE mode (reads pass, writes wait)."""
    if not is_postgres(database):
        conn = sqlite3.connect(database, timeout=10, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    import asyncpg

    server = _server()
    conn = server.run(asyncpg.connect(database))
    try:
        tables = [row[0] for row in server.run(conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))]
        server.run(conn.execute(f"BEGIN; LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
        yield
    finally:
        server.run(conn.close())
