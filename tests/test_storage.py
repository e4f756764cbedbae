"""Storage: migrations run once and in order, data survives a restart, bad paths are explained."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.storage import Database, StorageError, apply_migrations
from conversation import Chat


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "test.db")
    yield database
    await database.close()


def write_migrations(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


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
    columns = [row["name"] for row in await db.fetchall("PRAGMA table_info(notes)")]
    assert columns == ["community", "body", "colour"]
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
    assert await db.fetchval("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'") == 0
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
        tables = [row[0] for row in await chat.db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        bookkeeping = {"schema_migrations", "scheduled_jobs", "loop_health"}
        for table in set(tables) - bookkeeping:
            columns = {row["name"] for row in await chat.db.fetchall(f"PRAGMA table_info({table})")}
            assert "community" in columns, f"table {table} has no community column"
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
