"""The Discord adapter, on the real discord.py client.

Every interaction arrives through `on_interaction`: slash commands go to the core's
`run_command`, button presses to `press` (the button's custom id is `action|value`, so a
button posted last week works after any number of restarts: nothing about it is kept in
memory). Direct messages reach `receive_dm` (the forms). A `Message` becomes an embed,
files and a row of buttons; everything is sent with mentions switched off.

Discord wants an answer to an interaction within 3 seconds of sending it. The first reply of
a handler answers the interaction itself; a handler still working 2.5 seconds after the
interaction arrived gets it deferred: its first reply then fills the deferred answer (an edit of
the original response, as Discord documents) and any later one is a follow-up.

Discord allows a bot 50 REST requests a second in all, interaction answers aside. Every other
request of this process goes through one pace (`discord.requests_per_second`; on PostgreSQL one pace
for every process of the bot, see `bot.pace`), so a fan-out of direct messages never runs into the global limit, which would hold every request, answers
included. DM channels, once opened, are kept in the database, so a DM costs one request, not three.
Each outbox delivery carries a nonce of its own, the same on every attempt: Discord returns the
message it already made instead of posting it again after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from importlib.resources import files
from typing import Any, Awaitable

import aiohttp
import discord

from bot.app import Bot
from bot.core import Channel, Community, Invocation, Member, Message, Thread
from bot.core.adapter import EVENT_MIRRORS, ROOMS, THREADS, Adapter, Delivery, Dialog, EventMirror
from bot.core.errors import ChannelUnavailable, MemberUnreachable
from bot.core.message import ButtonStyle
from bot.pace import Pace
from bot.platforms.discord.commands import (CommandEntry, application_commands, core_command, focused_option,
                                           single_subcommand)
from bot.platforms.rooms import RoomRefusals
from bot.platforms.text import cut, pieces, readable
from bot.privacy import community_left, community_returned
from bot.storage import apply_migrations
from bot.values import stamp

log = logging.getLogger(__name__)

DEFER_AFTER = 2.5  # seconds after an interaction arrives: Discord's window is 3 from when it sent it
SUGGEST_WITHIN = 2.0  # seconds to find suggestions; past that, none (a late answer would be refused)
CANNOT_DM = 50007  # Discord's error code for a member who does not accept direct messages
INVALID_RECIPIENT = 50033  # opening a DM with someone who is no longer on Discord
UNKNOWN_CHANNEL, MISSING_ACCESS = 10003, 50001  # a channel that is gone, or that this bot may not use
ALREADY_ANSWERED = 40060  # Discord's error code for a second answer to one interaction
# A message can have one thread, whose id is the message's (channel.mdx, Start Thread from Message);
# asking again answers this code (opcodes-and-status-codes.mdx).
THREAD_EXISTS = 160004
MISSING_PERMISSIONS = 50013
THREAD_NAME = 100  # 1-100 characters
THREAD_ARCHIVE_MINUTES = 10080  # out of the channel list after a week without a message (the longest allowed)

# Guild Scheduled Events (guild-scheduled-event.mdx): a name of 1-100 characters, a description of 1-1000, an
# external event's location of 1-100; entity types, statuses, and GUILD_ONLY, the one privacy level.
EVENT_NAME, EVENT_DESCRIPTION, EVENT_LOCATION = 100, 1000, 100
STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
GUILD_ONLY = 2
UNKNOWN_SCHEDULED_EVENT = 10070
TOO_MANY_EVENTS = 30038  # "Maximum number of uncompleted guild scheduled events reached (100)"

# What each of the cogs' platform needs asks of Discord (permissions.mdx), by the names Discord's settings
# show, and what is lost without it. Since 23 February 2026 a bot needs Create Events to create scheduled
# events; Manage Events alone no longer does it (change-log.mdx); it may edit and end its own with either.
NEEDS: dict[str, tuple[tuple[str, discord.Permissions, str], ...]] = {
    EVENT_MIRRORS: (("Create Events", discord.Permissions(create_events=True),
                     "events are not copied into the server's Events list"),),
    THREADS: (("Create Public Threads", discord.Permissions(create_public_threads=True),
               "announcements have no discussion thread"),
              ("Send Messages in Threads", discord.Permissions(send_messages_in_threads=True),
               "nothing can be posted in the announcements' threads")),
    # A pair's room is a private thread (threads.mdx): made with Create Private Threads, posted in with Send
    # Messages in Threads; Manage Threads adds the two to a thread that is not invitable (so neither can add
    # someone) and locks it when it is archived.
    ROOMS: (("Create Private Threads", discord.Permissions(create_private_threads=True),
             "pairs are introduced by DM instead of in a room of their own"),
            ("Send Messages in Threads", discord.Permissions(send_messages_in_threads=True),
             "pairs are introduced by DM instead of in a room of their own"),
            ("Manage Threads", discord.Permissions(manage_threads=True),
             "either member of a pair could add someone to their room, and a finished room is archived unlocked")),
}


def needed_permissions(needs: frozenset[str]) -> discord.Permissions:
    """The permissions the cogs' platform needs ask for, together."""
    wanted = discord.Permissions.none()
    for need in needs:
        for _, flags, _ in NEEDS.get(need, ()):
            wanted |= flags
    return wanted


# Requests to these routes answer interactions: Discord does not count them toward the global limit
# (receiving-and-responding.mdx, "Endpoints"), so they are never held back behind a fan-out.
INTERACTION_ROUTES = ("/interactions/", "/webhooks/")
MAX_CONTENT, MAX_DESCRIPTION, MAX_FIELD, MAX_FIELDS, MAX_EMBED = 2000, 4096, 1024, 25, 6000
BUTTONS_PER_ROW = 5
TEXTS = "core/discord.j2"
DIALOG = "smallstep-form"  # the custom id of a form shown as a modal, before the form's draft
MODAL_INPUTS, MODAL_TITLE, MODAL_LABEL, MODAL_PLACEHOLDER, MODAL_TEXT = 5, 45, 45, 100, 4000  # Discord's limits

_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}
_MENTION = re.compile(r"^<[@#][!&]?(\d+)>$")


@dataclass
class InteractionState:
    """What an Invocation needs to answer a Discord interaction.

    The lock makes "not answered yet? then answer" one step, whether the handler replies or
    the deferral timer fires: discord.py marks an interaction answered only once Discord replied.
    """

    interaction: discord.Interaction
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    received: float = field(default_factory=time.monotonic)  # Discord's 3 seconds run from about now
    thinking: bool = False  # deferred with "thinking...": the first reply fills that answer in


