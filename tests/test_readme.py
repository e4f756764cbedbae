"""The README's example cog is real code: it is taken from the README and run here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conversation import Chat

README = Path(__file__).resolve().parents[1] / "README.md"


async def test_the_example_cog_in_the_readme_works(tmp_path, monkeypatch):
    code = next(block for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
                if block.startswith("# hello/__init__.py"))
    package = tmp_path / "site" / "mycommunity" / "hello"
    (package / "migrations").mkdir(parents=True)
    (package / "templates" / "hello").mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text(code)
    (package / "migrations" / "0001_hello.sql").write_text(
        "CREATE TABLE hello_waves (community TEXT NOT NULL, member_id TEXT NOT NULL);")
    (package / "templates" / "hello" / "hi.j2").write_text(
        "{% block text %}{{ greeting }}{% if mood == 'cheerful' %}!{% endif %}{% endblock %}"
        "{% block button %}Wave{% endblock %}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))

    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["mycommunity.hello"]\n\n'
                                     '[cogs."mycommunity.hello"]\ngreeting = "Welcome"\n')
    try:
        await chat.as_member("alice").run("/hi cheerful")
        assert chat.last_in("general").text == "Welcome!"
        await chat.press("Wave")
        assert chat.last_private("alice").text == "You waved back!"
        assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'hello.waved'") == 1

        await chat.run("/hi-everyone #news")
        assert "Only moderators" in chat.last_private("alice").text
        await chat.run(":mod alice", "/hi-everyone #news")
        assert chat.last_in("news").text == "Welcome"
    finally:
        await chat.close()


def test_the_console_lines_to_try_in_the_readme_work(tmp_path):
    text = README.read_text()
    lines = re.search(r"In the console, try:\n\n```\n(.*?)```", text, re.S).group(1)
    result = subprocess.run([sys.executable, "-m", "bot", "console", "--db", str(tmp_path / "demo.db")],
                            input=lines, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(console) no button" not in out and "I don't know the command" not in out
    assert "Share your One Small Step experience" in out and "Event #1 is on: Listening session" in out
    assert "You're going to Listening session" in out and "Coming up" in out


# -- every command line of the README, run ------------------------------------------------------

REPO = README.parent
TOKENS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")
# What each command the README shows does here, on a scratch folder with no token: (exit status, words said).
# A command that needs Discord or Slack goes as far as it can without the network: it says which token is missing.
QUICK_START = "python3 -m venv .venv && .venv/bin/pip install -q . && "
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q"
EXPECTED = {
    QUICK_START + ".venv/bin/smallstep console": (0, ""),
    TEST_COMMAND: None,  # this very suite: .ci/run runs it on a clean checkout, exactly as written
    "printf '/share\\n:press Get my badge graphic\\n' | .venv/bin/smallstep console --db /tmp/demo.db":
        (0, "Here is your badge graphic"),
    ".venv/bin/smallstep config check --config smallstep.toml": (0, "smallstep.toml: OK"),
    ".venv/bin/smallstep status": (0, "cog share: enabled"),
    ".venv/bin/smallstep db backup backups/smallstep-$(date +%F).db": (0, "copied"),
    ".venv/bin/smallstep db check": (0, "integrity: ok"),
    ".venv/bin/smallstep run --platform discord --log-level info": (2, "DISCORD_TOKEN is not set"),
    ".venv/bin/python benchmarks/bench_share.py --n 10000": (0, "/share through the full core"),
    ".venv/bin/python benchmarks/bench_responsiveness.py": (0, "badge backfill"),
    "smallstep console": (0, ""),
    "smallstep status": (0, "cog share: enabled"),
    "smallstep config check": (0, "smallstep.toml: OK"),
    "smallstep export testimonials --format json": (0, "[]"),
    "smallstep export pairing-impact": (0, "community,answered_both,change_in_average"),
    "smallstep badges backfill": (0, "no badges to give"),
    "smallstep import interviews FILE.csv --community discord:1234": (0, "1 imported"),
    "smallstep invite-url": (2, "DISCORD_TOKEN is not set"),
    "smallstep invite-url --application-id ID": (0, "https://discord.com/"),
    "smallstep sync-commands --guild SERVER_ID": (2, "DISCORD_TOKEN is not set"),
    "smallstep sync-commands": (2, "DISCORD_TOKEN is not set"),
    "smallstep run --platform discord": (2, "DISCORD_TOKEN is not set"),
    "smallstep slack-manifest": (0, '"socket_mode_enabled": true'),
    "smallstep slack-manifest --request-url https://bot.example.org": (0, "https://bot.example.org/slack/events"),
    "smallstep run --platform slack": (2, "SLACK_BOT_TOKEN is not set"),
    # The README's config is an SQLite file: the roles of several processes are PostgreSQL's, and say so.
    "smallstep run --platform discord --no-background": (2, "--no-background leaves the outbox"),
    "smallstep run --platform slack --no-background": (2, "--no-background leaves the outbox"),
    "smallstep worker --platform discord": (2, "smallstep worker needs a PostgreSQL database"),
    "smallstep purge-community KEY": (2, "run it again with --yes"),  # it asks first, by design
}
# Words standing for the reader's own values, and what this test gives for them.
PLACEHOLDERS = {"FILE.csv": "ready.csv", "KEY": "discord:1234", "SERVER_ID": "1234", "ID": "1234"}


def readme_commands() -> list[str]:
    """Each command line of the README's shell blocks (comments off), then each `smallstep ...` named in its
    prose (optional [parts] left out), in the README's order."""
    text = README.read_text()
    lines = [line.split("  #")[0].strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)
             for line in block.splitlines() if line.strip()]
    inline = [re.sub(r"\s*\[[^\]]*\]", "", found) for found in re.findall(r"`(smallstep [^`]+)`", text)]
    return list(dict.fromkeys(lines + inline))


