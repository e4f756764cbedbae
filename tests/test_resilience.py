"""Background work that survives, and a stop that never hangs: with the real `smallstep` process, and
another process holding the database's writes (SQLite's `BEGIN IMMEDIATE`, or every table locked on
PostgreSQL), as a backup tool or a second bot would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import time

import pytest

from bot.storage import DatabaseFull
from conversation import Chat
from databases import database_for, query, write_lock
from fakes.discord_server import FakeDiscord
from real_process import ConsoleProcess, smallstep

TICKING = '[bot]\nscheduler_interval_seconds = 1\n[cogs]\nenabled = ["sample_cogs.echo", "testimonials"]\n'


def ticks(database) -> int:
    """How many times the echo cog's one-second job has run."""
    return query(database, "SELECT COUNT(*) FROM echo_ticks")[0][0]


async def until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        await asyncio.sleep(0.2)


async def test_the_scheduler_survives_a_write_lock_held_across_its_ticks_and_says_so_once(tmp_path):
    bot = await ConsoleProcess.start(tmp_path, TICKING)
    try:
        await until(lambda: _has_ticks(bot.database))
        with write_lock(bot.database):
            await asyncio.sleep(7)  # longer than the bot's 5 s busy timeout: a tick fails
            held = ticks(bot.database)
        await until(lambda: ticks(bot.database) >= held + 3)  # the job runs again, every second
        status = smallstep(tmp_path, "status", "--db", str(bot.database))
        assert status.returncode == 0, status.stderr
        (scheduler,) = [line for line in status.stdout.splitlines() if line.startswith("scheduler:")]
        assert "last worked 20" in scheduler and "last error 20" in scheduler and "DatabaseBusy" in scheduler
        assert "still failing" not in scheduler
        code, log = await bot.stop()
    finally:
        await bot.kill()
    assert code == 0, log
    failures = [line for line in log.splitlines() if line.startswith("ERROR") and "scheduler failed" in line]
    assert len(failures) == 1, log
    assert "scheduler works again" in log
    assert "stopped; left waiting for the next start: 0 messages in the outbox, 0 open forms" in log
    assert "Traceback" not in log.split("scheduler failed")[0]


def _has_ticks(database) -> bool:
    try:
        return ticks(database) > 0
    except Exception:  # not created yet (the file, or the cog's table)
        return False


async def test_sigterm_while_another_process_holds_the_write_lock_ends_within_the_deadline(tmp_path):
    bot = await ConsoleProcess.start(tmp_path, TICKING)
    try:
        await bot.send(":as ann", ":dms off", "/testimonial", ":dms on", "/echo hi")
        await bot.wait_for("hi")
        with write_lock(bot.database):
            started = time.monotonic()
            code, log = await bot.stop()
            elapsed = time.monotonic() - started
    finally:
        await bot.kill()
    assert elapsed < 15, f"the stop took {elapsed:.1f} s"  # the deadline is 10 s
    assert code == 1, log  # the buttons on screen could not be kept: it says so
    # Either the stop ran into the lock (the buttons could not be saved), or the deadline came first.
    assert "is busy" in log or "not stopped after 10 s" in log, log
    assert "left waiting for the next start: 0 messages in the outbox, 1 open form" in log


async def test_the_watchdog_names_the_command_or_job_that_held_the_event_loop(tmp_path, caplog):
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["sample_cogs.echo"]\n')
    try:
        chat.bot.watchdog.start(chat.bot.loops)
        with caplog.at_level(logging.WARNING, logger="bot.watchdog"):
            await chat.as_member("Secret Sam").run("/echo quick")
            await asyncio.sleep(0.3)
            assert not caplog.records, "a quick command is no stall"
            await chat.run("/hog")
            await asyncio.sleep(0.3)
            await chat.db.execute("UPDATE scheduled_jobs SET next_run_at = '2000-01-01' WHERE name = 'hog_daily'")
            await chat.bot.scheduler.run_due()
            await asyncio.sleep(0.3)
        stalls = [r.getMessage() for r in caplog.records]
        assert len(stalls) == 2, stalls
        held = [int(re.match(r"the event loop was held for (\d+) ms by ", line).group(1)) for line in stalls]
        assert all(300 <= ms < 1000 for ms in held), stalls  # 400 ms, give or take a heartbeat
        assert "by command /hog (cog sample_cogs.echo)" in stalls[0]
        assert "by job cog:sample_cogs.echo/hog_daily" in stalls[1]
        assert not any("secret" in line.lower() for line in stalls)
    finally:
        await chat.close()


async def fill(db) -> None:
    """Make the database full for real: SQLite may not grow it past the pages it has, and junk takes
    the free ones."""
    await db.execute(f"PRAGMA max_page_count = {await db.fetchval('PRAGMA page_count') + 2}")
    with contextlib.suppress(DatabaseFull):
        while True:
            await db.execute("INSERT INTO domain_events (community, name, data, at) VALUES ('console:filler',"
                             " 'disk.filler', ?, '')", ("x" * 3000,))


