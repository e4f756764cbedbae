"""Step 6, events: create and announce, RSVP with counts, capacity and a waitlist, edits and
cancellations told to those going, reminders through the clock (across restarts and a
daylight-saving change), calendar files parsed back, and every mistake explained."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from conversation import Chat

CONFIG = '[cogs]\nenabled = ["partners", "events"]\n[console]\nread_only_channels = ["announcements"]\n'
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, CONFIG)
    await conversation.as_member("admin").run('/partner add KQED region:California')
    yield conversation
    await conversation.close()


def local(chat: Chat, days: int, hour: int = 18, zone: ZoneInfo = BERLIN) -> datetime:
    """A wall-clock time `days` from the bot's today, in `zone`."""
    today = chat.bot.clock.now().astimezone(zone).date()
    return datetime(today.year, today.month, today.day, hour, 0) + timedelta(days=days)


async def move_to(chat: Chat, moment: datetime) -> None:
    """Move the bot's clock forward to `moment` (aware); due jobs run, as with :clock."""
    seconds = int((moment - chat.bot.clock.now()).total_seconds()) + 1
    assert seconds > 0, "the clock only moves forward"
    await chat.run(f":clock +{seconds // 86400}d{seconds % 86400}s")
    assert chat.bot.clock.now() >= moment


async def create(chat: Chat, when: datetime, extra: str = "", title: str = "Listening session") -> None:
    await chat.as_member("admin").run(
        f'/event create title:"{title}" start:"{when:%Y-%m-%d %H:%M}" timezone:Europe/Berlin duration:90m'
        f' place:"Library, Room 2" description:"Two recorded conversations, then talk." {extra}')


def dms(chat: Chat, name: str) -> list[str]:
    return [d.text for d in chat.said(f"DM {name}")]


def answers_line(chat: Chat, channel: str) -> str:
    card = chat.last(next(d.where for d in reversed(chat.transcript) if d.where.startswith(f"#{channel}"))).message
    return next(f.value for f in card.fields if f.name == "Who is coming")


async def press_on_announcement(chat: Chat, name: str, label: str, channel: str = "events") -> None:
    await chat.as_member(name).run(f":channel {channel}", f":press {label}")


async def test_an_event_is_announced_in_each_channel_and_its_counts_follow_the_answers(chat):
    when = local(chat, 5)
    await create(chat, when, 'channels:"#events #general" partner:kqed')
    created = chat.last_private("admin").text
    assert created.startswith("Event #1 is on: Listening session") and "Announcing it in #events, #general." in created
    (announcement,) = [d for d in chat.said("#events")]
    card = announcement.message
    assert card.title == "Listening session" and [b.label for b in card.buttons] == [
        "Going", "Maybe", "Can't go", "Add to my calendar"]
    fields = {f.name: f.value for f in card.fields}
    assert fields["When"].startswith(f"{when.strftime('%a')} {when.day} ") and "18:00–19:30 CE" in fields["When"]
    assert fields["Where"] == "Library, Room 2" and fields["With"] == "KQED"
    assert len(chat.said("#general")) == 1

    await press_on_announcement(chat, "alice", "Going")
    assert chat.last_private("alice").text.startswith("You're going to Listening session")
    assert "I'll remind you 24 h and 1 h before." in chat.last_private("alice").text
    await press_on_announcement(chat, "bob", "Maybe")
    assert answers_line(chat, "events") == "Going: 1 · Maybe: 1"
    assert answers_line(chat, "general") == "Going: 1 · Maybe: 1", "every announcement is kept current"
    await press_on_announcement(chat, "bob", "Going")  # changing one's answer
    assert answers_line(chat, "events") == "Going: 2 · Maybe: 0"
    rsvps = await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'event.rsvp'")
    await press_on_announcement(chat, "bob", "Can't go")
    await press_on_announcement(chat, "bob", "Going")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'event.rsvp'") == rsvps == 2, \
        "event.rsvp once per member and event"