class DiscordAdapter(Adapter):
    """Connects the core to one Discord server (guild)."""

    platform = "discord"
    offers_rooms = True  # a private thread for a pair

    def __init__(self, bot: Bot, *, guild_ready_timeout: float = 2.0, defer_after: float = DEFER_AFTER) -> None:
        self.bot = bot
        self.defer_after = defer_after
        # Every request is paced (`_paced`: one budget for the whole process, for all of them on PostgreSQL), so the
        # outbox keeps no pace of its own.
        settings = bot.config.discord
        intents = discord.Intents.default()
        intents.members = settings.members_intent
        # Not privileged (gateway.mdx, GUILD_SCHEDULED_EVENTS (1 << 16)): who marks a listed event as interesting.
        intents.guild_scheduled_events = True
        self.client = discord.Client(intents=intents, allowed_mentions=discord.AllowedMentions.none(),
                                     guild_ready_timeout=guild_ready_timeout,
                                     http_trace=_paced(Pace(bot.db, "discord", settings.requests_per_second))
                                     if settings.requests_per_second else None)
        self._home_guild: discord.Guild | None = None  # fetched over REST while the gateway has not sent it
        self.ready = asyncio.Event()
        self._in_flight: set[asyncio.Task] = set()  # handlers running now: waited for at shutdown
        self._rooms_refused = RoomRefusals(log)
        self._missing_noted: set[tuple[str, str]] = set()  # (community, permission) warned about in this process
        self._wire_events()
        self._hear_interest()

    # -- lifecycle ---------------------------------------------------------------------

    async def prepare(self) -> None:
        """Join the bot: its table of DM channels, this adapter, and the Discord-only commands (/sync)."""
        from bot.platforms.discord.cog import DiscordCommands

        await apply_migrations(self.bot.db, "discord", files("bot.platforms.discord") / "migrations")
        self.bot.attach(self)
        if "discord" not in self.bot.cogs.loaded:
            await self.bot.cogs.add_builtin("discord", DiscordCommands)

    async def start(self, token: str) -> None:
        """Log in and stay connected until `close`. Raises discord.LoginFailure for a bad token."""
        await self.prepare()
        if not self.bot.config.discord.members_intent:
            needing = self.features_needing_member_joins()
            if needing:
                log.warning("the members intent is off, so member joins are not delivered and these cogs never hear"
                            " of new members: %s; set discord.members_intent = true and enable the Server Members"
                            " intent in the developer portal", ", ".join(needing))
            else:
                log.info("the members intent is off; no loaded cog listens for member joins")
        await self.client.login(token)
        # REST works from here: what waited since the last stop goes now, while the gateway connects.
        self.bot.outbox.kick()
        await self.client.connect()

    async def read_servers(self) -> None:
        """Without the gateway (`smallstep worker`, logged in over REST only), what its READY would have given of
        each server the bot serves is read over REST instead, so that scheduled jobs find its channels and roles
        as they would in the gateway's process: the server with its roles (Get Guild), its channels (Get Guild
        Channels) and the bot's own member (Get Guild Member), put together as the gateway's Guild Create, whose
        fields these are (gateway-events.mdx). Members are looked up one by one when needed, as without the
        members intent; threads are addressed by id."""
        http = self.client.http
        configured = self.bot.config.discord.guild_id
        served = [configured] if configured else []
        while not configured:  # every server the bot is in, 200 a page (Get Current User Guilds)
            page = await http.get_guilds(200, after=served[-1] if served else None,
                                         with_counts=False)
            served += [guild["id"] for guild in page]
            if len(page) < 200:
                break
        for guild_id in served:
            data = await http.get_guild(guild_id, with_counts=False)
            channels = await http.get_all_guild_channels(guild_id)
            me = await http.get_member(guild_id, self.client.user.id)
            self.client._connection._add_guild_from_data({**data, "channels": channels, "members": [me], "threads": []})

    def _hear_interest(self) -> None:
        """GUILD_SCHEDULED_EVENT_USER_ADD carries ids only (gateway-events.mdx), and discord.py passes it on only
        for a user it has cached, which without the members intent is almost no one: its raw payload is
        passed on as well, as `scheduled_event_interest`."""
        state = self.client._connection
        handled = state.parsers["GUILD_SCHEDULED_EVENT_USER_ADD"]

        def parse(data: dict[str, Any]) -> None:
            handled(data)
            self.client.dispatch("scheduled_event_interest", data)

        state.parsers["GUILD_SCHEDULED_EVENT_USER_ADD"] = parse

    async def _interested(self, guild: discord.Guild, user_id: int, mirror_id: str) -> None:
        """Someone marked one of the server's listed events as interesting: `event_mirror.interested`, for the
        cog whose event it copies (Discord lets no bot mark anyone; the cog offers its own answers)."""
        member = guild.get_member(user_id) or await self._fetch_member(guild, user_id)
        if member is not None and not member.bot:
            await self.bot.events.emit("event_mirror.interested", self._community(guild), self._member(member),
                                       mirror=mirror_id)

    # -- what the cogs need of Discord -----------------------------------------------------

    def platform_needs(self) -> frozenset[str]:
        """What the loaded cogs ask of the platform (EVENT_MIRRORS, THREADS)."""
        return frozenset().union(*(cog.platform_needs() for cog in self.bot.cogs.loaded.values()))

    async def _check_permissions(self, guild: discord.Guild) -> None:
        """What the cogs need that the bot's role in the server lacks: a warning each, kept for `config check`
        and `status` until a later check finds it granted."""
        me = guild.me
        if me is None:
            return
        granted = me.guild_permissions
        community = self._community(guild)
        for need in sorted(self.platform_needs()):
            for name, flags, lost in NEEDS.get(need, ()):
                if flags.is_subset(granted):
                    await self._granted(community, name)
                else:
                    await self._missing(community, name, lost, f"server {guild.id}")

    async def _missing(self, community: Community, permission: str, lost: str, where: str) -> None:
        """Kept for `config check` and `status`; logged as a warning the first time in this process (each refusal
        after it, at INFO: a server without the permission refuses every event, every hour)."""
        level = logging.INFO if (community.key, permission) in self._missing_noted else logging.WARNING
        self._missing_noted.add((community.key, permission))
        log.log(level, "the bot lacks %s in %s, so %s; give its role %s, or invite it again with the link"
                " `smallstep invite-url` prints", permission, where, lost, permission)
        await self.bot.db.execute("INSERT INTO discord_missing_permissions (community, permission, lost, seen_at)"
                                  " VALUES (?, ?, ?, ?) ON CONFLICT (community, permission) DO UPDATE SET"
                                  " lost = excluded.lost, seen_at = excluded.seen_at",
                                  (community.key, permission, lost, stamp(self.bot.clock.now())))

    async def _granted(self, community: Community, permission: str) -> None:
        self._missing_noted.discard((community.key, permission))
        await self.bot.db.execute("DELETE FROM discord_missing_permissions WHERE community = ? AND permission = ?",
                                  (community.key, permission))

    def features_needing_member_joins(self) -> list[str]:
        """The loaded cogs that listen for `member.joined`, which needs the members intent."""
        return sorted({name for name, cog in self.bot.cogs.loaded.items()
                       if any(spec.event == "member.joined" for spec in cog.listeners)})

    async def close(self) -> None:
        """Let the handlers that are running finish (briefly), then disconnect."""
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=10)
        await self.client.close()

    async def _tracked(self, work: Awaitable[None]) -> None:
        task = asyncio.current_task()
        self._in_flight.add(task)
        try:
            await work
        finally:
            self._in_flight.discard(task)

    def _wire_events(self) -> None:
        client = self.client

        @client.event
        async def on_ready() -> None:
            log.info("connected to Discord as %s in %d server(s)", client.user, len(client.guilds))
            for guild in client.guilds:
                if self._serves(guild):
                    await self._check_permissions(guild)
            self.ready.set()
            self.bot.outbox.kick()  # what was queued before the last stop, or while disconnected

        @client.event
        async def on_scheduled_event_interest(data: dict[str, Any]) -> None:
            guild = client.get_guild(int(data["guild_id"]))
            if guild is not None and self._serves(guild):
                await self._tracked(self._interested(guild, int(data["user_id"]), str(data["guild_scheduled_event_id"])))

        @client.event
        async def on_interaction(interaction: discord.Interaction) -> None:
            # The state is made first thing: Discord's three seconds are already running.
            await self._tracked(self._interaction(InteractionState(interaction)))

        @client.event
        async def on_message(message: discord.Message) -> None:
            if message.author.bot or message.guild is not None:
                return
            await self._tracked(self._direct_message(message))

        @client.event
        async def on_guild_remove(guild: discord.Guild) -> None:
            # Removed from the server: its data goes after the grace period (bot.purge_after).
            if self._serves(guild):
                await self._tracked(community_left(self.bot, self._community(guild)))

        @client.event
        async def on_guild_join(guild: discord.Guild) -> None:
            if self._serves(guild):
                await self._tracked(community_returned(self.bot, self._community(guild)))

        @client.event
        async def on_member_join(member: discord.Member) -> None:
            if self._serves(member.guild):
                await self._tracked(self.bot.events.emit("member.joined", self._community(member.guild),
                                                         self._member(member)))

    # -- commands ----------------------------------------------------------------------

    def command_payload(self) -> list[dict[str, Any]]:
        """The application commands for the cogs loaded now."""
        entries = [CommandEntry(handler.spec, (type(handler.cog).__doc__ or "").strip().split("\n")[0])
                   for handler in self.bot.cogs.commands.values()]
        return application_commands(entries)

    async def sync_commands(self, guild_id: int | None = None) -> int:
        """Register the commands with Discord (for one server, which is instant, or globally)."""
        app_id = self.client.application_id or (await self.client.application_info()).id
        payload = self.command_payload()
        if guild_id is None:
            await self.client.http.bulk_upsert_global_commands(app_id, payload)
        else:
            await self.client.http.bulk_upsert_guild_commands(app_id, guild_id, payload)
        return len(payload)

    async def _interaction(self, state: InteractionState) -> None:
        interaction = state.interaction
        interaction.data = readable(interaction.data)  # options, button values, modal answers
        if interaction.type is discord.InteractionType.autocomplete:
            await self._suggest(state)
            return
        # Started before anything else, a member lookup over REST included: the window is Discord's.
        keep_in_time = asyncio.create_task(self._defer_if_slow(state))
        try:
            await self._handle(state)
        finally:
            keep_in_time.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keep_in_time  # a failed deferral is raised here, not lost in a task
            async with state.lock:
                if not interaction.response.is_done():  # the handler said nothing: close the interaction
                    if interaction.type is discord.InteractionType.application_command:
                        await interaction.response.send_message(self.bot.render(TEXTS, self.platform)["done"],
                                                                ephemeral=True)
                    elif interaction.type in (discord.InteractionType.component,
                                              discord.InteractionType.modal_submit):
                        await interaction.response.defer()

    async def _handle(self, state: InteractionState) -> None:
        interaction = state.interaction
        texts = self.bot.render(TEXTS, self.platform, server=self._home_name())
        if interaction.guild is not None and not self._serves(interaction.guild):
            await self._answer(state, Message(text=texts["not_served"]), ephemeral=True)
            return
        member = await self._person(interaction.user)
        if member is None:  # a DM from someone who is not in the community
            await self._answer(state, Message(text=texts["not_a_member"]), ephemeral=True)
            return
        ctx = self._invocation(state, member)
        if interaction.type is discord.InteractionType.application_command:
            name, arguments = core_command(interaction.data or {}, self.bot.cogs.commands,
                                           lambda i: self._resolved_member(interaction, i),
                                           lambda i: self._resolved_channel(interaction, i))
            await self.bot.run_command(ctx, name, arguments)
        elif interaction.type is discord.InteractionType.component:
            action, _, value = (interaction.data or {}).get("custom_id", "").partition("|")
            await self.bot.press(ctx, action, value)
        elif interaction.type is discord.InteractionType.modal_submit:
            await self._dialog_submitted(ctx, interaction.data or {})

    async def _suggest(self, state: InteractionState) -> None:
        """Autocomplete is answered with choices and nothing else (Discord accepts no other answer):
        none for someone who may not use the command, or when finding them takes too long."""
        interaction = state.interaction
        choices: list[discord.app_commands.Choice[str]] = []
        try:
            async with asyncio.timeout(SUGGEST_WITHIN):
                member = None
                if interaction.guild is None or self._serves(interaction.guild):
                    member = await self._person(interaction.user)
                if member is not None:
                    command, option, typed = focused_option(interaction.data or {}, self.bot.cogs.commands)
                    suggestions = await self.bot.suggest(self._invocation(state, member), command, option, typed)
                    choices = [discord.app_commands.Choice(name=s[:100], value=s[:100]) for s in suggestions]
        except TimeoutError:
            log.warning("suggestions took longer than %s s; none were offered", SUGGEST_WITHIN)
        except Exception:  # a lookup that failed: no suggestions, and the member can still type
            log.exception("suggestions could not be found")
        with contextlib.suppress(discord.HTTPException):  # the member typed on: this answer is moot
            await interaction.response.autocomplete(choices)

    async def open_dialog(self, ctx: Invocation, dialog: Dialog) -> bool:
        """A modal, as the first answer to a press (Discord allows it no later); False when the press
        was answered already (a slow handler was deferred) or the form has more boxes than a modal."""
        state = ctx.platform_data
        if (not isinstance(state, InteractionState) or len(dialog.fields) > MODAL_INPUTS
                or state.interaction.type is not discord.InteractionType.component):
            return False
        modal = discord.ui.Modal(title=cut(dialog.title, MODAL_TITLE), custom_id=f"{DIALOG}|{dialog.id}",
                                 timeout=None)
        for box in dialog.fields:
            # Each box in a Label, the shape Discord documents for modals (action rows there are deprecated).
            # A label holds 45 characters: a longer question is whole in the placeholder, as far as it goes.
            modal.add_item(discord.ui.Label(text=cut(box.label, MODAL_LABEL), component=discord.ui.TextInput(
                custom_id=box.key, required=not box.optional,
                style=discord.TextStyle.paragraph if box.multiline else discord.TextStyle.short,
                min_length=min(box.min_length, MODAL_TEXT) or None, max_length=min(box.max_length, MODAL_TEXT),
                default=box.value[:MODAL_TEXT] or None,
                placeholder=cut(box.hint or box.label, MODAL_PLACEHOLDER) if len(box.label) > MODAL_LABEL or box.hint
                else None)))
        async with state.lock:
            if state.interaction.response.is_done():
                return False
            try:
                await state.interaction.response.send_modal(modal)
            except discord.HTTPException as exc:  # too late, or refused: the form goes to DMs
                log.warning("Discord did not show a modal (%s); asking in DMs instead", exc)
                return False
        modal.stop()  # its answers are routed by custom id, as buttons are, not by a view kept in memory
        return True

    async def _dialog_submitted(self, ctx: Invocation, data: dict[str, Any]) -> None:
        kind, _, dialog_id = data.get("custom_id", "").partition("|")
        if kind != DIALOG:
            return
        # A modal closes when it is sent: what is wrong comes back privately, with a way to write it again.
        await self.bot.guarded(ctx, partial(self.bot.forms.dialog_sent, ctx, dialog_id, _modal_values(data)),
                               "dialog", "forms")

    async def _direct_message(self, message: discord.Message) -> None:
        member = await self._person(message.author)
        if member is None:
            with contextlib.suppress(discord.HTTPException):
                await message.channel.send(self._not_a_member_text(), allowed_mentions=discord.AllowedMentions.none())
            return
        ctx = Invocation(bot=self.bot, adapter=self, community=self._home(), member=member, channel=None)
        await self.bot.receive_dm(ctx, readable(message.content))

    async def _defer_if_slow(self, state: InteractionState) -> None:
        await asyncio.sleep(max(0.0, self.defer_after - (time.monotonic() - state.received)))
        interaction = state.interaction
        async with state.lock:
            if not interaction.response.is_done():
                state.thinking = interaction.type is discord.InteractionType.application_command
                await interaction.response.defer(ephemeral=True, thinking=state.thinking)

    def _home_name(self) -> str:
        home = self._guild(None) or self._home_guild
        return home.name if home else ""

    def _not_a_member_text(self) -> str:
        return self.bot.render(TEXTS, self.platform, server=self._home_name())["not_a_member"]

    # -- the Adapter protocol ------------------------------------------------------------

    async def respond(self, ctx: Invocation, message: Message, *, private: bool) -> None:
        state = ctx.platform_data
        if not isinstance(state, InteractionState):  # a DM conversation, or a member addressed by a job
            await self.send(ctx.community, ctx.channel or ctx.member, message)
            return
        await self._answer(state, message, ephemeral=private and ctx.channel is not None)

    async def _answer(self, state: InteractionState, message: Message, *, ephemeral: bool) -> None:
        """Answer an interaction: with its first response while it has none; after a "thinking..."
        deferral, by filling that response in (it stays private, as the deferral was); else as a follow-up."""
        interaction = state.interaction
        async with state.lock:
            kwargs = _render(message)
            try:
                if not interaction.response.is_done():
                    await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
                    return
                if state.thinking:
                    state.thinking = False
                    await interaction.edit_original_response(
                        content=kwargs.get("content"), embed=kwargs.get("embed"), attachments=kwargs.get("files", []),
                        view=kwargs.get("view"), allowed_mentions=discord.AllowedMentions.none())
                    return
            except discord.HTTPException as exc:
                if exc.code != ALREADY_ANSWERED:
                    raise
            finally:
                _release(kwargs)
        kwargs = _render(message)
        try:
            await interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)
        finally:
            _release(kwargs)

    async def send(self, community: Community, to: Channel | Member | Thread, message: Message, *,
                   delivery: Delivery | None = None) -> str:
        try:
            if isinstance(to, Thread):
                return await self._sent_in_thread(community, to, message, delivery)
            if isinstance(to, Channel):
                # A channel the cache lacks is addressed by id: no request to look it up first.
                channel = self.client.get_channel(int(to.id)) or self.client.get_partial_messageable(int(to.id))
                sent = await self._sent(channel, message, delivery)
                if message.thread:
                    await self._open_thread(community, to, sent, message.thread)
                return sent
            try:
                return await self._sent(await self._dm_channel(community, to), message, delivery)
            except (discord.NotFound, discord.Forbidden) as exc:
                # A DM channel kept from before that Discord no longer lets this bot use: opened again, once.
                if exc.code not in (UNKNOWN_CHANNEL, MISSING_ACCESS) or not await self._forget_dm(community, to):
                    raise
                return await self._sent(await self._dm_channel(community, to), message, delivery)
        except discord.Forbidden as exc:
            if isinstance(to, Member) and exc.code == CANNOT_DM:
                raise MemberUnreachable(f"{to.display_name} does not accept direct messages") from exc
            if isinstance(to, Thread):
                raise ChannelUnavailable(f"the bot may not post in the thread {to.name}"
                                         f" ({exc.text or 'missing permissions'})") from exc
            if isinstance(to, Channel):
                raise ChannelUnavailable(f"the bot may not post in #{to.name} ({exc.text or 'missing permissions'})")\
                    from exc
            raise
        except discord.NotFound as exc:
            if isinstance(to, Thread):
                raise ChannelUnavailable(f"the message the thread {to.name} hangs from is gone") from exc
            if isinstance(to, Channel):
                raise ChannelUnavailable(f"#{to.name} no longer exists") from exc
            raise MemberUnreachable(f"{to.display_name} is no longer on Discord") from exc
        except discord.HTTPException as exc:
            if isinstance(to, Member) and exc.code == INVALID_RECIPIENT:
                raise MemberUnreachable(f"{to.display_name} is no longer on Discord") from exc
            raise

    async def _sent(self, channel: discord.abc.Messageable, message: Message, delivery: Delivery | None) -> str:
        kwargs = _render(message)
        if delivery is not None:
            # The same nonce on every attempt: Discord hands back the message it made the first time.
            kwargs["nonce"] = delivery.key
        try:
            return str((await channel.send(**kwargs)).id)
        finally:
            _release(kwargs)

    async def _sent_in_thread(self, community: Community, thread: Thread, message: Message,
                              delivery: Delivery | None) -> str:
        """A post in the thread under one of the bot's messages. The thread's id is the message's, so it is
        addressed at once; one not made yet (threads switched on after the announcement, or its making
        failed) answers Unknown Channel, and is made then. A thread archived for quiet is opened again by the
        post itself (threads.mdx: "Sending a message will automatically unarchive the thread")."""
        where = self.client.get_partial_messageable(int(thread.root))
        try:
            return await self._sent(where, message, delivery)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_CHANNEL:
                raise
        await self._open_thread(community, thread.channel, thread.root, thread.name, strict=True)
        return await self._sent(where, message, delivery)

    async def _open_thread(self, community: Community, channel: Channel, message_id: str, name: str, *,
                           strict: bool = False) -> None:
        """Start the discussion thread under a message (POST /channels/{c}/messages/{m}/threads). One made
        already (a repeated attempt) is fine. Without the permission, the message stands without its thread
        and the log says what is missing; `strict` raises instead (a post meant for the thread waits)."""
        try:
            await self.client.http.start_thread_with_message(int(channel.id), int(message_id), name=cut(name, THREAD_NAME)
                                                             or "…", auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                return
            if exc.code == MISSING_PERMISSIONS:
                name, _, lost = NEEDS[THREADS][0]
                await self._missing(community, name, lost, f"channel {channel.id}")
            else:
                log.warning("could not open a thread under a message in channel %s: %s", channel.id, exc)
            if strict:
                raise

    async def _dm_channel(self, community: Community, member: Member) -> discord.abc.Messageable:
        """The bot's DM channel with a member: opened once (a request), then kept in the database."""
        known = await self.bot.db.fetchval("SELECT channel_id FROM discord_dm_channels WHERE community = ?"
                                           " AND member_id = ?", (community.key, member.id))
        if known is not None:
            return self.client.get_partial_messageable(int(known), type=discord.ChannelType.private)
        opened = await self.client.create_dm(discord.Object(int(member.id)))
        await self.bot.db.execute("INSERT INTO discord_dm_channels (community, member_id, channel_id) VALUES (?, ?, ?)"
                                  " ON CONFLICT (community, member_id) DO UPDATE SET channel_id = excluded.channel_id", (community.key, member.id, str(opened.id)))
        return opened

    async def _forget_dm(self, community: Community, member: Member) -> bool:
        """Forget the member's DM channel; False if none was kept."""
        return bool(await self.bot.db.execute("DELETE FROM discord_dm_channels WHERE community = ? AND member_id = ?",
                                              (community.key, member.id)))

    async def personal_data(self, community: Community, member_id: str) -> dict[str, list[dict[str, Any]]]:
        """What this adapter keeps about a member, for /my-data: the id of their DM with the bot."""
        rows = await self.bot.db.fetchall("SELECT channel_id FROM discord_dm_channels WHERE community = ? AND member_id = ?",
                                          (community.key, member_id))
        return {"direct_message_conversation": [dict(row) for row in rows]} if rows else {}

    async def forget_member(self, community: Community, member: Member) -> None:
        """A member's data is erased: the id of their DM channel goes too."""
        await self._forget_dm(community, member)

    def serves(self, community: Community) -> bool:
        guild = self._guild(community)
        return guild is not None and self._serves(guild)

    async def check_channel(self, community: Community, channel: Channel) -> str | None:
        guild = self._guild(community)
        found = guild.get_channel(int(channel.id)) if guild and channel.id.isdigit() else None
        if found is None:
            return f"#{channel.name} is not a channel the bot can see"
        allowed = found.permissions_for(guild.me)
        missing = [name for name, has in (("View Channel", allowed.view_channel),
                                          ("Send Messages", allowed.send_messages),
                                          ("Embed Links", allowed.embed_links)) if not has]
        return f"the bot lacks {', '.join(missing)} in #{found.name}" if missing else None

    async def open_room(self, community: Community, members: list[Member], name: str, within: str) -> Channel | None:
        """A room for a few members: a private thread in the text channel `within` (a name or an id) with each of
        them added; the bot only posts there. None when it cannot be made, with a log line saying why (never
        who): the caller then writes to each by DM.

        threads.mdx: private threads "can only be created in GUILD_TEXT channels"; creating one needs Create
        Private Threads, posting in it Send Messages in Threads, and adding members to one that is not `invitable`
        ("whether non-moderators can add other non-moderators") Manage Threads. Without Manage Threads the room
        is invitable, so either member could add someone. A member must be able to view the channel, or they
        would be added to a thread they cannot see ("Threads inherit permissions from the parent channel")."""
        guild = self._guild(community)
        parent = await self.resolve_channel(community, within) if guild is not None else None
        channel = guild.get_channel(int(parent.id)) if parent is not None else None
        if not isinstance(channel, discord.TextChannel):
            return self._no_room(f"#{within} is not a channel the bot can see (cogs.pairing.room_channel)")
        if channel.type is not discord.ChannelType.text:
            return self._no_room(f"#{channel.name} is not a text channel, and only text channels have private threads")
        allowed = channel.permissions_for(guild.me)
        missing = [label for label, has in (("View Channel", allowed.view_channel),
                                            ("Create Private Threads", allowed.create_private_threads),
                                            ("Send Messages in Threads", allowed.send_messages_in_threads)) if not has]
        if missing:
            return self._no_room(f"the bot lacks {', '.join(missing)} in #{channel.name}")
        people = [guild.get_member(int(m.id)) or await self._fetch_member(guild, int(m.id)) for m in members]
        if any(person is None for person in people):
            return self._no_room("a member of the pair is no longer in the server")
        if not all(channel.permissions_for(person).view_channel and channel.permissions_for(person).send_messages_in_threads
                   for person in people):
            return self._no_room(f"a member of the pair cannot see or write in #{channel.name}")
        try:
            thread = await channel.create_thread(name=cut(name, 100), type=discord.ChannelType.private_thread,
                                                 invitable=not allowed.manage_threads, auto_archive_duration=10080)
            for person in people:
                await thread.add_user(person)
        except discord.HTTPException as exc:
            return self._no_room(f"Discord refused it ({exc.status}, code {exc.code}: {exc.text})")
        return Channel(str(thread.id), thread.name)

    def _no_room(self, why: str) -> None:
        self._rooms_refused.refuse(why)
        return None

    async def close_room(self, community: Community, room: Channel) -> None:
        """Archive a pair's thread, and lock it where the bot has Manage Threads (then only moderators reopen it);
        the bot never reads or keeps what was written there."""
        guild = self._guild(community)
        thread = guild.get_thread(int(room.id)) if guild is not None else None
        parent = thread.parent if thread is not None else None
        lock = parent.permissions_for(guild.me).manage_threads if parent is not None else (
            guild is not None and guild.me.guild_permissions.manage_threads)
        try:
            await self.client.http.edit_channel(int(room.id), archived=True, **({"locked": True} if lock else {}))
        except (discord.NotFound, discord.Forbidden) as exc:  # deleted by a moderator, or out of reach: nothing to do
            log.warning("could not archive a pairing room (%s)", exc.text or exc.status)

    async def edit(self, community: Community, channel: Channel, message_id: str, message: Message) -> None:
        kwargs = _render(message)
        try:
            target = self.client.get_channel(int(channel.id)) or await self.client.fetch_channel(int(channel.id))
            await target.get_partial_message(int(message_id)).edit(
                content=kwargs.get("content"), embed=kwargs.get("embed"), attachments=kwargs.get("files", []),
                view=kwargs.get("view"), allowed_mentions=discord.AllowedMentions.none())
        except (discord.NotFound, discord.Forbidden) as exc:
            # Someone deleted the post, or the bot lost access: there is nothing left to update.
            log.warning("could not edit message %s in channel %s: %s", message_id, channel.id, exc)
        finally:
            _release(kwargs)

    # -- the server's own Events list (MirrorsEvents) ------------------------------------------------

    async def mirror_event(self, community: Community, mirror: EventMirror, *, unsure: bool = False) -> str | None:
        """A Guild Scheduled Event for the occurrence: in the voice or stage channel its place names, else
        external, at its place. Refused (no Create Events, 100 uncompleted events already): None, logged."""
        guild = self._guild(community) or await self._fetched_home(community)
        if guild is None:
            return None
        payload = self._scheduled_event(guild, mirror)
        try:
            if unsure:  # a create has no idempotency key: the copy a lost answer made is found by its name and start
                for made in await self.client.http.get_scheduled_events(guild.id, False):
                    if (made.get("creator_id") == str(self.client.user.id) and made["name"] == payload["name"]
                            and made["status"] in (SCHEDULED, ACTIVE)
                            and _moment(made["scheduled_start_time"]) == mirror.start):
                        return str(made["id"])
            made = await self.client.http.create_guild_scheduled_event(guild.id, **payload)
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise  # it may pass: the cog tries again, looking for what this attempt may have made
            await self._mirror_refused(community, "add an event to", exc)
            return None
        await self._granted(community, NEEDS[EVENT_MIRRORS][0][0])
        return str(made["id"])

    async def update_mirror(self, community: Community, mirror_id: str, mirror: EventMirror) -> bool:
        guild = self._guild(community) or await self._fetched_home(community)
        if guild is None:
            return True
        try:
            await self.client.http.edit_scheduled_event(guild.id, int(mirror_id), **self._scheduled_event(guild, mirror))
        except discord.HTTPException as exc:
            if exc.code == UNKNOWN_SCHEDULED_EVENT:
                return False  # someone deleted it in Discord
            if exc.status >= 500:
                raise
            await self._mirror_refused(community, "change an event in", exc)
        return True

    async def start_mirror(self, community: Community, mirror_id: str) -> None:
        """A voice or stage event is started by the bot at its time (its interested members are told); an
        external one starts by itself (guild-scheduled-event.mdx, Status Update Automation)."""
        await self._move_mirror(community, mirror_id, {SCHEDULED: ACTIVE}, skip_external=True)

    async def end_mirror(self, community: Community, mirror_id: str) -> None:
        """ACTIVE → COMPLETED; one still SCHEDULED never began, and may only be CANCELED (the documented
        transitions). An external one ends by itself at its end time; a late job finds it COMPLETED."""
        await self._move_mirror(community, mirror_id, {ACTIVE: COMPLETED, SCHEDULED: CANCELED})

    async def cancel_mirror(self, community: Community, mirror_id: str) -> None:
        """SCHEDULED → CANCELED; one already under way can only be ended."""
        await self._move_mirror(community, mirror_id, {SCHEDULED: CANCELED, ACTIVE: COMPLETED})

    async def _move_mirror(self, community: Community, mirror_id: str, moves: dict[int, int], *,
                           skip_external: bool = False) -> None:
        guild = self._guild(community) or await self._fetched_home(community)
        if guild is None:
            return
        try:
            found = await self.client.http.get_scheduled_event(guild.id, int(mirror_id), False)
            if skip_external and found["entity_type"] == EXTERNAL or found["status"] not in moves:
                return
            await self.client.http.edit_scheduled_event(guild.id, int(mirror_id), status=moves[found["status"]])
        except discord.HTTPException as exc:
            if exc.code == UNKNOWN_SCHEDULED_EVENT:
                return  # deleted in Discord: nothing to move
            if exc.status >= 500:
                raise
            await self._mirror_refused(community, "change an event in", exc)

    def _scheduled_event(self, guild: discord.Guild, mirror: EventMirror) -> dict[str, Any]:
        """The JSON of a scheduled event, within Discord's limits: a place longer than a location holds is
        written out whole at the top of the description too."""
        description = mirror.description
        payload: dict[str, Any] = {"name": cut(mirror.title, EVENT_NAME) or "…", "privacy_level": GUILD_ONLY,
                                   "scheduled_start_time": mirror.start.isoformat(),
                                   "scheduled_end_time": mirror.end.isoformat()}
        room = self._voice_place(guild, mirror.place)
        if room is not None:  # channel_id set, entity_metadata null (Field Requirements By Entity Type)
            payload.update(entity_type=STAGE_INSTANCE if isinstance(room, discord.StageChannel) else VOICE,
                           channel_id=room.id, entity_metadata=None)
        else:  # EXTERNAL: channel_id null, a location, an end
            if len(mirror.place) > EVENT_LOCATION:
                description = f"{mirror.place}\n\n{description}".strip()
            payload.update(entity_type=EXTERNAL, channel_id=None,
                           entity_metadata={"location": cut(mirror.place, EVENT_LOCATION) or "…"})
        payload["description"] = cut(description, EVENT_DESCRIPTION) or None
        return payload

    def _voice_place(self, guild: discord.Guild, place: str) -> discord.VoiceChannel | discord.StageChannel | None:
        """The voice or stage channel a place names (`<#id>`, `#name` or its name), if it is one."""
        wanted = place.strip()
        match = _MENTION.match(wanted)
        for room in [*guild.voice_channels, *guild.stage_channels]:
            if (match and match.group(1) == str(room.id)) or wanted.lstrip("#").casefold() == room.name.casefold():
                return room
        return None

    async def _mirror_refused(self, community: Community, doing: str, exc: discord.HTTPException) -> None:
        """Said once per refusal, in words an organiser can act on; the bot's event works on without its copy."""
        if exc.code == MISSING_PERMISSIONS:
            name, _, lost = NEEDS[EVENT_MIRRORS][0]
            await self._missing(community, name, lost, f"server {community.id} (refused to {doing} its Events list)")
        elif exc.code == TOO_MANY_EVENTS:
            log.warning("server %s has 100 events to come in its Events list, Discord's most; this event is not"
                        " listed there until one has ended", community.id)
        else:
            log.warning("Discord refused to %s the Events list of server %s: %s", doing, community.id, exc)

    def command_text(self, name: str) -> str:
        """A single command whose name is also a group's is one of its subcommands on Discord."""
        commands = self.bot.cogs.commands
        is_group = any(other.startswith(f"{name} ") for other in commands)
        return f"/{name} {single_subcommand(name)}" if is_group and name in commands else f"/{name}"

    async def resolve_channel(self, community: Community, text: str) -> Channel | None:
        guild = self._guild(community)
        wanted = text.strip().lstrip("#")
        match = _MENTION.match(text.strip())
        for channel in guild.text_channels if guild else []:
            if str(channel.id) in (wanted, match.group(1) if match else "") or channel.name == wanted.lower():
                return Channel(str(channel.id), channel.name)
        return None

    async def resolve_member(self, community: Community, text: str) -> Member | None:
        """A mention, an id or a name. Without the members intent discord.py caches no members, so one
        the cache lacks is looked up over REST (by id, or by name with Search Guild Members: neither
        needs a privileged intent)."""
        guild = self._guild(community) or await self._fetched_home(community)
        if guild is None:
            return None
        match = _MENTION.match(text.strip())
        wanted = match.group(1) if match else text.strip().lstrip("@")
        if wanted.isdigit():
            found = guild.get_member(int(wanted)) or await self._fetch_member(guild, int(wanted))
        else:
            found = guild.get_member_named(wanted) or await self._search_member(guild, wanted)
        return self._member(found) if found else None

    async def _fetch_member(self, guild: discord.Guild, user_id: int) -> discord.Member | None:
        """GET /guilds/{guild}/members/{user}: one member, whatever the cache holds."""
        try:
            return await guild.fetch_member(user_id)
        except discord.NotFound:
            return None

    async def _search_member(self, guild: discord.Guild, name: str) -> discord.Member | None:
        """The member whose name is exactly `name` (then the same ignoring case), from Search Guild
        Members, which finds usernames and nicknames starting with it. discord.py has no call for
        this route, so it is asked through discord.py's own request pipeline (pacing and rate limits)."""
        route = discord.http.Route("GET", "/guilds/{guild_id}/members/search", guild_id=guild.id)
        found = [discord.Member(data=data, guild=guild, state=guild._state)  # as guild.fetch_member builds it
                 for data in await self.client.http.request(route, params={"query": name, "limit": 10})]
        names = lambda m: (m.name, m.global_name, m.nick, m.display_name)  # noqa: E731
        return (next((m for m in found if name in names(m)), None)
                or next((m for m in found if name.casefold() in {n.casefold() for n in names(m) if n}), None))

    # -- people and places ------------------------------------------------------------------

    def _invocation(self, state: InteractionState, member: Member) -> Invocation:
        interaction = state.interaction
        in_guild = interaction.guild is not None
        channel = interaction.channel if in_guild else None
        return Invocation(
            bot=self.bot, adapter=self,
            community=self._community(interaction.guild) if in_guild else self._home(),
            member=member,
            channel=Channel(str(channel.id), getattr(channel, "name", "")) if channel else None,
            platform_data=state,
        )

    def _community(self, guild: discord.Guild) -> Community:
        return Community(self.platform, str(guild.id), guild.name)

    def _home(self) -> Community:
        """The community direct messages belong to: the configured server, or the one the bot is in."""
        guild = self._guild(None)
        configured = self.bot.config.discord.guild_id
        if guild is not None:
            return self._community(guild)
        return Community(self.platform, configured or "0", self._home_guild.name if self._home_guild else "")

    async def _fetched_home(self, community: Community | None) -> discord.Guild | None:
        """The configured server over REST (GET /guilds/{id}, with its roles), while the gateway has not
        sent it (just connected, or the server is unavailable); kept until the gateway's copy arrives."""
        configured = self.bot.config.discord.guild_id
        if not configured or (community is not None and community.id != configured):
            return None
        if self._home_guild is None:
            try:
                self._home_guild = await self.client.fetch_guild(int(configured), with_counts=False)
            except (discord.NotFound, discord.Forbidden):
                return None
        return self._home_guild

    def _guild(self, community: Community | None) -> discord.Guild | None:
        wanted = community.id if community else self.bot.config.discord.guild_id
        if wanted:
            return self.client.get_guild(int(wanted)) if wanted.isdigit() else None
        return self.client.guilds[0] if self.client.guilds else None

    def _serves(self, guild: discord.Guild) -> bool:
        """With discord.guild_id set, the bot serves that server only."""
        configured = self.bot.config.discord.guild_id
        return not configured or str(guild.id) == configured

    async def _person(self, user: discord.User | discord.Member) -> Member | None:
        """The member behind an interaction or a DM; in a DM, looked up in the community's server
        (over REST when the member cache is off), so moderators are recognised there too.
        None for someone who is not in the server."""
        if isinstance(user, discord.Member):
            return self._member(user)
        guild = self._guild(None) or await self._fetched_home(None)
        if guild is None:
            return None
        found = guild.get_member(user.id) or await self._fetch_member(guild, user.id)
        return self._member(found) if found else None

    def _member(self, user: discord.User | discord.Member) -> Member:
        return Member(self.platform, str(user.id), readable(user.display_name), is_moderator=self._is_moderator(user))

    def _is_moderator(self, user: discord.User | discord.Member) -> bool:
        if not isinstance(user, discord.Member):
            return False
        role = self.bot.config.discord.moderator_role
        # An interaction states the member's permissions itself: trust it over a cache of roles.
        permissions = user.resolved_permissions or user.guild_permissions
        return permissions.manage_guild or any(r.name == role or str(r.id) == role for r in user.roles)

    def _resolved_member(self, interaction: discord.Interaction, user_id: str) -> Member | None:
        guild = interaction.guild
        found = guild.get_member(int(user_id)) if guild else None
        if found is not None:
            return self._member(found)
        resolved = (interaction.data or {}).get("resolved", {})
        user = resolved.get("users", {}).get(user_id)
        if user is None:
            return None
        nick = resolved.get("members", {}).get(user_id, {}).get("nick")
        return Member(self.platform, user_id, nick or user.get("global_name") or user.get("username", user_id))

    def _resolved_channel(self, interaction: discord.Interaction, channel_id: str) -> Channel | None:
        channel = (interaction.data or {}).get("resolved", {}).get("channels", {}).get(channel_id)
        return Channel(channel_id, channel.get("name", channel_id)) if channel else None


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _render(message: Message) -> dict[str, Any]:
    """A Message as discord.py's send arguments: content or an embed, files, buttons, no mentions.

    Discord caps an embed at 6,000 characters (4,096 in its text, 1,024 per field). A message
    too long for that is shortened, and its full text attached as a file, so nothing is lost.
    """
    kwargs: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
    files = [discord.File(io.BytesIO(i.data), filename=i.filename, description=i.description or None)
             for i in [*message.images, *message.files]]
    if message.title or message.fields or message.images or message.thumbnail_url or len(message.text) > MAX_CONTENT:
        embed = discord.Embed(title=cut(message.title, 256) or None,
                              description=cut(message.text, MAX_DESCRIPTION) or None)
        for item in message.fields:
            for n, part in enumerate(pieces(item.value, MAX_FIELD) or ["\u200b"]):
                if len(embed.fields) < MAX_FIELDS:
                    embed.add_field(name=cut(item.name if n == 0 else "…", 256), value=part, inline=item.inline)
        if message.images:
            embed.set_image(url=f"attachment://{message.images[0].filename}")
        if message.thumbnail_url:
            embed.set_thumbnail(url=message.thumbnail_url)
        if _fit(embed) or len(message.text) > MAX_DESCRIPTION:
            files.append(discord.File(io.BytesIO(_full_text(message).encode("utf-8")), filename="full-text.txt"))
        kwargs["embed"] = embed
    else:
        kwargs["content"] = message.text or None
    if files:
        kwargs["files"] = files
    if message.buttons:
        view = discord.ui.View(timeout=None)
        for index, button in enumerate(message.buttons[:25]):
            view.add_item(discord.ui.Button(label=cut(button.label, 80), style=_STYLES[button.style],
                                            custom_id=f"{button.action}|{button.value}",
                                            row=index // BUTTONS_PER_ROW))
        kwargs["view"] = view
    return kwargs


def _paced(pace: Pace) -> aiohttp.TraceConfig:
    """One pace for every REST request of this process (of every process of the bot, on PostgreSQL) but the
    interaction endpoints, which Discord does not count: a request waits its turn before aiohttp sends it (its
    trace callbacks are awaited first), one every 1/per_second seconds, never in a burst, so no second of
    Discord's sees more."""

    async def wait_turn(session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        api = discord.http.Route.BASE
        url = str(params.url)
        if url.startswith(api) and not url[len(api):].startswith(INTERACTION_ROUTES):
            await pace.wait()

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(wait_turn)
    return trace


def _modal_values(data: dict[str, Any]) -> dict[str, str]:
    """What was written in a submitted modal, by box. Discord documents each text input inside a Label
    (type 18, its input under `component`); the older shape, an action row per input (`components`),
    is read too, so a note is never lost to the shape it came in."""
    values = {}
    for top in data.get("components") or []:
        for box in [top["component"]] if isinstance(top.get("component"), dict) else top.get("components") or []:
            if box.get("custom_id"):
                values[box["custom_id"]] = box.get("value") or ""
    return values


def _release(kwargs: dict[str, Any]) -> None:
    """Buttons are routed by their custom id, so the view need not stay in discord.py's memory."""
    if kwargs.get("view") is not None:
        kwargs["view"].stop()


def _fit(embed: discord.Embed) -> bool:
    """Shorten the longest parts of an embed until it fits Discord's total; True if anything was cut."""
    trimmed = False
    while len(embed) > MAX_EMBED:
        excess = len(embed) - MAX_EMBED
        longest = max(range(len(embed.fields)), key=lambda i: len(embed.fields[i].value), default=None)
        description = embed.description or ""
        if longest is not None and len(embed.fields[longest].value) >= len(description):
            item = embed.fields[longest]
            keep = max(1, len(item.value) - excess - 1)
            embed.set_field_at(longest, name=item.name, value=item.value[:keep] + "…", inline=item.inline)
        else:
            embed.description = description[:max(1, len(description) - excess - 1)] + "…"
        trimmed = True
    return trimmed


def _full_text(message: Message) -> str:
    parts = [message.title, message.text] + [f"{item.name}\n{item.value}" for item in message.fields]
    return "\n\n".join(part for part in parts if part)
