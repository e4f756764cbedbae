"""The Discord adapter on the real discord.py client, against the fake Discord in tests/fakes.

Nothing of ours is mocked: the bot, its cogs and its database are real; discord.py is real;
only Discord itself is a local fake that records what the bot sent.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Literal

import discord
import pytest
import pytest_asyncio
import yarl

from bot.app import Bot
from bot.config import parse_config
from bot.core import Channel, Cog, Invocation, Member, Message, command, option
from bot.platforms.discord import DiscordAdapter
from bot.platforms.discord.commands import CommandEntry, CommandLimitError, application_commands
from bot.platforms.discord.runner import point_at
from bot.render.escape import ZERO_WIDTH_SPACE
from databases import database_for, read_only
from fakes.discord_server import REJECTED_TOKEN, SEND_MESSAGES, FakeDiscord

GUILD = 2000
GENERAL = 3000
MODERATORS_CHANNEL = 3001
MODERATOR_ROLE = 4000
ALICE = 5001  # a member
ADMIN = 5002  # holds the Moderators role
BOB = 5003  # keeps his DMs closed
EPHEMERAL = 64
STORY = "We talked for an hour about our towns, our parents and what each of us fears most."


class Harness:
    """The fake Discord and the bot connected to it; `restart()` replaces the bot, keeping its database."""

    def __init__(self, fake: FakeDiscord, tmp_path: Path, *, members_intent: bool = True,
                 guild_id: int = GUILD, more_cogs: tuple[str, ...] = (), extra_config: str = "") -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        cogs = ["share", "testimonials", "partners", "events", "badges", "welcome", "sample_cogs.echo", *more_cogs]
        self.config = parse_config(
            f'[cogs]\nenabled = {json.dumps(cogs)}\n'
            f'[discord]\nguild_id = "{guild_id}"\nmembers_intent = {str(members_intent).lower()}\n'
            f'api_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n{extra_config}', base_dir=tmp_path)
        self.bot: Bot | None = None
        self.adapter: DiscordAdapter | None = None
        self._client: asyncio.Task | None = None

    async def start(self) -> None:
        point_at(self.config.discord)
        self.bot = await Bot.open(self.config, database=database_for(self.tmp_path))
        # Deferring after 1 s instead of 2.5 s lets a test see a slow handler deferred, sooner.
        self.adapter = DiscordAdapter(self.bot, guild_ready_timeout=0.1, defer_after=1.0)
        await self.bot.start()
        self._client = asyncio.create_task(self.adapter.start("fake-token"))
        await asyncio.wait_for(self.adapter.ready.wait(), 10)

    async def stop(self) -> None:
        await self.adapter.close()
        await self._client  # the client's own errors surface only here
        await self.bot.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def response_to(self, interaction_id: str) -> dict:
        await self.fake.wait_for(lambda: any(r["interaction_id"] == interaction_id for r in self.fake.interaction_responses))
        return next(r for r in self.fake.interaction_responses if r["interaction_id"] == interaction_id)

    async def answer_to(self, interaction_id: str) -> dict:
        """The first message answering an interaction (its `data` and `files`): the response itself,
        or, when the bot deferred because it was slow, the follow-up."""
        response = await self.response_to(interaction_id)
        if response["type"] == 4:
            return response
        await self.fake.wait_for(lambda: any(f["interaction_id"] == interaction_id for f in self.fake.followups))
        return next(f for f in self.fake.followups if f["interaction_id"] == interaction_id)

    async def dms_to(self, user_id: int, count: int) -> list[dict]:
        await self.fake.wait_for(lambda: len(self.fake.messages_to(user_id)) >= count)
        return self.fake.messages_to(user_id)


@pytest_asyncio.fixture
async def connect(tmp_path, monkeypatch, caplog):
    """Start the fake Discord and the bot connected to it: `await connect(members_intent=..., guild_id=...)`.

    Afterwards, the test fails if the bot used a route the fake lacks, or if anything was logged
    as an error (discord.py only logs a handler's exception; the bot logs what it apologised for).
    """
    # point_at() sets discord.py's class-wide addresses; monkeypatch puts them back afterwards.
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    caplog.set_level(logging.ERROR)
    started: list[Harness] = []

    async def start(heartbeat_interval_ms: int = 41250, bot_permissions: int = 0,
                    prepare: Callable[[FakeDiscord], None] | None = None, **options) -> Harness:
        """`bot_permissions`: a role for the bot with these; `prepare`: more of the server, before the bot connects."""
        fake = FakeDiscord(guild_id=GUILD, heartbeat_interval_ms=heartbeat_interval_ms)
        if bot_permissions:
            fake.grant_bot(bot_permissions)
        if prepare is not None:
            prepare(fake)
        fake.add_channel(MODERATORS_CHANNEL, "moderators")
        fake.add_role(MODERATOR_ROLE, "Moderators")
        fake.add_member(ALICE, "alice")
        fake.add_member(ADMIN, "admin", roles=[MODERATOR_ROLE])
        fake.add_member(BOB, "bob", dms_open=False)
        await fake.start()
        harness = Harness(fake, tmp_path, **options)
        started.append(harness)
        await harness.start()
        return harness

    yield start
    for harness in started:
        await harness.stop()
        await harness.fake.close()
        assert not harness.fake.unknown_requests, f"routes the fake lacks: {harness.fake.unknown_requests}"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest_asyncio.fixture
async def discord_bot(connect):
    return await connect()


async def pending_testimonial(harness: Harness) -> int:
    """Alice's testimonial, waiting for a moderator (written straight into the database)."""
    return await harness.bot.db.insert(
        "INSERT INTO testimonials (community, member_id, member_name, submission_id, story, surprise, credit,"
        " consent_given, consent_wording, consent_at, status, submitted_at) VALUES"
        " (?, ?, 'alice', 's1', ?, 'Surprise!', 'first_name', 1, 'I agree', '2026-11-25', 'pending', '2026-11-25')",
        (f"discord:{GUILD}", str(ALICE), STORY))


def embed_of(data: dict) -> dict:
    return (data.get("embeds") or [{}])[0]


def buttons_of(data: dict) -> list[tuple[str, str]]:
    return [(c["label"], c["custom_id"]) for row in data.get("components", []) for c in row["components"]]


async def test_a_slash_command_is_answered_privately_with_an_embed_and_buttons(discord_bot):
    interaction = await discord_bot.fake.slash_command(ALICE, "share")
    data = (await discord_bot.answer_to(interaction))["data"]
    assert data["flags"] & EPHEMERAL
    assert embed_of(data)["title"] == "Share your One Small Step experience"
    assert len(embed_of(data)["fields"]) == 3
    assert buttons_of(data) == [("Get my badge graphic", "share:badge|"), ("I shared it", "share:done|")]
    assert data["allowed_mentions"] == {"parse": []}


async def test_a_button_posted_before_a_restart_still_works(discord_bot):
    interaction = await discord_bot.fake.slash_command(ALICE, "share")
    message_id = (await discord_bot.response_to(interaction))["message_id"]
    await discord_bot.restart()
    pressed = await discord_bot.fake.press_button(ALICE, "share:done|", message_id)
    assert (await discord_bot.answer_to(pressed))["data"]["content"].startswith("Thank you for sharing!")
    again = await discord_bot.fake.press_button(ALICE, "share:done|", message_id)
    assert "already told us" in (await discord_bot.answer_to(again))["data"]["content"]
    assert await discord_bot.bot.db.fetchval("SELECT COUNT(*) FROM shares") == 1


async def test_the_badge_graphic_arrives_as_an_attached_image(discord_bot):
    interaction = await discord_bot.fake.slash_command(ALICE, "share")
    message_id = (await discord_bot.response_to(interaction))["message_id"]
    pressed = await discord_bot.fake.press_button(ALICE, "share:badge|", message_id)
    answer = await discord_bot.answer_to(pressed)
    (upload,) = answer["files"]
    assert upload["filename"] == "small-step-badge.png" and upload["bytes"].startswith(b"\x89PNG")
    assert embed_of(answer["data"])["image"]["url"] == "attachment://small-step-badge.png"
    assert answer["data"]["flags"] & EPHEMERAL


async def test_a_form_runs_in_direct_messages(discord_bot):
    started = await discord_bot.fake.slash_command(ALICE, "testimonial", [{"name": "start", "type": 1}])
    assert "sent you a direct message" in (await discord_bot.answer_to(started))["data"]["content"]
    help_text = (await discord_bot.answer_to(await discord_bot.fake.slash_command(ALICE, "help")))["data"]["content"]
    assert "/testimonial start: Tell the program" in help_text, "help shows the command as Discord has it"
    first = await discord_bot.dms_to(ALICE, 1)
    assert "What happened in your conversation?" in embed_of(first[0]["data"])["description"]
    await discord_bot.fake.direct_message(ALICE, STORY)
    second = await discord_bot.dms_to(ALICE, 2)
    assert "What surprised you" in embed_of(second[1]["data"])["description"]
    await discord_bot.fake.direct_message(ALICE, "That we agreed about the schools.")
    await discord_bot.fake.direct_message(ALICE, "skip")
    credit = (await discord_bot.dms_to(ALICE, 4))[3]
    labels = [label for label, _ in buttons_of(credit["data"])]
    assert labels == ["My full name", "My first name only", "Don't name me"]
    _, custom_id = buttons_of(credit["data"])[1]
    pressed = await discord_bot.fake.press_button(ALICE, custom_id, credit["message_id"], guild=False)
    await discord_bot.answer_to(pressed)
    draft = await discord_bot.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (str(ALICE),))
    assert '"credit": "first_name"' in draft["answers"]


