"""The console, run as a real subprocess with a script on standard input, as a demo or a user would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from datetime import datetime, timedelta

from PIL import Image

from bot.config import parse_config
from bot.platforms.console import run_console
from conversation import Chat
from databases import database_for, query


def console(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--db", str(database_for(tmp_path)), *args],
        cwd=tmp_path, input=script, capture_output=True, text=True, timeout=120,
    )


def blocks(stdout: str) -> list[str]:
    """The bot's messages: each starts with `[where]` and runs until the next one."""
    found: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("["):
            found.append(line)
        elif line.startswith("  ") and found:
            found[-1] += "\n" + line
    return found


def test_the_whole_share_flow_with_a_restart_between_the_two_presses(tmp_path):
    first = console(tmp_path, "\n".join([
        ":as alice",
        "/share",
        ":press Get my badge graphic",
        "/share",
        ":press I shared it",
    ]) + "\n")
    assert first.returncode == 0, first.stderr
    said = blocks(first.stdout)
    kit = next(b for b in said if b.startswith("[private alice] Share your One Small Step experience"))
    assert kit.count("https://takeonesmallstep.org") >= 3
    assert "  [1] Get my badge graphic" in kit and "  [2] I shared it" in kit

    badge = next(b for b in said if "Here is your badge graphic" in b)
    path = Path(badge.split("image: ", 1)[1].strip())
    with Image.open(path) as png:
        assert png.size == (1080, 1080)
    assert said[-2].startswith("[private alice] Thank you for sharing!")
    assert said[-1].startswith("[DM alice] New badge: Spread the word"), "the step's badge follows the thanks"

    # A new process on the same database: the button is still on alice's screen.
    second = console(tmp_path, ":as alice\n:press I shared it\n")
    assert second.returncode == 0, second.stderr
    assert blocks(second.stdout)[-1].startswith("[private alice] You have already told us you shared")
    assert "New badge" not in second.stdout, "the badge came once"

    database = database_for(tmp_path)
    assert query(database, "SELECT COUNT(*) FROM shares WHERE member_id = 'alice'")[0][0] == 1
    assert query(database, "SELECT COUNT(*) FROM domain_events WHERE name = 'share.completed'")[0][0] == 1


def test_moderators_channels_and_the_clock(tmp_path):
    result = console(tmp_path, "\n".join([
        "/share-prompt #welcome",
        ":mod you",
        ":channel welcome",
        "/share-prompt #welcome",
        ":as bob",
        ":press 1",
        ":clock +25h",
        ":clock soon",
        ":frobnicate",
        "hello?",
        ":quit",
        "/share",
    ]) + "\n")
    assert result.returncode == 0, result.stderr
    said = blocks(result.stdout)
    assert said[0].startswith("[private you] Only moderators can use /share-prompt")
    assert any(b.startswith("[#welcome] Did your One Small Step conversation") for b in said)
    assert said[-1].startswith("[private bob] Share your One Small Step experience")
    out = result.stdout
    assert "(console) the clock is now" in out
    assert "'soon' is not a duration" in out
    assert "unknown console command :frobnicate" in out
    assert "commands start with /" in out
    assert out.count("Share your One Small Step experience") == 1, "nothing runs after :quit"


