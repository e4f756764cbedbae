"""Events that feel native on Discord, through the real discord.py against the fake Discord: each event copied
into the server's own Events list (created, edited, cancelled, ended, rolled on to a series' next occurrence),
the interested-member DM once, times as Discord's timestamp markup, a thread per announcement, and a
server that gives the bot no Create Events."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.cli import check_config
from fakes.discord_server import (CONNECT, CREATE_EVENTS, CREATE_PUBLIC_THREADS, EVENT_ACTIVE, EVENT_CANCELED,
                                  EVENT_COMPLETED, EVENT_EXTERNAL, EVENT_SCHEDULED, EVENT_VOICE)
from test_discord import ADMIN, ALICE, BOB, GENERAL, GUILD, Harness, buttons_of, connect, embed_of  # noqa: F401

START = datetime(2030, 1, 14, 18, 0, tzinfo=timezone.utc)  # the bot's zone is UTC: so is a start typed without one
ROOM = 3100  # a voice channel


def options(**values: str) -> list[dict]:
    return [{"name": name, "type": 3, "value": value} for name, value in values.items()]


async def event_command(harness: Harness, sub: str, user: int = ADMIN, **values: str) -> dict:
    """/event <sub> with these options, answered."""
    interaction = await harness.fake.slash_command(user, "event", [{"name": sub, "type": 1, "options": options(**values)}])
    return await harness.answer_to(interaction)


async def create(harness: Harness, **extra: str) -> None:
    values = {"title": "Listening session", "start": f"{START:%Y-%m-%d %H:%M}", "duration": "90m",
              "place": "Library, Room 2", "channels": f"<#{GENERAL}>", **extra}
    await event_command(harness, "create", **values)


def announcement(harness: Harness) -> dict:
    return next(m for m in harness.fake.channel_messages if m["channel_id"] == GENERAL)


async def listed(harness: Harness, count: int = 1) -> list[dict]:
    await harness.fake.wait_for(lambda: len(harness.fake.scheduled_events) >= count)
    return list(harness.fake.scheduled_events.values())


async def jobs_at(harness: Harness, moment: datetime) -> None:
    """Move the bot's clock (and Discord's) to `moment`, and run what fell due, as the scheduler would."""
    harness.bot.clock.advance(moment - harness.bot.clock.now())
    harness.fake.now = harness.bot.clock.now
    await harness.bot.scheduler.run_due()


async def heard(harness: Harness, count: int) -> None:
    """Until the bot has taken `count` interested marks in all (each is recorded as it is heard), and sent what
    they called for."""
    async def taken() -> bool:
        return await harness.bot.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name ="
                                             " 'event_mirror.interested'") >= count

    for _ in range(200):
        if await taken():
            break
        await asyncio.sleep(0.02)
    assert await taken()
    await harness.bot.outbox.idle()


def offers(harness: Harness, member: int) -> list[dict]:
    """The DMs offering `member` our Going/Maybe (not the badge for step 5, which joining sends as well)."""
    return [m for m in harness.fake.messages_to(member)
            if (m["data"].get("content") or "").startswith("You marked")]


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


async def test_an_event_is_listed_in_the_servers_events_and_kept_in_step(connect):
    harness = await connect(bot_permissions=CREATE_EVENTS)
    assert harness.fake.identifies[-1]["intents"] & (1 << 16), "the bot asks for the guild scheduled events intent"
    await create(harness, description="Two recorded conversations, then talk.")
    (listing,) = await listed(harness)
    assert (listing["name"], listing["entity_type"], listing["status"]) == ("Listening session", EVENT_EXTERNAL,
                                                                           EVENT_SCHEDULED)
    assert listing["entity_metadata"] == {"location": "Library, Room 2"} and listing["privacy_level"] == 2
    assert datetime.fromisoformat(listing["scheduled_start_time"]) == START
    assert datetime.fromisoformat(listing["scheduled_end_time"]) == START + timedelta(minutes=90)
    assert listing["description"].startswith("Two recorded conversations, then talk.")
    assert "keeps you no place" in listing["description"] and "#general" in listing["description"]
    row = await harness.bot.db.fetchone("SELECT mirror_id, state FROM event_mirrors")
    assert (row["mirror_id"], row["state"]) == (listing["id"], "listed"), "its id is kept in the database"

    await event_command(harness, "edit", event="1", start=f"{START + timedelta(hours=1):%Y-%m-%d %H:%M}",
                        place="Town hall", title="Listening session (moved)")
    assert datetime.fromisoformat(listing["scheduled_start_time"]) == START + timedelta(hours=1)
    assert listing["entity_metadata"] == {"location": "Town hall"} and listing["name"] == "Listening session (moved)"
    await harness.bot.scheduler.run_due()
    assert [c["method"] for c in harness.fake.event_changes] == ["POST", "PATCH"], "nothing done twice"

    cancelling = await event_command(harness, "cancel", event="1")
    _, cancel = buttons_of(cancelling["data"])[0]
    await harness.answer_to(await harness.fake.press_button(ADMIN, cancel, cancelling["message_id"]))
    assert listing["status"] == EVENT_CANCELED
    assert await harness.bot.db.fetchval("SELECT state FROM event_mirrors") == "cancelled"


async def test_a_weekly_event_lists_its_next_occurrence_and_rolls_on_when_one_ends(connect):
    harness = await connect(bot_permissions=CREATE_EVENTS)
    await create(harness, repeat="weekly")
    (first,) = await listed(harness)
    await jobs_at(harness, START + timedelta(minutes=10))
    assert first["status"] == EVENT_ACTIVE, "an external event starts by itself (Discord's automation)"
    assert len(harness.fake.scheduled_events) == 1, "the next one is listed once this one is over"
    await jobs_at(harness, START + timedelta(minutes=91))
    first, second = await listed(harness, 2)
    assert first["status"] == EVENT_COMPLETED
    assert datetime.fromisoformat(second["scheduled_start_time"]) == START + timedelta(days=7)
    assert second["status"] == EVENT_SCHEDULED and second["name"] == "Listening session"
    await harness.restart()
    harness.fake.now = harness.bot.clock.now
    await harness.bot.scheduler.run_due()
    assert len(harness.fake.scheduled_events) == 2, "a restart makes nothing twice"


async def test_an_event_in_a_voice_channel_is_started_and_ended_by_the_bot(connect):
    harness = await connect(bot_permissions=CREATE_EVENTS | CONNECT,
                            prepare=lambda fake: fake.add_voice_channel(ROOM, "Listening Room"))
    await create(harness, place=f"<#{ROOM}>")
    (listing,) = await listed(harness)
    assert (listing["entity_type"], listing["channel_id"], listing["entity_metadata"]) == (EVENT_VOICE, str(ROOM),
                                                                                         None)
    await jobs_at(harness, START + timedelta(minutes=1))
    assert listing["status"] == EVENT_ACTIVE
    await jobs_at(harness, START + timedelta(minutes=95))
    assert listing["status"] == EVENT_COMPLETED


async def test_a_member_who_marks_the_listing_interested_is_offered_going_by_dm_once(connect):
    harness = await connect(bot_permissions=CREATE_EVENTS)
    await create(harness)
    (listing,) = await listed(harness)
    await harness.fake.mark_interested(ALICE, int(listing["id"]))
    (offer,) = await harness.dms_to(ALICE, 1)
    assert offer["data"]["content"].startswith("You marked Listening session as interesting in the server's events")
    assert f"<t:{unix(START)}:F>" in offer["data"]["content"]
    assert [label for label, _ in buttons_of(offer["data"])] == ["Going", "Maybe", "Can't go"]

    await harness.fake.mark_interested(ALICE, int(listing["id"]))  # again, as after taking it back
    await heard(harness, 2)
    await harness.restart()
    await harness.fake.mark_interested(ALICE, int(listing["id"]))
    await heard(harness, 3)
    _, going = buttons_of(offer["data"])[0]
    pressed = await harness.fake.press_button(ALICE, going, offer["message_id"], guild=False)
    assert "You're going to Listening session" in (await harness.answer_to(pressed))["data"]["content"]
    assert len(offers(harness, ALICE)) == 1, "offered once, across a restart"
    assert await harness.bot.db.fetchval("SELECT answer FROM event_rsvps") == "going", "ours keeps the answer"

    _, going = buttons_of(announcement(harness)["data"])[0]
    await harness.answer_to(await harness.fake.press_button(BOB, going, announcement(harness)["message_id"]))
    harness.fake.set_dms_open(BOB, True)
    await harness.fake.mark_interested(BOB, int(listing["id"]))
    await heard(harness, 4)
    assert not offers(harness, BOB), "someone who answered already is not asked"


async def test_without_create_events_the_event_works_and_the_log_and_config_check_say_what_is_missing(
        connect, caplog, capsys):
    caplog.set_level(logging.INFO, logger="bot.platforms.discord.adapter")
    harness = await connect()

    def said(level: int) -> list[str]:
        return [r.getMessage() for r in caplog.records if r.levelno == level and "Create Events" in r.getMessage()]

    (warned,) = said(logging.WARNING)
    assert "server's Events list" in warned and "invite-url" in warned, "said at start"
    await create(harness)
    await harness.fake.wait_for(lambda: any(m["channel_id"] == GENERAL for m in harness.fake.channel_messages))
    _, going = buttons_of(announcement(harness)["data"])[0]
    answered = await harness.answer_to(await harness.fake.press_button(ALICE, going, announcement(harness)["message_id"]))
    assert "You're going to Listening session" in answered["data"]["content"], "the event works"
    assert not harness.fake.scheduled_events
    assert any("refused to add an event to" in line for line in said(logging.INFO)), "once a warning, then quieter"
    assert len(said(logging.WARNING)) == 1
    assert await harness.bot.db.fetchval("SELECT state FROM event_mirrors") == "refused"
    await harness.bot.scheduler.run_due()
    refusals = [r for r in harness.fake.requests if r[1] == "POST /guilds/{guild_id}/scheduled-events"]
    assert len(refusals) == 1, "not asked again every minute: an hour later, or at the next change"

    await check_config(harness.config.replace(bot=replace(harness.config.bot, database=str(harness.bot.db.location))))
    err = capsys.readouterr().err
    assert f"discord:{GUILD}: the bot lacks Create Events, so events are not copied into the server's Events list" \
        in err


async def test_times_are_written_for_each_readers_own_zone(connect):
    harness = await connect()
    await create(harness)
    await harness.fake.wait_for(lambda: any(m["channel_id"] == GENERAL for m in harness.fake.channel_messages))
    when = next(f["value"] for f in embed_of(announcement(harness)["data"])["fields"] if f["name"] == "When")
    end = START + timedelta(minutes=90)
    assert when.startswith(f"<t:{unix(START)}:F>–<t:{unix(end)}:t> (<t:{unix(START)}:R>)")
    listing = await harness.answer_to(await harness.fake.slash_command(ALICE, "events"))
    text = embed_of(listing["data"])["description"]
    assert f"<t:{unix(START)}:F> (<t:{unix(START)}:R>): Listening session" in text
    assert "Times are shown in your own time zone." in text
    _, going = buttons_of(announcement(harness)["data"])[0]
    await harness.answer_to(await harness.fake.press_button(ALICE, going, announcement(harness)["message_id"]))
    await jobs_at(harness, START - timedelta(minutes=59))
    def reminders() -> list[str]:
        return [m["data"]["content"] for m in harness.fake.messages_to(ALICE)
                if (m["data"]["content"] or "").startswith("Reminder: Listening session starts in")]

    await harness.fake.wait_for(reminders)
    assert f"(<t:{unix(START)}:F>)" in reminders()[0]


async def test_each_announcement_has_a_thread_where_changes_are_posted(connect):
    harness = await connect(bot_permissions=CREATE_PUBLIC_THREADS, extra_config="[cogs.events]\nthreads = true\n")
    await create(harness)
    await harness.fake.wait_for(harness.fake.threads)
    posted = announcement(harness)
    (thread,) = harness.fake.threads()
    assert thread["id"] == int(posted["message_id"]), "a thread from the announcement"
    assert thread["name"] == "Listening session" and thread["parent_id"] == GENERAL and not thread["private"]
    harness.fake.archive_thread(thread["id"])  # a quiet week: the post opens it again
    await event_command(harness, "edit", event="1", start=f"{START + timedelta(hours=2):%Y-%m-%d %H:%M}")
    await harness.fake.wait_for(lambda: any(m["channel_id"] == thread["id"] for m in harness.fake.channel_messages))
    (change,) = [m for m in harness.fake.channel_messages if m["channel_id"] == thread["id"]]
    assert change["data"]["content"].startswith(f"This event has changed: it is now on <t:{unix(START) + 7200}:F>")
    assert not harness.fake.threads()[0]["archived"]


async def test_without_create_public_threads_the_announcement_stands_and_the_log_says_why(connect, caplog):
    caplog.set_level(logging.INFO, logger="bot.platforms.discord.adapter")
    harness = await connect(extra_config="[cogs.events]\nthreads = true\n")
    assert any("Create Public Threads" in r.getMessage() for r in caplog.records), "said at start"
    await create(harness)
    await harness.fake.wait_for(lambda: any(m["channel_id"] == GENERAL for m in harness.fake.channel_messages))
    await harness.fake.wait_for(lambda: len([r for r in caplog.records if "no discussion thread" in r.getMessage()]) >= 2)
    assert harness.fake.threads() == []
    assert await harness.bot.db.fetchval("SELECT status FROM outbox WHERE batch = 'events:announce:1'") == "sent"


async def test_discords_limits_are_kept_long_texts_cut_and_a_full_events_list_refuses(connect, caplog):
    caplog.set_level(logging.WARNING, logger="bot.platforms.discord.adapter")
    harness = await connect(bot_permissions=CREATE_EVENTS)
    place = "The community hall behind the library, " * 5
    await create(harness, title="A listening session " * 8, description="We talk. " * 200, place=place.strip())
    (listing,) = await listed(harness)
    assert len(listing["name"]) == 100 and listing["name"].endswith("…")
    assert len(listing["entity_metadata"]["location"]) == 100
    assert len(listing["description"]) == 1000 and listing["description"].startswith(place.strip()), \
        "a place too long for the location is written whole in the description"

    for n in range(99):  # the server's own events fill its list to Discord's 100
        harness.fake.add_scheduled_event(f"Admin's event {n}", START, START + timedelta(hours=1))
    await create(harness, title="Picnic")
    assert len(harness.fake.scheduled_events) == 100
    assert any("has 100 events to come" in r.getMessage() for r in caplog.records)
    assert await harness.bot.db.fetchval("SELECT state FROM event_mirrors WHERE event_id = 2") == "refused"
    await harness.fake.wait_for(lambda: len([m for m in harness.fake.channel_messages if m["channel_id"] == GENERAL]) == 2)
    (answered,) = [m for m in harness.fake.channel_messages if m["channel_id"] == GENERAL][1:]
    assert embed_of(answered["data"])["title"] == "Picnic", "the event is announced all the same"

    someone_elses = next(int(i) for i, e in harness.fake.scheduled_events.items() if e["name"] == "Admin's event 0")
    await harness.fake.mark_interested(ALICE, someone_elses)
    await heard(harness, 1)
    assert not harness.fake.messages_to(ALICE), "an event the bot did not list is none of its business"


async def test_a_copy_whose_making_was_interrupted_is_found_not_made_twice(connect):
    """The bot stopped after Discord made the copy but before its answer was kept: the row says an attempt
    began (state making, no id). The next run looks for the copy by its name and start before making one."""
    harness = await connect(bot_permissions=CREATE_EVENTS)
    await create(harness)
    (listing,) = await listed(harness)
    await harness.bot.db.execute("UPDATE event_mirrors SET state = 'making', mirror_id = NULL, tried_at = ?",
                                 (START.isoformat(),))
    await harness.restart()
    await harness.bot.scheduler.run_due()
    assert len(harness.fake.scheduled_events) == 1 and [c["method"] for c in harness.fake.event_changes] == ["POST"]
    row = await harness.bot.db.fetchone("SELECT mirror_id, state FROM event_mirrors")
    assert (row["mirror_id"], row["state"]) == (listing["id"], "listed")