@pytest.mark.sqlite_only  # a page limit of SQLite's file; PostgreSQL's disk full (53100) is told the same way
async def test_a_full_disk_is_explained_to_the_member_and_keeps_the_answers_given(tmp_path, caplog):
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["testimonials"]\n')
    try:
        story, surprise, advice = "We talked. " * 180, "We agreed. " * 90, "Just go. " * 110  # a long draft
        await chat.as_member("ann").run("/testimonial", f":dm {story}", f":dm {surprise}")
        await fill(chat.db)  # the third answer makes the draft longer than a page: it needs one more
        with caplog.at_level(logging.ERROR):
            await chat.run(f":dm {advice}")
        assert chat.last_dm("ann").text.startswith("I can't save anything right now (my disk is full)")
        assert any("database trouble" in r.getMessage() and "is full" in r.getMessage() for r in caplog.records)
        kept = await chat.db.fetchone("SELECT answers, current FROM form_drafts WHERE member_id = 'ann'")
        assert json.loads(kept["answers"]) == {"story": story.strip(), "surprise": surprise.strip()}
        assert kept["current"] == "advice", "nothing given is lost, and the question is the same"

        await chat.db.execute("PRAGMA max_page_count = 1073741823")  # room again
        await chat.run(f":dm {advice}")
        assert "question 4 of 5" in chat.last_dm("ann").message.title
    finally:
        await chat.close()


@pytest.mark.sqlite_only  # the bot's own process writes SQLite's file; PostgreSQL's server writes its own
async def test_a_disk_that_refuses_writes_is_explained_and_the_stop_still_completes(tmp_path):
    """The real process, allowed to write no file past its size now (the kernel refuses: SQLite's disk
    I/O error): the member is told nothing was recorded, what they gave is kept, SIGTERM still ends it."""
    config = '[cogs]\nenabled = ["testimonials"]\n'
    bot = await ConsoleProcess.start(tmp_path, config)
    story = "We talked for an hour about our towns, our parents and what each of us fears most."
    await bot.send(":as ann", "/testimonial", f":dm {story}")
    await bot.wait_for("question 2 of 5")
    assert (await bot.stop())[0] == 0
    size = max(path.stat().st_size for path in tmp_path.glob("bot.db*"))
    bot = await ConsoleProcess.start(tmp_path, config, file_size_limit=size)
    try:
        await bot.send(":as ann")
        for _ in range(40):  # long answers, until the log of changes can grow no further
            await bot.send(f":dm {'We agreed about the schools. ' * 34}", ":dm back")
        told = await bot.wait_for("Something went wrong while saving, so nothing was recorded")
        assert told
        code, log = await bot.stop()
    finally:
        await bot.kill()
    assert "database trouble in dm forms (console:local)" in log and "disk I/O error" in log, log
    assert code == 0 or (code == 1 and "\nerror: " in log), "0 only when everything was kept; else it says why"
    assert "Traceback" not in log
    assert "left waiting for the next start: 0 messages in the outbox, 1 open form" in log
    (answers,) = query(bot.database, "SELECT answers FROM form_drafts WHERE member_id = 'ann'")[0]
    assert json.loads(answers)["story"] == story, "what was given is kept"


async def test_the_discord_connection_comes_back_after_an_error_discord_py_does_not_handle(tmp_path):
    """A payload discord.py cannot read ends its gateway loop (the real discord.py, against the fake
    Discord): the bot logs it once, connects again and answers the next command; SIGTERM still exits 0."""
    fake = FakeDiscord(guild_id=2000)
    fake.add_member(5001, "alice")
    await fake.start()
    database = database_for(tmp_path)
    (tmp_path / "smallstep.toml").write_text(
        f'[bot]\ndatabase = "{database}"\n'
        f'[discord]\nguild_id = "2000"\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--platform", "discord", cwd=tmp_path,
        env={**os.environ, "DISCORD_TOKEN": "fake-token"}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async def answered() -> None:
        interaction = await fake.slash_command(5001, "share")
        await fake.wait_for(lambda: any(r["interaction_id"] == interaction for r in fake.interaction_responses),
                            timeout=15)

    try:
        await fake.wait_for(lambda: fake.identifies, timeout=30)
        await asyncio.sleep(0.5)  # the ready event and GUILD_CREATE
        await answered()
        await fake._dispatch("INTERACTION_CREATE", {"type": 2})  # no id, no token: discord.py raises reading it
        await fake.wait_for(lambda: len(fake.identifies) == 2, timeout=30)
        await asyncio.sleep(0.5)
        await answered()
        await until(lambda: connection_health(database) == (0, True))  # ready again, recorded
        status = smallstep(tmp_path, "status")
        assert "discord connection: last worked 20" in status.stdout and "KeyError" in status.stdout
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()
    log = err.decode()
    assert process.returncode == 0, log
    assert log.count("discord connection failed") == 1 and "discord connection works again" in log, log


def connection_health(database) -> tuple[int, bool] | None:
    """The Discord connection's failures in a row, and whether it ever worked, as recorded for status."""
    rows = query(database, "SELECT failures, last_ok_at FROM loop_health WHERE name = 'discord connection'")
    return None if not rows else (rows[0][0], rows[0][1] is not None)


@pytest.mark.sqlite_only  # SQLite's write-ahead log; PostgreSQL checkpoints by itself
async def test_the_log_of_changes_is_copied_into_the_database_beside_the_members_statements(tmp_path):
    """Commits never copy the write-ahead log into the database file (a disk sync every thousand pages,
    inside some member's command): the checkpoint does, from a connection of its own."""
    chat = await Chat.open(tmp_path)
    try:
        before = chat.database.stat().st_size
        rows = [("console:local", "disk.filler", "x" * 3000, "") for _ in range(2000)]  # 6 MB: past 1,000 pages
        await chat.db.executemany("INSERT INTO domain_events (community, name, data, at) VALUES (?, ?, ?, ?)", rows)
        for _ in range(20):
            await chat.run("/share")
        assert chat.database.stat().st_size == before, "nothing was copied by a commit"
        await chat.db.checkpoint()
        assert chat.database.stat().st_size > before + 5_000_000
    finally:
        await chat.close()
