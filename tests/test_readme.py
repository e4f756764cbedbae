"""The README's example cog is real code: it is taken from the README and run here."""

from __future__ import annotations

import re
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
    import subprocess
    import sys

    text = README.read_text()
    lines = re.search(r"In the console, try:\n\n```\n(.*?)```", text, re.S).group(1)
    result = subprocess.run([sys.executable, "-m", "bot", "console", "--db", str(tmp_path / "demo.db")],
                            input=lines, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(console) no button" not in out and "I don't know the command" not in out
    assert "Share your One Small Step experience" in out and "Event #1 is on: Listening session" in out
    assert "You're going to Listening session" in out and "Coming up" in out
