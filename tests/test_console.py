"""The console, run as a real subprocess with a script on standard input, as a demo or a user would."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from PIL import Image


def console(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--db", str(tmp_path / "bot.db"), *args],
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
    assert said[-1].startswith("[private alice] Thank you for sharing!")

    # A new process on the same database: the button is still on alice's screen.
    second = console(tmp_path, ":as alice\n:press I shared it\n")
    assert second.returncode == 0, second.stderr
    assert blocks(second.stdout)[-1].startswith("[private alice] You have already told us you shared")

    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT COUNT(*) FROM shares WHERE member_id = 'alice'").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM domain_events WHERE name = 'share.completed'").fetchone()[0] == 1


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