async def test_a_hostile_answer_is_shown_escaped_in_the_review(discord_bot):
    hostile = "@everyone <@&4000> **loud** _lean_ `code` \u202eevil 👩🏽‍🚀 שלום עולם مرحبا بكم, and more to say here."
    await discord_bot.fake.slash_command(ALICE, "testimonial", [{"name": "start", "type": 1}])
    await discord_bot.dms_to(ALICE, 1)
    for count, text in enumerate((hostile, "That we agreed about the schools.", "skip"), 2):
        await discord_bot.fake.direct_message(ALICE, text)
        await discord_bot.dms_to(ALICE, count)
    await discord_bot.fake.direct_message(ALICE, "my full name")
    await discord_bot.dms_to(ALICE, 5)
    await discord_bot.fake.direct_message(ALICE, "I agree")
    review = (await discord_bot.dms_to(ALICE, 6))[5]["data"]
    shown = embed_of(review)["description"]
    assert "\\*\\*loud\\*\\*" in shown and "\\_lean\\_" in shown and "\\`code\\`" in shown
    assert "@everyone" not in shown and f"@{ZERO_WIDTH_SPACE}everyone" in shown and "<@&4000>" not in shown
    assert "\u202e" not in shown and "שלום עולם مرحبا بكم" in shown and "👩🏽‍🚀" in shown
    assert review["allowed_mentions"] == {"parse": []}
    draft = await discord_bot.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (str(ALICE),))
    assert json.loads(draft["answers"])["story"] == hostile, "stored as typed"


async def test_member_text_never_pings(discord_bot):
    interaction = await discord_bot.fake.slash_command(
        ALICE, "help", [{"name": "command", "type": 3, "value": "@everyone <@&4000>"}])
    data = (await discord_bot.answer_to(interaction))["data"]
    assert data["allowed_mentions"] == {"parse": []}
    assert f"@{ZERO_WIDTH_SPACE}everyone" in data["content"] and "@everyone" not in data["content"]
    assert "<@&4000>" not in data["content"]


async def test_a_rate_limited_post_is_retried_by_discord_py_and_delivered_once(discord_bot):
    discord_bot.fake.rate_limit_next_channel_messages(1, retry_after=0.3)
    interaction = await discord_bot.fake.slash_command(
        ADMIN, "share-prompt", [{"name": "channel", "type": 7, "value": str(GENERAL)}])
    assert (await discord_bot.answer_to(interaction))["data"]["content"] == "Posted the invitation in #general."
    posts = [m for m in discord_bot.fake.channel_messages if m["channel_id"] == GENERAL]
    assert discord_bot.fake.rate_limited == 1 and len(posts) == 1
    assert buttons_of(posts[0]["data"]) == [("Get my share kit", "share:start|")]


