"""Running it for real: a backup while the bot writes, the database check, the status, a database
that cannot be written, one log line per command that names no one, and what a start loads."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

from databases import database_for, query, read_only, restored
from conversation import Chat


def smallstep(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)


async def test_a_backup_while_the_bot_writes_is_whole(tmp_path):
    chat = await Chat.open(tmp_path)
    community = chat.adapter.community
    writing = True

    async def keep_writing() -> int:
        written = 0
        while writing:
            await chat.bot.events.emit("support.opened", community, chat.adapter.member(f"m{written}"))
            written += 1
        return written

    writer = asyncio.create_task(keep_writing())
    try:
        await asyncio.sleep(0.3)
        result = await asyncio.to_thread(smallstep, tmp_path, "db", "backup", str(tmp_path / "copy.db"),
                                         "--db", str(chat.database))
        assert result.returncode == 0, result.stderr
    finally:
        writing = False
        written = await writer
        await chat.close()
    copy = restored(tmp_path / "copy.db", tmp_path)
    copied = query(copy, "SELECT COUNT(*) FROM domain_events WHERE name = 'support.opened'")[0][0]
    assert 0 < copied <= written, "a consistent moment of the writing"
    again = smallstep(tmp_path, "db", "backup", str(tmp_path / "copy.db"), "--db", str(chat.database))
    assert again.returncode == 2 and "exists already" in again.stderr


async def test_the_check_and_the_status(tmp_path):
    chat = await Chat.open(tmp_path)
    await chat.as_member("ann").run(":dms off", "/testimonial", "/support")
    await chat.close()
    check = smallstep(tmp_path, "db", "check", "--db", str(chat.database))
    assert check.returncode == 0 and "integrity: ok" in check.stdout and "cog:testimonials: 1 migration applied" in check.stdout
    status = smallstep(tmp_path, "status", "--db", str(chat.database))
    assert status.returncode == 0, status.stderr
    assert "open forms: 1 testimonial" in status.stdout and "job cog:events/remind: next at" in status.stdout
    assert "communities: console:local" in status.stdout
    missing = smallstep(tmp_path, "status", "--db", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "there is no database" in missing.stderr


async def test_a_database_that_cannot_be_written_gets_a_polite_answer_and_a_log_line(tmp_path, caplog):
    chat = await Chat.open(tmp_path)
    try:
        async with read_only(chat.db):  # the database refuses every write meanwhile
            with caplog.at_level(logging.ERROR, logger="bot.core.bot"):
                await chat.as_member("ben").run("/share")
        assert chat.last_private("ben").text.startswith("I can't save anything right now (my database is read-only)")
        assert any("database trouble" in r.getMessage() for r in caplog.records)
        await chat.run("/share")
        assert chat.last_private("ben").message.title == "Share your One Small Step experience"
    finally:
        await chat.close()


async def test_one_log_line_per_command_naming_no_one(tmp_path, caplog):
    chat = await Chat.open(tmp_path)
    try:
        with caplog.at_level(logging.INFO, logger="bot.core.bot"):
            await chat.as_member("Secret Sam").run("/share", ":press I shared it", "/nope")
        lines = [r.getMessage() for r in caplog.records if r.name == "bot.core.bot"]
        assert [line.split(" ms=")[0] for line in lines] == [
            "command community=console:local cog=share name=share",
            "button community=console:local cog=share name=share:done",
            "command community=console:local cog=- name=-"]
        assert lines[-1].endswith("outcome=refused:unknown_command")
        assert not any("sam" in line.lower() for line in lines)
    finally:
        await chat.close()


async def test_a_backup_into_a_new_folder_and_quiet_one_off_commands(tmp_path):
    chat = await Chat.open(tmp_path)
    await chat.close()
    backup = smallstep(tmp_path, "db", "backup", "backups/today.db", "--db", str(chat.database))
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "backups" / "today.db").is_file(), "the folder is made, as on a fresh checkout"
    status = smallstep(tmp_path, "status", "--db", str(chat.database))
    assert status.returncode == 0 and status.stderr == "", "a one-off command prints its answer, no log lines"
    told = smallstep(tmp_path, "status", "--db", str(chat.database), "--log-level", "info")
    assert told.returncode == 0 and "INFO bot.core.registry: cog share loaded" not in told.stdout
    checked = smallstep(tmp_path, "config", "check", "--log-level", "info")
    assert checked.returncode == 0 and "INFO bot.core.registry: cog share loaded" in checked.stderr, \
        "asked in lower case, as the README writes it, the log comes"


# The console, run to its end in this process, then the heavy libraries it has imported by then.
CONSOLE_THEN_IMPORTED = """
import sys
from bot.cli import main
code = main(["console", "--db", sys.argv[1]])
print("imported:", *[name for name in ("matplotlib", "networkx") if name in sys.modules])
sys.exit(code)
"""


def console_then_imported(tmp_path, lines: str) -> str:
    """In a process of its own (the tests' process may have imported anything): the console on the default
    config, every cog loaded, fed `lines`; the line that says what it imported."""
    result = subprocess.run([sys.executable, "-c", CONSOLE_THEN_IMPORTED, str(database_for(tmp_path))],
                            input=lines, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_the_plotting_and_matching_libraries_are_loaded_only_when_used(tmp_path):
    """matplotlib (about 55 MB with numpy) and networkx (about 24 MB) are held only by a bot that draws a chart
    or matches pairs (that runs in a worker process): not by one that has started with every cog."""
    assert console_then_imported(tmp_path, "/help\n") == "imported:"
    assert console_then_imported(tmp_path, ":as admin\n/community stats\n") == "imported: matplotlib"