async def test_a_full_event_offers_a_waitlist_that_moves_up(chat):
    await create(chat, local(chat, 5), "capacity:2 channels:#events")
    await press_on_announcement(chat, "alice", "Going")
    await press_on_announcement(chat, "bob", "Going")
    assert "Full: 0 on the waitlist" in answers_line(chat, "events")
    await press_on_announcement(chat, "cara", "Join the waitlist")
    assert "you're on the waitlist, number 1" in chat.last_private("cara").text
    await press_on_announcement(chat, "dan", "Join the waitlist")
    assert "number 2" in chat.last_private("dan").text
    assert answers_line(chat, "events") == "Going: 2 of 2 places · Maybe: 0 · Full: 2 on the waitlist"

    await press_on_announcement(chat, "bob", "Can't go")
    assert "A place came free at Listening session" in dms(chat, "cara")[-1]
    assert not dms(chat, "dan"), "dan is still waiting"
    assert answers_line(chat, "events") == "Going: 2 of 2 places · Maybe: 0 · Full: 1 on the waitlist"
    await chat.as_member("admin").run("/event edit 1 capacity:3")
    assert "A place came free" in dms(chat, "dan")[-1], "more places move the waitlist up too"
    await press_on_announcement(chat, "eli", "Join the waitlist")
    await press_on_announcement(chat, "fay", "Join the waitlist")
    await chat.as_member("admin").run("/event edit 1 capacity:0")
    assert chat.last_private("admin").text == ("Event #1 is updated, and its announcements too. It has no limit on"
                                               " places any more. 2 people moved up from the waitlist and are going"
                                               " now; I'm telling them."), "capacity:0 says what it does"


async def test_an_edit_updates_the_announcements_and_tells_those_going(chat):
    when = local(chat, 5)
    await create(chat, when, "channels:#events")
    await press_on_announcement(chat, "alice", "Going")
    await press_on_announcement(chat, "bob", "Maybe")
    later = when + timedelta(days=1, hours=1)
    await chat.as_member("admin").run(f'/event edit 1 start:"{later:%Y-%m-%d %H:%M}" channels:#general')
    assert chat.last_private("admin").text == ("Event #1 is updated, and its announcements too."
                                               " I'm telling the 1 person going of the change.")
    assert "19:00–20:30" in next(f.value for f in chat.last("#events, message " + chat.said("#events")[0].message_id
                                                           + " edited").message.fields if f.name == "When")
    assert len(chat.said("#general")) == 1, "the new channel got the announcement"
    assert f"it is now on {later.strftime('%a')} {later.day}" in dms(chat, "alice")[-1]
    assert not dms(chat, "bob"), "only those going are told"
    await chat.run("/event edit 1 title:\"Listening session\"")
    assert chat.last_private("admin").text.startswith("Nothing to change")


async def test_a_cancellation_asks_first_then_tells_those_going_and_stops_reminders(chat):
    when = local(chat, 5)
    await create(chat, when, "channels:#events")
    await press_on_announcement(chat, "alice", "Going")
    await chat.as_member("admin").run('/event cancel 1 reason:"The speaker is ill."', ":press Keep it")
    assert await chat.db.fetchval("SELECT status FROM events") == "scheduled"
    await chat.run('/event cancel 1 reason:"The speaker is ill."')
    assert 'The one person going (or waiting) will be told: "The speaker is ill."' in chat.last_private("admin").text
    await chat.run(":press Yes, cancel it")
    assert dms(chat, "alice")[-1] == ("Listening session is cancelled: The speaker is ill. Sorry, and thank you for"
                                      " wanting to come.")
    edited = chat.said(f"#events, message {chat.said('#events')[0].message_id} edited")[-1].message
    assert edited.title == "Cancelled: Listening session" and edited.buttons == []
    await move_to(chat, (when - timedelta(hours=2)).replace(tzinfo=BERLIN))
    assert not [t for t in dms(chat, "alice") if t.startswith("Reminder")], "no reminders for a cancelled event"
    await press_on_announcement(chat, "bob", "1")  # an old button, pressed after all: told, nothing recorded
    assert chat.last_private("bob").text == "Listening session is cancelled."

    await create(chat, when, "channels:#events", title="Picnic")
    await press_on_announcement(chat, "alice", "Going")
    await chat.as_member("admin").run('/event cancel 2 reason:"Venue flooded"', ":press Yes, cancel it")
    assert dms(chat, "alice")[-1] == "Picnic is cancelled: Venue flooded. Sorry, and thank you for wanting to come."


