"""The fake Discord (tests/fakes/discord_server.py) driven by the real discord.py client.

These tests prove the fake speaks enough of Discord for discord.py: login, the gateway
handshake, slash commands, buttons, DMs, closed DMs, rate limits, uploads, member joins and
restarts. Tests of the Discord adapter build on the same pattern: patch discord.py's two base
URLs, start the client as a task, wait until it is ready, act through the fake, assert on what
the fake recorded, and always close the client and await its task.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys

import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands

from fakes.discord_server import FakeDiscord

GUILD = 2000
GENERAL = 3000
SHOWCASE = 3001
MODERATORS = 4000
ALICE = 5001
BOB = 5002  # keeps his DMs closed
CAROL = 5003  # joins during a test


@pytest_asyncio.fixture
async def fake(monkeypatch):
    """A running fake guild, with discord.py pointed at it."""
    fake = FakeDiscord(guild_id=GUILD)
    fake.add_channel(SHOWCASE, "showcase")
    fake.add_role(MODERATORS, "moderators", permissions=discord.Permissions(manage_messages=True).value)
    fake.add_member(ALICE, "alice", roles=[MODERATORS])
    fake.add_member(BOB, "bob", dms_open=False)
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    yield fake
    await fake.close()


class TestClient(discord.Client):
    """A client that records its handler errors (discord.py only logs them) and its readiness."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.members = True
        # guild_ready_timeout: on_ready waits this long after the last GUILD_CREATE (2 s by default).
        super().__init__(intents=intents, guild_ready_timeout=0.1)
        self.ready = asyncio.Event()
        self.errors: list[BaseException] = []

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_error(self, event: str, /, *args, **kwargs) -> None:
        self.errors.append(sys.exc_info()[1])


class AgainView(discord.ui.View):
    @discord.ui.button(label="Again", custom_id="again")
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message("pong again")


class PingClient(TestClient):
    """Answers slash commands with an ephemeral "pong" (and a button), buttons no view owns with
    "pressed <custom_id>", DMs with a DM; remembers who joined."""

    def __init__(self) -> None:
        super().__init__()
        self.joined: list[discord.Member] = []

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.application_command:
            await interaction.response.send_message("pong", ephemeral=True, view=AgainView())
        elif interaction.type is discord.InteractionType.component and interaction.data["custom_id"] != "again":
            await interaction.response.send_message(f"pressed {interaction.data['custom_id']}")

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None and message.author != self.user:
            await message.channel.send(f"you said: {message.content}")

    async def on_member_join(self, member: discord.Member) -> None:
        self.joined.append(member)


