"""Step 3, interviews: ready by command, import or webhook; public only when both partners agree;
one reminder; answers changed until published; the share prompt; an outside partner."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import aiohttp
import pytest

from bot.app import Bot
from bot.config import ConfigError, parse_config
from cogs.interviews.webhook import sign
from databases import database_for
from conversation import Chat

CONFIG = '[cogs]\nenabled = ["interviews", "badges"]\n[cogs.interviews]\nremind_after = "3d"\n'
URL = "https://archive.storycorps.org/interviews/ab-12"
SECRET = "a shared secret for the tests"


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, CONFIG)
    yield conversation
    await conversation.close()


async def ready(chat: Chat, extra: str = "partner:@bob", url: str = URL) -> str:
    await chat.as_member("admin").run(f"/interview ready @alice {url} {extra}")
    return chat.last_private("admin").text


async def answer(chat: Chat, name: str, label: str) -> str:
    await chat.as_member(name).run(f":press {label}")
    return chat.last_dm(name).text


def dms(chat: Chat, name: str) -> list[str]:
    return [f"{d.message.title}|{d.text}" for d in chat.said(f"DM {name}")]


async def status(chat: Chat) -> str:
    return await chat.db.fetchval("SELECT status FROM interviews")


async def published_events(chat: Chat) -> list[str]:
    return [r[0] for r in await chat.db.fetchall("SELECT member_id FROM domain_events WHERE name = 'interview.published'"
                                                 " ORDER BY member_id")]


async def test_both_yes_publishes_with_a_share_prompt_for_each(chat):
    assert (await ready(chat)).startswith("Interview #1 is in: alice and bob are being asked")
    assert dms(chat, "alice")[0].startswith("Your interview is ready|") and URL in dms(chat, "bob")[0]
    assert (await answer(chat, "alice", "Yes, make it public")).startswith("Noted: yes.")
    assert await status(chat) == "asking"
    await answer(chat, "bob", "Yes, make it public")
    assert await status(chat) == "public" and await published_events(chat) == ["alice", "bob"]
    for name in ("alice", "bob"):
        public = [d for d in chat.said(f"DM {name}") if d.message.title == "Your conversation is public"]
        assert len(public) == 1 and all(URL in f.value for f in public[0].message.fields)
    assert "already public" in await answer(chat, "alice", "No, keep it private"), "no going back once public"


async def test_a_no_keeps_it_private_and_the_other_hears_only_that(chat):
    await ready(chat)
    await answer(chat, "alice", "Yes, make it public")
    assert (await answer(chat, "bob", "No, keep it private")).startswith("Noted: it stays private.")
    told = chat.last_dm("alice").text
    assert told == f"About your conversation ({URL}): it stays private for now." and "bob" not in told
    assert await status(chat) == "asking" and await published_events(chat) == []
    await answer(chat, "bob", "Yes, make it public")  # a change of mind, before anything was published
    assert await status(chat) == "public"


async def test_one_reminder_then_nothing(chat):
    await ready(chat)
    await answer(chat, "alice", "Yes, make it public")
    await chat.run(":clock +2d")
    assert not [t for t in dms(chat, "bob") if "reminder" in t]
    await chat.run(":clock +1d2h")
    reminders = [t for t in dms(chat, "bob") if "A reminder" in t]
    assert len(reminders) == 1 and "only reminder" in reminders[0]
    assert not [t for t in dms(chat, "alice") if "A reminder" in t], "alice answered"
    await chat.restart()
    await chat.run(":clock +10d")
    assert len([t for t in dms(chat, "bob") if "A reminder" in t]) == 1


async def test_no_reminder_after_someone_said_no(chat):
    await ready(chat)
    await answer(chat, "alice", "No, keep it private")
    await chat.run(":clock +4d")
    assert not [t for t in dms(chat, "bob") if "A reminder" in t]


async def test_a_partner_outside_the_community(chat):
    text = await ready(chat, 'partner_name:"Dan Smith"')
    assert "Their partner Dan Smith isn't a member here" in text
    assert "here is a message you can send them" in dms(chat, "alice")[0]
    await answer(chat, "alice", "Yes, make it public")
    assert await status(chat) == "asking"
    await chat.as_member("admin").run("/interview partner-agrees 1")
    assert chat.last_private("admin").text == "Recorded: Dan Smith agrees. Both agree, so it is public now."
    assert await published_events(chat) == ["alice"]


async def test_mistakes_and_the_same_recording_twice(chat):
    assert "isn't in the program's archive" in await ready(chat, url="https://example.org/x")
    await ready(chat)
    assert (await ready(chat, url=URL + "/")).startswith("That recording is in already (interview #1)")
    assert len([d for d in chat.said("DM alice") if d.message.title == "Your interview is ready"]) == 1
    await chat.as_member("eve").run(f"/interview ready @eve {URL}")
    assert "Only moderators" in chat.last_private("eve").text
    await chat.bot.press(chat.adapter.invocation(None), "interviews:answer", "1:yes")  # alice's button, pressed by eve
    assert chat.last_dm("eve").text == "That question was for someone else."
    assert await chat.db.fetchval("SELECT COUNT(*) FROM interview_consents WHERE answer IS NOT NULL") == 0


def test_an_import_takes_good_rows_reports_bad_ones_and_can_run_again(tmp_path):
    (tmp_path / "smallstep.toml").write_text(CONFIG)
    (tmp_path / "ready.csv").write_text(
        "member,url,partner,partner_name,id\n"
        f"alice,{URL},bob,,rec-1\n"
        ",https://archive.storycorps.org/interviews/2,,,\n"
        "cara,https://example.org/3,,,\n"
        "dan,https://archive.storycorps.org/interviews/4,,Eve Outside,rec-4\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)

    first = run("import", "interviews", "ready.csv", "--community", "console:local")
    assert first.returncode == 1
    assert "line 3: member is empty" in first.stderr and "line 4: url 'https://example.org/3'" in first.stderr
    assert "ready.csv: 2 imported, 0 already there, 2 refused" in first.stdout
    again = run("import", "interviews", "ready.csv", "--community", "console:local")
    assert "ready.csv: 0 imported, 2 already there, 2 refused" in again.stdout
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("who,link\nalice,x\n")
    refused = run("import", "interviews", "bad.csv", "--community", "console:local")
    assert refused.returncode == 2 and "missing: member, url" in refused.stderr
    # The questions waited in the outbox: the console delivers them when it starts.
    shown = run("console")
    assert shown.stdout.count("Your interview is ready") == 3


def test_an_import_into_a_mistyped_database_is_refused(tmp_path):
    """--db naming a file that is not there is a typo, not a new database to import into."""
    (tmp_path / "smallstep.toml").write_text(CONFIG)
    (tmp_path / "ready.csv").write_text(f"member,url\nalice,{URL}\n")
    subprocess.run([sys.executable, "-m", "bot", "console"], cwd=tmp_path, input="", capture_output=True, timeout=60)
    typo = subprocess.run([sys.executable, "-m", "bot", "import", "interviews", "ready.csv", "--community",
                           "console:local", "--db", "smallsteb.db"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert typo.returncode == 2 and "there is no database at smallsteb.db" in typo.stderr
    assert not (tmp_path / "smallsteb.db").exists()


async def test_the_webhook_takes_signed_requests_only(tmp_path, monkeypatch, unused_tcp_port):
    monkeypatch.setenv("INTERVIEWS_WEBHOOK_SECRET", SECRET)
    chat = await Chat.open(tmp_path, CONFIG + f'webhook_port = {unused_tcp_port}\nwebhook_community = "console:local"\n')
    address = f"http://127.0.0.1:{unused_tcp_port}/interviews"

    async def post(body: dict, *, secret: str = SECRET, age: float = 0, signature: str | None = None,
                   timestamp: str | None = None) -> tuple[int, dict]:
        raw = json.dumps(body).encode()
        stamp_ = timestamp or str(int(chat.bot.clock.now().timestamp() - age))
        headers = {"X-SmallStep-Timestamp": stamp_, "X-SmallStep-Signature": signature or sign(secret, stamp_, raw),
                   "Content-Type": "application/json"}
        async with aiohttp.ClientSession() as session, session.post(address, data=raw, headers=headers) as reply:
            return reply.status, await reply.json()

    try:
        record = {"member": "alice", "partner": "bob", "url": URL, "id": "rec-7"}
        assert await post(record, secret="the wrong secret") == (401, {"error": "unauthorized"})
        assert (await post(record, age=600))[0] == 401, "ten minutes old"
        assert (await post({**record, "url": "https://example.org/x"}))[0] == 400
        raw = json.dumps(record).encode()
        moment = str(int(chat.bot.clock.now().timestamp()))
        signature = sign(SECRET, moment, raw)
        assert await post(record, signature=signature, timestamp=moment) == (200, {"interview": 1, "new": True})
        assert (await post(record, signature=signature, timestamp=moment))[0] == 401, "a replay"
        assert (await post(record, age=30))[1] == {"interview": 1, "new": False}
        await chat.bot.outbox.idle()
        assert [d.message.title for d in chat.said("DM alice")] == ["Your interview is ready"]
    finally:
        await chat.close()


async def test_a_second_process_finds_the_webhooks_port_taken_says_so_once_and_takes_over_when_it_is_free(
        tmp_path, monkeypatch, unused_tcp_port, caplog):
    """Several processes of the bot on one machine: the first holds the port; the others say once that it is
    taken, and one of them serves the webhook once the first has gone."""
    monkeypatch.setenv("INTERVIEWS_WEBHOOK_SECRET", SECRET)
    settings = CONFIG + f'webhook_port = {unused_tcp_port}\nwebhook_community = "console:local"\n'
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = await Chat.open(tmp_path / "first", settings)
    second = await Chat.open(tmp_path / "second", settings)
    address = f"http://127.0.0.1:{unused_tcp_port}/interviews"

    async def unsigned_post() -> int:
        async with aiohttp.ClientSession() as session, session.post(address, data=b"{}") as reply:
            return reply.status

    try:
        later_look = second.bot.cogs.loaded["interviews"].serve_webhook
        await later_look(second.bot.clock.now())  # the next minute's turn
        taken = [r for r in caplog.records if "port" in r.getMessage() and "is taken" in r.getMessage()]
        assert len(taken) == 1 and taken[0].levelno == logging.WARNING, [r.getMessage() for r in taken]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert await unsigned_post() == 401, "the first process serves it"
        await first.close()
        with pytest.raises(aiohttp.ClientConnectionError):
            await unsigned_post()
        await later_look(second.bot.clock.now())
        assert await unsigned_post() == 401, "the second took it over"
    finally:
        await first.close()
        await second.close()


async def test_a_webhook_without_its_secret_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("INTERVIEWS_WEBHOOK_SECRET", raising=False)
    bot = await Bot.open(parse_config(CONFIG + "webhook_port = 8081\n", base_dir=tmp_path), database=database_for(tmp_path))
    try:
        with pytest.raises(ConfigError, match="INTERVIEWS_WEBHOOK_SECRET"):
            await bot.start()
    finally:
        await bot.close()