async def test_reminders_come_once_each_across_a_restart(chat):
    when = local(chat, 3).replace(tzinfo=BERLIN)
    await create(chat, when.replace(tzinfo=None), "channels:#events")
    await press_on_announcement(chat, "alice", "Going")
    await move_to(chat, when - timedelta(hours=24, minutes=2))
    assert not [t for t in dms(chat, "alice") if t.startswith("Reminder")]
    await move_to(chat, when - timedelta(hours=23, minutes=59))
    (first,) = [t for t in dms(chat, "alice") if t.startswith("Reminder")]
    assert first.startswith("Reminder: Listening session starts in 23 hours") and "Library, Room 2" in first
    await chat.restart()
    await chat.run(":clock +5m", ":clock +5m")
    assert len([t for t in dms(chat, "alice") if t.startswith("Reminder")]) == 1, "not twice, even after a restart"
    await move_to(chat, when - timedelta(minutes=59))
    reminders = [t for t in dms(chat, "alice") if t.startswith("Reminder")]
    assert len(reminders) == 2 and reminders[1].startswith("Reminder: Listening session starts in 59 minutes")


async def test_a_reminder_due_while_the_bot_was_down_is_sent_late_only_before_the_start(chat):
    soon = local(chat, 3).replace(tzinfo=BERLIN)
    await create(chat, soon.replace(tzinfo=None), "channels:#events", title="Soon")
    await create(chat, (soon + timedelta(hours=5)).replace(tzinfo=None), "channels:#events", title="Later")
    await press_on_announcement(chat, "alice", "Going")  # on "Later", the last announcement
    await chat.as_member("alice").run("/event 1", ":press Going")
    # Down from days before both until half an hour after "Soon" began (4.5 hours before "Later").
    await chat.restart(later=soon + timedelta(minutes=30) - chat.bot.clock.now())
    reminders = [t for t in dms(chat, "alice") if t.startswith("Reminder")]
    assert reminders == [next(t for t in reminders if "Later" in t)], "Soon had begun: no late reminder"
    assert "starts in 4 hours" in reminders[0], "one reminder, the nearest, not 24 h and 1 h at once"
    statuses = await chat.db.fetchall("SELECT batch, status FROM outbox WHERE batch LIKE 'events:reminder:%'")
    assert [r["status"] for r in statuses] == ["sent"]


async def test_a_weekly_event_keeps_its_wall_clock_time_across_daylight_saving(chat):
    change = next_change(chat.bot.clock.now(), BERLIN)
    first = datetime.combine(change - timedelta(days=1), datetime.min.time()).replace(hour=18)  # the eve
    before = first.replace(tzinfo=BERLIN).utcoffset()
    await create(chat, first, "channels:#events repeat:weekly")
    await press_on_announcement(chat, "alice", "Going")
    await chat.run("/timezone set Europe/Berlin")
    second = (first + timedelta(days=7)).replace(tzinfo=BERLIN)
    assert second.utcoffset() != before, "the second occurrence falls after the change"
    await move_to(chat, second - timedelta(hours=24, minutes=1))
    count = len([t for t in dms(chat, "alice") if t.startswith("Reminder")])
    await move_to(chat, second - timedelta(hours=23, minutes=58))
    latest = [t for t in dms(chat, "alice") if t.startswith("Reminder")]
    assert len(latest) == count + 1, "24 hours before the moment, which moved by an hour in UTC"
    assert f", 18:00 {second.tzname()})" in latest[-1], "still 18:00 on the wall clock"
    ics = await calendar_of(chat, "/event calendar 1")
    (event,) = ics.walk("VEVENT")
    assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["DTSTART"].dt.tzinfo.key == "Europe/Berlin"


async def test_calendar_files_read_back_with_icalendar(chat):
    when = local(chat, 4)
    await create(chat, when, "channels:#events")
    await create(chat, when + timedelta(days=2), "channels:#events", title="Second talk")
    (event,) = (await calendar_of(chat, "/event calendar 1")).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Listening session" and str(event["LOCATION"]) == "Library, Room 2"
    assert event["DTSTART"].dt == when.replace(tzinfo=BERLIN)
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=90)
    everything = await calendar_of(chat, "/event calendar")
    assert [str(e["SUMMARY"]) for e in everything.walk("VEVENT")] == ["Listening session", "Second talk"]
    assert everything.walk("VTIMEZONE"), "the zone travels with the file"


async def calendar_of(chat: Chat, line: str) -> icalendar.Calendar:
    await chat.as_member("alice").run(line)
    (saved,) = chat.last_private("alice").saved
    return icalendar.Calendar.from_ical(saved.read_bytes())