@contextlib.asynccontextmanager
async def running(client: TestClient):
    """The client, started on the fake and ready. Exceptions in its gateway loop surface only when
    its task is awaited, so the task is always awaited here, after closing the client."""
    task = asyncio.create_task(client.start("fake-token"))
    try:
        ready = asyncio.create_task(client.ready.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if ready not in done:
            raise RuntimeError("the client stopped or was not ready within 5 s")
        yield client
    finally:
        await client.close()
        await task
    assert client.errors == []


async def test_slash_command_gets_an_ephemeral_pong_and_its_buttons_work(fake):
    async with running(PingClient()):
        interaction_id = await fake.slash_command(ALICE, "ping")
        await fake.wait_for(lambda: fake.interaction_responses[0]["interaction_id"] == interaction_id)
        response = fake.interaction_responses[0]
        assert response["type"] == 4
        assert response["data"]["content"] == "pong"
        assert response["data"]["flags"] & 64  # ephemeral

        # The view discord.py stored under the message id the fake returned handles its button.
        await fake.press_button(ALICE, "again", response["message_id"])
        await fake.wait_for(lambda: len(fake.interaction_responses) == 2)
        assert fake.interaction_responses[1]["data"]["content"] == "pong again"

        # A button no view owns still reaches on_interaction, with its message.
        await fake.press_button(ALICE, "plain", "1234567890")
        await fake.wait_for(lambda: len(fake.interaction_responses) == 3)
        assert fake.interaction_responses[2]["data"]["content"] == "pressed plain"


async def test_a_direct_message_is_answered_in_the_dm(fake):
    async with running(PingClient()):
        await fake.direct_message(ALICE, "hello")
        await fake.wait_for(lambda: fake.messages_to(ALICE))
        assert [m["data"]["content"] for m in fake.messages_to(ALICE)] == ["you said: hello"]
        assert fake.channel_messages == fake.messages_to(ALICE)


async def test_closed_dms_raise_forbidden_50007(fake):
    async with running(PingClient()) as client:
        bob = await client.fetch_user(BOB)
        with pytest.raises(discord.Forbidden) as refused:
            await bob.send("hello")
        assert refused.value.code == 50007
        assert fake.messages_to(BOB) == []


async def test_a_rate_limited_message_is_retried_and_sent_once(fake):
    async with running(PingClient()) as client:
        fake.rate_limit_next_channel_messages(1, retry_after=0.2)
        message = await client.get_channel(GENERAL).send("hello")
        assert fake.rate_limited == 1
        assert [(m["channel_id"], m["data"]["content"]) for m in fake.channel_messages] == [(GENERAL, "hello")]
        assert str(message.id) == fake.channel_messages[0]["message_id"]


async def test_an_upload_is_recorded_and_the_message_can_be_edited(fake):
    async with running(PingClient()) as client:
        badge = discord.File(io.BytesIO(b"\x89PNG not really"), filename="badge.png")
        message = await client.get_channel(SHOWCASE).send("a badge", file=badge)
        sent = fake.channel_messages[0]
        assert sent["data"]["content"] == "a badge"
        assert [(f["filename"], f["bytes"]) for f in sent["files"]] == [("badge.png", b"\x89PNG not really")]
        assert [a.filename for a in message.attachments] == ["badge.png"]

        edited = await message.edit(content="withdrawn")
        assert edited.content == "withdrawn"
        assert [(e["channel_id"], e["message_id"], e["data"]["content"]) for e in fake.edits] == [
            (SHOWCASE, str(message.id), "withdrawn")
        ]


async def test_a_joining_member_reaches_on_member_join(fake):
    async with running(PingClient()) as client:
        await fake.member_joins(CAROL, "carol")
        await fake.wait_for(lambda: client.joined)
        assert [(m.id, m.guild.id) for m in client.joined] == [(CAROL, GUILD)]
        # Members can be looked up over the gateway too (GUILD_MEMBERS_CHUNK).
        found = await client.get_guild(GUILD).query_members("car")
        assert [m.id for m in found] == [CAROL]


async def test_the_client_can_restart_against_the_same_fake(fake):
    async with running(PingClient()):
        pass
    async with running(PingClient()):
        await fake.slash_command(ALICE, "ping")
        await fake.wait_for(lambda: fake.interaction_responses)
    assert len(fake.identifies) == 2
    assert fake.unknown_requests == []


class TreeClient(TestClient):
    """App commands through discord.py's CommandTree, synced to the guild at start-up."""

    def __init__(self) -> None:
        super().__init__()
        self.tree = app_commands.CommandTree(self)
        guild = discord.Object(GUILD)

        @self.tree.command(guild=guild, description="Greet someone in a channel")
        async def greet(interaction: discord.Interaction, who: discord.Member, where: discord.TextChannel) -> None:
            await interaction.response.defer(ephemeral=True)
            await interaction.edit_original_response(content=f"greeting {who.display_name} in #{where.name}")
            original = await interaction.original_response()
            await interaction.followup.send(f"done: {original.content}", ephemeral=True)

        form = app_commands.Group(name="form", description="Forms")

        @form.command(description="Load a form")
        async def load(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"loaded {name}")

        self.tree.add_command(form, guild=guild)

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=discord.Object(GUILD))


async def test_app_commands_sync_resolve_options_and_follow_up(fake):
    async with running(TreeClient()) as client:
        assert [(s["guild_id"], sorted(c["name"] for c in s["commands"])) for s in fake.command_syncs] == [
            (GUILD, ["form", "greet"])
        ]

        options = [{"name": "who", "type": 6, "value": str(ALICE)}, {"name": "where", "type": 7, "value": str(SHOWCASE)}]
        await fake.slash_command(ALICE, "greet", options)
        await fake.wait_for(lambda: len(fake.followups) == 2)
        assert fake.interaction_responses[0]["type"] == 5  # deferred
        assert [(f["edit"], f["data"]["content"]) for f in fake.followups] == [
            (True, "greeting alice in #showcase"),
            (False, "done: greeting alice in #showcase"),
        ]

        subcommand = [{"name": "load", "type": 1, "options": [{"name": "name", "type": 3, "value": "survey"}]}]
        await fake.slash_command(ALICE, "form", subcommand)
        await fake.wait_for(lambda: len(fake.interaction_responses) == 2)
        assert fake.interaction_responses[1]["data"]["content"] == "loaded survey"

        # AutoShardedClient's only extra request; a plain Client never makes it.
        shards, url, _ = await client.http.get_bot_gateway()
        assert (shards, url) == (1, fake.gateway_url)
    assert fake.unknown_requests == []


