"""Background work that survives, and a stop that never hangs: with the real `smallstep` process, and
another process holding the database's write lock (`BEGIN IMMEDIATE`), as a backup tool or a second
bot would."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time

from conversation import Chat
from real_process import ConsoleProcess, smallstep

TICKING = '[bot]\nscheduler_interval_seconds = 1\n[cogs]\nenabled = ["sample_cogs.echo", "testimonials"]\n'


@contextlib.contextmanager
def write_lock(db_path):
    """Another process's write transaction, held until the block ends."""
    conn = sqlite3.connect(db_path, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.rollback()
        conn.close()


def ticks(db_path) -> int:
    """How many times the echo cog's one-second job has run."""
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn:
        return conn.execute("SELECT COUNT(*) FROM echo_ticks").fetchone()[0]


async def until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        await asyncio.sleep(0.2)


async def test_the_scheduler_survives_a_write_lock_held_across_its_ticks_and_says_so_once(tmp_path):
    bot = await ConsoleProcess.start(tmp_path, TICKING)
    try:
        await until(lambda: (tmp_path / "bot.db").exists() and _has_ticks(tmp_path / "bot.db"))
        with write_lock(bot.db_path):
            await asyncio.sleep(7)  # longer than the bot's 5 s busy timeout: a tick fails
            held = ticks(bot.db_path)
        await until(lambda: ticks(bot.db_path) >= held + 3)  # the job runs again, every second
        status = smallstep(tmp_path, "status", "--db", str(bot.db_path))
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


def _has_ticks(db_path) -> bool:
    try:
        return ticks(db_path) > 0
    except sqlite3.OperationalError:  # not created yet
        return False


async def test_sigterm_while_another_process_holds_the_write_lock_ends_within_the_deadline(tmp_path):
    bot = await ConsoleProcess.start(tmp_path, TICKING)
    try:
        await bot.send(":as ann", ":dms off", "/testimonial", ":dms on", "/echo hi")
        await bot.wait_for("hi")
        with write_lock(bot.db_path):
            started = time.monotonic()
            code, log = await bot.stop()
            elapsed = time.monotonic() - started
    finally:
        await bot.kill()
    assert elapsed < 15, f"the stop took {elapsed:.1f} s"  # the deadline is 10 s
    assert code == 1, log  # the buttons on screen could not be kept: it says so
    assert "is busy (locked by another process)" in log
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