async def test_moderator_commands_check_the_role(discord_bot):
    refused = await discord_bot.fake.slash_command(
        ALICE, "share-prompt", [{"name": "channel", "type": 7, "value": str(GENERAL)}])
    data = (await discord_bot.answer_to(refused))["data"]
    assert "Only moderators can use /share-prompt" in data["content"] and data["flags"] & EPHEMERAL
    assert not [m for m in discord_bot.fake.channel_messages if m["channel_id"] == GENERAL]


async def test_manage_server_makes_a_moderator_without_the_role(discord_bot):
    discord_bot.fake.add_role(4001, "Stewards", permissions=1 << 5)  # Manage Server, not the configured role
    discord_bot.fake.add_member(5010, "steward", roles=[4001])
    posted = await discord_bot.fake.slash_command(
        5010, "share-prompt", [{"name": "channel", "type": 7, "value": str(GENERAL)}])
    assert (await discord_bot.answer_to(posted))["data"]["content"] == "Posted the invitation in #general."
    assert len([m for m in discord_bot.fake.channel_messages if m["channel_id"] == GENERAL]) == 1


async def test_heartbeats_are_sent_and_acknowledged(connect):
    harness = await connect(heartbeat_interval_ms=100)
    await harness.fake.wait_for(lambda: harness.fake.heartbeats >= 3)
    assert 0 <= harness.adapter.client.latency < 1, "discord.py measured the ACKs"


async def test_a_member_with_closed_dms_is_told_in_the_channel_and_nothing_is_lost(discord_bot):
    started = await discord_bot.fake.slash_command(BOB, "testimonial", [{"name": "start", "type": 1}])
    data = (await discord_bot.answer_to(started))["data"]
    assert "couldn't send you a direct message" in data["content"] and data["flags"] & EPHEMERAL
    assert await discord_bot.bot.db.fetchval("SELECT COUNT(*) FROM form_drafts WHERE member_id = ?", (str(BOB),)) == 1
    discord_bot.fake.set_dms_open(BOB, True)
    again = await discord_bot.fake.slash_command(BOB, "testimonial", [{"name": "start", "type": 1}])
    await discord_bot.response_to(again)
    assert "What happened in your conversation?" in embed_of((await discord_bot.dms_to(BOB, 1))[0]["data"])["description"]


async def test_without_the_members_intent_the_log_names_the_cogs_that_need_it(connect, caplog):
    caplog.set_level(logging.INFO, logger="bot.platforms.discord.adapter")
    harness = await connect(members_intent=False)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "members intent" in r.getMessage()]
    assert len(warnings) == 1 and "sample_cogs.echo" in warnings[0] and "discord.members_intent = true" in warnings[0]
    assert harness.fake.identifies[-1]["intents"] & (1 << 1) == 0, "the bot did not ask for the intent"


async def test_a_server_that_removes_the_bot_is_marked_for_deletion(discord_bot):
    await discord_bot.fake.remove_bot()
    for _ in range(100):
        if await discord_bot.bot.db.fetchval("SELECT COUNT(*) FROM community_departures"):
            break
        await asyncio.sleep(0.02)
    assert await discord_bot.bot.db.fetchval("SELECT community FROM community_departures") == f"discord:{GUILD}"


async def test_member_joins_reach_the_cogs(discord_bot):
    await discord_bot.fake.member_joins(5009, "newcomer")
    for _ in range(600):  # handled on the bot's side of the socket: wait for its row and the listener's
        if (await discord_bot.bot.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'member.joined'")
                and await discord_bot.bot.db.fetchval("SELECT COUNT(*) FROM echo_heard")):
            break
        await asyncio.sleep(0.05)
    row = await discord_bot.bot.db.fetchone("SELECT community, member_id FROM domain_events WHERE name = 'member.joined'")
    assert (row["community"], row["member_id"]) == (f"discord:{GUILD}", "5009")
    assert await discord_bot.bot.db.fetchval("SELECT member_id FROM echo_heard") == "5009", "a cog's listener heard it"


async def test_commands_are_registered_only_when_asked(discord_bot):
    assert discord_bot.fake.command_syncs == [], "nothing syncs at start"
    refused = await discord_bot.fake.slash_command(ALICE, "sync")
    assert "Only moderators" in (await discord_bot.answer_to(refused))["data"]["content"]
    synced = await discord_bot.fake.slash_command(ADMIN, "sync")
    assert "Registered" in (await discord_bot.answer_to(synced))["data"]["content"]
    (sync,) = discord_bot.fake.command_syncs
    assert sync["guild_id"] == GUILD
    commands = {c["name"]: c for c in sync["commands"]}
    assert [o["name"] for o in commands["testimonial"]["options"]] == ["start", "withdraw"]
    showing = ("badges", "event", "my-data", "partner", "timezone")
    assert [commands[name]["options"][0]["name"] for name in showing] == ["show"] * 5, \
        "a single command that shows something is `show` under its group's name"
    assert commands["testimonials"]["default_member_permissions"] == "32"
    assert commands["share-prompt"]["default_member_permissions"] == "32"
    assert "default_member_permissions" not in commands["share"]
    channel_option = commands["share-prompt"]["options"][0]
    assert (channel_option["type"], channel_option["required"]) == (7, True)


async def test_a_slow_handler_is_deferred_in_time_and_fills_in_its_deferred_answer(discord_bot):
    interaction = await discord_bot.fake.slash_command(ALICE, "slow")
    deferred = await discord_bot.response_to(interaction)
    assert deferred["type"] == 5, "deferred (thinking) before the handler finished"
    await discord_bot.fake.wait_for(lambda: any(
        f["data"].get("content") == "done at last" for f in discord_bot.fake.followups))
    (answer,) = [f for f in discord_bot.fake.followups if f["interaction_id"] == interaction]
    # Edit Original Interaction Response, as Discord documents; not the deprecated first follow-up.
    assert answer["route"] == "edit_original" and answer["message_id"] == deferred["message_id"]


async def test_suggestions_while_typing(discord_bot):
    interaction = await discord_bot.fake.autocomplete(
        ALICE, "find", [{"name": "town", "type": 3, "value": "wi", "focused": True}])
    response = await discord_bot.response_to(interaction)
    assert response["type"] == 8
    assert [c["value"] for c in response["data"]["choices"]] == ["Wichita", "Winchester"]
    await discord_bot.answer_to(await discord_bot.fake.slash_command(ADMIN, "sync"))
    find = next(c for c in discord_bot.fake.command_syncs[0]["commands"] if c["name"] == "find")
    assert find["options"][0]["autocomplete"] is True