def test_the_console_starts_with_no_config_and_no_database(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot"], cwd=tmp_path, input="/help\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "/share: Get ready-to-post texts" in result.stdout
    assert (tmp_path / "smallstep.db").exists()


def test_the_clock_moves_for_one_run_only(tmp_path):
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    first = console(tmp_path, ":clock +3d\n")
    assert first.returncode == 0 and "for this run" in first.stdout
    second = console(tmp_path, f':as admin\n/event create title:Picnic start:"{tomorrow} 18:00" timezone:UTC\n')
    assert second.returncode == 0, second.stderr
    assert "Event #1 is on: Picnic" in second.stdout, "after a restart, real dates are not in the past"


async def test_the_clock_goes_back_to_real_time_and_jobs_follow(chat):
    await chat.run(":clock +3d")
    await chat.run(":clock reset")
    assert chat.bot.clock.offset == timedelta(0)
    assert any("back to the real time" in line for line in chat.printed)
    due = await chat.db.fetchval("SELECT next_run_at FROM scheduled_jobs WHERE name = 'deliver'")
    assert datetime.fromisoformat(due) <= chat.bot.clock.now() + timedelta(minutes=2), \
        "a job planned by the later clock runs within its period, not in three days"


async def test_a_button_of_an_earlier_message_can_be_pressed_and_each_press_says_where_it_went(tmp_path):
    chat = await Chat.open(tmp_path)
    try:
        await chat.as_member("alice").run("/share", "/my-data delete")
        await chat.press("Get my badge graphic")  # on the kit, above the question about erasing
        assert chat.last_private("alice").text.startswith("Here is your badge graphic")
        assert "on message 1 (#general: Share your One Small Step experience)" in chat.printed[-2]
        await chat.press("2.2")  # "Keep it", named by the message's number
        assert chat.last_private("alice").text == "All right, nothing was erased."
        await chat.run(":press 7.1")
        assert "there is no message 7 with buttons that you can see" in chat.printed[-1]
        await chat.as_member("bob").press("2.1")
        assert "there is no message 2" in chat.printed[-1], "alice's private question is not bob's to press"
    finally:
        await chat.close()


async def test_a_member_joining_gets_the_welcome(chat):
    await chat.run(":join Bob")
    assert chat.last_dm("Bob").message.title == "Welcome, Bob!"
    await chat.run(":join")
    assert chat.printed[-1] == "(console) write :join NAME"


# -- odd input to the console, in-process ------------------------------------------------


async def test_the_clock_refuses_what_it_cannot_do_and_keeps_working(chat):
    before = chat.bot.clock.offset
    for line in (":clock +3000000d", ":clock +99999999999d", ":clock -1h", ":clock"):
        await chat.run(line)
    assert chat.bot.clock.offset == before
    assert any("longer than ten years" in line for line in chat.printed)
    assert any("is not a duration" in line for line in chat.printed)
    await chat.run("/share")
    assert chat.last_private("you").message.title == "Share your One Small Step experience"


async def test_pressing_odd_labels_explains_the_buttons(chat):
    await chat.run("/share", ":press ²", ":press 9", ":press Nope")
    assert sum("no button" in line and "[1] Get my badge graphic" in line for line in chat.printed) == 3


async def test_a_member_named_like_a_channel_cannot_press_others_private_buttons(chat):
    await chat.as_member("alice").run("/share")
    await chat.as_member("#general").press("I shared it")
    assert any("there is no message with buttons here" in line for line in chat.printed)
    assert await chat.db.fetchval("SELECT COUNT(*) FROM shares") == 0


async def test_empty_names_and_channels_are_refused(chat):
    await chat.run(":channel #", ":as @", ":mod @")
    assert chat.adapter.channel == "general"
    assert chat.adapter.acting == "you"
    await chat.run("/share")
    assert chat.last_private("you").where == "private you"


async def test_the_console_never_prints_a_live_mention_or_escape_sequence(chat):
    await chat.as_member("<@&1> @everyone \x1b[2J").run("/share")
    printed = "\n".join(chat.printed)
    assert "@everyone" not in printed and "<@&" not in printed and "\x1b" not in printed


async def test_scheduled_jobs_run_at_start_and_while_members_keep_typing(tmp_path):
    """Jobs are checked on a timer, not only when the console is idle, and once at start."""
    config = parse_config('[bot]\nscheduler_interval_seconds = 1\n[cogs]\nenabled = ["sample_cogs.echo"]\n',
                          base_dir=tmp_path)
    db = database_for(tmp_path)
    await run_console(config, database=db, stdin=io.StringIO("/echo first\n"), write=lambda text: None)
    # A day passes with the bot stopped.
    query(db, "UPDATE scheduled_jobs SET next_run_at = '2000-01-01T00:00:00.000000+00:00' WHERE name = 'daily'")

    read_end, write_end = os.pipe()

    def type_slowly() -> None:
        with open(write_end, "w") as keyboard:
            for _ in range(10):
                keyboard.write("/echo still here\n")
                keyboard.flush()
                time.sleep(0.3)

    typist = threading.Thread(target=type_slowly)
    typist.start()
    with open(read_end) as stdin:
        await run_console(config, database=db, stdin=stdin, write=lambda text: None)
    typist.join()
    assert query(db, "SELECT COUNT(*) FROM echo_runs")[0][0] == 1
    assert query(db, "SELECT COUNT(*) FROM echo_ticks")[0][0] >= 2
