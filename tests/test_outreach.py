"""Steps 7 to 10: the conversation guide, inviting a group, partnering as an organisation,
the webinar archive, and support."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversation import Chat

CONFIG = '[cogs]\nenabled = ["practice", "outreach"]\n[program]\ndiy_guide_url = "https://example.org/diy"\n'


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, CONFIG)
    yield conversation
    await conversation.close()


async def events(chat: Chat, name: str) -> int:
    return await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = ?", (name,))


async def test_the_guide_gives_one_question_at_a_time(chat):
    await chat.as_member("ann").run("/practice")
    guide = chat.last_private("ann")
    assert guide.message.title == "Talking with someone who sees it differently"
    assert "Question 1 of 5: What's something from how you grew up" in guide.text
    await chat.press("Another question")
    assert chat.last_private("ann").text.startswith("Question 2 of 5: Who has had")
    for _ in range(4):
        await chat.press("Another question")
    assert chat.last_private("ann").text.startswith("Question 1 of 5"), "round again after the last"
    assert await events(chat, "practice.opened") == 1


async def test_moderators_edit_the_questions(chat):
    await chat.as_member("admin").run('/practice add "What does a good neighbour do?"', "/practice remove 1")
    await chat.run("/practice questions")
    listing = chat.last_private("admin").text
    assert listing.startswith("1. Who has had the biggest influence") and "5. What does a good neighbour do?" in listing
    assert "your community's own list" in listing
    await chat.as_member("bo").run("/practice")
    assert "Question 1 of 5: Who has had" in chat.last_private("bo").text
    await chat.run("/practice add nope")
    assert "Only moderators" in chat.last_private("bo").text
    assert [e.action for e in await chat.bot.audit.entries(chat.adapter.community)] == ["practice.remove", "practice.add"]


async def test_inviting_a_group_counts_once_and_tells_the_moderators(chat):
    await chat.as_member("cy").run("/invite-group")
    assert [b.label for b in chat.last_private("cy").message.buttons][:2] == ["A congregation", "A workplace"]
    await chat.press("A workplace")
    kit = chat.last_private("cy").message
    assert kit.title == "Bringing your workplace into One Small Step"
    assert "https://takeonesmallstep.org" in kit.fields[0].value
    await chat.press("I'm trying this")
    assert chat.last_private("cy").text.startswith("Thank you! That's step 8")
    assert chat.last_in("moderators").text == "cy is bringing their workplace into the program. They may welcome a hand."
    await chat.run("/invite-group club")
    await chat.press("I'm trying this")
    await chat.run("/invite-group workplace", ":press I'm trying this")
    assert chat.last_private("cy").text.startswith("You already told us")
    assert await events(chat, "outreach.invited") == 2


async def test_an_organisation_partners_through_a_form_that_reaches_the_moderators(chat):
    await chat.as_member("di").run("/partner-with-us", ":dm Wichita Public Library", ":dm Jo Reader", ":dm jo@",
                                   ":dm jo@wichita.lib", ":dm A library", ":dm 1", ":dm We host a reading circle.",
                                   ":dm submit")
    assert "That doesn't look like an email address" in [d.text for d in chat.said("DM di")][3]
    assert chat.last_dm("di").text.startswith("Thank you! The program's team will write to you soon.")
    assert "https://example.org/diy" in chat.last_dm("di").text
    card = chat.last_in("moderators").message
    assert card.title == "Partner interest #1: Wichita Public Library"
    assert {f.name: f.value for f in card.fields}["Would like"] == "to run their own program"
    assert await events(chat, "partner_interest.submitted") == 1
    await chat.as_member("admin").run("/partner-interest list")
    assert chat.last_private("admin").text.startswith("#1 Wichita Public Library (library), from di")
    await chat.run("/partner-interest done 1", "/partner-interest done 1")
    assert chat.last_private("admin").text == "#1 (Wichita Public Library) was already answered."
    await chat.run("/partner-interest list")
    assert chat.last_private("admin").text == "No organisation is waiting for an answer."


async def test_the_webinar_archive(chat):
    await chat.as_member("admin").run('/webinar add "Listening across" 2026-09-14 https://example.org/w1',
                                      '/webinar add "Second" 14/09/2026 https://example.org/w2',
                                      '/webinar add "Second" 2026-10-01 example.org/w2')
    assert "is not a date I can read" in chat.said("private admin")[-2].text
    assert "doesn't look like a web address" in chat.last_private("admin").text
    tomorrow = chat.bot.clock.today() + timedelta(days=1)
    await chat.run(f'/webinar add "Not yet" {tomorrow} https://example.org/w3',
                   '/webinar add "Odd" 2026-02-30 https://example.org/w4')
    assert chat.said("private admin")[-2].text.startswith(f"{tomorrow} hasn't come yet")
    assert "is not a date I can read" in chat.last_private("admin").text
    await chat.as_member("ed").run("/webinars")
    assert chat.last_private("ed").text == "• 2026-09-14: Listening across https://example.org/w1"
    await chat.as_member("admin").run("/webinar remove 1", ":press Keep it", "/webinar remove 1",
                                      ":press Yes, remove it")
    await chat.as_member("ed").run("/webinars")
    assert chat.last_private("ed").text == "The webinar archive is empty for now."


async def test_support_thanks_with_the_link(chat):
    await chat.as_member("flo").run("/support")
    assert chat.last_private("flo").text.endswith("https://storycorps.org/donate/")
    assert await events(chat, "support.opened") == 1