async def test_partners_and_events_suggest_while_typing_and_answer_as_subcommands(discord_bot):
    added = await discord_bot.fake.slash_command(ADMIN, "partner", [{"name": "add", "type": 1, "options": [
        {"name": "name", "type": 3, "value": "KQED"}, {"name": "region", "type": 3, "value": "California"}]}])
    assert (await discord_bot.answer_to(added))["data"]["content"] == "KQED is in the directory now."
    typing = await discord_bot.fake.autocomplete(ALICE, "partner", [{"name": "show", "type": 1, "options": [
        {"name": "name", "type": 3, "value": "kq", "focused": True}]}])
    assert [c["value"] for c in (await discord_bot.response_to(typing))["data"]["choices"]] == ["KQED"]
    shown = await discord_bot.fake.slash_command(ALICE, "partner", [{"name": "show", "type": 1, "options": [
        {"name": "name", "type": 3, "value": "KQED"}]}])
    assert embed_of((await discord_bot.answer_to(shown))["data"])["title"] == "KQED"

    created = await discord_bot.fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
        {"name": "title", "type": 3, "value": "Listening session"},
        {"name": "start", "type": 3, "value": "2030-01-14 18:00"},
        {"name": "channels", "type": 3, "value": f"<#{GENERAL}>"}]}])
    assert "Event #1 is on" in (await discord_bot.answer_to(created))["data"]["content"]
    await discord_bot.fake.wait_for(lambda: any(m["channel_id"] == GENERAL for m in discord_bot.fake.channel_messages))
    announced = [m for m in discord_bot.fake.channel_messages if m["channel_id"] == GENERAL]
    assert embed_of(announced[0]["data"])["title"] == "Listening session"
    assert [label for label, _ in buttons_of(announced[0]["data"])][:3] == ["Going", "Maybe", "Can't go"]
    typing = await discord_bot.fake.autocomplete(ALICE, "event", [{"name": "show", "type": 1, "options": [
        {"name": "event", "type": 3, "value": "listen", "focused": True}]}])
    (choice,) = (await discord_bot.response_to(typing))["data"]["choices"]
    assert choice["value"].startswith("1 · Listening session")
    _, going = buttons_of(announced[0]["data"])[0]
    pressed = await discord_bot.fake.press_button(ALICE, going, announced[0]["message_id"], channel_id=GENERAL)
    assert "You're going to Listening session" in (await discord_bot.answer_to(pressed))["data"]["content"]
    await discord_bot.fake.wait_for(lambda: any(e["channel_id"] == GENERAL for e in discord_bot.fake.edits))


