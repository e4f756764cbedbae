"""A room for each pair, through the real discord.py and the real Bolt against the fakes: a private thread on
Discord with both added, a group DM on Slack, DMs where the bot cannot make one (and the log says why, never
who), the room's buttons answered in the room, the room archived after the follow-up and never read."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import discord
import pytest_asyncio
import yarl
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import Bot
from bot.cli import enabled_needs
from bot.config import parse_config
from bot.core import Community, Member
from bot.core.adapter import ROOMS
from bot.platforms.discord import DiscordAdapter, invite_url
from bot.platforms.discord.runner import point_at
from bot.platforms.slack import SlackAdapter
from bot.platforms.slack.runner import manifest, scopes
from conversation import to_the_morning
from fakes.discord_server import (CREATE_PRIVATE_THREADS, GUILD_ANNOUNCEMENT, MANAGE_THREADS, VIEW_CHANNEL,
                                  FakeDiscord)
from fakes.slack_server import FakeSlack, block_action_body, signed_headers

GUILD, PAIRING, BOT_ROLE, QUIET_ROLE = 2000, 3100, 4100, 4200
ANN, BO, ADMIN = 5101, 5102, 5103
S_ANN, S_BO, S_ADMIN, SECRET = "U0ANN", "U0BO", "U0ADMIN", "test-signing-secret"
PAIRING_CONFIG = '[cogs]\nenabled = ["pairing", "practice", "reports"]\n[cogs.pairing]\nevery = ""\n'
ANSWERS = {"timezone": "America/Chicago", "availability": ["weekday_evenings"], "formats": ["video"], "town": "",
           "avoid": "", "feeling": None}


async def joined(bot: Bot, community: Community, people: list[tuple[str, str, str]], zone: str = "") -> None:
    """Members who answered the joining form (its DM conversation is tested elsewhere), kept through the store."""
    store = bot.cogs.loaded["pairing"].store
    for member_id, name, views in people:
        answers = {**ANSWERS, "views": ["agree" if v == "a" else "disagree" for v in views]}
        if zone:
            answers["timezone"] = zone
        await store.join(community, Member(community.platform, member_id, name), f"s-{member_id}-{answers['timezone']}", answers,
                         bot.clock.now())


async def weeks_pass(bot: Bot, weeks: int) -> None:
    """The bot's clock moves on a week (and an hour) at a time, its scheduled work running each time."""
    for _ in range(weeks):
        bot.clock.advance(timedelta(days=7, hours=1))
        await bot.scheduler.run_due()


def no_names(records: list[logging.LogRecord], *names: str) -> list[str]:
    lines = [r.getMessage() for r in records]
    assert not [line for line in lines for name in names if name in line], "the log never names a member"
    return lines


# -- Discord -------------------------------------------------------------------------------------------


class DiscordPairs:
    def __init__(self, fake: FakeDiscord, tmp_path: Path) -> None:
        self.fake = fake
        self.config = parse_config(
            PAIRING_CONFIG + f'[discord]\nguild_id = "{GUILD}"\nmoderator_role = "Moderators"\n'
            f'api_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n', base_dir=tmp_path)
        self.tmp_path = tmp_path
        self.community = Community("discord", str(GUILD))

    async def start(self) -> None:
        point_at(self.config.discord)
        self.bot = await Bot.open(self.config, database=self.tmp_path / "bot.db")
        self.adapter = DiscordAdapter(self.bot, guild_ready_timeout=0.1, defer_after=1.0)
        await self.bot.start()
        self.client = asyncio.create_task(self.adapter.start("fake-token"))
        await asyncio.wait_for(self.adapter.ready.wait(), 10)

    async def stop(self) -> None:
        await self.adapter.close()
        await self.client
        await self.bot.close()

    async def round(self) -> None:
        """A moderator's /pairing round, confirmed with its button, through the fake's gateway."""
        asked = await self.fake.slash_command(ADMIN, "pairing", [{"name": "round", "type": 1}])
        await self.fake.wait_for(lambda: any(r["interaction_id"] == asked for r in self.fake.interaction_responses))
        response = next(r for r in self.fake.interaction_responses if r["interaction_id"] == asked)
        button = response["data"]["components"][0]["components"][0]["custom_id"]
        await self.fake.press_button(ADMIN, button, response["message_id"])

    def in_channel(self, channel_id: int) -> list[dict]:
        return [m for m in self.fake.channel_messages if m["channel_id"] == channel_id]


