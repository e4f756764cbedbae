"""Privacy: what the bot keeps about a member, their export, and deleting it across every cog,
checked against every table; forgetting a community that removed the bot."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from bot.config import available_cogs
from databases import read_only
from conversation import Chat

ARCHIVE = "https://archive.storycorps.org/interviews/"
STORY = "We talked for an hour about our towns, our parents and what each of us fears most."
NAME, ID = "Zelquux", "zelquux"  # distinctive, so that any row still naming her is found


@pytest.fixture
async def chat(tmp_path):
    enabled = ", ".join(f'"{name}"' for name in available_cogs())
    conversation = await Chat.open(tmp_path, f'[cogs]\nenabled = [{enabled}]\n[cogs.badges]\ncelebrate_in = "general"\n'
                                             '[cogs.stories]\nspotlight_channel = "general"\n')
    yield conversation
    await conversation.close()


async def zelda_does_everything(chat: Chat) -> None:
    await chat.as_member("admin").run("/partner add KQED", '/event create title:Talk start:"2030-01-14 18:00"'
                                      " channels:#general partner:KQED")
    await chat.as_member(NAME).run(
        "/share", ":press I shared it", "/timezone set Europe/Berlin", "/partner KQED", "/practice", "/support",
        "/testimonial", f":dm {STORY}", ":dm The schools.", ":dm skip", ":dm My full name", ":dm I agree",
        ":dm submit", f"/story submit {ARCHIVE}z-1 why:mine", "/invite-group club", ":press I'm trying this",
        "/badges privacy public", '/report what:"someone was rude to me"', ":channel general", "/event 1",
        ":press Going")
    await chat.as_member("admin").run(
        "/testimonials approve 1", "/testimonials feature 1 #general", "/story approve 1",
        f"/interview ready @{NAME} {ARCHIVE}z-2", f"/interview ready @bob {ARCHIVE}b-3 partner:@{NAME}",
        f"/event attended 1 @{NAME}", ":clock +2h")
    await chat.as_member(NAME).run(
        ":press Yes, make it public", "/partner-with-us", ":dm Quux Reading Circle", ":dm Zelda", ":dm z@q.org",
        ":dm A library", ":dm 1", ":dm skip", ":dm submit",
        "/pairing join", *[":dm I agree"] * 5, ":dm Europe/Berlin", ":dm 3", ":dm 1", ":dm not my job",
        ":dm 70", ":dm submit", "/pairing block @carl")
    await chat.as_member("bob").run("/pairing join", *[":dm I disagree"] * 5, ":dm Europe/Berlin", ":dm 3", ":dm 1",
                                    ":dm skip", ":dm skip", ":dm submit")
    await chat.as_member("admin").run("/pairing round", ":press Pair them now", ":clock +7d1h")
    # In a quiet channel, so that the buttons pressed are those of the DM (the spotlight posts in #general).
    await chat.as_member("bob").run(":channel lounge", ":press Yes, we met", ":press 4")
    await chat.as_member(NAME).run(":press Yes, we met", ":press 5", ":channel general", "/testimonial", ":dm half a new story, in a draft")
    await chat.run(f":mod {NAME}", ":as Zelquux", '/badge grant @bob regular reason:"helped"')


async def rows_naming(chat: Chat, *marks: str) -> dict[str, int]:
    """Every table and how many of its rows still hold one of `marks` in any column."""
    found = {}
    for table in await chat.db.tables():
        for row in await chat.db.fetchall(f"SELECT * FROM {table}"):
            text = " ".join(str(v) for v in tuple(row)).lower()
            if any(mark.lower() in text for mark in marks):
                found[table] = found.get(table, 0) + 1
    return found


async def test_a_member_sees_exports_and_deletes_what_the_bot_keeps(chat):
    await zelda_does_everything(chat)
    before = await rows_naming(chat, ID, NAME)
    assert {"testimonials", "stories", "event_rsvps", "badge_awards", "interview_consents", "partner_interest",
            "form_drafts", "domain_events", "member_timezones", "outreach_invitations", "audit_log",
            "reports", "pairing_members", "pairing_pairs", "pairing_blocks", "pairing_pulse"} <= set(before)

    await chat.as_member(NAME).run("/my-data")
    summary = chat.last_private(NAME).text
    assert "• testimonials: testimonials (1)" in summary and "• events:" in summary and "badge awards" in summary
    await chat.run("/my-data export")
    exported = json.loads(chat.last_dm(NAME).message.files[0].data)
    assert list(exported)[:5] == ["about", "member", "community", "exported_at", "summary"], "a summary on top"
    assert exported["member"] == {"name": NAME, "id": ID} and exported["summary"]["testimonials"] == "testimonials (1)"
    assert exported["data"]["testimonials"]["testimonials"][0]["story"] == STORY
    history = exported["data"]["core"]["history"]
    assert {"name": "event.rsvp", "data": {"event": 1}} in [{k: h[k] for k in ("name", "data")} for h in history], \
        "nested data as real JSON, not JSON inside a string"
    text = json.dumps(exported)
    assert '"community"' not in text.replace('"community":', "", 1) and "batch" not in text and "url_key" not in text, \
        "nothing internal"
    assert any(m["title"] == "New badge: Spread the word" for m in exported["data"]["core"]["messages_to_you"])
    assert exported["data"]["interviews"]["interviews"], "both recordings she is in"
    pairing = exported["data"]["pairing"]
    assert pairing["pairing_members"][0]["avoid"] == "not my job", "her own answers, to her"
    assert pairing["pairing_pairs"] == [{"pair": 1, "round": 1, "paired_with": "bob", "did_you_meet": "yes",
                                         "how_it_went": 5, "met_at": pairing["pairing_pairs"][0]["met_at"],
                                         "time_picked": None, "record_together": None, "ended_at": None}]  # her answers and rating, never bob's
    assert [(r["moment"], r["feeling"]) for r in pairing["pairing_pulse"]] == [("before", 70)], "her pulse, to her"

    history = await chat.db.fetchval("SELECT COUNT(*) FROM domain_events")
    await chat.run("/my-data delete", ":press Keep it")
    assert await rows_naming(chat, ID, NAME) == before
    await chat.run("/my-data delete", ":press Yes, erase my data")
    assert chat.last_private(NAME).text.startswith("Done: I've erased what I kept about you")
    assert await rows_naming(chat, ID, NAME) == {}, "no row of any table names her any more"
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events") == history, "the counts stay, naming no one"
    featured = [d for d in chat.transcript if d.where.startswith("#general, message") and "withdrawn" in d.text]
    assert featured, "where her testimonial was shown, it says it was withdrawn"
    await chat.run("/my-data")
    assert chat.last_private(NAME).text == "I keep nothing about you in this community."


async def test_only_the_member_can_press_their_delete_button(chat):
    await chat.as_member("amy").run("/share", ":press I shared it", "/my-data delete")
    button = chat.last_private("amy").message.buttons[0]
    await chat.as_member("bob").bot.press(chat.adapter.invocation("general"), button.action, button.value)
    assert chat.last_private("bob").text == "That button was meant for someone else."
    assert await chat.db.fetchval("SELECT COUNT(*) FROM shares WHERE member_id = 'amy'") == 1


async def test_a_community_that_removed_the_bot_is_forgotten_after_the_grace_period(chat):
    from bot.privacy import community_left, community_returned

    await chat.as_member("amy").run("/share", ":press I shared it")
    community = chat.adapter.community
    await community_left(chat.bot, community)
    await chat.run(":clock +29d")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM shares") == 1
    await community_returned(chat.bot, community)  # back in time: nothing goes
    await chat.run(":clock +2d")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM shares") == 1
    await community_left(chat.bot, community)
    await chat.run(":clock +31d")
    assert await rows_naming(chat, "amy") == {}
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events") == 0


def test_purge_community_from_the_command_line_asks_first(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, capture_output=True, text=True,
                              input="/share\n:press I shared it\n", timeout=60)

    run("console")
    asked = run("purge-community", "console:local")
    assert asked.returncode == 2 and "--yes" in asked.stderr and "shares: 1" in asked.stdout
    done = run("purge-community", "console:local", "--yes")
    assert done.returncode == 0 and "deleted" in done.stdout
    again = run("purge-community", "console:local", "--yes")
    assert "nothing to delete" in again.stdout


async def test_the_log_of_a_whole_session_names_no_one_and_quotes_nothing(tmp_path, caplog):
    """The README promises it: at INFO and above, no member id, no name, nothing a member wrote."""
    enabled = ", ".join(f'"{name}"' for name in available_cogs())
    chat = await Chat.open(tmp_path, f'[cogs]\nenabled = [{enabled}]\n[cogs.badges]\ncelebrate_in = "general"\n'
                                     '[console]\nread_only_channels = ["closed"]\n[forms]\nremind_after = "1h"\n')
    caplog.set_level(logging.INFO)
    try:
        await chat.as_member(NAME).run("/reports", "/badge grant @bob regular reason:nope")  # refused: not a moderator
        await zelda_does_everything(chat)
        await chat.as_member("Quorvath ꦲꦤ").run("/share", ":press Get my badge graphic")  # a script no font draws
        await chat.run(":dms off", "/testimonial", ":clock +2h")  # a form's reminder that cannot reach her
        await chat.as_member("admin").run('/share-prompt #closed')  # a channel the bot may not post in
        async with read_only(chat.db):  # the database refuses every write
            await chat.as_member(NAME).run("/share", ":press I shared it", "/timezone set Europe/Paris")
        await chat.as_member(NAME).run("/my-data export", "/my-data delete", ":press Yes, erase my data")
    finally:
        await chat.close()
    logged = [r.getMessage() + (caplog.text if r.exc_info else "") for r in caplog.records if r.levelno >= logging.INFO]
    assert any("database trouble" in line for line in logged) and any("not a moderator" in line for line in logged)
    assert any("character(s) of a name have no font" in line for line in logged)
    written = [STORY[:30], "someone was rude", "Quux Reading Circle", "z@q.org", "not my job", "half a new story"]
    for mark in [ID, NAME, "quorvath", "ꦲ", *written]:
        leaks = [line for line in logged if mark.lower() in line.lower()]
        assert not leaks, f"the log names {mark!r}: {leaks[:3]}"


async def test_a_number_once_given_is_never_given_again_even_after_an_erasure(chat):
    await zelda_does_everything(chat)
    await chat.as_member("admin").run('/webinar add "Listening across" 2026-09-14 https://example.org/w1',
                                      "/webinar remove 1", ":press Yes, remove it")
    await chat.as_member(NAME).run("/my-data delete", ":press Yes, erase my data")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM stories") == 0, "her story #1 is gone"

    await chat.as_member("frank").run(
        f"/story submit {ARCHIVE}f-1", '/report what:"spam in #general"', "/testimonial", f":dm {STORY}",
        ":dm The schools.", ":dm skip", ":dm My full name", ":dm I agree", ":dm submit", "/partner-with-us",
        ":dm Frank's Club", ":dm Frank", ":dm f@q.org", ":dm A library", ":dm 1", ":dm skip", ":dm submit")
    await chat.as_member("admin").run(f"/interview ready @frank {ARCHIVE}f-2",
                                      '/webinar add "Again" 2026-09-15 https://example.org/w2')
    numbers = {table: await chat.db.fetchval(f"SELECT MAX(id) FROM {table}") for table in (
        "stories", "reports", "testimonials", "partner_interest", "interviews", "webinars")}
    assert numbers == {"stories": 2, "reports": 2, "testimonials": 2, "partner_interest": 2, "interviews": 3,
                       "webinars": 2}, "frank's are new numbers: an audit line about #1 still means hers"
    assert any("(report #2)" in d.text for d in chat.said("private frank")), "and that is the number he is told"