def test_a_rejected_or_missing_token_ends_with_a_clear_message(tmp_path):
    async def serve_and_run(env: dict) -> subprocess.CompletedProcess:
        fake = FakeDiscord(guild_id=GUILD)
        await fake.start()
        try:
            (tmp_path / "smallstep.toml").write_text(
                f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n')
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--platform", "discord", cwd=tmp_path, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(process.communicate(), 60)
            return subprocess.CompletedProcess([], process.returncode, out.decode(), err.decode())
        finally:
            await fake.close()

    base = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    rejected = asyncio.run(serve_and_run({**base, "DISCORD_TOKEN": REJECTED_TOKEN}))
    assert rejected.returncode == 2 and "Discord rejected the token" in rejected.stderr
    assert "Traceback" not in rejected.stderr
    missing = asyncio.run(serve_and_run(base))
    assert missing.returncode == 2 and "DISCORD_TOKEN is not set" in missing.stderr


def test_the_invite_url_asks_only_for_what_the_bot_needs():
    from bot.core.adapter import EVENT_MIRRORS, THREADS
    from bot.platforms.discord import invite_url

    url = yarl.URL(invite_url(1234))
    assert url.query["client_id"] == "1234" and url.query["scope"] == "bot applications.commands"
    granted = discord.Permissions(int(url.query["permissions"]))
    assert granted.send_messages and granted.embed_links and granted.attach_files
    assert not granted.administrator and not granted.manage_guild and not granted.mention_everyone
    assert not granted.create_events and not granted.create_public_threads, "nothing the cogs did not ask for"
    with_events = discord.Permissions(int(yarl.URL(invite_url(1234, frozenset({EVENT_MIRRORS}))).query["permissions"]))
    assert with_events.create_events and not with_events.manage_events and not with_events.create_public_threads
    with_threads = discord.Permissions(int(yarl.URL(invite_url(1234, frozenset({EVENT_MIRRORS, THREADS})))
                                           .query["permissions"]))
    assert with_threads.create_public_threads and with_threads.send_messages_in_threads


async def test_a_moderator_is_recognised_in_dms_without_the_members_intent(connect):
    harness = await connect(members_intent=False)
    started = await harness.fake.slash_command(ALICE, "testimonial", [{"name": "start", "type": 1}])
    await harness.answer_to(started)
    for answer in (STORY, "That we agreed about the schools.", "skip"):
        await harness.fake.direct_message(ALICE, answer)
    credit = (await harness.dms_to(ALICE, 4))[3]
    # A press in the DM is answered by its interaction: the next question comes back that way.
    consent = await harness.answer_to(await harness.fake.press_button(
        ALICE, buttons_of(credit["data"])[0][1], credit["message_id"], guild=False))
    await harness.answer_to(await harness.fake.press_button(
        ALICE, buttons_of(consent["data"])[0][1], consent["message_id"], guild=False))
    await harness.fake.direct_message(ALICE, "submit")
    await harness.fake.wait_for(lambda: [m for m in harness.fake.channel_messages
                                         if m["channel_id"] == MODERATORS_CHANNEL])
    card = next(m for m in harness.fake.channel_messages if m["channel_id"] == MODERATORS_CHANNEL)
    # A moderator's command typed in a DM, where Discord sends no member (and so no roles).
    queue = await harness.answer_to(await harness.fake.slash_command(ADMIN, "testimonials", [
        {"name": "queue", "type": 1}], guild=False))
    assert "alice" in str(queue["data"]) and "Only moderators" not in str(queue["data"])
    reject = dict(buttons_of(card["data"]))["Reject"]
    pressed = await harness.fake.press_button(ADMIN, reject, card["message_id"], channel_id=MODERATORS_CHANNEL)
    await harness.response_to(pressed)
    done = await harness.answer_to(await harness.fake.submit_modal(
        ADMIN, harness.fake.modals[-1]["custom_id"], {"note": "It names a private person."},
        message_id=card["message_id"], channel_id=MODERATORS_CHANNEL))
    assert "is rejected" in done["data"]["content"]


async def test_strangers_and_other_servers_are_turned_away(connect):
    harness = await connect()
    harness.fake.add_user(7777, "stranger")  # on Discord, but not in the server
    await harness.fake.direct_message(7777, "hello")
    await harness.fake.wait_for(lambda: harness.fake.messages_to(7777))
    assert "I only talk with members of Test Guild" in harness.fake.messages_to(7777)[0]["data"]["content"]
    assert await harness.bot.db.fetchval("SELECT COUNT(*) FROM form_drafts") == 0


async def test_a_server_the_bot_does_not_serve_is_told_so(connect):
    harness = await connect(guild_id=9999)
    refused = await harness.fake.slash_command(ALICE, "share")
    data = (await harness.answer_to(refused))["data"]
    assert data["content"] == "This bot serves another server." and data["flags"] & EPHEMERAL
    assert await harness.bot.db.fetchval("SELECT COUNT(*) FROM share_offers") == 0


async def test_a_command_typed_in_a_dm_is_answered_there(discord_bot):
    started = await discord_bot.fake.slash_command(ALICE, "testimonial", [{"name": "start", "type": 1}],
                                                   guild=False)
    answer = await discord_bot.answer_to(started)
    assert "What happened in your conversation?" in embed_of(answer["data"])["description"]


async def test_a_long_testimonial_fits_discord_and_its_full_text_is_attached(discord_bot):
    # Markup characters are escaped for Discord (each gains a backslash), so these answers at their
    # maximum lengths make a card well over Discord's 6,000 characters.
    story = ("A *_~`| story. " * 200)[:2000]
    await discord_bot.answer_to(await discord_bot.fake.slash_command(ALICE, "testimonial", [{"name": "start", "type": 1}]))
    for answer in (story, ("*_*_ " * 200)[:1000], ("_*_* " * 200)[:1000]):
        await discord_bot.fake.direct_message(ALICE, answer)
    credit = (await discord_bot.dms_to(ALICE, 4))[3]
    consent = await discord_bot.answer_to(await discord_bot.fake.press_button(
        ALICE, buttons_of(credit["data"])[0][1], credit["message_id"], guild=False))
    await discord_bot.answer_to(await discord_bot.fake.press_button(
        ALICE, buttons_of(consent["data"])[0][1], consent["message_id"], guild=False))
    await discord_bot.fake.direct_message(ALICE, "submit")
    await discord_bot.fake.wait_for(lambda: [m for m in discord_bot.fake.channel_messages
                                             if m["channel_id"] == MODERATORS_CHANNEL])
    card = next(m for m in discord_bot.fake.channel_messages if m["channel_id"] == MODERATORS_CHANNEL)
    (attached,) = card["files"]
    assert attached["filename"] == "full-text.txt"
    full_text = attached["bytes"].decode().replace("\\", "")
    assert story in full_text, "the whole story is in the attached file"


async def test_a_post_deleted_by_someone_does_not_break_a_decision(discord_bot):
    await discord_bot.answer_to(await discord_bot.fake.slash_command(ALICE, "share"))
    testimonial = await pending_testimonial(discord_bot)
    await discord_bot.bot.db.execute(
        "INSERT INTO moderation_posts (community, item_kind, item_id, role, channel, message_id, posted_at)"
        " VALUES (?, 'testimonial', ?, 'queue', ?, '424242', '2026-11-25')",
        (f"discord:{GUILD}", testimonial, str(MODERATORS_CHANNEL)))
    approved = await discord_bot.fake.slash_command(ADMIN, "testimonials", [
        {"name": "approve", "type": 1, "options": [{"name": "id", "type": 4, "value": testimonial}]}])
    assert "is approved" in (await discord_bot.answer_to(approved))["data"]["content"]


async def test_the_command_serves_discord_and_stops_cleanly_on_sigterm(tmp_path):
    """`smallstep run --platform discord` as a process: it answers a slash command, and SIGTERM
    (what a service manager sends) closes it with status 0."""
    fake = FakeDiscord(guild_id=GUILD)
    fake.add_member(ALICE, "alice")
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(
        f'[discord]\nguild_id = "{GUILD}"\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--platform", "discord", cwd=tmp_path,
        env={**os.environ, "DISCORD_TOKEN": "fake-token"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await fake.wait_for(lambda: fake.identifies, timeout=30)
        await asyncio.sleep(0.5)  # the ready event and GUILD_CREATE
        interaction = await fake.slash_command(ALICE, "share")
        await fake.wait_for(lambda: any(r["interaction_id"] == interaction for r in fake.interaction_responses),
                            timeout=15)
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        assert "Traceback" not in err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def test_sigterm_during_an_announcement_then_a_restart_reaches_every_channel_once(tmp_path):
    fake = FakeDiscord(guild_id=GUILD)
    rooms = list(range(7000, 7020))
    for room in rooms:
        fake.add_channel(room, f"room-{room}")
    fake.add_role(MODERATOR_ROLE, "Moderators")
    fake.add_member(ADMIN, "admin", roles=[MODERATOR_ROLE])
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(
        f'[discord]\nguild_id = "{GUILD}"\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
        "requests_per_second = 5\n")

    async def serve() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--platform", "discord", cwd=tmp_path,
            env={**os.environ, "DISCORD_TOKEN": "fake-token"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await fake.wait_for(lambda: fake.identifies and fake._bot_socket is not None, timeout=30)
        await asyncio.sleep(0.5)  # the ready event and GUILD_CREATE
        return process

    def posted() -> list[int]:
        return [m["channel_id"] for m in fake.channel_messages if m["channel_id"] in rooms]

    process = await serve()
    try:
        created = await fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
            {"name": "title", "type": 3, "value": "Listening session"},
            {"name": "start", "type": 3, "value": "2030-01-14 18:00"},
            {"name": "channels", "type": 3, "value": " ".join(f"<#{room}>" for room in rooms)}]}])
        await fake.wait_for(lambda: any(r["interaction_id"] == created for r in fake.interaction_responses), 15)
        await fake.wait_for(lambda: len(posted()) >= 4, timeout=15)
        process.terminate()  # halfway through the fan-out
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        halfway = len(posted())
        assert 4 <= halfway < len(rooms)
        fake.identifies.clear()
        process = await serve()
        await fake.wait_for(lambda: len(posted()) >= len(rooms), timeout=30)
        await asyncio.sleep(0.5)
        assert sorted(posted()) == rooms, "every channel, once"
        process.terminate()
        await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def test_sync_commands_and_invite_url_from_the_command_line(tmp_path):
    fake = FakeDiscord(guild_id=GUILD)
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(
        f'[discord]\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n')

    async def smallstep(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=tmp_path, env={**os.environ, "DISCORD_TOKEN": "fake-token"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        return process.returncode, out.decode(), err.decode()

    try:
        code, out, err = await smallstep("sync-commands", "--guild", str(GUILD))
        assert code == 0, err
        assert out.startswith("Registered ") and f"server {GUILD}" in out
        (sync,) = fake.command_syncs
        assert sync["guild_id"] == GUILD and "sync" in {c["name"] for c in sync["commands"]}
        code, out, err = await smallstep("invite-url")
        assert code == 0, err
        assert f"client_id={fake.app_id}" in out
        asked = discord.Permissions(int(yarl.URL(out.strip()).query["permissions"]))
        assert asked.create_events and not asked.create_public_threads, "the events cog is on, its threads are not"
    finally:
        await fake.close()


LETTERS = Literal["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s",
                  "t", "u", "v", "w", "x", "y", "z"]


def test_commands_past_discords_limits_are_refused_before_any_sync():
    class Wide(Cog):
        """Too many choices for Discord."""

        @command("wide pick", help="Pick a letter")
        async def pick(self, ctx: Invocation, letter: LETTERS = option("A letter")) -> None: ...

    with pytest.raises(CommandLimitError, match=r"/wide pick offers 26 choices for letter; Discord allows 25"):
        application_commands([CommandEntry(spec) for spec in Wide.commands])


def test_a_subcommand_named_as_its_groups_single_command_is_on_discord_is_refused_before_any_sync():
    class Garden(Cog):
        """/garden is /garden start on Discord, where /garden start is taken."""

        @command("garden", help="Your garden")
        async def garden(self, ctx: Invocation) -> None: ...

        @command("garden start", help="Plant a new garden")
        async def start(self, ctx: Invocation) -> None: ...

    with pytest.raises(CommandLimitError, match=r"/garden and /garden start would have the same name on Discord"):
        application_commands([CommandEntry(spec) for spec in Garden.commands])


async def test_a_moderators_note_is_written_in_a_modal_and_nothing_typed_is_lost(discord_bot):
    await discord_bot.answer_to(await discord_bot.fake.slash_command(ALICE, "share"))
    testimonial = await pending_testimonial(discord_bot)
    pressed = await discord_bot.fake.press_button(ADMIN, f"testimonials:reject|{testimonial}", "424243",
                                                  channel_id=MODERATORS_CHANNEL)
    assert (await discord_bot.response_to(pressed))["type"] == 9, "a modal, as the press's first answer"
    modal = discord_bot.fake.modals[-1]
    (label,) = modal["components"]
    box = label["component"]  # a text input in a Label, as Discord documents modals today
    assert modal["title"] == "Rejecting a testimonial" and box["custom_id"] == "note" and box["style"] == 2
    assert len(label["label"]) <= 45 and box["placeholder"].startswith("Why is it rejected? The member will read")
    # Closed without sending (Esc), then pressed again: the modal opens again, not a DM.
    pressed = await discord_bot.fake.press_button(ADMIN, f"testimonials:reject|{testimonial}", "424243",
                                                  channel_id=MODERATORS_CHANNEL)
    assert (await discord_bot.response_to(pressed))["type"] == 9
    assert discord_bot.fake.modals[-1]["custom_id"] == modal["custom_id"], "the same draft"
    assert not discord_bot.fake.messages_to(ADMIN)

    sent = await discord_bot.fake.submit_modal(ADMIN, modal["custom_id"], {"note": "meh"}, message_id="424243",
                                               channel_id=MODERATORS_CHANNEL)
    refused = await discord_bot.answer_to(sent)
    assert refused["data"]["flags"] & EPHEMERAL
    assert "isn't sent yet" in refused["data"]["content"] and "2 more characters" in refused["data"]["content"]
    assert await discord_bot.bot.db.fetchval("SELECT status FROM testimonials") == "pending"

    await discord_bot.restart()  # what was typed waits in the draft
    (again,) = [c for label, c in buttons_of(refused["data"]) if label == "Write it again"]
    reopened = await discord_bot.fake.press_button(ADMIN, again, refused["message_id"], channel_id=MODERATORS_CHANNEL)
    assert (await discord_bot.response_to(reopened))["type"] == 9
    assert discord_bot.fake.modals[-1]["components"][0]["component"]["value"] == "meh"

    sent = await discord_bot.fake.submit_modal(ADMIN, modal["custom_id"], {"note": "It names a neighbour @everyone."},
                                               message_id="424243", channel_id=MODERATORS_CHANNEL)
    done = await discord_bot.answer_to(sent)
    assert "rejected" in done["data"]["content"].lower()
    assert await discord_bot.bot.db.fetchval("SELECT status FROM testimonials") == "rejected"
    await discord_bot.fake.wait_for(lambda: any("neighbour" in m["data"].get("content", "")
                                                for m in discord_bot.fake.messages_to(ALICE)))
    told = next(m for m in discord_bot.fake.messages_to(ALICE) if "neighbour" in m["data"].get("content", ""))
    assert f"It names a neighbour @{ZERO_WIDTH_SPACE}everyone." in told["data"]["content"]


async def test_a_note_the_database_cannot_keep_comes_back_to_its_writer(discord_bot, caplog):
    testimonial = await pending_testimonial(discord_bot)
    pressed = await discord_bot.fake.press_button(ADMIN, f"testimonials:changes|{testimonial}", "424244",
                                                  channel_id=MODERATORS_CHANNEL)
    await discord_bot.response_to(pressed)
    async with read_only(discord_bot.bot.db):
        sent = await discord_bot.fake.submit_modal(ADMIN, discord_bot.fake.modals[-1]["custom_id"],
                                                   {"note": "Please leave out your neighbour's name."},
                                                   message_id="424244", channel_id=MODERATORS_CHANNEL)
        echoed = await discord_bot.answer_to(sent)
    assert "so here it is, to send again" in echoed["data"]["content"]
    assert "Please leave out your neighbour's name." in echoed["data"]["content"].replace("\\", "")
    caplog.clear()  # the database trouble was logged, as it should be


# -- Discord's documented rules (each of these failed against a fake that did not keep them) -------------


async def test_without_the_members_intent_members_are_found_over_rest(connect):
    """Without the presences intent GUILD_CREATE lists only the bot, and without the members intent
    discord.py caches no one: a member named in an option is looked up over REST."""
    harness = await connect(members_intent=False)
    community = harness.adapter._home()
    assert harness.adapter.client.get_guild(GUILD).get_member(ALICE) is None, "nobody is cached"
    for written in (f"<@{ALICE}>", f"<@!{ALICE}>", str(ALICE), "alice", "@ALICE"):
        found = await harness.adapter.resolve_member(community, written)
        assert (found.id, found.display_name) == (str(ALICE), "alice"), written
    assert (await harness.adapter.resolve_member(community, "<@424242>")) is None

    created = await harness.fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
        {"name": "title", "type": 3, "value": "Listening session"},
        {"name": "start", "type": 3, "value": "2030-01-14 18:00"},
        {"name": "channels", "type": 3, "value": f"<#{GENERAL}>"}]}])
    await harness.answer_to(created)
    await harness.fake.wait_for(lambda: any(m["channel_id"] == GENERAL for m in harness.fake.channel_messages))
    announcement = next(m for m in harness.fake.channel_messages if m["channel_id"] == GENERAL)
    await harness.answer_to(await harness.fake.press_button(
        ALICE, buttons_of(announcement["data"])[0][1], announcement["message_id"]))
    harness.bot.clock.advance(harness.bot.clock.now().replace(year=2030, month=1, day=15) - harness.bot.clock.now())
    marked = await harness.answer_to(await harness.fake.slash_command(ADMIN, "event", [
        {"name": "attended", "type": 1, "options": [{"name": "event", "type": 3, "value": "1"},
                                                    {"name": "members", "type": 3, "value": f"<@{ALICE}>"}]}]))
    assert "couldn't find" not in marked["data"]["content"].lower()
    assert await harness.bot.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'event.attended'") == 1


