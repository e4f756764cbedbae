"""Hostile input gets a clear, friendly answer, never an internal error: numbers beyond what any
platform holds, absurd durations, unreadable text, repeat rules that fire too often, long names."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time

import pytest

from cogs.interviews.webhook import sign
from conversation import Chat
from databases import database_for
from fakes.slack_server import message_im_event
from test_discord import ALICE, STORY, connect, discord_bot, embed_of  # noqa: F401 - the Discord harness's fixtures
from test_slack import ALICE as SLACK_ALICE
from test_slack import slack  # noqa: F401 - the Slack harness's fixture

RANGE = "from -9,007,199,254,740,991 to 9,007,199,254,740,991"


@pytest.fixture
async def chat(tmp_path, caplog):
    """The whole bot, every cog of the default config; the test fails if anything was logged as an error."""
    caplog.set_level(logging.ERROR)
    conversation = await Chat.open(tmp_path)
    yield conversation
    await conversation.close()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_number_beyond_64_bits_is_refused_naming_the_option_and_the_range(chat):
    await chat.as_member("admin").run(":mod admin")
    for line in ("/story share 99999999999999999999999", "/report handled 99999999999999999999999 note:done",
                 "/partner-interest show -1000000000000000000000000000000", f"/story share {'9' * 5000}"):
        await chat.run(line)
        reply = chat.last_private("admin").text
        assert f'"id" should be a whole number {RANGE}' in reply, line
        assert "How to write it:" in reply
    await chat.run("/story share ²")
    assert '"id" should be a whole number, not "²".' in chat.last_private("admin").text


async def test_a_number_typed_into_a_form_or_an_option_is_held_to_the_same_range(chat):
    await chat.as_member("admin").run(":mod admin", '/event create title:Talk start:"2031-01-14 18:00"'
                                      " capacity:123456789012345678901234")
    assert f'"capacity" should be a whole number {RANGE}' in chat.last_private("admin").text
    await chat.run("/event create place:Online", ":dm Reading group", ":dm 2031-01-01 19:00", ":dm Europe/Berlin",
                   ":dm 2h", ":dm skip", ":dm ²")
    assert "whole number" in chat.last_dm("admin").text, "a superscript two is not a number of places"
    assert await chat.db.fetchval("SELECT COUNT(*) FROM events") == 0


async def test_an_absurd_duration_on_the_clock_is_refused_and_the_console_carries_on(chat):
    before = chat.bot.clock.offset
    await chat.run(":clock +" + "9999999w" * 16)  # each part fits; together they are beyond any timedelta
    assert chat.bot.clock.offset == before
    assert any("longer than ten years" in line for line in chat.printed)
    await chat.run("/share")
    assert chat.last_private("you").message.title == "Share your One Small Step experience"


def test_an_absurd_duration_in_the_config_is_a_config_error_naming_the_key(tmp_path):
    config = tmp_path / "smallstep.toml"
    config.write_text(f'[forms]\nremind_after = "{"9999999w" * 16}"\n')
    result = subprocess.run([sys.executable, "-m", "bot", "config", "check", "--config", str(config)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "forms.remind_after" in result.stderr and "longer than ten years" in result.stderr
    assert "Traceback" not in result.stderr


async def test_a_member_with_a_very_long_name_can_erase_their_data(chat):
    name = "Bartholomew-" + "n" * 88  # the console's member id is the name: a hundred characters
    await chat.as_member(name).run("/share", ":press I shared it", "/my-data delete")
    assert "Erase everything" in chat.last_private(name).text
    await chat.press("Yes, erase my data")
    assert "erased" in chat.last_private(name).text.lower()
    assert await chat.db.fetchval("SELECT COUNT(*) FROM shares WHERE member_id = ?", (name.lower(),)) == 0


async def test_a_repeat_rule_is_judged_by_how_close_its_occurrences_come_not_by_its_frequency(chat):
    await chat.as_member("admin").run(":mod admin")
    create = '/event create title:Talk start:"2031-01-14 18:00" channels:#general repeat:'
    every_minute = "FREQ=DAILY;BYMINUTE=" + ",".join(str(m) for m in range(60))
    for rule in (every_minute, "FREQ=DAILY;BYHOUR=6,18", "FREQ=HOURLY"):
        await chat.run(f'{create}"{rule}"')
        assert "less than a day apart" in chat.last_private("admin").text, rule
    await chat.run(f'{create}"FREQ=HOURLY;INTERVAL=48"')  # hourly by name, every second day in fact
    assert await chat.db.fetchval("SELECT recurrence FROM events") == "FREQ=HOURLY;INTERVAL=48"


async def test_a_repeat_rule_that_never_happens_is_refused_at_once(chat):
    await chat.as_member("admin").run(":mod admin")
    create = '/event create title:Talk start:"2031-01-14 18:00" channels:#general repeat:'
    for rule in ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=31",
                 "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", "FREQ=WEEKLY;UNTIL=20300101T000000"):
        started = time.perf_counter()
        await chat.run(f'{create}"{rule}"')
        # dateutil alone searched up to the year 9999 for these: 5 to 12 seconds on this machine.
        assert time.perf_counter() - started < 2, rule
        assert "would not take place within 5 years" in chat.last_private("admin").text, rule
    await chat.run(f'{create}"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"')  # the next 29 February is in 2032
    assert await chat.db.fetchval("SELECT COUNT(*) FROM events") == 1


# -- unreadable text, through the real discord.py and Bolt ------------------------------------------

LONE = "\ud800"  # half of a UTF-16 pair: JSON carries it, UTF-8 (and so SQLite) cannot hold it


async def test_bytes_that_are_not_utf8_on_the_console_are_kept_readable(chat):
    # Standard input decodes such bytes as lone surrogates (surrogateescape): b"\xff" becomes "\udcff".
    await chat.as_member("gil").run('/report what:"A post in #general \udcff calls people names"')
    assert chat.last_private("gil").text.startswith("Thank you for telling us.")
    assert await chat.db.fetchval("SELECT what FROM reports") == "A post in #general \ufffd calls people names"


async def test_unencodable_text_from_discord_is_kept_readable(discord_bot):
    discord_bot.fake.add_member(5030, f"Ro{LONE}sa")
    await discord_bot.bot.cogs.load("reports")
    reported = await discord_bot.fake.slash_command(5030, "report", [
        {"name": "what", "type": 3, "value": f"A rude post {LONE} in #general, mentioning people by name."}])
    assert (await discord_bot.answer_to(reported))["data"]["content"].startswith("Thank you for telling us.")
    row = await discord_bot.bot.db.fetchone("SELECT member_name, what FROM reports")
    assert row["member_name"] == "Ro\ufffdsa"
    assert row["what"] == "A rude post \ufffd in #general, mentioning people by name."
    await discord_bot.fake.slash_command(ALICE, "testimonial", [{"name": "start", "type": 1}])
    await discord_bot.dms_to(ALICE, 1)
    await discord_bot.fake.direct_message(ALICE, f"{STORY} {LONE}")
    assert "What surprised you" in embed_of((await discord_bot.dms_to(ALICE, 2))[1]["data"])["description"]
    draft = await discord_bot.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (str(ALICE),))
    assert json.loads(draft["answers"])["story"] == f"{STORY} \ufffd"


async def test_unencodable_text_from_slack_is_kept_readable(slack):
    await slack.command(SLACK_ALICE, "testimonial")
    dm = slack.fake.dm_channel_of(SLACK_ALICE)
    await slack.posts_to(dm)
    for count, (event_id, text) in enumerate((("Ev31", f"{STORY} {LONE}"), ("Ev32", f"The schools{LONE}."),
                                              ("Ev33", "skip"), ("Ev34", "first name"), ("Ev35", "I agree"),
                                              ("Ev36", "submit")), 2):
        await slack.event(message_im_event(user_id=SLACK_ALICE, text=text), event_id=event_id)
        await slack.posts_to(dm, count)
    row = await slack.bot.db.fetchone("SELECT story, surprise FROM testimonials")
    assert (row["story"], row["surprise"]) == (f"{STORY} \ufffd", "The schools\ufffd.")


# -- the interviews webhook, over real HTTP ------------------------------------------------------------

WEBHOOK_SECRET = "a shared secret for the tests"
ARCHIVED = "https://archive.storycorps.org/interviews/ab-12"


async def raw_post(port: int, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    """POST /interviews written byte by byte, so that headers no HTTP client would send can be sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = {"Host": "127.0.0.1", "Content-Type": "application/json", "Content-Length": str(len(body)),
             "Connection": "close", **headers}
    writer.write(("POST /interviews HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines.items()) + "\r\n")
                 .encode() + body)
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, payload = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload) if payload else {}


