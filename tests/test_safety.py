"""Safety: every moderator action in the audit log, /audit to read it, and reports to the moderators."""

from __future__ import annotations

import pytest

from conversation import Chat

STORY = "We talked for an hour about our towns, our parents and what each of us fears most."


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path)  # every cog the default config enables
    yield conversation
    await conversation.close()


async def actions(chat: Chat) -> list[str]:
    return [e.action for e in reversed(await chat.bot.audit.entries(chat.adapter.community))]


async def test_every_moderator_action_is_in_the_audit_log(chat):
    await chat.as_member("ann").run("/testimonial", f":dm {STORY}", ":dm The schools.", ":dm skip",
                                    ":dm My full name", ":dm I agree", ":dm submit")
    await chat.as_member("bob").run("/testimonial", f":dm {STORY}", ":dm The roads.", ":dm skip",
                                    ":dm My first name only", ":dm I agree", ":dm submit")
    await chat.as_member("admin").run(
        "/testimonials approve 1", '/testimonials reject 2 reason:"It names a private person."',
        '/badge grant @ann regular reason:"Came to the pilot"', '/badge revoke @ann regular reason:"By mistake"',
        '/event create title:Talk start:"2030-01-14 18:00" channels:#general', '/event cancel 1 reason:"Ill"',
        ":press Yes, cancel it", "/cogs unload practice", "/cogs load practice", "/share-prompt #general",
        "/partner add KQED", '/partner edit KQED region:"Bay Area"')
    assert await actions(chat) == [
        "testimonial.approve", "testimonial.reject", "badge.grant", "badge.revoke", "event.create", "event.cancel",
        "cogs.unload", "cogs.load", "share.prompt", "partner.add", "partner.edit"]
    entries = await chat.bot.audit.entries(chat.adapter.community)
    reject = next(e for e in entries if e.action == "testimonial.reject")
    assert (reject.moderator_name, reject.target, reject.reason) == ("admin", "#2", "It names a private person.")


async def test_moderators_read_the_audit_log(chat):
    await chat.as_member("admin").run("/partner add KQED", ":mod eve", ":as eve", "/partner add WNYC")
    await chat.run("/audit")
    log = chat.last_private("eve").text.splitlines()
    assert log[0].endswith("eve: partner.add WNYC") and log[1].endswith("admin: partner.add KQED")
    await chat.run("/audit moderator:@admin")
    assert "WNYC" not in chat.last_private("eve").text and "KQED" in chat.last_private("eve").text
    await chat.run(":clock +2d", "/audit since:1d")
    assert chat.last_private("eve").text == "Nothing in the audit log."
    await chat.run("/audit since:yesterday-ish")
    assert chat.last_private("eve").text.startswith("I can't read \"yesterday-ish\" as a time")
    await chat.as_member("fay").run("/audit")
    assert "Only moderators" in chat.last_private("fay").text


async def test_a_report_reaches_the_moderators_and_its_author_hears_back(chat):
    await chat.as_member("gil").run('/report what:"A post in #general calls people names" link:https://example.org/m/1')
    assert chat.last_private("gil").text.startswith("Thank you for telling us.")
    card = chat.last_in("moderators").message
    assert card.title == "Report #1 from gil" and [b.label for b in card.buttons] == ["Handled"]
    await chat.run('/report what:"again"')
    assert chat.last_private("gil").text.startswith("You used /report a moment ago.")
    await chat.as_member("admin").run("/reports")
    assert chat.last_private("admin").text.startswith("#1 from gil: A post in #general calls people names")
    await chat.run(":channel moderators", ":press Handled")
    assert chat.last_dm("gil").text.startswith("The moderators have looked at your report (#1).")
    await chat.run('/report handled 1 note:"Spoke to them"')
    assert chat.last_private("admin").text == "Report #1 was already handled."
    assert (await actions(chat))[-1] == "report.handled"


async def test_the_audit_log_pages_back_to_the_first_entry_and_names_what_each_was_about(chat):
    await chat.as_member("admin").run(*[f"/partner add Partner{n:02d}" for n in range(1, 63)],
                                      '/badge grant @ann regular reason:"Came to the pilot"')
    await chat.run("/audit")
    first = chat.last_private("admin")
    lines = first.text.splitlines()
    assert lines[0].endswith('admin: gave the badge "Regular" to ann ("Came to the pilot")')
    assert len([line for line in lines if "partner.add" in line]) == 29
    assert lines[-1] == "Page 1. Older entries: the button below, or /audit page:2 with the same options."
    await chat.press("Older entries")
    second = chat.last_private("admin")
    assert second.text.splitlines()[0].endswith("partner.add Partner33") and len(second.message.buttons) == 1
    await chat.press("Older entries")
    last = chat.last_private("admin")
    assert last.text.splitlines()[-1].endswith("partner.add Partner01"), "the very first entry can be reached"
    assert "Older entries" not in last.text and not last.message.buttons, "no 'more' when there is no more"
    await chat.run("/audit page:9")
    assert chat.last_private("admin").text == "There are no older entries."
    await chat.run("/audit page:0", "/audit page:9007199254740991")
    assert chat.said("private admin")[-2].text.startswith("There is no page 0")
    assert chat.last_private("admin").text.startswith("There is no page 9007199254740991")
    await chat.run(":mod a|b", ":as a|b", "/partner add Pipe", "/audit moderator:@a|b")
    assert chat.last_private("a|b").text.endswith("a|b: partner.add Pipe"), "an id with a | in it still filters"


async def test_bare_words_that_cannot_be_the_next_option_stay_with_the_text_before_it(chat):
    await chat.as_member("gil").run("/report Someone keeps posting spam")
    report = dict(await chat.db.fetchone("SELECT what, link FROM reports WHERE id = 1"))
    assert report == {"what": "Someone keeps posting spam", "link": ""}, "not 'Someone' with the link 'keeps ...'"
    await chat.as_member("hal").run("/report Someone keeps posting spam https://example.org/m/1")
    report = dict(await chat.db.fetchone("SELECT what, link FROM reports WHERE id = 2"))
    assert report == {"what": "Someone keeps posting spam", "link": "https://example.org/m/1"}

    await chat.as_member("admin").run("/partner add KQED Public radio for the Bay Area https://www.kqed.org California",
                                      "/webinar add Listening across 2026-09-14 https://example.org/w1 How we listened",
                                      "/event create Listening session 2030-01-14 18:00 Europe/Berlin 90m Online")
    partner = dict(await chat.db.fetchone("SELECT name, description, website, region FROM partners"))
    assert partner == {"name": "KQED", "description": "Public radio for the Bay Area",
                       "website": "https://www.kqed.org", "region": "California"}
    webinar = dict(await chat.db.fetchone("SELECT title, held_on, link, description FROM webinars"))
    assert webinar == {"title": "Listening across", "held_on": "2026-09-14", "link": "https://example.org/w1",
                       "description": "How we listened"}
    event = dict(await chat.db.fetchone("SELECT title, starts_local, timezone, minutes, place FROM events"))
    assert event == {"title": "Listening session", "starts_local": "2030-01-14T18:00:00", "timezone": "Europe/Berlin",
                     "minutes": 90, "place": "Online"}