async def test_each_delivery_carries_its_own_nonce_and_a_repeat_is_not_posted_twice(discord_bot):
    """A crash between Discord taking a message and the outbox marking it: the next attempt sends the
    same nonce with enforce_nonce, and Discord returns the message it made instead of a second one."""
    outbox, community = discord_bot.bot.outbox, discord_bot.adapter._home()
    rooms = [Channel(str(GENERAL), "general"), Channel(str(MODERATORS_CHANNEL), "moderators")]
    await outbox.put(community, "test:nonce", [(room, Message(text="Hello, room.")) for room in rooms])
    await discord_bot.fake.wait_for(lambda: len(discord_bot.fake.channel_messages) == 2)
    await outbox.idle()
    nonces = [m["data"]["nonce"] for m in discord_bot.fake.channel_messages]
    assert all(m["data"]["enforce_nonce"] for m in discord_bot.fake.channel_messages)
    assert len(set(nonces)) == 2 and all(len(n) <= 25 for n in nonces)
    # What a crash before the mark leaves behind: the rows still pending, their attempt begun.
    await discord_bot.bot.db.execute("UPDATE outbox SET status = 'pending', message_id = NULL WHERE batch = 'test:nonce'")
    await discord_bot.restart()  # the outbox delivers what is pending as the bot connects
    await discord_bot.fake.wait_for(lambda: discord_bot.fake.nonce_repeats == 2)
    await discord_bot.bot.outbox.idle()
    assert len(discord_bot.fake.channel_messages) == 2, "each room has the message once"
    sent = await discord_bot.bot.db.fetchall("SELECT status, message_id FROM outbox WHERE batch = 'test:nonce'")
    assert sorted(r["message_id"] for r in sent) == sorted(m["message_id"] for m in discord_bot.fake.channel_messages)