async def test_private_threads_follow_discords_documented_rules(monkeypatch):
    """Private threads only in text channels, with Create Private Threads; members added only by a moderator of
    threads when the thread is not invitable; archived and locked with the permissions threads.mdx names."""
    from fakes.discord_server import CREATE_PRIVATE_THREADS, GUILD_ANNOUNCEMENT, VIEW_CHANNEL

    fake = FakeDiscord(guild_id=GUILD)
    fake.add_channel(SHOWCASE, "showcase")
    fake.add_channel(3002, "news", kind=GUILD_ANNOUNCEMENT)
    fake.grant_bot(CREATE_PRIVATE_THREADS)
    fake.add_role(4200, "quiet")
    fake.add_member(ALICE, "alice")
    fake.add_member(CAROL, "carol", roles=[4200])
    fake.set_overwrite(SHOWCASE, 4200, deny=VIEW_CHANNEL)
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    try:
        async with running(TestClient()) as client:
            showcase, news = client.get_channel(SHOWCASE), client.get_channel(3002)
            with pytest.raises(discord.HTTPException) as refused:
                await news.create_thread(name="x", type=discord.ChannelType.private_thread)
            assert refused.value.code == 50024, "private threads only in GUILD_TEXT channels"
            thread = await showcase.create_thread(name="a room", type=discord.ChannelType.private_thread,
                                                  invitable=False)
            await fake.wait_for(lambda: client.get_guild(GUILD).get_thread(thread.id) is not None)  # THREAD_CREATE
            with pytest.raises(discord.Forbidden) as refused:
                await thread.add_user(discord.Object(ALICE))
            assert refused.value.code == 50013, "not invitable: only a moderator of threads adds members"
            open_thread = await showcase.create_thread(name="open", type=discord.ChannelType.private_thread)
            await open_thread.add_user(discord.Object(ALICE))
            await open_thread.add_user(discord.Object(CAROL))
            assert fake.sees_thread(ALICE, open_thread.id) and not fake.sees_thread(CAROL, open_thread.id), \
                "added, but the parent channel is hidden from her: the thread is too"
            await open_thread.send("hello")
            with pytest.raises(discord.Forbidden):
                await client.http.edit_channel(open_thread.id, archived=True, locked=True)  # locking: Manage Threads
            await client.http.edit_channel(open_thread.id, archived=True)  # archiving: its creator may
            with pytest.raises(discord.HTTPException) as refused:
                await open_thread.add_user(discord.Object(ALICE))
            assert refused.value.code == 50083, "nothing is added to an archived thread"
            await open_thread.send("back")  # a message unarchives a thread that is not locked
            assert not fake.threads()[1]["archived"]
            assert [m["channel_id"] for m in fake.channel_messages] == [open_thread.id, open_thread.id]
    finally:
        await fake.close()


class EventsClient(TestClient):
    """Remembers the scheduled events, threads and interested users the gateway told it of."""

    def __init__(self, *, scheduled_events_intent: bool = True) -> None:
        super().__init__()
        self._connection._intents.guild_scheduled_events = scheduled_events_intent
        self.heard: list[str] = []

    async def on_scheduled_event_create(self, event: discord.ScheduledEvent) -> None:
        self.heard.append(f"created {event.name}")

    async def on_scheduled_event_user_add(self, event: discord.ScheduledEvent, user: discord.User) -> None:
        self.heard.append(f"interested {user.id}")

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.heard.append(f"thread {thread.name}")


async def test_scheduled_events_follow_the_documented_rules(fake):
    from datetime import datetime, timedelta, timezone

    fake.grant_bot(discord.Permissions(create_events=True, create_public_threads=True).value)
    start = datetime.now(timezone.utc) + timedelta(days=2)
    async with running(EventsClient()) as client:
        guild = client.get_guild(GUILD)
        event = await guild.create_scheduled_event(name="Talk", start_time=start, end_time=start + timedelta(hours=1),
                                                   entity_type=discord.EntityType.external, location="Library",
                                                   privacy_level=discord.PrivacyLevel.guild_only)
        assert event.status is discord.EventStatus.scheduled and event.location == "Library"
        with pytest.raises(discord.HTTPException) as no_place:  # EXTERNAL needs a location of 1-100
            await client.http.create_guild_scheduled_event(guild.id, name="x", privacy_level=2, entity_type=3,
                                                           scheduled_start_time=start.isoformat(),
                                                           scheduled_end_time=start.isoformat(),
                                                           entity_metadata={"location": "l" * 101})
        assert no_place.value.code == 50035
        await event.cancel()
        with pytest.raises(discord.HTTPException) as final:  # CANCELED can no longer be updated
            await client.http.edit_scheduled_event(guild.id, event.id, status=2)
        assert final.value.status == 400
        await fake.mark_interested(ALICE, event.id)
        message = await guild.get_channel(GENERAL).send("Talk on Thursday")
        await message.create_thread(name="Talk")
        with pytest.raises(discord.HTTPException) as twice:
            await message.create_thread(name="Talk")
        assert twice.value.code == 160004, "one thread a message"
        await fake.wait_for(lambda: "thread Talk" in client.heard and any(h.startswith("interested") for h in client.heard))
        assert client.heard[0] == "created Talk"


async def test_interest_reaches_only_a_bot_that_asked_for_the_intent(fake):
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc) + timedelta(days=2)
    listed = fake.add_scheduled_event("Talk", start, start + timedelta(hours=1))
    async with running(EventsClient(scheduled_events_intent=False)) as client:
        assert not fake.identifies[-1]["intents"] & (1 << 16)
        await fake.mark_interested(ALICE, listed)
        await asyncio.sleep(0.2)
        assert client.heard == []