async def test_members_see_times_in_their_own_zone(chat):
    await create(chat, local(chat, 5), "channels:#events")
    await chat.as_member("alice").run("/timezone")
    assert "You haven't chosen a time zone, so your times are shown in UTC." in chat.last_private("alice").text
    await chat.run("/timezone set america/chicgo")
    assert "Did you mean America/Chicago" in chat.last_private("alice").text
    await chat.run("/timezone set zone:America/Chicago")
    assert chat.last_private("alice").text.startswith("Done: your times are shown in America/Chicago now")
    await chat.run("/events")
    assert ", 11:00: Listening session (/event 1)" in chat.last_private("alice").text
    await chat.run("/event 1")
    when = next(f.value for f in chat.last_private("alice").message.fields if f.name == "When")
    assert "11:00–12:30 CST (your time; it is set in Europe/Berlin)" in when


async def test_mistakes_are_explained_and_nothing_is_created(chat):
    async def reply(line: str) -> str:
        await chat.as_member("admin").run(line)
        return chat.last_private("admin").text

    soon = local(chat, 3)
    base = f'/event create title:Talk start:"{soon:%Y-%m-%d %H:%M}"'
    assert (await reply('/event create title:Talk start:"2020-01-01 18:00"')).startswith("That start is in the past")
    assert "would end before it starts" in await reply(f"{base} duration:17:00")
    assert 'There is no partner called "kqde". Did you mean "KQED"?' in await reply(f"{base} partner:kqde")
    assert "Did you mean Europe/Berlin" in await reply(f"{base} timezone:Europe/Berln")
    assert "I can't post in #announcements: #announcements is read-only" in await reply(f"{base} channels:#announcements")
    assert "I can't read \"every tuesday\" as a repetition" in await reply(f'{base} repeat:"every tuesday"')
    assert "has no time of day" in await reply('/event create title:Talk start:2027-01-05')
    assert (await reply("/event 99")).startswith('There is no event "99"')
    assert (await reply("/event 1.5")).startswith('"1.5" is not an event\'s number: write a whole number')
    assert (await reply('/event " 1 "')).startswith('" 1 " is not an event\'s number')
    assert await chat.db.fetchval("SELECT COUNT(*) FROM events") == 0
    await chat.as_member("bob").run(f"{base}")
    assert "Only moderators" in chat.last_private("bob").text


def when_of(chat: Chat, name: str) -> str:
    return next(f.value for f in chat.last_private(name).message.fields if f.name == "When")


async def test_repeating_events_say_how_they_repeat_in_words_and_are_listed_once(chat):
    first = local(chat, 3)
    rules = {"FREQ=WEEKLY;BYDAY=TU;COUNT=6": "every Tuesday, 6 times",
             "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO": "every other week on Monday",
             "FREQ=MONTHLY;BYDAY=1MO": "monthly on the first Monday",
             "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20991231T000000": "monthly on the last Friday, until 31 December 2099",
             "weekly": f"every {first:%A}", "FREQ=WEEKLY;BYDAY=MO,WE,FR": "every Monday, Wednesday and Friday",
             "FREQ=MONTHLY;BYMONTH=1,7": "on a custom schedule"}
    for number, rule in enumerate(rules, start=1):
        await create(chat, first, f'repeat:"{rule}"', title=f"Series {number}")
        assert f", repeating {rules[rule]}." in chat.last_private("admin").text
        await chat.run(f"/event {number}")
        text = when_of(chat, "admin")
        assert f"\nIt repeats {rules[rule]}; this is the next one." in text, "on its own line, in words"
        assert "FREQ" not in text
    await chat.run("/events")
    listing = chat.last_private("admin").text
    assert listing.count("Series 1") == 1, "a series is listed once, at its next date"
    assert f"(/event 1), repeating every Tuesday, 6 times" in listing and "FREQ" not in listing


async def test_an_event_past_midnight_shows_the_end_day_and_a_cancelled_past_one_says_so(chat):
    late = local(chat, 3, hour=23)
    await chat.as_member("admin").run(f'/event create title:Vigil start:"{late:%Y-%m-%d %H:%M}" timezone:Europe/Berlin'
                                      " duration:3h", "/timezone set Europe/Berlin", "/event 1")
    end = late + timedelta(hours=3)
    assert f"23:00–{end:%a} {end.day} {end:%b} {end.year}, 02:00 CET." in when_of(chat, "admin")
    await chat.run("/event cancel 1", ":press Yes, cancel it")
    await move_to(chat, (late + timedelta(hours=4)).replace(tzinfo=BERLIN))
    await chat.run("/event 1")
    assert when_of(chat, "admin") == "It was cancelled.", "not 'It has taken place'"


