"""Badges and the journey: each rule with its count, once under duplicate events and restarts,
backfill, grants and revocations in the audit log, privacy, the next step, the welcome DM once,
and the pictures for long and non-Latin names."""

from __future__ import annotations

import io
from datetime import timedelta
import subprocess
import sys

import pytest
from PIL import Image

from bot.app import Bot
from bot.config import ConfigError, parse_config
from databases import database_for
from conversation import Chat

BASE = ('[cogs]\nenabled = ["share", "testimonials", "partners", "events", "badges", "welcome"]\n'
        '[cogs.badges]\ncelebrate_in = "celebrations"\n')


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, BASE)
    yield conversation
    await conversation.close()


async def held(chat: Chat, member: str) -> list[str]:
    rows = await chat.db.fetchall("SELECT badge FROM badge_awards WHERE member_id = ? AND status = 'held'"
                                  " ORDER BY badge", (member,))
    return [r["badge"] for r in rows]


def badge_dms(chat: Chat, name: str) -> list[str]:
    return [d.message.title for d in chat.said(f"DM {name}") if d.message.title.startswith("New badge")]


async def emit(chat: Chat, name: str, member: str, times: int = 1, **data) -> None:
    """A domain event as the cog that owns it emits it (here without its command, to count precisely)."""
    for _ in range(times):
        await chat.bot.events.emit(name, chat.adapter.community, chat.adapter.member(member), **data)
    await chat.bot.outbox.idle()


async def test_a_step_earns_its_badge_once_with_a_dm_and_a_celebration(chat):
    await chat.as_member("alice").run("/share", ":press I shared it", ":press I shared it")
    assert await held(chat, "alice") == ["step-1"]
    assert badge_dms(chat, "alice") == ["New badge: Spread the word"]
    dm = [d for d in chat.said("DM alice") if d.message.title == "New badge: Spread the word"][0]
    with Image.open(dm.saved[0]) as medal:
        assert medal.size == (512, 512)
    assert [d.text for d in chat.said("#celebrations")] == [
        'alice earned the badge "Spread the word": Shared your experience on social media (/share).']


async def test_a_count_rule_waits_for_its_count(chat):
    await emit(chat, "event.rsvp", "bob", 2, event=1)
    assert "regular" not in await held(chat, "bob")
    await emit(chat, "event.rsvp", "bob", event=3)
    assert await held(chat, "bob") == ["regular", "step-5"]
    await emit(chat, "event.rsvp", "bob", event=4)
    assert badge_dms(chat, "bob") == ["New badge: Joined in", "New badge: Regular"], "each once"


async def test_an_event_delivered_twice_or_after_a_restart_gives_nothing_twice(chat):
    community, cara = chat.adapter.community, chat.adapter.member("cara")
    event = await chat.bot.events.emit("testimonial.approved", community, cara, testimonial=1)
    await chat.bot.events.publish(event)  # the same event heard twice
    await chat.restart()
    await chat.bot.events.publish(event)  # and again after a restart
    await chat.bot.outbox.idle()
    assert await held(chat, "cara") == ["quoted"]
    assert badge_dms(chat, "cara") == ["New badge: Quoted"]


async def test_congratulations_wait_across_restarts_and_arrive_once(chat):
    await chat.as_member("dan").run(":dms off")
    await emit(chat, "event.attended", "dan", event=1)
    assert await held(chat, "dan") == ["showed-up", "step-5"] and not badge_dms(chat, "dan")
    # The award and its congratulations were written together: a restart loses neither.
    await chat.restart()
    await chat.as_member("dan").run("/help")
    assert badge_dms(chat, "dan") == ["New badge: Joined in", "New badge: Showed up"]
    await chat.restart()
    await chat.as_member("dan").run("/help")
    assert badge_dms(chat, "dan") == ["New badge: Joined in", "New badge: Showed up"], "and only once"


async def test_all_ten_steps_earn_the_last_badge(tmp_path):
    # Every step's event is named in a catalogue of its own: the built-in cogs here emit only some.
    steps = "".join(f'[[cogs.badges.catalogue]]\nid = "s{n}"\nevent = "share.completed"\ncount = {n}\n'
                    for n in range(1, 11))
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["share", "badges"]\n[cogs.badges]\ndefault_catalogue = false\n'
                           + steps + '[[cogs.badges.catalogue]]\nid = "all"\nname = "All of them"\n'
                           + 'all_of = [' + ", ".join(f'"s{n}"' for n in range(1, 11)) + ']\n')
    try:
        await emit(chat, "share.completed", "eve", 9)
        assert "all" not in await held(chat, "eve")
        await emit(chat, "share.completed", "eve")
        assert await held(chat, "eve") == ["all", *sorted(f"s{n}" for n in range(1, 11))]
    finally:
        await chat.close()