async def test_a_members_messages_reach_them_in_the_order_queued_after_their_answer(discord_bot):
    """A member's DMs wait while the bot answers them; one queued later must not overtake one that waited
    because the answer ended while the outbox was busy elsewhere (a channel post here)."""
    outbox, community = discord_bot.bot.outbox, discord_bot.adapter._home()
    alice = Member("discord", str(ALICE), "alice")
    held = discord_bot.fake.hold_next_message()
    async with outbox.answering(community, alice):
        await outbox.put(community, "test:first", [(alice, Message(text="First."))])
        await outbox.put(community, "test:room", [(Channel(str(GENERAL), "general"), Message(text="A post."))])
        await outbox.put(community, "test:second", [(alice, Message(text="Second."))])
        await discord_bot.fake.wait_for(held.is_set)  # the post is in flight; "First." was passed over
    discord_bot.fake.release_held()  # the answer has ended: the same pass goes on to "Second."
    await discord_bot.fake.wait_for(lambda: len(discord_bot.fake.messages_to(ALICE)) == 2)
    assert [m["data"]["content"] for m in discord_bot.fake.messages_to(ALICE)] == ["First.", "Second."]


async def test_direct_messages_stay_below_the_global_limit_and_dm_channels_are_kept(connect):
    """Discord's 50 requests a second count every request but interaction answers. Sixty DMs cost two
    requests each the first time (opening the DM channel, the message), one after a restart."""
    harness = await connect()
    people = [Member("discord", str(8000 + n), f"member{n}") for n in range(60)]
    for person in people:
        harness.fake.add_member(int(person.id), person.display_name)
    community = harness.adapter._home()
    await harness.bot.outbox.put(community, "test:dms", [(p, Message(text="A reminder.")) for p in people])
    await harness.fake.wait_for(lambda: sum(len(harness.fake.messages_to(int(p.id))) for p in people) == 60, 30)
    await harness.restart()
    await harness.bot.outbox.put(community, "test:dms-again", [(p, Message(text="Another.")) for p in people])
    await harness.fake.wait_for(lambda: sum(len(harness.fake.messages_to(int(p.id))) for p in people) == 120, 30)

    opened = [route for _, route in harness.fake.requests if route == "POST /users/@me/channels"]
    assert len(opened) == 60, "each DM channel opened once, across the restart"
    times = [at for at, _ in harness.fake.requests]
    busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
    assert busiest < harness.fake.global_limit and harness.fake.rate_limited == 0, (busiest, harness.fake.rate_limited)