async def test_the_webhook_answers_hostile_requests_with_401_400_or_403_and_keeps_nothing(
        tmp_path, monkeypatch, unused_tcp_port, caplog):
    caplog.set_level(logging.ERROR)
    monkeypatch.setenv("INTERVIEWS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["interviews"]\n[cogs.interviews]\n'
                                     f'webhook_port = {unused_tcp_port}\nwebhook_community = "console:local"\n')

    def now() -> str:
        return str(int(chat.bot.clock.now().timestamp()))

    async def signed(body: bytes) -> tuple[int, dict]:
        moment = now()
        return await raw_post(unused_tcp_port, {"X-SmallStep-Timestamp": moment,
                                                "X-SmallStep-Signature": sign(WEBHOOK_SECRET, moment, body)}, body)

    def record(**fields) -> bytes:
        return json.dumps({"member": "alice", "url": ARCHIVED, **fields}).encode()

    try:
        body = record()
        good_signature = sign(WEBHOOK_SECRET, now(), body)
        for headers in ({"X-SmallStep-Timestamp": "²", "X-SmallStep-Signature": good_signature},
                        {"X-SmallStep-Timestamp": "9" * 400, "X-SmallStep-Signature": good_signature},
                        {"X-SmallStep-Timestamp": "9" * 5000, "X-SmallStep-Signature": good_signature},
                        {"X-SmallStep-Timestamp": now(), "X-SmallStep-Signature": "sha256=" + "zz" * 32},
                        {"X-SmallStep-Timestamp": now(), "X-SmallStep-Signature": "sha256=" + "é" * 64},
                        {"X-SmallStep-Timestamp": now(), "X-SmallStep-Signature": good_signature[:-1]},
                        {"X-SmallStep-Timestamp": now()}, {}):
            assert await raw_post(unused_tcp_port, headers, body) == (401, {"error": "unauthorized"}), headers
        for hostile, reason in (
                (b"[" * 30000 + b"]" * 30000, "not JSON that can be read"),
                (b'{"member": ' + b"1" * 5000 + b"}", "not JSON that can be read"),
                (b"\xff\xfe not json", "not JSON that can be read"),
                (b'["alice", "a url"]', "must be a JSON object"),
                (record(member=123), "member must be text, not a number"),
                (record(partner={"id": "bob"}), "partner must be text, not an object"),
                (record(id=["rec", 7]), "id must be text, not an array"),
                (record(url="https://archive.storycorps.org/" + "x" * 3000), "url is longer than 2000 characters"),
                (record(title="Our talk"), "fields this webhook does not take"),
                (b'{"member": "al\\ud800ice", "url": "' + ARCHIVED.encode() + b'"}', "not valid Unicode")):
            status, answer = await signed(hostile)
            assert status == 400 and reason in answer["error"], (hostile[:60], answer)
        for community in ("discord:42", "console:elsewhere"):
            status, answer = await signed(record(community=community))
            assert (status, answer) == (403, {"error": f"community {community} is not one this bot serves"})
        assert await chat.db.fetchval("SELECT COUNT(*) FROM interviews") == 0, "nothing kept from any of them"
        assert await signed(record()) == (200, {"interview": 1, "new": True})
    finally:
        await chat.close()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# -- a moderators' channel closed to the bot ----------------------------------------------------------

