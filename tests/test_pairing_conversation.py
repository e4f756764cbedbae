"""After the introduction, through the console: the pair's buttons, a time picked with its reminder,
pausing by date and after silence, the invitation to record, and the pulse's totals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest

from conversation import Chat, to_the_morning
from test_pairing import CONFIG, join, round_now, told

RECORD_URL = "https://record.example.org/book"
CONFIG_HERE = CONFIG.replace("[cogs.pairing]", f'[program]\nrecord_url = "{RECORD_URL}"\n[cogs.pairing]')


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, CONFIG_HERE)
    yield conversation
    await conversation.close()


async def paired(chat: Chat, first: str = "ann", second: str = "bo", **options: str) -> None:
    await join(chat, first, "aaaaa", **options)
    await join(chat, second, "ddddd", **options)
    await round_now(chat)


async def met(chat: Chat, name: str, rating: str | None = None) -> None:
    await chat.as_member(name).run(":press Yes, we met")
    if rating:
        await chat.press(rating)


def dms(chat: Chat, name: str, words: str) -> list[str]:
    return [d.text for d in chat.said(f"DM {name}") if words in d.text]


async def test_next_question_goes_through_the_communitys_questions_one_at_a_time(chat):
    await paired(chat)
    await chat.as_member("admin").run("/practice questions")
    questions = [line.split(". ", 1)[1] for line in chat.last_private("admin").text.splitlines() if line[:1].isdigit()]
    await chat.as_member("ann").run(":press Next question")
    assert told(chat, "ann") == f"Another question you might ask: {questions[1]}", "the first was in the introduction"
    await chat.press("Next question")
    assert told(chat, "ann") == f"Another question you might ask: {questions[2]}"
    assert not dms(chat, "bo", "Another question"), "outside a room, only the one who asked sees it"


async def test_a_time_picked_reaches_both_in_their_own_zones_with_a_calendar_file_and_one_reminder(chat):
    to_the_morning(chat.bot.clock)
    await join(chat, "ann", "aaaaa", zone="America/Chicago", times="3")
    await join(chat, "bo", "ddddd", zone="America/New_York", times="3")  # weekday evenings: 17-20 Chicago is shared
    await round_now(chat)
    await chat.as_member("ann").run(":press Suggest a time")
    offer = [d for d in chat.said("DM ann") if d.message.buttons and d.text.startswith("Hours you and bo")][-1]
    assert 1 <= len(offer.message.buttons) <= 5
    first = offer.message.buttons[0]
    assert first.label.endswith(", 18:00") or first.label.endswith(", 17:00"), first.label  # Chicago evening
    said = await chat.press("1")
    assert said[0].text == "Done: you and bo each have the time, in your own time zone.", "the answer comes first"
    ann_time, = dms(chat, "ann", "You picked a time to talk with bo: ")
    bo_time, = dms(chat, "bo", "ann picked a time for your conversation: ")
    ann_hour, ann_zone = ann_time.split(", for about an hour")[0].split(" ")[-2:]
    bo_hour, bo_zone = bo_time.split(", for about an hour")[0].split(" ")[-2:]
    assert (ann_zone, bo_zone) == ("CST", "EST"), "each in their own zone, named"
    assert int(bo_hour[:2]) == int(ann_hour[:2]) + 1, "the same moment (New York is an hour on)"
    ics = [d for d in chat.said("DM bo") if d.message.files][-1].message.files[0]
    assert ics.filename == "conversation.ics" and b"BEGIN:VEVENT" in ics.data and b"TZID=America/New_York" in ics.data
    assert b"SUMMARY:Conversation with ann" in ics.data

    moment = int(first.value.split(":")[1])
    left = moment - int(chat.bot.clock.now().timestamp())
    await chat.run(f":clock +{max(left // 60 - 70, 1)}m")
    assert not dms(chat, "ann", "In an hour: your conversation with bo")
    await chat.restart()
    await chat.run(":clock +15m")
    assert len(dms(chat, "ann", "In an hour: your conversation with bo")) == 1
    reminder, = dms(chat, "bo", "In an hour: your conversation with ann")
    assert f"({bo_time.split(': ', 1)[1].split(', for')[0]})" in reminder, "at the time bo was given"
    await chat.restart()
    await chat.run(":clock +2h")
    assert len(dms(chat, "bo", "In an hour: your conversation with ann")) == 1, "never twice"


async def test_a_new_time_replaces_the_reminder_of_the_old_one(chat):
    await paired(chat)
    await chat.as_member("ann").run(":press Suggest a time", ":press 1")
    await chat.as_member("bo").run(":press Suggest a time", ":press 2")
    statuses = {r["batch"]: r["status"] for r in await chat.db.fetchall(
        "SELECT batch, status FROM outbox WHERE batch LIKE 'pairing:reminder:%'")}
    assert sorted(statuses.values()) == ["pending", "withdrawn"], statuses
    second = datetime.fromisoformat(await chat.db.fetchval("SELECT meet_at FROM pairing_pairs"))
    await chat.run(f":clock +{int((second - chat.bot.clock.now()).total_seconds() // 60) - 30}m")
    assert len(dms(chat, "ann", "In an hour: your conversation with bo")) == 1


async def test_end_asks_first_then_tells_the_other_and_stops_the_questions(chat):
    await paired(chat)
    await chat.as_member("ann").run(":press End")
    assert told(chat, "ann").startswith("End your pairing with bo?")
    await chat.press("Keep talking")
    assert await chat.db.fetchval("SELECT ended_at FROM pairing_pairs") is None
    await chat.run(":press End", ":press Yes, end it")
    assert told(chat, "ann").startswith("Ended.")
    assert dms(chat, "bo", "ann has ended your pairing.")
    await chat.run(":clock +15d")
    assert not dms(chat, "ann", "manage to meet") and not dms(chat, "bo", "manage to meet")
    await chat.as_member("bo").run(":press Suggest a time")
    assert told(chat, "bo") == "Your pairing with ann is already over."


async def test_report_reaches_the_moderators_in_one_press_without_anything_written(chat):
    await paired(chat, avoid="our neighbour's dog")
    await chat.as_member("bo").run(":press Report")
    assert told(chat, "bo").startswith("Thank you for telling us.")
    card = chat.last_in("moderators").text
    assert "About pairing #1, with ann: the \"Report\" button was pressed" in card
    assert "never read the room's messages" in card and "dog" not in card
    assert await chat.db.fetchval("SELECT COUNT(*) FROM reports") == 1


async def test_pause_until_a_day_brings_them_back_that_day_and_tells_them(chat):
    await join(chat, "ann", "aaaaa", zone="America/Chicago")
    today = chat.bot.clock.now().date()
    await chat.as_member("ann").run("/pairing pause until:yesterday")
    assert "couldn't read \"yesterday\" as a day" in chat.last_private("ann").text
    await chat.run(f"/pairing pause until:{today.replace(year=today.year - 1)}")
    assert "has already come where you are" in chat.last_private("ann").text
    await chat.run(f"/pairing pause until:{today.replace(year=today.year + 11)}")
    assert "more than ten years away" in chat.last_private("ann").text
    back = today.fromordinal(today.toordinal() + 10)
    await chat.run(f"/pairing pause until:{back.isoformat()}")
    assert chat.last_private("ann").text.startswith(f"Paused until {back.strftime('%a')} {back.day} ")
    await join(chat, "bo", "ddddd")
    assert (await round_now(chat)).startswith("Only 1 member is in"), "ann is paused"
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_pairs") == 0
    await chat.run(":clock +9d")
    assert not dms(chat, "ann", "Welcome back")
    await chat.restart()
    await chat.run(":clock +2d")
    assert len(dms(chat, "ann", "Welcome back: your pause is over")) == 1
    assert await chat.db.fetchval("SELECT status FROM pairing_members WHERE member_id = 'ann'") == "in"
    await chat.run(":clock +1d")
    assert len(dms(chat, "ann", "Welcome back")) == 1, "told once"


async def test_two_introductions_let_pass_in_a_row_pause_a_member_kindly(chat):
    await paired(chat, "ann", "bo")
    await chat.run(":clock +7d1h")
    await chat.as_member("bo").run(":press Not yet")  # bo answers; ann never does
    await chat.run(":clock +7d1h", ":clock +7d1h")  # asked twice; a week after the second, it is over
    assert await chat.db.fetchval("SELECT silent FROM pairing_members WHERE member_id = 'ann'") == 1
    assert await chat.db.fetchval("SELECT silent FROM pairing_members WHERE member_id = 'bo'") == 0
    assert await chat.db.fetchval("SELECT status FROM pairing_members WHERE member_id = 'ann'") == "in"

    await join(chat, "cy", "ddddd")
    await round_now(chat)  # ann and cy
    await chat.as_member("cy").run(":press Suggest a time")  # cy takes part; ann is silent again
    await chat.run(":clock +7d1h", ":clock +7d1h", ":clock +7d1h")
    assert await chat.db.fetchval("SELECT status FROM pairing_members WHERE member_id = 'ann'") == "paused"
    assert await chat.db.fetchval("SELECT status FROM pairing_members WHERE member_id = 'cy'") == "in"
    paused, = dms(chat, "ann", "so I've paused pairing for you")
    assert paused.startswith("I haven't heard from you about your last 2 pairings")
    assert "/pairing resume" in paused
    await chat.as_member("ann").run("/pairing resume")
    assert await chat.db.fetchval("SELECT silent FROM pairing_members WHERE member_id = 'ann'") == 0


async def test_a_button_pressed_is_a_sign_of_taking_part(chat):
    await paired(chat, "ann", "bo")
    await chat.as_member("ann").run(":press Next question")  # no answer to "Did you meet?", but a press
    await chat.run(":clock +7d1h", ":clock +7d1h", ":clock +7d1h")
    assert await chat.db.fetchval("SELECT silent FROM pairing_members WHERE member_id = 'ann'") == 0
    assert await chat.db.fetchval("SELECT silent FROM pairing_members WHERE member_id = 'bo'") == 1


async def test_both_yes_to_recording_sends_each_the_link_and_earns_the_badge(chat):
    await paired(chat)
    await chat.run(":clock +7d1h")
    await met(chat, "ann", "5")
    assert not dms(chat, "ann", "Would you record"), "invited only when both met and both rated it"
    await met(chat, "bo", "4")
    invite, = dms(chat, "ann", "Would you record a conversation with bo?")
    assert "rated" not in invite and "5" not in invite, "nothing of the other's rating"
    assert dms(chat, "bo", "Would you record a conversation with ann?")
    await chat.as_member("ann").run(":press Yes, let's record")
    assert told(chat, "ann") == "Thank you! I'll let you know as soon as bo answers."
    assert not dms(chat, "ann", RECORD_URL)
    said = await chat.as_member("bo").run(":press Yes, let's record")
    assert [d.text for d in said if d.where == "DM bo"][0].startswith("Wonderful, you both said yes.")
    for name in ("ann", "bo"):
        link, = dms(chat, name, RECORD_URL)
        assert "both said yes to recording" in link
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'pairing.recording_agreed'") == 2
    held = {r[0] for r in await chat.db.fetchall("SELECT member_id FROM badge_awards WHERE badge = 'for-the-archive'")}
    assert held == {"ann", "bo"}
    await chat.as_member("ann").run(":press No, thanks")
    assert told(chat, "ann") == "You both said yes already: the link is in your direct messages."
    await chat.as_member("admin").run("/pairing stats")
    assert "1 pair, 1 met (100%), 1 agreed to record" in chat.last_private("admin").text


async def test_one_no_to_recording_and_the_other_hears_only_that_it_wont_happen(chat):
    await paired(chat)
    await chat.run(":clock +7d1h")
    await met(chat, "ann", "5")
    await met(chat, "bo", "5")
    await chat.as_member("bo").run(":press No, thanks")
    assert told(chat, "bo").startswith("That's fine, thank you for saying.")
    news, = dms(chat, "ann", "About recording your conversation")
    assert news == "About recording your conversation with bo: it won't happen this time. Thank you for being open to it."
    await chat.as_member("ann").run(":press Yes, let's record")
    assert told(chat, "ann") == "It won't happen this time, but thank you."
    assert not dms(chat, "ann", RECORD_URL) and not dms(chat, "bo", RECORD_URL)
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'pairing.recording_agreed'") == 0


async def test_a_rating_below_four_means_no_invitation(chat):
    await paired(chat)
    await chat.run(":clock +7d1h")
    await met(chat, "ann", "5")
    await met(chat, "bo", "3")
    assert not dms(chat, "ann", "Would you record") and not dms(chat, "bo", "Would you record")


async def test_the_pulse_shows_only_the_change_and_only_from_five_and_is_erased_with_ones_data(chat, tmp_path):
    names = [("m0", "n0"), ("m1", "n1"), ("m2", "n2"), ("m3", "n3"), ("m4", "n4")]
    for first, second in names:
        await join(chat, first, "aaaaa", feeling="30")
        await join(chat, second, "ddddd")  # the second of each pair does not answer the pulse
    await round_now(chat)
    await chat.run(":clock +7d1h")
    made = await chat.db.fetchall("SELECT member_a, member_b FROM pairing_pairs ORDER BY id")
    pressed = {}
    for n, row in enumerate(made):
        first, second = sorted((row["member_a"], row["member_b"]))  # m.. answered the pulse when joining, n.. not
        await met(chat, first, "4")
        assert not dms(chat, first, "as when you joined"), "asked once both said they met, and after rating it"
        await met(chat, second, "3")
        assert not dms(chat, second, "as when you joined"), "asked again only of those who answered when joining"
        asked = [d for d in chat.said(f"DM {first}") if "as when you joined" in d.text][-1]
        assert [b.label for b in asked.message.buttons][:2] == ["0 (cold)", "10"]
        await chat.as_member(first).run(":press 6" if n < 4 else ":press 11")  # 50, or 100 (by number: digits)
        pressed[first] = 50 if n < 4 else 100
        await chat.as_member("admin").run("/pairing stats")
        stats = chat.last_private("admin").text
        if n < 4:
            assert "shown once five members have answered both" in stats and "+20" not in stats
    assert "+30.0 on average from joining to after a conversation, among the 5 who answered both" in stats
    assert "m0" not in stats
    await chat.close()
    for fmt in ("json", "csv"):
        result = subprocess.run([sys.executable, "-m", "bot", "export", "pairing-impact", "--format", fmt,
                                 "--db", str(chat.database)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        if fmt == "json":
            assert json.loads(result.stdout) == [{"community": "console:local", "answered_both": 5,
                                                  "change_in_average": 30.0}]
        else:
            assert result.stdout.splitlines() == ["community,answered_both,change_in_average", "console:local,5,30.0"]
    await chat._start()

    await chat.as_member("m0").run("/my-data export")
    exported = json.loads([d for d in chat.said("DM m0") if d.message.files][-1].message.files[0].data)
    rows = [row for row in _dicts(exported) if row.get("moment") in ("before", "after")]
    assert {(row["moment"], row["feeling"]) for row in rows} == {("before", 30), ("after", pressed["m0"])}, \
        "their own answers"
    await chat.run("/my-data delete", ":press Yes, erase my data")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_pulse WHERE member_id = 'm0'") == 0
    await chat.as_member("admin").run("/pairing stats")
    assert "shown once five members have answered both" in chat.last_private("admin").text
    await chat.close()
    result = subprocess.run([sys.executable, "-m", "bot", "export", "pairing-impact", "--db", str(chat.database)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[1] == "console:local,fewer than 5,", "four are too few to show"
    await chat._start()


def _dicts(data):
    """Every dict inside some JSON, however deep."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _dicts(value)
    elif isinstance(data, list):
        for value in data:
            yield from _dicts(value)