async def test_the_three_seconds_run_from_when_discord_sent_the_interaction(connect):
    """Looking a member up over REST (a command typed in DMs, no member cache) can be slow: the
    deferral still comes within Discord's window, which started when the interaction was sent."""
    harness = await connect(members_intent=False)
    harness.fake.slow_route("GET /guilds/{guild_id}/members/{user_id}", 2.5)
    interaction = await harness.fake.slash_command(ALICE, "share", guild=False)
    response = await harness.response_to(interaction)
    assert response["type"] == 5 and not harness.fake.late_responses
    answer = await harness.answer_to(interaction)
    assert answer["route"] == "edit_original" and "Share your One Small Step experience" in str(answer["data"])


async def test_a_modal_sent_in_the_older_shape_is_read_too(discord_bot):
    testimonial = await pending_testimonial(discord_bot)
    pressed = await discord_bot.fake.press_button(ADMIN, f"testimonials:reject|{testimonial}", "424243",
                                                  channel_id=MODERATORS_CHANNEL)
    await discord_bot.response_to(pressed)
    sent = await discord_bot.fake.submit_modal(ADMIN, discord_bot.fake.modals[-1]["custom_id"],
                                               {"note": "It names a private person."}, message_id="424243",
                                               channel_id=MODERATORS_CHANNEL, shape="action_rows")
    assert "is rejected" in (await discord_bot.answer_to(sent))["data"]["content"]


async def test_autocomplete_is_answered_only_with_choices(connect):
    """An autocomplete interaction takes choices and nothing else: none for a member typing a
    moderators' command, none for someone outside the server (never a message)."""
    harness = await connect()
    harness.fake.add_user(7777, "stranger")  # on Discord, not in the server
    await harness.answer_to(await harness.fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
        {"name": "title", "type": 3, "value": "Listening session"},
        {"name": "start", "type": 3, "value": "2030-01-14 18:00"}]}]))
    attended = [{"name": "attended", "type": 1, "options": [{"name": "event", "type": 3, "value": "l", "focused": True}]}]
    for user, name, options, guild in ((ADMIN, "event", attended, True), (ALICE, "event", attended, True),
                                       (7777, "find", [{"name": "town", "type": 3, "value": "wi", "focused": True}],
                                        False)):
        response = await harness.response_to(await harness.fake.autocomplete(user, name, options, guild=guild))
        assert response["type"] == 8, user
        assert bool(response["data"]["choices"]) == (user == ADMIN), user
    assert not harness.fake.messages_to(7777)


async def test_a_dm_channel_discord_no_longer_knows_is_opened_again(discord_bot):
    community = discord_bot.adapter._home()
    await discord_bot.bot.db.execute("INSERT INTO discord_dm_channels (community, member_id, channel_id)"
                                     " VALUES (?, ?, ?)", (community.key, str(ALICE), "424242"))
    await discord_bot.bot.outbox.put(community, "t:stale", [(Member("discord", str(ALICE), "alice"),
                                                             Message(text="A reminder."))])
    await discord_bot.dms_to(ALICE, 1)
    await discord_bot.bot.outbox.idle()
    assert await discord_bot.bot.db.fetchval("SELECT status FROM outbox WHERE batch = 't:stale'") == "sent"
    kept = await discord_bot.bot.db.fetchval("SELECT channel_id FROM discord_dm_channels WHERE member_id = ?",
                                             (str(ALICE),))
    assert kept == str(discord_bot.fake._dm_channels[ALICE])


async def test_a_members_dm_channel_is_in_their_data_and_erased_with_it(discord_bot):
    community = discord_bot.adapter._home()
    await discord_bot.bot.outbox.put(community, "t:dm", [(Member("discord", str(ALICE), "alice"), Message(text="Hi."))])
    await discord_bot.dms_to(ALICE, 1)
    await discord_bot.bot.outbox.idle()
    kept = await discord_bot.adapter.personal_data(community, str(ALICE))
    assert kept == {"direct_message_conversation": [{"channel_id": str(discord_bot.fake._dm_channels[ALICE])}]}
    asked = await discord_bot.answer_to(await discord_bot.fake.slash_command(ALICE, "my-data", [
        {"name": "delete", "type": 1}]))
    (erase,) = [c for label, c in buttons_of(asked["data"]) if label.startswith("Yes")]
    await discord_bot.answer_to(await discord_bot.fake.press_button(ALICE, erase, asked["message_id"]))
    assert await discord_bot.bot.db.fetchval("SELECT COUNT(*) FROM discord_dm_channels") == 0


async def test_a_moderators_channel_closed_to_the_bot_costs_the_member_nothing(connect):
    """Someone took Send Messages from the bot in #moderators: a report is kept and its author hears so,
    the card waits in the outbox, and appears once the permission is given back."""
    harness = await connect(more_cogs=("reports",))
    await harness.fake.deny_bot(MODERATORS_CHANNEL, SEND_MESSAGES)
    await harness.fake.wait_for(lambda: harness.adapter.client.get_channel(MODERATORS_CHANNEL).overwrites)
    filed = await harness.answer_to(await harness.fake.slash_command(ALICE, "report", [
        {"name": "what", "type": 3, "value": "Someone keeps posting spam"}]))
    assert "something went wrong" not in filed["data"]["content"].lower() and "#1" in filed["data"]["content"]
    assert "Send Messages" in await harness.bot.db.fetchval("SELECT problem FROM channel_problems")
    await harness.bot.outbox.idle()
    card = await harness.bot.db.fetchone("SELECT status, problem FROM outbox WHERE target_id = ?",
                                         (str(MODERATORS_CHANNEL),))
    assert card["status"] == "pending" and "Missing Permissions" in card["problem"], "waiting, not given up"
    await harness.fake.deny_bot(MODERATORS_CHANNEL, 0)  # a moderator gives the permission back
    harness.bot.clock.advance(timedelta(minutes=15))
    await harness.bot.outbox.deliver_due()
    await harness.fake.wait_for(lambda: any(m["channel_id"] == MODERATORS_CHANNEL for m in harness.fake.channel_messages))