@pytest_asyncio.fixture
async def on_discord(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    caplog.set_level(logging.WARNING)
    started = []

    async def start(*, bot_permissions: int = CREATE_PRIVATE_THREADS | MANAGE_THREADS, channel_kind: int = 0,
                    hidden_from_bo: bool = False) -> DiscordPairs:
        fake = FakeDiscord(guild_id=GUILD)
        fake.add_channel(PAIRING, "pairing", kind=channel_kind)
        fake.add_role(4000, "Moderators")
        fake.grant_bot(bot_permissions, BOT_ROLE)
        fake.add_role(QUIET_ROLE, "Quiet")
        fake.add_member(ANN, "ilse")
        fake.add_member(BO, "bodhi", roles=[QUIET_ROLE])
        fake.add_member(ADMIN, "admin", roles=[4000])
        if hidden_from_bo:  # a role overwrite that keeps bo's role out of #pairing
            fake.set_overwrite(PAIRING, QUIET_ROLE, deny=VIEW_CHANNEL)
        await fake.start()
        harness = DiscordPairs(fake, tmp_path)
        started.append(harness)
        await harness.start()
        await joined(harness.bot, harness.community, [(str(ANN), "ilse", "aaaaa"), (str(BO), "bodhi", "ddddd")])
        return harness

    yield start
    for harness in started:
        await harness.stop()
        await harness.fake.close()
        assert not harness.fake.unknown_requests, harness.fake.unknown_requests
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


async def test_the_invite_url_asks_for_private_threads_with_rooms_on_and_nothing_administrative(tmp_path):
    async def asked(config: str) -> discord.Permissions:
        needs = await enabled_needs(parse_config(PAIRING_CONFIG + config, base_dir=tmp_path))
        return discord.Permissions(int(yarl.URL(invite_url(1234, needs)).query["permissions"]))

    granted = await asked("")
    assert granted.create_private_threads and granted.send_messages_in_threads and granted.manage_threads
    assert not granted.administrator and not granted.manage_guild and not granted.manage_channels
    without_rooms = await asked("rooms = false\n")
    assert not without_rooms.create_private_threads and not without_rooms.manage_threads


async def test_discord_a_private_thread_with_both_added_holds_the_introduction(on_discord, caplog):
    pairs = await on_discord()
    await pairs.round()
    await pairs.fake.wait_for(lambda: len(pairs.fake.threads()) == 1 and len(pairs.fake.threads()[0]["members"]) == 3)
    thread = pairs.fake.threads()[0]
    assert thread["parent_id"] == PAIRING and thread["name"] == "Conversation #1"
    assert thread["members"][0] == pairs.fake.bot_user_id and sorted(thread["members"][1:]) == [ANN, BO]
    assert thread["invitable"] is False, \
        "only the two of them: they cannot add anyone"
    assert pairs.fake.sees_thread(ANN, thread["id"]) and pairs.fake.sees_thread(BO, thread["id"])
    assert not pairs.fake.sees_thread(ADMIN, thread["id"]), "a private thread: not even a moderator without Manage Threads"
    await pairs.fake.wait_for(lambda: pairs.in_channel(thread["id"]) and len(pairs.fake.messages_to(ANN)) == 1
                              and len(pairs.fake.messages_to(BO)) == 1)
    intro = pairs.in_channel(thread["id"])[0]
    embed = intro["data"]["embeds"][0]
    assert embed["title"] == "ilse and bodhi: a room for the two of you" or embed["title"] == "bodhi and ilse: a room for the two of you"
    assert "I never read or keep what you write" in embed["description"]
    labels = [c["label"] for row in intro["data"]["components"] for c in row["components"]]
    assert labels == ["Next question", "Suggest a time", "Pause", "End", "Report"]
    note = pairs.fake.messages_to(ANN)[0]["data"]["embeds"][0]["description"]
    assert note == ('You\'re paired with bodhi, and there\'s a room for the two of you: "Conversation #1". Say hello'
                    ' there!\n\nYou\'re both free on weekday evenings (your time).'), "what is hers alone, and no more"

    # "Next question", pressed in the room, is answered in the room for both to see.
    pressed = await pairs.fake.press_button(BO, "pairing:next|1:1", intro["message_id"], channel_id=thread["id"])
    await pairs.fake.wait_for(lambda: any(r["interaction_id"] == pressed for r in pairs.fake.interaction_responses))
    answer = next(r for r in pairs.fake.interaction_responses if r["interaction_id"] == pressed)
    assert answer["data"]["content"].startswith("Another question you might ask: ")
    assert not answer["data"].get("flags", 0) & 64, "not private: the room sees it"

    # After the follow-up, the thread is archived and locked; nothing of the room was ever read.
    await weeks_pass(pairs.bot, 3)  # asked twice whether they met, then a week more: the follow-up is over
    await pairs.fake.wait_for(lambda: pairs.fake.thread_edits)
    assert pairs.fake.thread_edits == [{"thread_id": thread["id"], "data": {"archived": True, "locked": True}}]
    assert pairs.fake.threads()[0]["archived"] and pairs.fake.threads()[0]["locked"]
    no_names(caplog.records, "ilse", "bodhi")


async def test_discord_a_time_suggested_in_the_room_reaches_each_in_their_own_zone(on_discord):
    pairs = await on_discord()
    to_the_morning(pairs.bot.clock)
    await joined(pairs.bot, pairs.community, [(str(BO), "bodhi", "ddddd")], zone="America/New_York")
    await pairs.round()
    await pairs.fake.wait_for(lambda: pairs.fake.threads() and pairs.in_channel(pairs.fake.threads()[0]["id"]))
    room = pairs.fake.threads()[0]["id"]
    intro = pairs.in_channel(room)[0]

    async def press(custom_id: str, message_id: str) -> dict:
        pressed = await pairs.fake.press_button(BO, custom_id, message_id, channel_id=room)
        await pairs.fake.wait_for(lambda: any(r["interaction_id"] == pressed for r in pairs.fake.interaction_responses))
        return next(r for r in pairs.fake.interaction_responses if r["interaction_id"] == pressed)

    offer = await press("pairing:suggest|1", intro["message_id"])
    assert offer["data"]["flags"] & 64, "the hours are shown to the one who pressed, in their zone"
    slots = [c for row in offer["data"]["components"] for c in row["components"]]
    assert slots and all(c["label"].endswith(", 18:00") for c in slots), "weekday evenings in New York: 18:00 first"
    moment = int(slots[0]["custom_id"].rsplit(":", 1)[1])
    await press(slots[0]["custom_id"], offer["message_id"])
    await pairs.fake.wait_for(lambda: len(pairs.fake.messages_to(ANN)) == 2 and len(pairs.fake.messages_to(BO)) == 2)
    for member, zone in ((ANN, "America/Chicago"), (BO, "America/New_York")):
        (told,) = [m for m in pairs.fake.messages_to(member) if m["files"]]  # after the room's note, or before it
        text = told["data"].get("content") or told["data"]["embeds"][0]["description"]
        assert f"<t:{moment}:F>" in text, "Discord shows the moment in each reader's own zone"
        (ics,) = told["files"]
        assert ics["filename"] == "conversation.ics" and f"TZID={zone}".encode() in ics["bytes"], "the calendar file in their own zone"
    assert not [c for c in pairs.in_channel(room) if c is not intro], "the time goes to each alone, not to the room"


async def test_discord_without_create_private_threads_introductions_go_by_dm_and_the_log_says_why(on_discord, caplog):
    pairs = await on_discord(bot_permissions=0)
    await pairs.round()
    await pairs.fake.wait_for(lambda: len(pairs.fake.messages_to(ANN)) == 1 and len(pairs.fake.messages_to(BO)) == 1)
    intro = pairs.fake.messages_to(ANN)[0]["data"]["embeds"][0]
    assert intro["title"] == "Meet bodhi" and "You and bodhi are paired for a conversation." in intro["description"]
    assert [c["label"] for row in pairs.fake.messages_to(ANN)[0]["data"]["components"] for c in row["components"]][0] \
        == "Next question"
    assert pairs.fake.threads() == []
    lines = no_names(caplog.records, "ilse", "bodhi")
    assert any(line.startswith("the bot lacks Create Private Threads in server") for line in lines), "said at start"
    assert "no room for a pair, so they are introduced by DM: the bot lacks Create Private Threads in #pairing" in lines


async def test_discord_a_member_who_cannot_see_the_channel_is_introduced_by_dm(on_discord, caplog):
    pairs = await on_discord(hidden_from_bo=True)
    await pairs.round()
    await pairs.fake.wait_for(lambda: len(pairs.fake.messages_to(ANN)) == 1 and len(pairs.fake.messages_to(BO)) == 1)
    assert pairs.fake.threads() == [], "no thread one of them could not see"
    assert pairs.fake.messages_to(BO)[0]["data"]["embeds"][0]["title"] == "Meet ilse"
    assert "a member of the pair cannot see or write in #pairing" in no_names(caplog.records, "ilse", "bodhi")[-1]


async def test_discord_private_threads_only_in_a_text_channel(on_discord, caplog):
    pairs = await on_discord(channel_kind=GUILD_ANNOUNCEMENT)
    await pairs.round()
    await pairs.fake.wait_for(lambda: len(pairs.fake.messages_to(ANN)) == 1)
    assert pairs.fake.threads() == []
    assert any("#pairing is not a text channel" in line for line in no_names(caplog.records, "ilse", "bodhi"))


# -- Slack ---------------------------------------------------------------------------------------------


class SlackPairs:
    def __init__(self, fake: FakeSlack, tmp_path: Path) -> None:
        self.fake = fake
        self.config = parse_config(PAIRING_CONFIG + f'[slack]\napi_base_url = "{fake.api_base}"\n'
                                                    f'moderators = ["{S_ADMIN}"]\n', base_dir=tmp_path)
        self.tmp_path = tmp_path

    async def start(self) -> None:
        self.bot = await Bot.open(self.config, database=self.tmp_path / "bot.db")
        self.adapter = SlackAdapter(self.bot, token="xoxb-test", signing_secret=SECRET)
        await self.bot.start()
        await self.adapter.prepare()
        self.community = self.adapter.team

    async def stop(self) -> None:
        await self.adapter.close()
        await self.bot.close()

    async def press(self, user: str, action_id: str, value: str, channel: str) -> str:
        url = self.fake.response_url()
        body = block_action_body(user_id=user, user_name=self.fake.handle(user), team_id="T0001", channel_id=channel,
                                 action_id=action_id, value=value, response_url=url)
        response = await self.adapter.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed_headers(
            SECRET, body, content_type="application/x-www-form-urlencoded")))
        assert response.status == 200
        return url.rsplit("/", 1)[-1]

    def posts(self, channel: str) -> list[dict]:
        return [c["args"] for c in self.fake.calls_to("chat.postMessage")
                if c["error"] is None and c["args"].get("channel") == channel]