async def test_grant_and_revoke_are_in_the_audit_log(chat):
    await chat.as_member("admin").run('/badge grant @fay regular reason:"Came to the pilot sessions"')
    assert chat.last_private("admin").text.startswith('fay has the badge "Regular" now')
    assert badge_dms(chat, "fay") == ["New badge: Regular"]
    assert chat.last_dm("fay").text.startswith('Congratulations, fay! The moderators gave you the badge "Regular":'
                                               " Came to the pilot sessions. /badges shows"), "their reason, not the rule"
    await chat.run("/badge grant @fay regular again")
    assert chat.last_private("admin").text == 'fay already holds "Regular".'
    await chat.run('/badge revoke @fay Regular reason:"Given by mistake"')
    assert await held(chat, "fay") == []
    await emit(chat, "event.rsvp", "fay", 3)
    assert "regular" not in await held(chat, "fay"), "a revoked badge is not earned again by itself"
    await chat.run("/badge grant @fay regular back")
    assert "regular" in await held(chat, "fay")
    entries = await chat.bot.audit.entries(chat.adapter.community)
    assert [(e.action, e.target, e.reason, e.moderator_name) for e in entries] == [
        ("badge.grant", "fay", "back", "admin"), ("badge.revoke", "fay", "Given by mistake", "admin"),
        ("badge.grant", "fay", "Came to the pilot sessions", "admin")]
    await chat.run("/badge grant @fay nosuch why")
    assert chat.last_private("admin").text.startswith('There is no badge "nosuch"')
    await chat.as_member("gus").run("/badge grant @gus regular because")
    assert "Only moderators" in chat.last_private("gus").text


