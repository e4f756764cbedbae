"""Storage: migrations run once and in order, data survives a restart, bad paths are explained."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.storage import Database, StorageError, apply_migrations
from bot.storage.postgres import PostgresDatabase, numbered
from conversation import Chat
from databases import columns, database_for


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(database_for(tmp_path))
    yield database
    await database.close()


def write_migrations(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


@pytest.mark.sqlite_only
async def test_the_database_runs_in_wal_mode_with_foreign_keys(db):
    assert await db.fetchval("PRAGMA journal_mode") == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") == 5000


async def test_migrations_apply_once_in_order(db, tmp_path):
    folder = write_migrations(
        tmp_path / "migrations",
        **{"0002_add_colour.sql": "ALTER TABLE notes ADD COLUMN colour TEXT;",
           "0001_notes.sql": "CREATE TABLE notes (community TEXT NOT NULL, body TEXT);"},
    )
    assert await apply_migrations(db, "cog:notes", folder) == ["0001_notes.sql", "0002_add_colour.sql"]
    assert await apply_migrations(db, "cog:notes", folder) == []
    assert columns(db.location, "notes") == ["community", "body", "colour"]
    recorded = await db.fetchall("SELECT version FROM schema_migrations WHERE component = 'cog:notes'")
    assert [row[0] for row in recorded] == [1, 2]


async def test_a_new_migration_is_applied_after_the_old_ones(db, tmp_path):
    folder = write_migrations(tmp_path / "m", **{"0001_a.sql": "CREATE TABLE a (community TEXT);"})
    await apply_migrations(db, "x", folder)
    write_migrations(folder, **{"0002_b.sql": "CREATE TABLE b (community TEXT);"})
    assert await apply_migrations(db, "x", folder) == ["0002_b.sql"]


async def test_a_failing_migration_leaves_nothing_half_done(db, tmp_path):
    folder = write_migrations(
        tmp_path / "m", **{"0001_bad.sql": "CREATE TABLE half (community TEXT);\nTHIS IS NOT SQL;"})
    with pytest.raises(StorageError, match="migration x/0001_bad.sql failed"):
        await apply_migrations(db, "x", folder)
    assert "half" not in await db.tables()
    assert await db.fetchval("SELECT COUNT(*) FROM schema_migrations WHERE component = 'x'") == 0


@pytest.mark.parametrize("name", ["1_short.sql", "0001-dash.sql", "0001_Upper.sql"])
async def test_misnamed_migration_files_are_refused(db, tmp_path, name):
    folder = write_migrations(tmp_path / "m", **{name: "SELECT 1;"})
    with pytest.raises(StorageError, match="must be named NNNN_description.sql"):
        await apply_migrations(db, "x", folder)


async def test_two_migrations_with_one_number_are_refused(db, tmp_path):
    folder = write_migrations(tmp_path / "m", **{"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"})
    with pytest.raises(StorageError, match="two migrations are numbered 0001"):
        await apply_migrations(db, "x", folder)


async def test_a_transaction_lands_whole_or_not_at_all(db):
    await db.execute("CREATE TABLE t (community TEXT, n INTEGER UNIQUE)")
    with pytest.raises(StorageError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES ('c', 1)")
            await tx.execute("INSERT INTO t VALUES ('c', 1)")
    assert await db.fetchval("SELECT COUNT(*) FROM t") == 0


async def test_data_survives_a_restart_and_migrations_are_not_rerun(tmp_path):
    chat = await Chat.open(tmp_path)
    await chat.as_member("alice").run("/share")
    await chat.press("I shared it")
    applied = await chat.db.fetchval("SELECT COUNT(*) FROM schema_migrations")
    await chat.restart()
    assert await chat.db.fetchval("SELECT COUNT(*) FROM schema_migrations") == applied
    assert await chat.db.fetchval("SELECT member_id FROM shares") == "alice"
    await chat.close()


async def test_every_table_is_scoped_by_community(tmp_path):
    """Nothing may leak between communities: each table of the core, the console and every
    built-in cog has a `community` column (bookkeeping tables excepted)."""
    from bot.config import available_cogs

    enabled = ", ".join(f'"{name}"' for name in available_cogs())
    chat = await Chat.open(tmp_path, f"[cogs]\nenabled = [{enabled}]\n")
    try:
        assert not chat.bot.cogs.failed
        bookkeeping = {"schema_migrations", "scheduled_jobs", "loop_health", "send_pace"}
        for table in set(await chat.db.tables()) - bookkeeping:
            assert "community" in columns(chat.database, table), f"table {table} has no community column"
    finally:
        await chat.close()


async def test_a_database_path_that_cannot_be_created_is_explained(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError) as caught:
        await Database.open(blocker / "bot.db")
    message = str(caught.value)
    assert "cannot create the folder" in message and "bot.database (or --db)" in message


async def test_a_folder_given_as_the_database_is_explained(tmp_path):
    with pytest.raises(StorageError, match="is a folder"):
        await Database.open(tmp_path)


async def test_a_file_that_is_not_a_database_is_explained(tmp_path):
    impostor = tmp_path / "notes.db"
    impostor.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(StorageError, match="notes.db is not an SQLite database"):
        await Database.open(impostor)


def test_the_command_reports_an_unwritable_database_without_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = subprocess.run([sys.executable, "-m", "bot", "console", "--db", str(blocker / "bot.db")],
                            cwd=tmp_path, input="", capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot create the folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_in_a_folder_nobody_can_write_is_explained_without_a_traceback(tmp_path):
    # /proc refuses new files even to root, so this holds whoever runs the tests. The traceback
    # came from aiosqlite's worker thread only now and then, hence a few runs.
    for _ in range(3):
        result = subprocess.run([sys.executable, "-m", "bot", "console", "--db", "/proc/smallstep-test.db"],
                                cwd=tmp_path, input="", capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert "cannot open the database /proc/smallstep-test.db" in result.stderr
        assert "Traceback" not in result.stderr and "Exception in thread" not in result.stderr


# -- the same SQL on both databases ---------------------------------------------------------------------


def test_placeholders_are_numbered_for_postgresql_outside_quotes_and_comments():
    assert numbered("SELECT ?, '?', \"a?\", 'it''s ?' -- is it?\nFROM t WHERE a = ? AND b LIKE ? ESCAPE '\\'") == (
        "SELECT $1, '?', \"a?\", 'it''s ?' -- is it?\nFROM t WHERE a = $2 AND b LIKE $3 ESCAPE '\\'")


def test_migrations_are_said_in_postgresql_types():
    schema = PostgresDatabase(None, "postgresql:///x").schema(
        "CREATE TABLE notes (\n    id INTEGER PRIMARY KEY, -- the INTEGER kept\n    text TEXT NOT NULL,\n"
        "    score REAL, data BLOB,\n    event_id INTEGER REFERENCES events (id)\n);")
    assert schema == ('CREATE TABLE notes (\n    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \n'
                      '    text TEXT COLLATE "C" NOT NULL,\n    score DOUBLE PRECISION, data BYTEA,\n'
                      '    event_id BIGINT REFERENCES events (id) DEFERRABLE INITIALLY IMMEDIATE\n);')


async def test_what_differs_silently_between_the_databases_is_written_the_same_way(db):
    """Each of these gives a different answer on SQLite and PostgreSQL unless written as the bot writes it."""
    await db.execute(db.schema("CREATE TABLE t (id INTEGER PRIMARY KEY, community TEXT NOT NULL, name TEXT,"
                               " n INTEGER, picture BLOB, UNIQUE (community, name))"))
    assert await db.insert("INSERT INTO t (community, name, n) VALUES ('c', 'Zoë', 1)") == 1  # RETURNING id
    assert await db.executemany("INSERT INTO t (community, name, n) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                [("c", "Zoë", 5), ("c", "Bob", 2), ("c", None, 4)]) == 2  # new rows only
    # AVG of whole numbers is a float on SQLite, a Decimal on PostgreSQL: cast, as the bot does.
    assert await db.fetchval("SELECT CAST(AVG(n) AS DOUBLE PRECISION) FROM t") == pytest.approx(7 / 3)
    assert [r[0] for r in await db.fetchall("SELECT name FROM t ORDER BY name NULLS FIRST")] == [None, "Bob", "Zoë"]
    assert [r[0] for r in await db.fetchall("SELECT name FROM t WHERE name > 'B' ORDER BY name")] == ["Bob", "Zoë"]
    # LIKE ignores the case of ASCII letters on SQLite only: LOWER on both sides finds the same rows on both.
    assert await db.fetchval("SELECT COUNT(*) FROM t WHERE LOWER(name) LIKE LOWER(?)", ("%BO%",)) == 1
    await db.execute("UPDATE t SET picture = ? WHERE name = 'Bob'", (b"\x89PNG\x00",))
    assert await db.fetchval("SELECT picture FROM t WHERE name = 'Bob'") == b"\x89PNG\x00"
    # A row reads by name, by index and as a dict. (Its id may skip one on PostgreSQL, where the conflict
    # above spent one: numbers that members see come from `Transaction.next_number`.)
    row = await db.fetchone("SELECT name, n FROM t WHERE n = ?", (2,))
    assert (row["name"], row[1], dict(row)) == ("Bob", 2, {"name": "Bob", "n": 2})


async def test_a_transaction_tells_what_waits_for_its_commit_only_once_committed(db):
    await db.execute("CREATE TABLE t (community TEXT, n INTEGER UNIQUE)")
    told: list[str] = []
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES ('c', 1)")
        tx.after_commit(lambda: told.append("committed"))
        assert told == []
    assert told == ["committed"]
    with pytest.raises(StorageError):
        async with db.transaction() as tx:
            tx.after_commit(lambda: told.append("never"))
            await tx.execute("INSERT INTO t VALUES ('c', 1)")
    assert told == ["committed"]


@pytest.mark.postgres_only
async def test_processes_starting_together_apply_each_migration_once(tmp_path):
    folder = write_migrations(tmp_path / "m", **{
        "0001_a.sql": "CREATE TABLE a (community TEXT NOT NULL);",
        "0002_b.sql": "CREATE TABLE b (community TEXT NOT NULL); SELECT pg_sleep(0.2);"})
    fresh = database_for(tmp_path, empty=True)
    processes = [await Database.open(fresh) for _ in range(3)]  # each its own sessions, as another process's
    try:
        applied = await asyncio.gather(*(apply_migrations(db, "x", folder) for db in processes))
        assert sorted(map(tuple, applied)) == [(), (), ("0001_a.sql", "0002_b.sql")]
        assert await processes[0].fetchval("SELECT COUNT(*) FROM schema_migrations") == 2
    finally:
        for db in processes:
            await db.close()


@pytest.mark.postgres_only
async def test_a_postgresql_database_that_is_not_there_is_explained(tmp_path):
    missing = urlunsplit(urlsplit(database_for(tmp_path))._replace(path="/no_such_database"))
    with pytest.raises(StorageError) as caught:
        await Database.open(missing)
    assert 'database "no_such_database" does not exist' in str(caught.value)
    assert "Create it" in str(caught.value) and "SMALLSTEP_DATABASE_URL" in str(caught.value)


@pytest.mark.postgres_only
async def test_connections_the_server_ended_while_idle_are_replaced_without_a_word(db):
    await db.execute("CREATE TABLE t (community TEXT, n INTEGER)")
    await asyncio.gather(*(db.fetchval("SELECT pg_sleep(0.05)") for _ in range(3)))  # a few connections in the pool
    ender = await Database.open(db.location)
    try:  # an administrator (or a restart) ends every other session of the database
        await ender.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()")
    finally:
        await ender.close()
    await db.execute("INSERT INTO t VALUES ('c', 1)")
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES ('c', 2)")
    assert await db.fetchval("SELECT SUM(n) FROM t") == 3


async def test_a_database_from_before_the_services_kept_their_migrations_upgrades_with_the_claims_in_core(tmp_path):
    """The PostgreSQL work numbered the outbox's claims as the core's 0011, where the core's 0011 now moves the
    services' records: such a database (its services' migrations recorded as the core's, as they were then)
    opens, nothing is applied twice, and every record is where the bot now looks for it."""
    from bot.app import Bot
    from bot.app.bot import migration_folders
    from bot.config import parse_config
    from bot.storage import maintenance

    database = database_for(tmp_path)
    config = parse_config("")
    bot = await Bot.open(config, database=database)
    await bot.close()
    db = await Database.open(database)
    try:
        before = {(r["component"], r["version"]): r["name"] for r in await db.fetchall(
            "SELECT component, version, name FROM schema_migrations")}
        then = [("outbox", 1, 2), ("outbox", 2, 3), ("outbox", 3, 7), ("audit", 1, 4), ("moderation", 1, 5),
                ("moderation", 2, 9), ("privacy", 1, 6)]
        async with db.transaction() as tx:
            for component, version, core in then:
                name = before[(component, version)]
                await tx.execute("DELETE FROM schema_migrations WHERE component = ? AND version = ?",
                                 (component, version))
                await tx.execute("INSERT INTO schema_migrations (component, version, name, applied_at)"
                                 " VALUES ('core', ?, ?, '2026-11-01T00:00:00+00:00')", (core, f"{core:04d}{name[4:]}"))
            await tx.execute("DELETE FROM schema_migrations WHERE component = 'outbox' AND version = 4")
            await tx.execute("UPDATE schema_migrations SET name = '0011_outbox_claims.sql' WHERE component = 'core'"
                             " AND version = 11")
            await tx.execute("DELETE FROM schema_migrations WHERE component = 'core' AND version = 14")
    finally:
        await db.close()

    bot = await Bot.open(config, database=database)  # would fail if a table or a column were made twice
    await bot.close()
    db = await Database.open(database)
    try:
        after = {(r["component"], r["version"]): r["name"] for r in await db.fetchall(
            "SELECT component, version, name FROM schema_migrations")}
    finally:
        await db.close()
    assert after == before
    result = await maintenance.check(database, migration_folders([]))
    assert result.ok and not result.pending