def test_every_command_line_of_the_readme_runs(tmp_path):
    commands = readme_commands()
    assert set(commands) == set(EXPECTED), "a command of the README is not run here, or is no longer there"
    scratch = tmp_path / "checkout"
    scratch.mkdir()
    (scratch / ".venv").symlink_to(Path(sys.prefix))  # the README's .venv: the one running these tests
    (scratch / "smallstep.toml").write_text((REPO / "config.example.toml").read_text())  # as the README says
    (scratch / "ready.csv").write_text("member,url\n@ann,https://archive.storycorps.org/interviews/ann-1\n")
    env = {k: v for k, v in os.environ.items() if k not in TOKENS}
    assert TEST_COMMAND in (REPO / ".ci" / "run").read_text()
    for line in commands:
        if EXPECTED[line] is None:
            continue
        # Making the venv and installing into it is .ci/run's part, on a clean checkout; here the venv is there.
        command = line.removeprefix(QUICK_START)
        command = command.replace("/tmp/demo.db", str(scratch / "demo.db"))  # not a file others share
        command = command.replace("--n 10000", "--n 300")  # the figures need 10,000; that it runs, far fewer
        if command.endswith("bench_responsiveness.py"):
            command += " --pairing 200 --channels 50 --backfill 200"
        if command.startswith("smallstep "):
            command = ".venv/bin/" + " ".join(PLACEHOLDERS.get(word, word) for word in command.split())
        where = REPO if "benchmarks/" in command else scratch
        result = subprocess.run(["bash", "-c", command.replace(".venv/bin/", f"{scratch}/.venv/bin/")], cwd=where,
                                input="", capture_output=True, text=True, timeout=300, env=env)
        status, said = EXPECTED[line]
        assert result.returncode == status, (line, result.stdout[-2000:], result.stderr[-2000:])
        assert said in result.stdout + result.stderr, (line, result.stdout[-2000:], result.stderr[-2000:])
        assert "Traceback" not in result.stderr, (line, result.stderr[-2000:])
    assert list((scratch / "backups").glob("smallstep-*.db")), "the backup is in its folder, made for it"