async def test_backfill_gives_a_new_badge_to_those_whose_history_earns_it(tmp_path):
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["share", "events"]\n')
    await emit(chat, "event.rsvp", "hal", 3)
    await emit(chat, "event.rsvp", "ian", 1)
    await chat.close()
    # The community switches badges on later: history is already there.
    chat.config = parse_config(BASE, base_dir=tmp_path)
    await chat._start()
    try:
        await chat.as_member("admin").run("/badges backfill")
        assert chat.last_private("admin").text.startswith("Gave 3 badges")
        assert await held(chat, "hal") == ["regular", "step-5"] and await held(chat, "ian") == ["step-5"]
        await chat.run("/badges backfill")
        assert chat.last_private("admin").text == "Everyone already holds the badges their history earns."
    finally:
        await chat.close()
    result = subprocess.run([sys.executable, "-m", "bot", "badges", "backfill", "--db", str(chat.database)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no badges to give" in result.stdout.lower()


async def test_privacy_keeps_badges_out_of_public(chat):
    await chat.as_member("jo").run("/badges privacy private")
    assert chat.last_private("jo").text.startswith("Done. Your badges are private")
    await chat.run("/share", ":press I shared it")
    assert badge_dms(chat, "jo") == ["New badge: Spread the word"], "still told, privately"
    assert not chat.said("#celebrations")
    await chat.as_member("kim").run("/badges @jo")
    assert chat.last_private("kim").text == "jo keeps their badges to themselves."
    await chat.as_member("jo").run("/badges privacy public")
    await chat.as_member("kim").run("/badges @jo")
    assert "Spread the word" in chat.last_private("kim").message.fields[0].value


async def test_the_journey_shows_the_next_step(chat):
    await chat.as_member("lee").run("/steps")
    steps = chat.last_private("lee")
    assert steps.message.title == "Your ten steps: 0 of 10"
    assert "A good next step: Share your experience on social media, with /share." in steps.text
    await chat.run("/share", ":press I shared it", "/steps")
    steps = chat.last_private("lee")
    assert steps.message.title == "Your ten steps: 1 of 10"
    assert "✅ 1. Share your experience on social media" in steps.text
    assert "A good next step: Submit a testimonial, with /testimonial." in steps.text
    assert "▫️ 2. Amplify other participants' public stories\n" in steps.text + "\n", "no command where none exists"


async def test_a_new_member_is_welcomed_once(chat):
    newcomer = chat.adapter.member("newcomer")
    for _ in range(2):
        await chat.bot.events.emit("member.joined", chat.adapter.community, newcomer)
    await chat.bot.outbox.idle()
    await chat.restart()
    await chat.bot.events.emit("member.joined", chat.adapter.community, newcomer)
    await chat.bot.outbox.idle()
    welcomes = [d for d in chat.said("DM newcomer") if d.message.title == "Welcome, newcomer!"]
    assert len(welcomes) == 1
    assert "1. Share your experience on social media (/share)" in welcomes[0].text
    assert "/help lists everything I can do" in welcomes[0].text


@pytest.mark.parametrize("name", ["Maximilian Alexander von Hohenzollern-Sigmaringen zu Württemberg",
                                  "محمد عبد الله بن سعيد", "प्रियंका चोपड़ा", "Ольга Николаевна", "👩🏽‍🚀 Ada"])
async def test_the_profile_card_for_long_and_non_latin_names(tmp_path, name):
    chat = await Chat.open(tmp_path, BASE)
    try:
        await chat.as_member(name).run("/share", ":press I shared it", "/badges card")
        (path,) = chat.last_private(name).saved
        with Image.open(path) as card:
            assert card.size == (1200, 630) and card.format == "PNG"
            assert card.getbbox() is not None
    finally:
        await chat.close()


async def test_community_stats_for_moderators(chat):
    await chat.as_member("mo").run("/share", ":press I shared it")
    await chat.as_member("admin").run("/community stats")
    stats = chat.last_private("admin").message
    assert stats.title == "The community, in numbers"
    assert "Spread the word: 1" in stats.fields[0].value
    assert stats.fields[1].value.splitlines()[-1].endswith(": 1 · 0 · 0")
    with Image.open(io.BytesIO(stats.images[0].data)) as chart:
        assert chart.size == (900, 420)
    await chat.as_member("mo").run("/community stats")
    assert "Only moderators" in chat.last_private("mo").text


@pytest.mark.parametrize("table, problem", [
    ('[[cogs.badges.catalogue]]\nid = "x"\nevent = "share.typo"\n', "no cog emits an event called 'share.typo'"),
    ('[[cogs.badges.catalogue]]\nid = "x"\nevent = "share.completed"\n' * 2, "the id 'x' is used twice"),
    ('[[cogs.badges.catalogue]]\nid = "x"\nevent = "share.completed"\nart = "missing.png"\n', "is not a picture"),
    ('[[cogs.badges.catalogue]]\nid = "x"\n', "needs either event"),
    ('[[cogs.badges.catalogue]]\nid = "x"\nall_of = ["nope"]\n', "names badges that are not in the catalogue"),
])
async def test_a_bad_catalogue_is_a_config_error_at_start(tmp_path, table, problem):
    config = parse_config('[cogs]\nenabled = ["share", "badges"]\n' + table, base_dir=tmp_path)
    bot = await Bot.open(config, database=database_for(tmp_path))
    try:
        with pytest.raises(ConfigError) as caught:
            await bot.start()
        assert problem in str(caught.value) and "cogs.badges.catalogue" in caught.value.key
    finally:
        await bot.close()


async def test_every_way_of_joining_an_event_takes_step_five(chat):
    soon = (chat.bot.clock.now() + timedelta(days=2)).strftime("%Y-%m-%d")
    await chat.as_member("admin").run(f'/event create title:Talk start:"{soon} 18:00" capacity:1 channels:#events')
    await chat.as_member("ann").run(":channel events", ":press Going")
    await chat.as_member("ben").run(":channel events", ":press Join the waitlist")
    await chat.as_member("ann").run(":press Can't go")  # a place comes free: ben moves up from the waitlist
    await chat.as_member("ben").run("/steps")
    assert chat.last_private("ben").message.title == "Your ten steps: 1 of 10"
    assert "\n\nA good next step: Share your experience on social media, with /share." in chat.last_private("ben").text
    assert "step-5" in await held(chat, "ben") and "New badge: Joined in" in badge_dms(chat, "ben")

    await chat.as_member("admin").run(":clock +3d", "/event attended 1 @cat")  # cat never answered, but came
    await chat.as_member("cat").run("/steps")
    assert chat.last_private("cat").message.title == "Your ten steps: 1 of 10"
    assert await held(chat, "cat") == ["showed-up", "step-5"]