CLOSED = '[console]\nread_only_channels = ["moderators", "announcements"]\n'
TOLD = ("We talked for an hour about our towns, our parents and what each of us fears most.", "The schools.",
        "skip", "My full name", "I agree", "submit")


async def test_submissions_stand_when_the_moderators_channel_is_closed_and_the_cards_wait(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    chat = await Chat.open(tmp_path, CLOSED)
    try:
        await chat.as_member("alice").run('/report what:"A post in #general calls people names"')
        assert chat.last_private("alice").text.startswith("Thank you for telling us.")
        await chat.run("/story submit https://archive.storycorps.org/interviews/x1")
        assert chat.last_private("alice").text.startswith("Thank you! Story #1 is with the moderators")
        await chat.run("/testimonial", *(f":dm {answer}" for answer in TOLD))
        assert any(d.text.startswith("Thank you") for d in chat.said("DM alice")[-2:])
        assert not chat.said("#moderators")
        cards = await chat.db.fetchall("SELECT batch, status, problem FROM outbox WHERE target_id = 'moderators'")
        assert sorted(c["batch"].split(":")[1] for c in cards) == ["report", "story", "testimonial"]
        assert {c["problem"] for c in cards} == {"#moderators is read-only for the bot (console.read_only_channels)"}
        await chat.as_member("admin").run(":mod admin", "/reports")
        assert "#1 from alice: A post in #general" in chat.last_private("admin").text
        await chat.run("/stories queue")
        assert "archive.storycorps.org/interviews/x1" in chat.last_private("admin").text
        await chat.run("/testimonials queue")
        assert "#1" in chat.last_private("admin").text and "alice" in chat.last_private("admin").text
        await chat.run("/testimonials approve 1", "/story approve 1", "/report handled 1")
        assert "approved" in chat.said("private admin")[-3].text
    finally:
        await chat.close()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_moderators_post_into_a_closed_channel_is_refused_with_the_fix(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    chat = await Chat.open(tmp_path, CLOSED)
    try:
        await chat.as_member("admin").run(":mod admin", "/share-prompt #announcements")
        refused = chat.last_private("admin").text
        assert refused.startswith("I can't post in #announcements: #announcements is read-only for the bot")
        assert "or choose another channel" in refused
        await chat.as_member("alice").run("/testimonial", *(f":dm {answer}" for answer in TOLD))
        await chat.as_member("admin").run("/testimonials approve 1", "/testimonials feature 1 #announcements")
        assert chat.last_private("admin").text.startswith("I can't post in #announcements")
        assert await chat.db.fetchval("SELECT COUNT(*) FROM moderation_posts") == 0
        assert await chat.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action IN ('share.prompt',"
                                      " 'testimonial.feature')") == 0
        await chat.run("/testimonials feature 1 #general")
        assert chat.last_in("general").text, "an open channel takes it"
    finally:
        await chat.close()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_status_and_config_check_name_the_closed_moderators_channel(tmp_path):
    (tmp_path / "smallstep.toml").write_text(CLOSED + f'[bot]\ndatabase = "{database_for(tmp_path)}"\n')
    chat = await Chat.open(tmp_path, CLOSED)
    await chat.as_member("alice").run('/report what:"A post in #general calls people names"')
    await chat.close()

    def smallstep(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60)

    warning = ("warning: console:local: the moderators' channel 'moderators': #moderators is read-only for the bot"
               " (console.read_only_channels)")
    status = smallstep("status")
    assert status.returncode == 0 and warning in status.stdout, status.stdout
    check = smallstep("config", "check")
    assert check.returncode == 0 and warning in check.stderr, check.stderr