async def test_the_long_fields_can_be_given_one_at_a_time_by_dm(chat):
    soon = local(chat, 6)
    await chat.as_member("admin").run("/event create place:Online")
    assert "What's it called" in chat.last_dm("admin").text or "New event" in chat.last_dm("admin").message.title
    await chat.run(":dm Reading group", f":dm {soon:%Y-%m-%d} 19:00", ":dm Europe/Berlin", ":dm 2h")
    assert "Where is it?" not in chat.last_dm("admin").text, "the place given with the command is kept"
    await chat.run(":dm We read one conversation together.", ":dm skip", ":dm #events #announcements", ":dm skip",
                   ":dm skip", ":dm submit")
    assert "I can't post in #announcements" in chat.last_dm("admin").text, "the answers come back to fix"
    await chat.run(":dm edit 8", ":dm #events", ":dm submit")
    assert await chat.db.fetchval("SELECT title FROM events") == "Reading group"
    assert [d.message.title for d in chat.said("#events")] == ["Reading group"]


async def test_attendance_is_marked_once_after_the_start_saying_who_had_not_answered(chat):
    when = local(chat, 2)
    await create(chat, when, "channels:#events")
    await press_on_announcement(chat, "alice", "Going")
    await chat.as_member("admin").run("/event attended 1 @alice")
    assert chat.last_private("admin").text.startswith("Listening session (event #1) hasn't started yet: it starts")
    await move_to(chat, when.replace(tzinfo=BERLIN) + timedelta(minutes=5))
    await chat.as_member("admin").run("/event attended 1 @alice @bob @bob", "/event attended 1 @alice @zed")
    assert chat.said("private admin")[-2].text == ("Marked alice and bob as there at Listening session (event #1)."
                                                   " bob had not answered the event; marked all the same.")
    assert chat.last_private("admin").text == ("Marked zed as there at Listening session (event #1). alice was"
                                               " already marked. zed had not answered the event; marked all the same.")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'event.attended'") == 3
    await chat.run("/audit")
    assert "admin: marked zed as there at event #1 (Listening session)" in chat.last_private("admin").text


async def test_an_announcement_interrupted_by_a_crash_reaches_every_channel_exactly_once(chat):
    channels = [f"room{i}" for i in range(6)]
    shown: list[str] = []
    record = chat.adapter.observe

    class Crash(BaseException):
        pass

    def dies_after_two(delivery) -> None:
        if delivery.message.title == "Big day" and not delivery.where.endswith("edited"):
            if len(shown) == 2:
                raise Crash()
            shown.append(delivery.where)
        record(delivery)

    chat.adapter.observe = dies_after_two
    with pytest.raises(Crash):
        await create(chat, local(chat, 4), f'channels:"{" ".join("#" + c for c in channels)}"', title="Big day")
    chat.adapter.observe = record
    await chat.restart()
    await chat.run(":as admin")
    posted = [d.where for d in chat.transcript if d.message.title == "Big day" and not d.where.endswith("edited")]
    assert sorted(posted) == sorted(f"#{c}" for c in channels)


async def test_a_partners_page_lists_its_upcoming_events(chat):
    await create(chat, local(chat, 4), "channels:#events partner:KQED")
    await chat.as_member("alice").run("/partner kqed")
    upcoming = next(f.value for f in chat.last_private("alice").message.fields if f.name == "Upcoming events")
    assert "Listening session (/event 1)" in upcoming


def next_change(after: datetime, zone: ZoneInfo):
    """The first day after `after` on which `zone`'s offset from UTC changes."""
    day = after.astimezone(zone).date() + timedelta(days=2)
    offset = datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
    while datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset() == offset:
        day += timedelta(days=1)
    return day


async def test_a_stored_repeat_rule_that_never_occurs_leaves_the_event_without_dates(chat):
    """A rule kept from before rules were checked (Feb 30 every day) is no longer looked for until the
    year 9999: the event simply has no coming dates, and the reminders' job carries on."""
    await create(chat, local(chat, 3), "channels:#events")
    await create(chat, local(chat, 4), "channels:#events", title="Book club")
    await chat.db.execute("UPDATE events SET recurrence = 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30' WHERE id = 1")
    await chat.run(":clock +2m")  # the reminders' job runs over both
    await chat.as_member("mo").run("/events")
    listed = chat.last_private("mo").text
    assert "Book club" in listed and "Listening session" not in listed
    await chat.run(":channel events", "/event 1")
    assert chat.last_private("mo").message.title == "Listening session"
    assert chat.last_private("mo").message.buttons == [], "nothing to answer: no date is coming"