@pytest_asyncio.fixture
async def on_slack(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    started = []

    async def start(*, granted: list[str] = scopes(frozenset({ROOMS}))) -> SlackPairs:
        fake = FakeSlack(team_id="T0001", scopes=set(granted))
        for user, name in ((S_ANN, "ilse"), (S_BO, "bodhi"), (S_ADMIN, "admin")):
            fake.add_user(user, name)
        await fake.start()
        harness = SlackPairs(fake, tmp_path)
        started.append(harness)
        await harness.start()
        await joined(harness.bot, harness.community, [(S_ANN, "ilse", "aaaaa"), (S_BO, "bodhi", "ddddd")])
        return harness

    yield start
    for harness in started:
        await asyncio.sleep(0.05)
        await harness.stop()
        await harness.fake.close()
        assert not harness.fake.unknown_calls, harness.fake.unknown_calls
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


async def test_the_manifest_asks_to_open_group_dms_with_rooms_on_and_never_to_read_them(tmp_path):
    async def asked(config: str) -> list[str]:
        config = parse_config(PAIRING_CONFIG + config, base_dir=tmp_path)
        return manifest(config, ["pairing join"], needs=await enabled_needs(config))["oauth_config"]["scopes"]["bot"]

    with_rooms = await asked("")
    assert "mpim:write" in with_rooms
    assert "mpim:history" not in with_rooms and "mpim:read" not in with_rooms, "a pair's room is never read"
    assert "mpim:write" not in await asked("rooms = false\n")


async def test_slack_a_group_dm_of_the_two_and_the_bot_holds_the_introduction(on_slack, caplog):
    pairs = await on_slack()
    await pairs.bot.cogs.loaded["pairing"].run_round(pairs.community, pairs.bot.clock.now(), S_ADMIN)
    await pairs.fake.wait_for(lambda: pairs.fake.group_dms())
    (room, members), = pairs.fake.group_dms().items()
    assert members == sorted([S_ANN, S_BO, pairs.fake.bot_user_id]) and room.startswith("G")
    await pairs.fake.wait_for(lambda: pairs.posts(room) and pairs.posts(pairs.fake.dm_channel_of(S_ANN))
                              and pairs.posts(pairs.fake.dm_channel_of(S_BO)))
    intro = pairs.posts(room)[0]
    assert "a room for the two of you" in intro["text"]
    actions = [e["action_id"].split("#")[0] for b in intro["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["pairing:next", "pairing:suggest", "pairing:rest", "pairing:end", "pairing:flag"]

    url_id = await pairs.press(S_ANN, "pairing:next#0", "1:1", room)
    await pairs.fake.wait_for(lambda: any(r["url_id"] == url_id for r in pairs.fake.responses))
    answer = next(r["body"] for r in pairs.fake.responses if r["url_id"] == url_id)
    assert answer["response_type"] == "in_channel" and answer["text"].startswith("Another question you might ask")

    # The follow-up ends; Slack's group DM is left quiet; its history was never asked for.
    await weeks_pass(pairs.bot, 3)
    assert await pairs.bot.db.fetchval("SELECT room_closed FROM pairing_pairs") == 1
    assert not [c for c in pairs.fake.calls if c["args"].get("channel") == room
                and c["method"] != "chat.postMessage"], "the bot only posts in the room"
    no_names(caplog.records, "ilse", "bodhi")


async def test_slack_a_time_suggested_in_the_group_dm_reaches_each_as_slacks_own_date(on_slack):
    pairs = await on_slack()
    to_the_morning(pairs.bot.clock)
    await joined(pairs.bot, pairs.community, [(S_BO, "bodhi", "ddddd")], zone="America/New_York")
    await pairs.bot.cogs.loaded["pairing"].run_round(pairs.community, pairs.bot.clock.now(), S_ADMIN)
    await pairs.fake.wait_for(lambda: pairs.fake.group_dms())
    room = next(iter(pairs.fake.group_dms()))
    await pairs.fake.wait_for(lambda: pairs.posts(room))

    async def press(action_id: str, value: str) -> dict:
        url_id = await pairs.press(S_BO, action_id, value, room)
        await pairs.fake.wait_for(lambda: any(r["url_id"] == url_id for r in pairs.fake.responses))
        return next(r["body"] for r in pairs.fake.responses if r["url_id"] == url_id)

    offer = await press("pairing:suggest#1", "1")
    assert offer["response_type"] == "ephemeral", "the hours are shown to the one who pressed"
    slots = [e for b in offer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert slots and all(e["text"]["text"].endswith(", 18:00") for e in slots), "in New York: 18:00 first"
    moment = int(slots[0]["value"].rsplit(":", 1)[1])
    await press(slots[0]["action_id"], slots[0]["value"])
    for member, zone in ((S_ANN, "America/Chicago"), (S_BO, "America/New_York")):
        dm = pairs.fake.dm_channel_of(member)
        await pairs.fake.wait_for(lambda: [u for u in pairs.fake.uploads if u["channel_id"] == dm])
        told = " ".join(p["text"] for p in pairs.posts(dm)) + " ".join(
            u["initial_comment"] or "" for u in pairs.fake.uploads if u["channel_id"] == dm)
        assert f"<!date^{moment}^" in told, "Slack shows the moment in each reader's own zone"
        (ics,) = [u for u in pairs.fake.uploads if u["channel_id"] == dm]
        assert ics["filename"] == "conversation.ics" and f"TZID={zone}".encode() in ics["bytes"]
    assert len(pairs.posts(room)) == 1, "the time goes to each alone, not to the room"


async def test_slack_a_room_post_whose_outcome_is_unknown_is_posted_again_never_looked_for(on_slack):
    pairs = await on_slack()
    pairs.fake.reset_after_next("chat.postMessage")  # the room's introduction: posted, its answer lost
    await pairs.bot.cogs.loaded["pairing"].run_round(pairs.community, pairs.bot.clock.now(), S_ADMIN)
    await pairs.fake.wait_for(lambda: pairs.fake.group_dms())
    room = next(iter(pairs.fake.group_dms()))
    await pairs.fake.wait_for(lambda: len(pairs.posts(pairs.fake.dm_channel_of(S_BO))) == 1)
    pairs.bot.clock.advance(timedelta(minutes=1))
    await pairs.bot.outbox.deliver_due()
    assert len(pairs.posts(room)) == 2, "a repeat rather than a loss"
    assert not pairs.fake.calls_to("conversations.history"), "the room's history is never read"


async def test_slack_without_the_group_dm_scope_introductions_go_by_dm(on_slack, caplog):
    pairs = await on_slack(granted=scopes())  # installed from a manifest made with rooms off
    await pairs.bot.cogs.loaded["pairing"].run_round(pairs.community, pairs.bot.clock.now(), S_ADMIN)
    await pairs.fake.wait_for(lambda: pairs.posts(pairs.fake.dm_channel_of(S_ANN))
                              and pairs.posts(pairs.fake.dm_channel_of(S_BO)))
    assert "Meet bodhi" in pairs.posts(pairs.fake.dm_channel_of(S_ANN))[0]["text"]
    assert pairs.fake.group_dms() == {}
    lines = no_names(caplog.records, "ilse", "bodhi")
    assert any("Slack refused a group DM: missing_scope (the app needs the mpim:write scope" in line for line in lines)