async def test_with_threads_changes_a_cancellation_and_starting_soon_are_posted_under_each_announcement(tmp_path):
    chat = await Chat.open(tmp_path, CONFIG + "[cogs.events]\nthreads = true\n")
    try:
        when = local(chat, 3).replace(tzinfo=BERLIN)
        await create(chat, when.replace(tzinfo=None), 'channels:"#events #general"')
        announced = {d.where: d for d in chat.transcript if d.message.title == "Listening session"}
        assert [announced[c].message.thread for c in ("#events", "#general")] == ["Listening session"] * 2
        threads = {c: f"{c}, thread of message {announced[c].message_id}" for c in ("#events", "#general")}
        later = when + timedelta(hours=1)
        await chat.as_member("admin").run(f'/event edit 1 start:"{later:%Y-%m-%d %H:%M}"')
        for where in threads.values():
            (changed,) = chat.said(where)
            assert changed.text.startswith(f"This event has changed: it is now on {later:%a} {later.day}")
            assert f", 19:00 {later.tzname()}" in changed.text, "in the event's own zone, on the console"
        await chat.as_member("admin").run("/event edit 1 description:\"Bring a friend.\"")
        assert all(len(chat.said(where)) == 1 for where in threads.values()), "nothing to say about a new description"

        await move_to(chat, later - timedelta(minutes=61))
        assert all(len(chat.said(where)) == 1 for where in threads.values())
        await move_to(chat, later - timedelta(minutes=59))
        await chat.restart()
        await chat.run(":clock +1m")
        for where in threads.values():
            soon = [d.text for d in chat.said(where) if d.text.startswith("Starting soon")]
            assert soon == [f"Starting soon: Listening session begins in 59 minutes ({later:%a} {later.day}"
                            f" {later:%b} {later.year}, 19:00 {later.tzname()}), Library, Room 2."], \
                "once, across a restart"

        await chat.as_member("admin").run('/event cancel 1 reason:"The speaker is ill."', ":press Yes, cancel it")
        for where in threads.values():
            assert chat.said(where)[-1].text == "Listening session is cancelled: The speaker is ill."
    finally:
        await chat.close()


async def test_without_threads_nothing_is_posted_under_the_announcements(chat):
    when = local(chat, 3)
    await create(chat, when, "channels:#events")
    (announcement,) = chat.said("#events")
    assert announcement.message.thread == ""
    await chat.as_member("admin").run(f'/event edit 1 start:"{when + timedelta(hours=1):%Y-%m-%d %H:%M}"',
                                      "/event cancel 1", ":press Yes, cancel it")
    assert not [d for d in chat.transcript if ", thread of message" in d.where]


async def test_forty_simultaneous_goings_from_four_bots_on_one_database_fill_exactly_five_places(tmp_path):
    """Four bots on one database, as four processes would be (on PostgreSQL each has connections of its own,
    whose transactions run side by side): forty members answer Going at once to an event with five places.
    The answer locks the event's row, so five go and thirty-five wait (without the lock, 22 went)."""
    from cogs.events.store import GOING, WAITLIST

    from bot.core import Community, Member

    chats = [await Chat.open(tmp_path, CONFIG) for _ in range(4)]
    try:
        await create(chats[0], local(chats[0], 5), "capacity:5 channels:#events")
        community = Community("console", "local")
        event = await chats[0].bot.cogs.loaded["events"].store.get(community, 1)
        assert event.capacity == 5

        async def going(chat: Chat, n: int) -> str:
            member = Member("console", f"member{n}", f"Member {n}")
            async with chat.bot.db.transaction() as tx:
                recorded, _, _ = await chat.bot.cogs.loaded["events"].store.answer(
                    tx, community, event, member, GOING, chat.bot.clock.now())
            return recorded

        answered = await asyncio.gather(*(going(chats[n % 4], n) for n in range(40)))
        assert sorted(Counter(answered).items()) == [(GOING, 5), (WAITLIST, 35)]
        kept = await chats[0].db.fetchall("SELECT answer, COUNT(*) AS n FROM event_rsvps GROUP BY answer ORDER BY answer")
        assert [(row["answer"], row["n"]) for row in kept] == [(GOING, 5), (WAITLIST, 35)]
    finally:
        for chat in chats:
            await chat.close()
