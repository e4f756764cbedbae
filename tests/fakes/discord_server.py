"""A fake Discord for tests: REST and gateway on 127.0.0.1, driven by the real discord.py client.

Point discord.py at it by patching two class attributes (pytest's monkeypatch):

    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))

The test then makes "Discord" send things to the bot (slash commands, button presses, direct
messages, members joining) and asserts on what the bot did, which the fake records in order
(interaction responses, followups, channel messages, edits, command syncs).

Ids follow the types of the API that uses them: channel and user ids are ints (as passed to
add_channel/add_member), message and interaction ids are str (as returned by slash_command and
taken by press_button). Payloads sent to the bot use Discord's JSON (every snowflake a string).

The fake answers only what discord.py needs for a bot's everyday work; any other request gets a
404 and is recorded in `unknown_requests`, so a test shows what is missing instead of hanging.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import mimetypes
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pprint import pformat
from typing import Any, Callable

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
DISCORD_EPOCH_MS = 1420070400000
HEARTBEAT_INTERVAL_MS = 41250
# Nobody in a test: were the owner a member, Discord would give them every permission implicitly.
GUILD_OWNER_ID = 1
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 53) - 1  # every bit, known or future: what an administrator gets
# What a new guild's @everyone can do: enough for a bot to read, post and answer commands.
DEFAULT_EVERYONE_PERMISSIONS = (
    (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 31)  # use application commands
    | (1 << 38)  # send messages in threads
)
VIEW_CHANNEL, SEND_MESSAGES = 1 << 10, 1 << 11

# Gateway intents the fake honours: Discord sends these events only to a bot that asked.
INTENT_GUILDS = 1 << 0  # THREAD_CREATE among others
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16  # not privileged (gateway.mdx): GUILD_SCHEDULED_EVENT_* and its USER_ADD

# More permission bits (permissions.mdx).
MANAGE_CHANNELS, CONNECT, MUTE_MEMBERS, MOVE_MEMBERS = 1 << 4, 1 << 20, 1 << 22, 1 << 24
MANAGE_EVENTS, CREATE_PUBLIC_THREADS, SEND_MESSAGES_IN_THREADS, CREATE_EVENTS = 1 << 33, 1 << 35, 1 << 38, 1 << 44
# The thread permissions: Manage Threads lets a member delete, archive and lock threads and view every private
# thread ("moderators" in the thread docs); Create Private Threads makes them.
MANAGE_THREADS, CREATE_PRIVATE_THREADS = 1 << 34, 1 << 36

# Channel types (channel.mdx): what the fake's guild holds, the public thread made from a message and the
# private thread made without one, which "can only be created in GUILD_TEXT channels" (threads.mdx).
GUILD_TEXT, GUILD_VOICE, GUILD_ANNOUNCEMENT, PUBLIC_THREAD, PRIVATE_THREAD, GUILD_STAGE_VOICE = 0, 2, 5, 11, 12, 13
# channel.mdx, Start Thread from Message: a 1-100 character name, and these auto_archive_duration minutes.
THREAD_NAME_LIMIT = 100
THREAD_ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)

# guild-scheduled-event.mdx. Entity types, statuses, the one privacy level (GUILD_ONLY); a name of 1-100
# characters, a description of 1-1000, a location of 1-100; "A guild can have a maximum of 100 events with
# SCHEDULED or ACTIVE status at any time" (30038 in opcodes-and-status-codes.mdx).
EVENT_STAGE_INSTANCE, EVENT_VOICE, EVENT_EXTERNAL = 1, 2, 3
EVENT_SCHEDULED, EVENT_ACTIVE, EVENT_COMPLETED, EVENT_CANCELED = 1, 2, 3, 4
EVENT_GUILD_ONLY = 2
EVENT_NAME_LIMIT, EVENT_DESCRIPTION_LIMIT, EVENT_LOCATION_LIMIT = 100, 1000, 100
MOST_UNCOMPLETED_EVENTS = 100
# "Valid Guild Scheduled Event Status Transitions": SCHEDULED → ACTIVE or CANCELED, ACTIVE → COMPLETED; once
# COMPLETED or CANCELED "the status can no longer be updated".
EVENT_TRANSITIONS = {EVENT_SCHEDULED: {EVENT_ACTIVE, EVENT_CANCELED}, EVENT_ACTIVE: {EVENT_COMPLETED}}

# Discord's global limit (topics/rate-limits.mdx, "Global Rate Limit"): "All bots can make up to 50
# requests per second to our API", and "Interaction endpoints are not bound to the bot's Global Rate
# Limit" (interactions/receiving-and-responding.mdx, "Endpoints": the callback and the
# /webhooks/{application}/{token} routes).
GLOBAL_LIMIT = 50
# "You must send an initial response within 3 seconds of receiving the event. If the 3 second deadline
# is exceeded, the token will be invalidated" (receiving-and-responding.mdx, "Interaction Callback").
FIRST_RESPONSE_SECONDS = 3.0
# resources/message.mdx, Create Message: `nonce` is an integer or a string of at most 25 characters;
# with `enforce_nonce`, "the nonce will be checked for uniqueness in the past few minutes. If another
# message was created by the same author with the same nonce, that message will be returned and no new
# message will be created." "A few minutes" is not given exactly: the fake forgets after two.
MAX_NONCE = 25
NONCE_WINDOW_SECONDS = 120.0

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_REQUEST_MEMBERS = 8
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Interaction callback types that create or change a message.
CALLBACK_MESSAGE, CALLBACK_DEFERRED_MESSAGE, CALLBACK_DEFERRED_UPDATE, CALLBACK_UPDATE = 4, 5, 6, 7
CALLBACK_AUTOCOMPLETE_RESULT, CALLBACK_MODAL = 8, 9
INTERACTION_AUTOCOMPLETE = 4
# Component types (components/reference.mdx).
ACTION_ROW, TEXT_INPUT, LABEL = 1, 4, 18


def _modal_problem(data: dict) -> str | None:
    """What Discord would refuse in a modal: its title, 1 to 5 top-level components, their limits.

    components/reference.mdx documents a modal's text inputs wrapped in a Label (type 18: `label` up to
    45, `description` up to 100, one `component`); an Action Row holding one Text Input that carries its
    own `label` is the older shape, deprecated in modals but still accepted."""
    if not 0 < len(data.get("title") or "") <= 45 or not data.get("custom_id") or len(data["custom_id"]) > 100:
        return "a modal's title (1 to 45) or custom_id (1 to 100)"
    rows = data.get("components") or []
    if not 0 < len(rows) <= 5:
        return "a modal holds 1 to 5 components"
    for row in rows:
        if row.get("type") == LABEL:
            box, label = row.get("component") or {}, row.get("label") or ""
            if not 0 < len(label) <= 45 or len(row.get("description") or "") > 100:
                return "a label's text (1 to 45) or description (up to 100)"
        elif row.get("type") == ACTION_ROW and len(row.get("components") or []) == 1:
            box = row["components"][0]
            label = box.get("label") or ""
            if not 0 < len(label) <= 45:
                return "a text input's label (1 to 45)"
        else:
            return "each component of a modal is a label (or an action row of one text input)"
        if box.get("type") != TEXT_INPUT or not box.get("custom_id"):
            return "a modal's label holds a text input with a custom_id"
        if len(box.get("placeholder") or "") > 100:
            return "a text input's placeholder (up to 100)"
        if box.get("style") not in (1, 2) or int(box.get("max_length", 4000)) > 4000 or len(box.get("value") or "") > 4000:
            return "a text input's style, max_length or value"
    return None


MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7


def _limits_problem(data: dict) -> str | None:
    """What Discord would refuse in a message payload (it answers 400, code 50035), or None.

    Checked so that a bot exceeding Discord's limits fails in the tests as it would in production.
    """
    if len(data.get("content") or "") > 2000:
        return "content is longer than 2000"
    embeds = data.get("embeds") or []
    total = 0
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        fields = embed.get("fields") or []
        if len(title) > 256 or len(description) > 4096 or len(fields) > 25:
            return "an embed's title, description or field count is too long"
        for item in fields:
            if len(item.get("name") or "") > 256 or len(item.get("value") or "") > 1024 or not item.get("value"):
                return "an embed field's name or value is too long (or the value is empty)"
        total += len(title) + len(description) + sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
    if total > 6000:
        return "the embeds are longer than 6000 characters in all"
    rows = data.get("components") or []
    if len(rows) > 5:
        return "more than 5 rows of components"
    ids = []
    for row in rows:
        buttons = row.get("components") or []
        if len(buttons) > 5:
            return "more than 5 buttons in a row"
        for button in buttons:
            if len(button.get("label") or "") > 80 or len(button.get("custom_id") or "") > 100:
                return "a button's label or custom_id is too long"
            ids.append(button.get("custom_id"))
    if len(ids) != len(set(ids)):
        return "two buttons share a custom_id"
    return None


# A token the fake refuses at login, as Discord refuses a reset or mistyped one.
REJECTED_TOKEN = "rejected-token"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON reply with the exact Content-Type discord.py checks for: aiohttp's json_response
    adds '; charset=utf-8', and discord.py then hands the body over as text, not JSON."""
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _snowflake(value: Any) -> str | None:
    """An id as Discord's JSON writes it back: a string (a client may send an integer)."""
    return None if value is None else str(value)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json_response({"code": code, "message": message}, status=status)


async def _read_body(request: web.Request) -> tuple[Any, list[dict]]:
    """The request's JSON payload and uploaded files. With files attached, discord.py sends
    multipart/form-data: the payload in a `payload_json` field, each file as `files[n]`."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        payload = json.loads(form["payload_json"]) if "payload_json" in form else None
        files = [
            {"filename": part.filename, "content_type": part.content_type, "bytes": part.file.read()}
            for part in form.values()
            if isinstance(part, web.FileField)
        ]
        return payload, files
    body = await request.read()
    return (json.loads(body) if body else None), []


@dataclass
class _Member:
    name: str
    roles: list[int]
    dms_open: bool = True
    bot: bool = False
    joined_at: str = field(default_factory=_now)


@dataclass
class _Thread:
    """A thread the bot made: public, from a message (its id is the message's), or private, "similar to Group
    DMs, but in a Guild" (threads.mdx), which only its members and moderators of threads see."""

    id: int
    parent_id: int
    name: str
    owner_id: int
    kind: int  # PUBLIC_THREAD or PRIVATE_THREAD
    auto_archive_duration: int
    invitable: bool = True  # private threads only: whether members other than moderators may add others
    members: list[int] = field(default_factory=list)  # added, in order (the creator first)
    archived: bool = False
    locked: bool = False
    created: str = field(default_factory=lambda: _now())


@dataclass
class _Interaction:
    """What the fake remembers of an interaction it sent, to check and answer the bot's reply."""

    id: int
    token: str
    type: int
    channel_id: int
    message_id: int | None  # the message a component was on
    acknowledged: bool = False
    original_message_id: int | None = None  # the message the response created, for @original
    sent_at: float = field(default_factory=time.monotonic)  # when Discord sent it: the 3 s start here


class FakeDiscord:
    """A fake Discord: REST + gateway on 127.0.0.1, recording what the bot did."""

    def __init__(
        self, *, app_id: int = 1000, bot_user_id: int = 1001, guild_id: int = 2000, guild_name: str = "Test Guild",
        heartbeat_interval_ms: int = HEARTBEAT_INTERVAL_MS,
    ) -> None:
        self.app_id = app_id
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.bot_user_id = bot_user_id
        self.guild_id = guild_id
        self.guild_name = guild_name

        self.api_base = ""
        self.gateway_url = ""
        self._runner: web.AppRunner | None = None
        self._last_id = 0

        # The guild's contents, in insertion order (which gives channel and role positions).
        self._channels: dict[int, str] = {}
        self._channel_types: dict[int, int] = {}  # by channel id: GUILD_TEXT unless added as another kind
        self._threads: dict[int, _Thread] = {}  # by thread id (a public thread's is its message's): threads()
        self.scheduled_events: dict[int, dict] = {}  # id -> the Guild Scheduled Event object, as Discord keeps it
        self.interested: dict[int, set[int]] = {}  # scheduled event id -> the users who marked it interesting
        # Discord's clock, for what it does by itself at a time (an external event starts and ends): a test
        # whose bot runs on a moved clock moves this one too.
        self.now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        self._denied: dict[int, int] = {}  # channel id -> permissions an overwrite takes from the bot there
        self._overwrites: dict[int, list[dict]] = {}  # channel id -> permission overwrites (set_overwrite)
        self._roles: dict[int, dict] = {}
        self._members: dict[int, _Member] = {}
        self._strangers: dict[int, _Member] = {}  # Discord users who are not in the guild
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._dm_recipients: dict[int, int] = {}  # DM channel id -> user id
        self.add_role(guild_id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS)
        self.add_channel(3000, "general")
        self._members[bot_user_id] = _Member("Fake Bot", [], bot=True)

        # Everything the bot created or was sent, to answer later requests consistently.
        self._messages: dict[int, dict] = {}
        self._interactions: dict[int, _Interaction] = {}
        self._interactions_by_token: dict[str, _Interaction] = {}
        self._commands: dict[int | None, dict[str, dict]] = {}  # guild id (None: global) -> name -> command

        # The gateway: every open socket, and the one the bot identified on (events go there).
        self._sockets: set[web.WebSocketResponse] = set()
        self._bot_socket: web.WebSocketResponse | None = None
        self._bot_identified = asyncio.Event()
        self._intents = 0
        self._sequence = 0
        self._send_lock = asyncio.Lock()

        self._changed = asyncio.Event()  # set whenever something is recorded
        self._rate_limits_left = 0
        self._retry_after = 0.0
        self.rate_limited = 0  # 429s answered, per route and global
        self.global_limit = GLOBAL_LIMIT  # requests a second, outside the interaction endpoints
        self._recent_requests: collections.deque[float] = collections.deque()
        self._nonces: dict[str, tuple[int, float]] = {}  # nonce -> (message id, when it was created)
        self._slow_routes: dict[str, float] = {}  # "METHOD /route/{param}" -> seconds to wait before answering
        self._held: tuple[asyncio.Event, asyncio.Event] | None = None  # (a message is held, let it go)

        # What the bot did, in order.
        self.requests: list[tuple[float, str]] = []  # (monotonic time, "METHOD /route") counted toward the global limit
        self.nonce_repeats = 0  # creates answered with the message an earlier one with the same nonce made
        self.heartbeats = 0  # heartbeats received (each answered with an ACK)
        self.identifies: list[dict] = []  # IDENTIFY payloads (without the token): intents, properties...
        self.interaction_responses: list[dict] = []
        self.followups: list[dict] = []  # follow-ups and edits of responses; "route" says which
        self.late_responses: list[dict] = []  # first responses refused for coming after 3 seconds
        self.channel_messages: list[dict] = []
        self.edits: list[dict] = []
        self.command_syncs: list[dict] = []
        self.thread_edits: list[dict] = []  # PATCH /channels/{thread.id}: {"thread_id", "data"}
        self.event_changes: list[dict] = []  # creates and modifications of scheduled events: method, id, payload
        self.unknown_requests: list[dict] = []

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a port the system picks (bound here, so it cannot be taken)."""
        # Room for image uploads: aiohttp refuses bodies over 1 MiB by default.
        app = web.Application(middlewares=[self._record_unknown, self._global_rate_limit],
                              client_max_size=ATTACHMENT_SIZE_LIMIT)
        api = API_PREFIX
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_get(f"{api}/gateway/bot", self._get_gateway_bot)
        app.router.add_get(f"{api}/users/{{user_id}}", self._get_user)
        app.router.add_post(f"{api}/users/@me/channels", self._create_dm)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._get_application)
        app.router.add_get(f"{api}/users/@me/guilds", self._get_my_guilds)
        app.router.add_get(f"{api}/guilds/{{guild_id}}", self._get_guild)
        app.router.add_get(f"{api}/guilds/{{guild_id}}/channels", self._get_guild_channels)
        app.router.add_get(f"{api}/guilds/{{guild_id}}/members/search", self._search_members)
        app.router.add_get(f"{api}/guilds/{{guild_id}}/members/{{user_id}}", self._get_member)
        app.router.add_put(f"{api}/applications/{{app_id}}/commands", self._sync_commands)
        app.router.add_put(f"{api}/applications/{{app_id}}/guilds/{{guild_id}}/commands", self._sync_commands)
        app.router.add_post(f"{api}/interactions/{{interaction_id}}/{{token}}/callback", self._interaction_callback)
        app.router.add_post(f"{api}/webhooks/{{app_id}}/{{token}}", self._followup)
        app.router.add_get(f"{api}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}", self._get_webhook_message)
        app.router.add_patch(f"{api}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}", self._edit_webhook_message)
        app.router.add_post(f"{api}/channels/{{channel_id}}/messages", self._create_channel_message)
        app.router.add_patch(f"{api}/channels/{{channel_id}}/messages/{{message_id}}", self._edit_channel_message)
        app.router.add_post(f"{api}/channels/{{channel_id}}/threads", self._start_private_thread)
        app.router.add_post(f"{api}/channels/{{channel_id}}/messages/{{message_id}}/threads", self._start_thread)
        app.router.add_put(f"{api}/channels/{{channel_id}}/thread-members/{{user_id}}", self._add_thread_member)
        app.router.add_patch(f"{api}/channels/{{channel_id}}", self._modify_thread)
        app.router.add_get(f"{api}/guilds/{{guild_id}}/scheduled-events", self._list_scheduled_events)
        app.router.add_post(f"{api}/guilds/{{guild_id}}/scheduled-events", self._create_scheduled_event)
        app.router.add_get(f"{api}/guilds/{{guild_id}}/scheduled-events/{{event_id}}", self._get_scheduled_event)
        app.router.add_patch(f"{api}/guilds/{{guild_id}}/scheduled-events/{{event_id}}", self._modify_scheduled_event)
        app.router.add_delete(f"{api}/guilds/{{guild_id}}/scheduled-events/{{event_id}}", self._delete_scheduled_event)

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        # A short shutdown: close() ends the sockets itself, nothing is worth waiting a minute for.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.api_base = f"http://127.0.0.1:{port}{API_PREFIX}"
        self.gateway_url = f"ws://127.0.0.1:{port}{GATEWAY_PATH}"

    async def close(self) -> None:
        """Stop serving. Close the bot first: a client that loses the fake keeps trying to reconnect."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- the guild's contents --------------------------------------------------------------

    def add_channel(self, channel_id: int, name: str, *, kind: int = GUILD_TEXT) -> None:
        """A channel in the guild: a text channel (type 0) unless `kind` says otherwise (5, announcements)."""
        self._channels[channel_id] = name
        if kind != GUILD_TEXT:
            self._channel_types[channel_id] = kind

    def set_overwrite(self, channel_id: int, target_id: int, *, role: bool = True, allow: int = 0,
                      deny: int = 0) -> None:
        """A permission overwrite in a channel, for a role (the guild's id is @everyone) or a member
        (before the bot connects: it arrives with the channel in GUILD_CREATE)."""
        self._overwrites.setdefault(channel_id, []).append(
            {"id": str(target_id), "type": 0 if role else 1, "allow": str(allow), "deny": str(deny)})

    def threads(self) -> list[dict]:
        """The threads the bot made, oldest first, as they are now: id, parent_id, name, private, invitable,
        members, archived, locked."""
        return [{"id": t.id, "parent_id": t.parent_id, "name": t.name, "private": t.kind == PRIVATE_THREAD,
                 "invitable": t.invitable, "members": list(t.members), "archived": t.archived, "locked": t.locked}
                for t in self._threads.values()]

    def archive_thread(self, thread_id: int) -> None:
        """A thread falls quiet and is archived, as Discord does after its auto_archive_duration (threads.mdx)."""
        self._threads[thread_id].archived = True

    def sees_thread(self, user_id: int, thread_id: int) -> bool:
        """Whether a member can read a thread: whoever views its parent channel ("Threads inherit permissions from
        the parent channel", permissions.mdx), and for a private thread only if added to it or a moderator of
        threads."""
        thread = self._threads[thread_id]
        allowed = self._channel_permissions(user_id, thread.parent_id)
        return bool(allowed & VIEW_CHANNEL) and (thread.kind == PUBLIC_THREAD or user_id in thread.members
                                                 or bool(allowed & MANAGE_THREADS))

    def add_voice_channel(self, channel_id: int, name: str, *, stage: bool = False) -> None:
        """A voice channel (type 2), or a stage channel (type 13), where a scheduled event can take place."""
        self._channels[channel_id] = name
        self._channel_types[channel_id] = GUILD_STAGE_VOICE if stage else GUILD_VOICE
    async def deny_bot(self, channel_id: int, permissions: int, *, gateway: bool = True) -> None:
        """A moderator takes permissions from the bot in one channel (a member overwrite), and Discord tells the
        bot (CHANNEL_UPDATE, gateway-events.mdx) so its cache knows; `permissions` 0 gives them back. Without
        `gateway`, no bot is connected to be told (one that works over REST only reads it again)."""
        self._denied[channel_id] = permissions
        if gateway:
            await self._dispatch("CHANNEL_UPDATE", self._channel_payload(channel_id))

    def add_role(self, role_id: int, name: str, permissions: int = 0) -> None:
        self._roles[role_id] = {"name": name, "permissions": permissions, "position": len(self._roles)}

    def grant_bot(self, permissions: int, role_id: int = 4999) -> None:
        """Give the bot a role with these permissions, as a server admin would (before the bot connects:
        GUILD_CREATE carries roles and the bot's own member)."""
        self.add_role(role_id, "Bot role", permissions)
        self._members[self.bot_user_id].roles.append(role_id)

    def add_member(self, user_id: int, name: str, *, roles: list[int] = (), dms_open: bool = True) -> None:
        """A guild member; `name` is both the username and the display name."""
        self._members[user_id] = _Member(name, list(roles), dms_open)

    def add_user(self, user_id: int, name: str) -> None:
        """Someone on Discord who is not a member of the guild (they can still DM the bot)."""
        self._strangers[user_id] = _Member(name, [], True)

    def set_dms_open(self, user_id: int, open: bool) -> None:
        self._member(user_id).dms_open = open

    # ---- what the test makes Discord send to the bot ---------------------------------------

    async def slash_command(
        self, user_id: int, name: str, options: list[dict] = (), *, channel_id: int = 3000, guild: bool = True
    ) -> str:
        """The member runs /name. Returns the interaction id.

        As on Discord, data.guild_id is set when the command was synced to the guild (discord.py's
        CommandTree looks guild commands up by it), and data.id is the synced command's id.
        """
        options = list(options)
        registered = self._commands.get(self.guild_id, {}).get(name) if guild else None
        data: dict[str, Any] = {"name": name, "type": 1, "options": options}
        if registered is not None:
            data["guild_id"] = str(self.guild_id)
        else:
            registered = self._commands.get(None, {}).get(name)
        data["id"] = registered["id"] if registered else str(self._new_id())
        resolved = self._resolve(options, user_id, guild)
        if resolved:
            data["resolved"] = resolved
        return await self._send_interaction(2, user_id, data, channel_id=channel_id, guild=guild)

    async def autocomplete(
        self, user_id: int, name: str, options: list[dict], *, channel_id: int = 3000, guild: bool = True
    ) -> str:
        """The member is typing an option of /name (the one marked "focused": true). Returns the
        interaction id; the bot answers with a type 8 callback holding its choices."""
        registered = self._commands.get(self.guild_id if guild else None, {}).get(name)
        data = {"name": name, "type": 1, "options": list(options),
                "id": registered["id"] if registered else str(self._new_id())}
        return await self._send_interaction(4, user_id, data, channel_id=channel_id, guild=guild)

    async def press_button(
        self, user_id: int, custom_id: str, message_id: str, *, channel_id: int = 3000, guild: bool = True
    ) -> str:
        """The member presses a button on a message. Returns the interaction id.

        discord.py routes the press to a View by (message id, custom_id), so message_id must be
        the id of the message that carried the view, e.g. a recorded response's "message_id".
        """
        message = self._messages.get(int(message_id))
        if message is None:
            # A message the fake never saw (posted before the test, say): the bot's, with no content.
            channel = channel_id if guild else self._dm_channel(user_id)
            message = self._store_message(channel, {}, [], message_id=int(message_id))
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._send_interaction(3, user_id, data, channel_id=channel_id, guild=guild, message=message)

    async def submit_modal(self, user_id: int, custom_id: str, values: dict[str, str], *, message_id: str | None = None,
                           channel_id: int = 3000, guild: bool = True, shape: str = "labels") -> str:
        """The member sends a modal the bot showed (see `modals`): each text input's value by its
        custom_id. A modal opened from a button carries that button's message. Returns the interaction id.

        The values come as components/reference.mdx documents them today: each Text Input inside the
        Label that wraps it ("Label Interaction Response Structure"); `shape="action_rows"` sends the
        older shape, an Action Row per input, which a bot may still meet."""
        if shape == "labels":
            boxes = [{"type": LABEL, "id": 2 * n + 1, "component": {"type": TEXT_INPUT, "id": 2 * n + 2,
                                                                    "custom_id": key, "value": value}}
                     for n, (key, value) in enumerate(values.items())]
        else:
            boxes = [{"type": ACTION_ROW, "components": [{"type": TEXT_INPUT, "custom_id": key, "value": value}]}
                     for key, value in values.items()]
        data = {"custom_id": custom_id, "components": boxes}
        message = self._messages.get(int(message_id)) if message_id else None
        return await self._send_interaction(5, user_id, data, channel_id=channel_id, guild=guild, message=message)

    @property
    def modals(self) -> list[dict]:
        """The modals the bot showed, oldest first: each response's data (title, custom_id, components)."""
        return [r["data"] for r in self.interaction_responses if r["type"] == CALLBACK_MODAL]

    async def direct_message(self, user_id: int, content: str) -> None:
        """The member writes to the bot in their DM channel (sent only with the DIRECT_MESSAGES intent)."""
        channel_id = self._dm_channel(user_id)
        message = {
            **self._message_skeleton(self._new_id(), channel_id, self._user(user_id)),
            "content": content,
            "channel_type": 1,
        }
        await self._dispatch("MESSAGE_CREATE", message, intent=INTENT_DIRECT_MESSAGES)

    async def member_joins(self, user_id: int, name: str) -> None:
        """A new member joins the guild (sent to the bot only with the GUILD_MEMBERS intent)."""
        self.add_member(user_id, name)
        member = {**self._member_payload(user_id), "guild_id": str(self.guild_id)}
        await self._dispatch("GUILD_MEMBER_ADD", member, intent=INTENT_GUILD_MEMBERS)

    def add_scheduled_event(self, name: str, start: datetime, end: datetime, location: str = "Online") -> int:
        """An external event a server admin made in the Events list (not the bot); returns its id."""
        event_id = self._new_id()
        self.scheduled_events[event_id] = {
            "id": str(event_id), "guild_id": str(self.guild_id), "channel_id": None, "creator_id": str(GUILD_OWNER_ID),
            "name": name, "description": None, "scheduled_start_time": start.isoformat(),
            "scheduled_end_time": end.isoformat(), "privacy_level": EVENT_GUILD_ONLY, "status": EVENT_SCHEDULED,
            "entity_type": EVENT_EXTERNAL, "entity_id": None, "entity_metadata": {"location": location},
            "user_count": 0, "image": None, "recurrence_rule": None}
        return event_id

    async def mark_interested(self, user_id: int, event_id: int) -> None:
        """The member marks a scheduled event as interesting: GUILD_SCHEDULED_EVENT_USER_ADD, which carries ids
        only (gateway-events.mdx), sent only to a bot that asked for the GUILD_SCHEDULED_EVENTS intent."""
        self._member(user_id)
        if event_id not in self.scheduled_events:
            raise KeyError(f"no scheduled event {event_id} in the fake guild")
        self.interested.setdefault(event_id, set()).add(user_id)
        await self._dispatch("GUILD_SCHEDULED_EVENT_USER_ADD", {
            "guild_scheduled_event_id": str(event_id), "user_id": str(user_id), "guild_id": str(self.guild_id)},
            intent=INTENT_GUILD_SCHEDULED_EVENTS)

    async def remove_bot(self) -> None:
        """A server admin removes the bot from the guild (GUILD_DELETE, not an outage)."""
        await self._dispatch("GUILD_DELETE", {"id": str(self.guild_id)})

    # ---- what the bot did --------------------------------------------------------------------

    def messages_to(self, user_id: int) -> list[dict]:
        """The channel messages the bot sent to this member's DM channel."""
        channel_id = self._dm_channels.get(user_id)
        return [m for m in self.channel_messages if m["channel_id"] == channel_id]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until predicate() is true. An IndexError or KeyError counts as "not yet", so a
        predicate may simply read `fake.followups[0]["data"]["content"] == ...`.

        It is checked again as soon as anything new is recorded (no polling delay, which
        matters to the benchmarks)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            try:
                if predicate():
                    return
            except LookupError:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; the fake recorded:\n{self._summary()}")
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    def _record(self, records: list, entry: Any) -> None:
        """Keep what the bot did, and wake anyone waiting for it."""
        records.append(entry)
        self._changed.set()

    def hold_next_message(self) -> asyncio.Event:
        """Take the next channel message (it is created and recorded) but keep the bot waiting for the
        answer until `release_held()`: the moment a crash leaves the message sent and the bot unaware.
        Returns an event set once a message is held."""
        self._held = (asyncio.Event(), asyncio.Event())
        return self._held[0]

    def release_held(self) -> None:
        if self._held is not None:
            self._held[1].set()
            self._held = None

    def slow_route(self, route: str, seconds: float) -> None:
        """Answer `route` ("GET /guilds/{guild_id}/members/{user_id}", as the fake names it) after
        `seconds`, as a slow Discord would: to see what a bot does while a request is on its way."""
        self._slow_routes[route] = seconds

    def rate_limit_next_channel_messages(self, count: int = 1, retry_after: float = 0.2) -> None:
        """Answer the next `count` POST /channels/{id}/messages with a 429, as Discord's per-channel limit does."""
        self._rate_limits_left = count
        self._retry_after = retry_after

    def _summary(self) -> str:
        def without_bytes(records: list[dict]) -> list[dict]:
            def file_names(record: dict) -> list[str]:
                return [f"{f['filename']} ({len(f['bytes'])} bytes)" for f in record["files"]]

            return [{**r, "files": file_names(r)} if r.get("files") else r for r in records]

        recorded = {
            "interaction_responses": without_bytes(self.interaction_responses),
            "followups": without_bytes(self.followups),
            "channel_messages": without_bytes(self.channel_messages),
            "edits": without_bytes(self.edits),
            "command_syncs": self.command_syncs,
            "unknown_requests": self.unknown_requests,
            "rate_limited": self.rate_limited,
            "bot_connected": self._bot_identified.is_set(),
        }
        return pformat(recorded, width=110)

    # ---- payloads --------------------------------------------------------------------------

    def _new_id(self) -> int:
        """A fresh snowflake: the time in its high bits as Discord's, always larger than the last."""
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    def _member(self, user_id: int) -> _Member:
        """A member of the guild, or a user known with add_user (for their user object)."""
        found = self._members.get(user_id) or self._strangers.get(user_id)
        if found is None:
            raise KeyError(f"no member {user_id} in the fake guild; add_member() first")
        return found

    def _user(self, user_id: int) -> dict:
        member = self._member(user_id)
        return {
            "id": str(user_id),
            "username": member.name,
            "global_name": member.name,
            "discriminator": "0",
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
            "bot": member.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
        }

    def _permissions(self, user_id: int) -> int:
        permissions = self._roles[self.guild_id]["permissions"]
        for role_id in self._member(user_id).roles:
            permissions |= self._roles[role_id]["permissions"]
        return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions

    def _member_payload(self, user_id: int, *, with_user: bool = True, with_permissions: bool = False) -> dict:
        member = self._member(user_id)
        payload = {
            "roles": [str(r) for r in member.roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self._user(user_id)
        if with_permissions:
            payload["permissions"] = str(self._permissions(user_id))
        return payload

    def _role_payload(self, role_id: int) -> dict:
        role = self._roles[role_id]
        return {
            "id": str(role_id),
            "name": role["name"],
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": role["position"],
            "permissions": str(role["permissions"]),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def _channel_payload(self, channel_id: int) -> dict:
        if channel_id in self._threads:
            return self._thread_payload(self._threads[channel_id])
        try:
            name = self._channels[channel_id]
        except KeyError:
            raise KeyError(f"no channel {channel_id} in the fake guild; add_channel() first") from None
        kind = self._channel_types.get(channel_id, GUILD_TEXT)
        payload = {
            "id": str(channel_id),
            "type": kind,
            "guild_id": str(self.guild_id),
            "name": name,
            "position": list(self._channels).index(channel_id),
            "permission_overwrites": self._overwrites.get(channel_id, []) + [
                {"id": str(self.bot_user_id), "type": 1, "allow": "0", "deny": str(denied)}
                for denied in [self._denied.get(channel_id, 0)] if denied],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }
        if kind in (GUILD_VOICE, GUILD_STAGE_VOICE):
            payload.update(bitrate=64000, user_limit=0, rtc_region=None)
        return payload

    def _thread_payload(self, thread: _Thread) -> dict:
        """A thread as a channel object (resources/channel.mdx, "Example Thread Channel")."""
        metadata = {"archived": thread.archived, "auto_archive_duration": thread.auto_archive_duration,
                    "archive_timestamp": _now(), "locked": thread.locked, "create_timestamp": thread.created}
        if thread.kind == PRIVATE_THREAD:
            metadata["invitable"] = thread.invitable  # "only available on private threads"
        return {
            "id": str(thread.id),
            "type": thread.kind,
            "guild_id": str(self.guild_id),
            "parent_id": str(thread.parent_id),
            "owner_id": str(thread.owner_id),
            "name": thread.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": min(len(thread.members), 50),
            "total_message_sent": 0,
            "flags": 0,
            "thread_metadata": metadata,
        }

    def _channel_permissions(self, user_id: int, channel_id: int) -> int:
        """A member's permissions in a channel, by Discord's rules (permissions.mdx, "Permission Overwrites"):
        the guild's roles, then the channel's @everyone overwrite, its role overwrites together, then the member's
        own; an administrator has every permission. A thread is its parent channel here."""
        if channel_id in self._threads:
            channel_id = self._threads[channel_id].parent_id
        permissions = self._permissions(user_id)
        if permissions == ALL_PERMISSIONS:
            return permissions
        overwrites = self._overwrites.get(channel_id, []) + [
            {"id": str(self.bot_user_id), "type": 1, "allow": "0", "deny": str(self._denied.get(channel_id, 0))}]
        roles = {str(r) for r in self._member(user_id).roles}
        for wanted in ("everyone", "roles", "member"):
            allow = deny = 0
            for overwrite in overwrites:
                matches = (overwrite["type"] == 0 and overwrite["id"] == str(self.guild_id) if wanted == "everyone"
                           else overwrite["type"] == 0 and overwrite["id"] in roles if wanted == "roles"
                           else overwrite["type"] == 1 and overwrite["id"] == str(user_id))
                if matches:
                    allow |= int(overwrite["allow"])
                    deny |= int(overwrite["deny"])
            permissions = (permissions & ~deny) | allow
        return permissions

    def _dm_channel(self, user_id: int) -> int:
        """The bot's DM channel with this member, opened on first use as Discord does."""
        self._member(user_id)
        if user_id not in self._dm_channels:
            channel_id = self._new_id()
            self._dm_channels[user_id] = channel_id
            self._dm_recipients[channel_id] = user_id
        return self._dm_channels[user_id]

    def _dm_channel_payload(self, user_id: int) -> dict:
        channel_id = self._dm_channel(user_id)
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self._user(user_id)],
        }

    def _guild_payload(self) -> dict:
        """The full GUILD_CREATE: discord.py's state reads most of these keys without defaults.

        gateway-events.mdx, Guild Create: without the GUILD_PRESENCES intent, `members` holds only the
        bot itself and the users in voice channels (there are none here); `member_count` still counts
        everyone. A bot with the GUILD_MEMBERS intent then asks for the rest (Request Guild Members)."""
        listed = list(self._members) if self._intents & INTENT_GUILD_PRESENCES else [self.bot_user_id]
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "owner_id": str(GUILD_OWNER_ID),
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "afk_timeout": 300,
            "afk_channel_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "application_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "joined_at": self._members[self.bot_user_id].joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(self._members),
            "members": [self._member_payload(user_id) for user_id in listed],
            "roles": [self._role_payload(role_id) for role_id in self._roles],
            "channels": [self._channel_payload(channel_id) for channel_id in self._channels],
            # "all active threads in the guild that the current user is able to view" (threads.mdx)
            "threads": [self._thread_payload(t) for t in self._threads.values()
                        if not t.archived and self.sees_thread(self.bot_user_id, t.id)],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [self._advanced(event) for event in self.scheduled_events.values()
                                       if self._advanced(event)["status"] in (EVENT_SCHEDULED, EVENT_ACTIVE)],
            "soundboard_sounds": [],
        }

    def _resolve(self, options: list[dict], user_id: int, guild: bool) -> dict:
        """data.resolved for the users, channels and roles named by the options (subcommands too)."""
        resolved: dict[str, dict] = {}
        for option in options:
            if option["type"] in (1, 2):  # subcommand, subcommand group
                for kind, items in self._resolve(option.get("options", []), user_id, guild).items():
                    resolved.setdefault(kind, {}).update(items)
                continue
            snowflake = int(option.get("value", 0)) if option["type"] in (6, 7, 8, 9) else None
            if option["type"] in (6, 9) and snowflake in self._members:
                resolved.setdefault("users", {})[str(snowflake)] = self._user(snowflake)
                if guild:
                    member = self._member_payload(snowflake, with_user=False, with_permissions=True)
                    resolved.setdefault("members", {})[str(snowflake)] = member
            elif option["type"] in (8, 9) and snowflake in self._roles:
                resolved.setdefault("roles", {})[str(snowflake)] = self._role_payload(snowflake)
            elif option["type"] == 7 and snowflake in self._channels:
                # Channels come resolved with the invoking member's permissions in them.
                channel = {**self._channel_payload(snowflake), "permissions": str(self._permissions(user_id))}
                resolved.setdefault("channels", {})[str(snowflake)] = channel
        return resolved

    def _message_skeleton(self, message_id: int, channel_id: int, author: dict) -> dict:
        """Every key discord.py's Message reads, with a new message's values."""
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "content": "",
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }

    def _attachments(self, message_id: int, data: dict, files: list[dict], kept: list[dict]) -> list[dict]:
        """Attachment objects: the existing ones the payload keeps (by id), then the new uploads."""
        kept_ids = {str(a.get("id")) for a in data.get("attachments", [])}
        attachments = [a for a in kept if a["id"] in kept_ids]
        for upload in files:
            attachment_id = self._new_id()
            url = f"{self.api_base}/attachments/{message_id}/{attachment_id}/{upload['filename']}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": upload["filename"],
                    "size": len(upload["bytes"]),
                    "url": url,
                    "proxy_url": url,
                    "content_type": mimetypes.guess_type(upload["filename"])[0],
                }
            )
        return attachments

    def _apply(self, message: dict, data: dict, files: list[dict]) -> None:
        """Write a create/edit payload's fields into a stored message (a null clears a field)."""
        for key, empty in (("content", ""), ("embeds", []), ("components", []), ("flags", 0), ("tts", False)):
            if key in data:
                message[key] = data[key] if data[key] is not None else empty
        if "attachments" in data or files:
            message["attachments"] = self._attachments(int(message["id"]), data, files, message["attachments"])

    def _store_message(
        self, channel_id: int, data: dict, files: list[dict], *, message_id: int | None = None, webhook: bool = False
    ) -> dict:
        """A message the bot posted (directly, or through an interaction when `webhook`)."""
        message_id = message_id or self._new_id()
        message = self._message_skeleton(message_id, channel_id, self._user(self.bot_user_id))
        if webhook:
            message["webhook_id"] = str(self.app_id)
            message["application_id"] = str(self.app_id)
        self._apply(message, data, files)
        self._messages[message_id] = message
        return message

    def _edit_message(self, message: dict, data: dict, files: list[dict]) -> dict:
        self._apply(message, data, files)
        message["edited_timestamp"] = _now()
        return message

    async def _send_interaction(
        self, kind: int, user_id: int, data: dict, *, channel_id: int, guild: bool, message: dict | None = None
    ) -> str:
        interaction_id = self._new_id()
        token = f"fake-interaction-{secrets.token_urlsafe(24)}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(self._permissions(self.bot_user_id)),
        }
        if guild:
            payload.update(
                guild_id=str(self.guild_id),
                guild={"id": str(self.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=self._member_payload(user_id, with_permissions=True),
                channel={**self._channel_payload(channel_id),
                         "permissions": str(self._channel_permissions(user_id, channel_id))},
                channel_id=str(channel_id),
                context=0,
                authorizing_integration_owners={"0": str(self.guild_id)},
            )
        else:
            channel_id = self._dm_channel(user_id)
            payload.update(
                user=self._user(user_id),
                channel=self._dm_channel_payload(user_id),
                channel_id=str(channel_id),
                context=1,
            )
        if message is not None:
            payload["message"] = message

        interaction = _Interaction(
            interaction_id, token, kind, channel_id, int(message["id"]) if message is not None else None
        )
        self._interactions[interaction_id] = interaction
        self._interactions_by_token[token] = interaction
        await self._dispatch("INTERACTION_CREATE", payload)
        return str(interaction_id)

    # ---- gateway -----------------------------------------------------------------------------

    async def _send(self, ws: web.WebSocketResponse, frame: dict) -> None:
        # One lock for every frame, so sequence numbers reach the bot in order.
        async with self._send_lock:
            if frame["op"] == OP_DISPATCH:
                self._sequence += 1
                frame["s"] = self._sequence
            await ws.send_str(json.dumps(frame))

    async def _dispatch(self, event: str, data: dict, *, intent: int = 0) -> None:
        """Send an event to the bot, waiting briefly for one to be connected (it may be starting).
        As on Discord, an event behind a gateway intent is dropped if the bot did not ask for it."""
        try:
            await asyncio.wait_for(self._bot_identified.wait(), timeout=30.0)
        except TimeoutError:
            raise RuntimeError(f"cannot send {event}: no bot is connected to the fake gateway") from None
        if intent and not self._intents & intent:
            log.warning("%s not sent: the bot did not ask for its gateway intent (%d)", event, intent)
            return
        await self._send(self._bot_socket, {"op": OP_DISPATCH, "t": event, "d": data})

    async def _notify(self, event: str, data: dict, *, intent: int = 0) -> None:
        """An event a REST request caused, sent to the bot if it is connected (and asked for its intent); a bot
        using REST alone (before its gateway connects) is not waited for."""
        if self._bot_socket is not None and (not intent or self._intents & intent):
            await self._send(self._bot_socket, {"op": OP_DISPATCH, "t": event, "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """The gateway: HELLO, heartbeat ACKs, IDENTIFY -> READY + GUILD_CREATE, RESUME, member requests.

        Frames go out as plain JSON text, which discord.py reads whatever compression it asked for.
        """
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms}
            await self._send(ws, {"op": OP_HELLO, "s": None, "t": None, "d": hello})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame["op"]
                if op == OP_HEARTBEAT:
                    self.heartbeats += 1
                    await self._send(ws, {"op": OP_HEARTBEAT_ACK, "s": None, "t": None, "d": None})
                elif op == OP_IDENTIFY:
                    await self._identify(ws, frame["d"])
                elif op == OP_RESUME:
                    # Nothing was queued while the bot was away: resuming just continues the session.
                    self._bot_socket = ws
                    await self._send(ws, {"op": OP_DISPATCH, "t": "RESUMED", "d": {}})
                    self._bot_identified.set()
                elif op == OP_REQUEST_MEMBERS:
                    await self._send_member_chunk(ws, frame["d"])
        finally:
            self._sockets.discard(ws)
            if ws is self._bot_socket:
                self._bot_socket = None
                self._bot_identified.clear()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, identify: dict) -> None:
        """A (re)starting bot: a fresh session. The newest identified socket receives the events."""
        self.identifies.append({k: v for k, v in identify.items() if k != "token"})
        self._intents = identify.get("intents", 0)
        self._sequence = 0
        self._bot_socket = ws
        ready = {
            "v": 10,
            "user": {**self._user(self.bot_user_id), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "shard": identify.get("shard", [0, 1]),
        }
        await self._send(ws, {"op": OP_DISPATCH, "t": "READY", "d": ready})
        await self._send(ws, {"op": OP_DISPATCH, "t": "GUILD_CREATE", "d": self._guild_payload()})
        self._bot_identified.set()

    async def _send_member_chunk(self, ws: web.WebSocketResponse, request: dict) -> None:
        """Answer guild.chunk() / guild.query_members(): every match in one chunk."""
        user_ids = {int(u) for u in request.get("user_ids") or []}
        query = (request.get("query") or "").lower()
        limit = request.get("limit") or len(self._members)
        matches = [
            user_id
            for user_id, member in self._members.items()
            if (user_id in user_ids if user_ids else member.name.lower().startswith(query))
        ][:limit]
        chunk = {
            "guild_id": str(self.guild_id),
            "members": [self._member_payload(user_id) for user_id in matches],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in user_ids - set(matches)],
        }
        if "nonce" in request:
            chunk["nonce"] = request["nonce"]
        await self._send(ws, {"op": OP_DISPATCH, "t": "GUILD_MEMBERS_CHUNK", "d": chunk})

    # ---- REST --------------------------------------------------------------------------------

    @web.middleware
    async def _record_unknown(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """Any route the fake does not know: a 404 a test can see in `unknown_requests`."""
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            body = (await request.read()).decode(errors="replace")
            self._record(self.unknown_requests, 
                {"method": request.method, "path": request.path, "query": dict(request.query), "body": body}
            )
            return _error(404, 0, f"404: the fake Discord has no {request.method} {request.path}")

    @web.middleware
    async def _global_rate_limit(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """Discord's global limit: every REST request counts, but those to the interaction endpoints
        (GLOBAL_LIMIT's comment). Over the limit, a 429 as documented for it: `global: true`,
        `X-RateLimit-Global` and `X-RateLimit-Scope: global` (discord.py treats a 429 without `Via` as a
        Cloudflare ban, which Discord's own answers never are)."""
        resource = request.match_info.route.resource
        route = resource.canonical.removeprefix(API_PREFIX) if resource is not None else request.path
        if route == GATEWAY_PATH or route.startswith(("/interactions/", "/webhooks/")):
            return await handler(request)
        now = time.monotonic()
        while self._recent_requests and self._recent_requests[0] <= now - 1:
            self._recent_requests.popleft()
        if len(self._recent_requests) >= self.global_limit:
            self.rate_limited += 1
            self._changed.set()
            retry_after = round(self._recent_requests[0] + 1 - now, 3)
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": True}
            return _json_response(body, status=429, headers={
                "Via": "1.1 google", "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global"})
        self._recent_requests.append(now)
        self.requests.append((now, f"{request.method} {route}"))
        delay = self._slow_routes.get(f"{request.method} {route}")
        if delay:
            await asyncio.sleep(delay)
        return await handler(request)

    def _check_app(self, request: web.Request) -> web.Response | None:
        if request.match_info["app_id"] != str(self.app_id):
            return _error(404, 10002, "Unknown Application")
        return None

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        # Only AutoShardedClient asks; it connects to this URL (plus its query) instead of DEFAULT_GATEWAY.
        return _json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
            }
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        if request.headers.get("Authorization") == f"Bot {REJECTED_TOKEN}":
            return _error(401, 0, "401: Unauthorized")
        if user_id == "@me":
            return _json_response({**self._user(self.bot_user_id), "verified": True, "mfa_enabled": False})
        if not user_id.isdigit() or not (int(user_id) in self._members or int(user_id) in self._strangers):
            return _error(404, 10013, "Unknown User")
        return _json_response(self._user(int(user_id)))

    async def _get_member(self, request: web.Request) -> web.Response:
        """guild.fetch_member: the REST lookup a bot uses when its member cache is off."""
        user_id = request.match_info["user_id"]
        if int(request.match_info["guild_id"]) != self.guild_id or not user_id.isdigit():
            return _error(404, 10004, "Unknown Guild")
        if int(user_id) not in self._members:
            return _error(404, 10007, "Unknown Member")
        return _json_response(self._member_payload(int(user_id)))

    async def _get_guild(self, request: web.Request) -> web.Response:
        """Get Guild (resources/guild.mdx): the guild with its roles, no members or channels."""
        if int(request.match_info["guild_id"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        guild = self._guild_payload()
        for key in ("members", "channels", "threads", "voice_states", "presences", "stage_instances",
                    "guild_scheduled_events", "soundboard_sounds", "joined_at", "large", "member_count"):
            guild.pop(key, None)
        return _json_response(guild)

    async def _get_my_guilds(self, request: web.Request) -> web.Response:
        """Get Current User Guilds (resources/user.mdx): partial guilds, at most `limit` (1 to 200, default 200),
        those after `after` and before `before` (guild ids)."""
        limit, after, before = (request.query.get("limit", "200"), request.query.get("after", "0"),
                                request.query.get("before"))
        if (not limit.isdigit() or not 1 <= int(limit) <= 200 or not after.isdigit()
                or (before is not None and not before.isdigit())):
            return _error(400, 50035, "Invalid Form Body: limit is 1 to 200, after and before are ids")
        if self.guild_id <= int(after) or (before is not None and self.guild_id >= int(before)):
            return _json_response([])
        return _json_response([{"id": str(self.guild_id), "name": self.guild_name, "icon": None, "banner": None,
                                "owner": False, "permissions": str(self._permissions(self.bot_user_id)),
                                "features": []}])

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        """Get Guild Channels (resources/guild.mdx): the guild's channels, without threads."""
        if int(request.match_info["guild_id"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        return _json_response([self._channel_payload(channel_id) for channel_id in self._channels])

    async def _search_members(self, request: web.Request) -> web.Response:
        """Search Guild Members (resources/guild.mdx): members whose username or nickname starts with
        `query` (required), at most `limit` (1 to 1,000, default 1). It needs no privileged intent."""
        if int(request.match_info["guild_id"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        query = request.query.get("query", "")
        limit = request.query.get("limit", "1")
        if not query or not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return _error(400, 50035, "Invalid Form Body: query is required; limit is 1 to 1000")
        found = [user_id for user_id, member in self._members.items()
                 if member.name.lower().startswith(query.lower())][:int(limit)]
        return _json_response([self._member_payload(user_id) for user_id in found])

    async def _get_application(self, request: web.Request) -> web.Response:
        bot = self._user(self.bot_user_id)
        return _json_response(
            {
                "id": str(self.app_id),
                "name": bot["username"],
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": bot,
                "owner": {**bot, "id": str(GUILD_OWNER_ID), "username": "owner", "global_name": "owner", "bot": False},
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "redirect_uris": [],
                # discord.py warns, and stops receiving interactions, if this is set.
                "interactions_endpoint_url": None,
            }
        )

    async def _sync_commands(self, request: web.Request) -> web.Response:
        """A bulk overwrite: the scope's commands become exactly these; each keeps its id across syncs."""
        if (error := self._check_app(request)) is not None:
            return error
        commands, _ = await _read_body(request)
        guild_id = int(request.match_info["guild_id"]) if "guild_id" in request.match_info else None
        previous = self._commands.get(guild_id, {})
        registered = {}
        for command in commands:
            reply = {
                "type": 1,
                "description": "",  # context menus have none, yet discord.py reads the key
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "id": previous[command["name"]]["id"] if command["name"] in previous else str(self._new_id()),
                "application_id": str(self.app_id),
                "version": str(self._new_id()),
            }
            if guild_id is not None:
                reply["guild_id"] = str(guild_id)
            registered[command["name"]] = reply
        self._commands[guild_id] = registered
        self._record(self.command_syncs, {"guild_id": guild_id, "commands": commands})
        return _json_response(list(registered.values()))

    async def _interaction_callback(self, request: web.Request) -> web.StreamResponse:
        """The first answer to an interaction. discord.py 2.7 always asks `with_response`, and
        stores a view under the response_message_id it gets back."""
        interaction = self._interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.sent_at > FIRST_RESPONSE_SECONDS:
            # Past the 3 seconds the token is invalidated: Discord answers as for an unknown one.
            self._record(self.late_responses, {"interaction_id": str(interaction.id),
                                               "after": round(time.monotonic() - interaction.sent_at, 3)})
            return _error(404, 10062, "Unknown interaction")
        payload, files = await _read_body(request)
        kind, data = payload["type"], payload.get("data") or {}
        # An autocomplete interaction takes only APPLICATION_COMMAND_AUTOCOMPLETE_RESULT, and that
        # answer fits nothing else (receiving-and-responding.mdx, Interaction Callback Type).
        if (interaction.type == INTERACTION_AUTOCOMPLETE) != (kind == CALLBACK_AUTOCOMPLETE_RESULT):
            return _error(400, 50035, "Invalid Form Body: an autocomplete interaction is answered with"
                                      " choices (type 8), and only it")
        if kind == CALLBACK_AUTOCOMPLETE_RESULT and len(data.get("choices") or []) > 25:
            return _error(400, 50035, "Invalid Form Body: at most 25 choices")
        if kind in (CALLBACK_MESSAGE, CALLBACK_UPDATE) and (problem := _limits_problem(data)):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        if kind == CALLBACK_MODAL and (interaction.type not in (2, 3) or (problem := _modal_problem(data))):
            return _error(400, 50035, "Invalid Form Body: a modal answers only a command or a button"
                          if interaction.type not in (2, 3) else f"Invalid Form Body: {problem}")
        if kind in (CALLBACK_DEFERRED_UPDATE, CALLBACK_UPDATE) and interaction.message_id is None:
            return _error(400, 50035, "Invalid Form Body: only a component's message can be updated")
        interaction.acknowledged = True

        message = None
        if kind == CALLBACK_MESSAGE:
            message = self._store_message(interaction.channel_id, data, files, webhook=True)
            interaction.original_message_id = int(message["id"])
        elif kind == CALLBACK_DEFERRED_MESSAGE:
            # The "thinking..." message that a later PATCH @original fills in.
            flags = MESSAGE_FLAG_LOADING | (data.get("flags", 0) & MESSAGE_FLAG_EPHEMERAL)
            placeholder = self._store_message(interaction.channel_id, {"flags": flags}, [], webhook=True)
            interaction.original_message_id = int(placeholder["id"])
        elif kind == CALLBACK_UPDATE:
            message = self._edit_message(self._messages[interaction.message_id], data, files)
        if kind in (CALLBACK_DEFERRED_UPDATE, CALLBACK_UPDATE):
            interaction.original_message_id = interaction.message_id

        response_message_id = interaction.original_message_id
        self._record(self.interaction_responses, 
            {
                "interaction_id": str(interaction.id),
                "type": kind,
                "data": payload.get("data"),
                "files": files,
                "message_id": str(response_message_id) if response_message_id else None,
            }
        )
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        flags = (message or {}).get("flags", 0) | data.get("flags", 0)
        reply: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": str(response_message_id) if response_message_id else None,
                "response_message_loading": kind == CALLBACK_DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(flags & MESSAGE_FLAG_EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if message is not None:
            reply["resource"]["message"] = message
        return _json_response(reply)

    def _webhook_interaction(self, request: web.Request) -> _Interaction | web.Response:
        """The interaction a webhook URL (application id + interaction token) belongs to."""
        if (error := self._check_app(request)) is not None:
            return error
        interaction = self._interactions_by_token.get(request.match_info["token"])
        late = interaction is not None and not interaction.acknowledged and (
            time.monotonic() - interaction.sent_at > FIRST_RESPONSE_SECONDS)
        if interaction is None or late:  # never answered within 3 s: "the token will be invalidated"
            return _error(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, request: web.Request, interaction: _Interaction) -> dict | None:
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            return self._messages.get(interaction.original_message_id)
        return self._messages.get(int(message_id)) if message_id.isdigit() else None

    async def _followup(self, request: web.Request) -> web.Response:
        """A followup message (interaction.followup.send): a new message, returned in full."""
        interaction = self._webhook_interaction(request)
        if isinstance(interaction, web.Response):
            return interaction
        payload, files = await _read_body(request)
        if problem := _limits_problem(payload or {}):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        placeholder = self._messages.get(interaction.original_message_id or 0)
        if placeholder is not None and placeholder.get("flags", 0) & MESSAGE_FLAG_LOADING:
            # As on Discord, the first follow-up after a deferral fills the "thinking" answer and
            # keeps its visibility (private if the deferral was), whatever the follow-up asked.
            # receiving-and-responding.mdx, Create Followup Message: kept "for backwards compatibility.
            # [...] This behavior is deprecated, and you should use the Edit Original Interaction
            # Response endpoint in this case instead." `filled_deferral` shows a bot relying on it.
            private = placeholder["flags"] & MESSAGE_FLAG_EPHEMERAL
            payload = {**(payload or {}), "flags": private}
            message = self._edit_message(placeholder, payload, files)
            message["flags"] = private
            edit = True
        else:
            message = self._store_message(interaction.channel_id, payload or {}, files, webhook=True)
            edit = False
        self._record(self.followups,
            {
                "token": interaction.token,
                "interaction_id": str(interaction.id),
                "data": payload,
                "files": files,
                "edit": edit,
                "message_id": message["id"],
                "route": "followup",
                "filled_deferral": edit,
            }
        )
        return _json_response(message)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        """interaction.original_response() and fetching a followup."""
        interaction = self._webhook_interaction(request)
        if isinstance(interaction, web.Response):
            return interaction
        message = self._webhook_message(request, interaction)
        return _json_response(message) if message is not None else _error(404, 10008, "Unknown Message")

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        """Editing the response (@original, e.g. after a defer) or a followup: recorded as a followup."""
        interaction = self._webhook_interaction(request)
        if isinstance(interaction, web.Response):
            return interaction
        message = self._webhook_message(request, interaction)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        payload, files = await _read_body(request)
        if problem := _limits_problem(payload or {}):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        if request.match_info["message_id"] == "@original":
            # Filling in a deferred response ends its "thinking..." state.
            message["flags"] = message.get("flags", 0) & ~MESSAGE_FLAG_LOADING
        self._edit_message(message, payload or {}, files)
        self._record(self.followups, 
            {
                "token": interaction.token,
                "interaction_id": str(interaction.id),
                "data": payload,
                "files": files,
                "edit": True,
                "message_id": message["id"],
                "route": "edit_original" if request.match_info["message_id"] == "@original" else "edit_followup",
            }
        )
        return _json_response(message)

    async def _create_dm(self, request: web.Request) -> web.Response:
        """Open (or return) the DM channel. This succeeds even when DMs are closed: sending fails."""
        payload, _ = await _read_body(request)
        recipient = int(payload["recipient_id"])
        if recipient not in self._members and recipient not in self._strangers:
            return _error(400, 50033, "Invalid Recipient(s)")
        return _json_response(self._dm_channel_payload(recipient))

    async def _create_channel_message(self, request: web.Request) -> web.Response:
        """Post in a guild channel or a DM channel: rate limits first, then closed DMs, as on Discord."""
        if self._rate_limits_left > 0:
            self._rate_limits_left -= 1
            self.rate_limited += 1
            # discord.py treats a 429 without Via as a Cloudflare ban (no retry), and reads
            # retry_after from the JSON body; the X-RateLimit headers come as a set.
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(math.ceil(self._retry_after)),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self._retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{self._retry_after:.3f}",
                "X-RateLimit-Bucket": "fake-channel-messages",
                "X-RateLimit-Scope": "user",
            }
            body = {"message": "You are being rate limited.", "retry_after": self._retry_after, "global": False}
            return _json_response(body, status=429, headers=headers)

        channel_id = int(request.match_info["channel_id"])
        recipient = self._dm_recipients.get(channel_id)
        if recipient is not None and not self._member(recipient).dms_open:
            return _error(403, 50007, "Cannot send messages to this user")
        if channel_id in self._threads and (refused := self._thread_post_problem(self._threads[channel_id])):
            return refused
        if recipient is None and channel_id not in self._channels and channel_id not in self._threads:
            return _error(404, 10003, "Unknown Channel")
        # Without View Channel a channel is out of reach (50001 Missing Access); without Send Messages the
        # message is refused (50013 Missing Permissions): topics/opcodes-and-status-codes.mdx, JSON error codes.
        if recipient is None and self._denied.get(channel_id, 0) & VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        if recipient is None and self._denied.get(channel_id, 0) & SEND_MESSAGES:
            return _error(403, 50013, "Missing Permissions")

        payload, files = await _read_body(request)
        if problem := _limits_problem(payload or {}):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        nonce = str((payload or {}).get("nonce") or "")
        if len(nonce) > MAX_NONCE:
            return _error(400, 50035, "Invalid Form Body: nonce is longer than 25")
        if nonce and (payload or {}).get("enforce_nonce"):
            now = time.monotonic()
            earlier = self._nonces.get(nonce)
            if earlier is not None and now - earlier[1] < NONCE_WINDOW_SECONDS:
                self.nonce_repeats += 1
                self._changed.set()
                return _json_response(self._messages[earlier[0]])
        message = self._store_message(channel_id, payload or {}, files)
        if nonce and (payload or {}).get("enforce_nonce"):
            self._nonces[nonce] = (int(message["id"]), time.monotonic())
        self._record(self.channel_messages, 
            {"channel_id": channel_id, "message_id": message["id"], "data": payload, "files": files}
        )
        if self._held is not None:
            held, released = self._held
            if not held.is_set():
                held.set()
                await released.wait()
        return _json_response(message)

    # ---- threads ---------------------------------------------------------------------------------

    def _thread_post_problem(self, thread: _Thread) -> web.Response | None:
        """What Discord answers a bot posting in a thread it may not post in. "The SEND_MESSAGES permission has no
        effect in threads; users must have SEND_MESSAGES_IN_THREADS" (threads.mdx); in a locked thread only
        MANAGE_THREADS may post (160005 "Thread is locked"); posting in an archived thread "will automatically
        unarchive the thread, unless the thread has been locked"."""
        allowed = self._channel_permissions(self.bot_user_id, thread.id)
        if not self.sees_thread(self.bot_user_id, thread.id):
            return _error(403, 50001, "Missing Access")
        if not allowed & SEND_MESSAGES_IN_THREADS:
            return _error(403, 50013, "Missing Permissions")
        if thread.locked and not allowed & MANAGE_THREADS:
            return _error(403, 160005, "Thread is locked")
        thread.archived = False
        return None

    def _thread_name_problem(self, payload: dict) -> str | None:
        """channel.mdx, Start Thread: a 1-100 character name, and an auto_archive_duration among these minutes."""
        if not 1 <= len(payload.get("name") or "") <= THREAD_NAME_LIMIT \
                or payload.get("auto_archive_duration", 4320) not in THREAD_ARCHIVE_DURATIONS:
            return "name is 1-100 characters; auto_archive_duration is 60, 1440, 4320 or 10080"
        return None

    async def _start_thread(self, request: web.Request) -> web.Response:
        """Start Thread from Message (channel.mdx): a PUBLIC_THREAD from a message of a text channel, whose id
        is the message's, so "a message can only have a single thread created from it" (160004 otherwise).
        Creating one needs CREATE_PUBLIC_THREADS (permissions.mdx). Fires THREAD_CREATE (GUILDS intent)."""
        channel_id, message_id = int(request.match_info["channel_id"]), int(request.match_info["message_id"])
        message = self._messages.get(message_id)
        if channel_id not in self._channels or message is None or message["channel_id"] != str(channel_id):
            return _error(404, 10008, "Unknown Message")
        if self._channel_types.get(channel_id, GUILD_TEXT) != GUILD_TEXT:
            return _error(400, 50024, "Cannot execute action on this channel type")
        if not self._channel_permissions(self.bot_user_id, channel_id) & CREATE_PUBLIC_THREADS:
            return _error(403, 50013, "Missing Permissions")
        payload, _ = await _read_body(request)
        payload = payload or {}
        if problem := self._thread_name_problem(payload):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        if message_id in self._threads:
            return _error(400, 160004, "A thread has already been created for this message")
        thread = _Thread(message_id, channel_id, payload["name"], self.bot_user_id, PUBLIC_THREAD,
                         payload.get("auto_archive_duration", 4320), members=[self.bot_user_id])
        self._threads[message_id] = thread
        message["thread"] = self._thread_payload(thread)
        self._changed.set()
        await self._notify("THREAD_CREATE", {**self._thread_payload(thread), "newly_created": True},
                           intent=INTENT_GUILDS)
        return _json_response(self._thread_payload(thread), status=201)

    async def _start_private_thread(self, request: web.Request) -> web.Response:
        """Start Thread without Message (resources/channel.mdx): `type` defaults to PRIVATE_THREAD; private threads
        "can only be created in GUILD_TEXT channels" (threads.mdx; 50024 "Cannot execute action on this channel
        type"), need View Channel (else 50001) and CREATE_PRIVATE_THREADS (else 50013), and a 1-100 character name.
        The creator is the thread's first member. Fires Thread Create, with `newly_created`."""
        parent_id = int(request.match_info["channel_id"])
        if parent_id not in self._channels:
            return _error(404, 10003, "Unknown Channel")
        payload, _ = await _read_body(request)
        payload = payload or {}
        if payload.get("type", PRIVATE_THREAD) != PRIVATE_THREAD:
            return _error(400, 50035, "Invalid Form Body: the fake makes private threads only")
        if self._channel_types.get(parent_id, GUILD_TEXT) != GUILD_TEXT:
            return _error(400, 50024, "Cannot execute action on this channel type")
        allowed = self._channel_permissions(self.bot_user_id, parent_id)
        if not allowed & VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        if not allowed & CREATE_PRIVATE_THREADS:
            return _error(403, 50013, "Missing Permissions")
        if problem := self._thread_name_problem(payload):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        thread = _Thread(self._new_id(), parent_id, payload["name"], self.bot_user_id, PRIVATE_THREAD,
                         payload.get("auto_archive_duration", 4320), invitable=bool(payload.get("invitable", True)),
                         members=[self.bot_user_id])
        self._threads[thread.id] = thread
        self._changed.set()
        await self._notify("THREAD_CREATE", {**self._thread_payload(thread), "newly_created": True},
                           intent=INTENT_GUILDS)
        return _json_response(self._thread_payload(thread), status=201)

    async def _add_thread_member(self, request: web.Request) -> web.Response:
        """Add Thread Member (resources/channel.mdx): "Requires the ability to send messages in the thread. Also
        requires the thread is not archived" (50083). In a private thread that is not `invitable`, only moderators
        (MANAGE_THREADS) add others: `invitable` is "whether non-moderators can add other non-moderators". A member
        who cannot view the parent channel is added all the same, and cannot see the thread (`sees_thread`)."""
        thread = self._threads.get(int(request.match_info["channel_id"]))
        user_id = int(request.match_info["user_id"]) if request.match_info["user_id"].isdigit() else 0
        if thread is None:
            return _error(404, 10003, "Unknown Channel")
        if thread.archived:
            return _error(400, 50083, "Thread is archived")
        allowed = self._channel_permissions(self.bot_user_id, thread.id)
        if not allowed & SEND_MESSAGES_IN_THREADS or (not thread.invitable and not allowed & MANAGE_THREADS):
            return _error(403, 50013, "Missing Permissions")
        if user_id not in self._members:
            return _error(404, 10007, "Unknown Member")
        if user_id not in thread.members:
            thread.members.append(user_id)
            self._changed.set()
        return web.Response(status=204)

    async def _modify_thread(self, request: web.Request) -> web.Response:
        """Modify Channel, for a thread (resources/channel.mdx, threads.mdx): `archived` needs MANAGE_THREADS or to
        be the thread's creator; `locked` needs MANAGE_THREADS (else 50013). Other channels are not edited here."""
        thread = self._threads.get(int(request.match_info["channel_id"]))
        if thread is None:
            raise web.HTTPNotFound()  # recorded as a route the fake lacks
        payload, _ = await _read_body(request)
        payload = payload or {}
        allowed = self._channel_permissions(self.bot_user_id, thread.id)
        moderator = bool(allowed & MANAGE_THREADS)
        if "locked" in payload and not moderator:
            return _error(403, 50013, "Missing Permissions")
        if "archived" in payload and not (moderator or thread.owner_id == self.bot_user_id):
            return _error(403, 50013, "Missing Permissions")
        thread.archived = bool(payload.get("archived", thread.archived))
        thread.locked = bool(payload.get("locked", thread.locked))
        self._record(self.thread_edits, {"thread_id": thread.id, "data": payload})
        return _json_response(self._thread_payload(thread))

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        message = self._messages.get(int(request.match_info["message_id"]))
        if message is None or message["channel_id"] != str(channel_id):
            return _error(404, 10008, "Unknown Message")
        payload, files = await _read_body(request)
        if problem := _limits_problem(payload or {}):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        self._edit_message(message, payload or {}, files)
        self._record(self.edits, {"channel_id": channel_id, "message_id": message["id"], "data": payload, "files": files})
        return _json_response(message)

    # ---- scheduled events ----------------------------------------------------------------------

    def _advanced(self, event: dict) -> dict:
        """What Discord does by itself (guild-scheduled-event.mdx, Status Update Automation): "An external event
        will automatically begin at its scheduled start time" and "end at its scheduled end time"."""
        if event["entity_type"] == EVENT_EXTERNAL:
            now = self.now()
            if event["status"] == EVENT_SCHEDULED and now >= datetime.fromisoformat(event["scheduled_start_time"]):
                event["status"] = EVENT_ACTIVE
            if event["status"] == EVENT_ACTIVE and now >= datetime.fromisoformat(event["scheduled_end_time"]):
                event["status"] = EVENT_COMPLETED
        return event

    def _event_permission_problem(self, event: dict, *, creating: bool) -> bool:
        """Guild Scheduled Event Permissions Requirements: creating needs CREATE_EVENTS (and, in a voice channel,
        VIEW_CHANNEL and CONNECT; a stage also MANAGE_CHANNELS, MUTE_MEMBERS, MOVE_MEMBERS); changing one the bot
        created needs CREATE_EVENTS or MANAGE_EVENTS, anyone else's MANAGE_EVENTS. (The fake's permissions are
        the guild's: it keeps no channel overwrites.)"""
        granted = self._permissions(self.bot_user_id)
        own = event.get("creator_id") == str(self.bot_user_id)
        events = CREATE_EVENTS if creating else (CREATE_EVENTS | MANAGE_EVENTS if own else MANAGE_EVENTS)
        needed = {EVENT_VOICE: VIEW_CHANNEL | CONNECT,
                  EVENT_STAGE_INSTANCE: MANAGE_CHANNELS | MUTE_MEMBERS | MOVE_MEMBERS}.get(event["entity_type"], 0)
        return not granted & events or granted & needed != needed

    def _event_problem(self, event: dict) -> str | None:
        """What Discord refuses in a scheduled event (Guild Scheduled Event Structure, Field Requirements By
        Entity Type), or None."""
        if not 1 <= len(event.get("name") or "") <= EVENT_NAME_LIMIT:
            return "name is 1-100 characters"
        if event.get("description") is not None and not 1 <= len(event["description"]) <= EVENT_DESCRIPTION_LIMIT:
            return "description is 1-1000 characters"
        if event.get("privacy_level") != EVENT_GUILD_ONLY:
            return "privacy_level is GUILD_ONLY (2)"
        start, end = event.get("scheduled_start_time"), event.get("scheduled_end_time")
        if not start or (end and datetime.fromisoformat(end) <= datetime.fromisoformat(start)):
            return "scheduled_start_time is required, and scheduled_end_time comes after it"
        kind, channel_id = event.get("entity_type"), event.get("channel_id")
        if kind == EVENT_EXTERNAL:
            location = (event.get("entity_metadata") or {}).get("location") or ""
            if channel_id is not None or not 1 <= len(location) <= EVENT_LOCATION_LIMIT or not end:
                return "an EXTERNAL event has no channel_id, a location of 1-100 characters and a scheduled_end_time"
        elif kind in (EVENT_VOICE, EVENT_STAGE_INSTANCE):
            wanted = GUILD_VOICE if kind == EVENT_VOICE else GUILD_STAGE_VOICE
            if channel_id is None or self._channel_types.get(int(channel_id)) != wanted:
                return "a VOICE or STAGE_INSTANCE event has the channel_id of such a channel"
            if event.get("entity_metadata") is not None:
                return "entity_metadata is null for a VOICE or STAGE_INSTANCE event"
        else:
            return "entity_type is 1, 2 or 3"
        return None

    def _scheduled_event_of(self, request: web.Request) -> dict | web.Response:
        if int(request.match_info["guild_id"]) != self.guild_id:
            return _error(404, 10004, "Unknown Guild")
        event_id = request.match_info.get("event_id")
        if event_id is not None and (not event_id.isdigit() or int(event_id) not in self.scheduled_events):
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        return self._advanced(self.scheduled_events[int(event_id)]) if event_id is not None else {}

    async def _list_scheduled_events(self, request: web.Request) -> web.Response:
        found = self._scheduled_event_of(request)
        if isinstance(found, web.Response):
            return found
        return _json_response([self._advanced(event) for event in self.scheduled_events.values()])

    async def _get_scheduled_event(self, request: web.Request) -> web.Response:
        found = self._scheduled_event_of(request)
        return found if isinstance(found, web.Response) else _json_response(found)

    async def _create_scheduled_event(self, request: web.Request) -> web.Response:
        """Create Guild Scheduled Event: checked as documented, then GUILD_SCHEDULED_EVENT_CREATE."""
        found = self._scheduled_event_of(request)
        if isinstance(found, web.Response):
            return found
        payload, _ = await _read_body(request)
        event_id = self._new_id()
        event = {
            "id": str(event_id), "guild_id": str(self.guild_id), "channel_id": None, "creator_id": str(self.bot_user_id),
            "creator": self._user(self.bot_user_id), "description": None, "scheduled_end_time": None,
            "status": EVENT_SCHEDULED, "entity_id": None, "entity_metadata": None, "user_count": 0, "image": None,
            "recurrence_rule": None, **{k: v for k, v in (payload or {}).items() if k != "status"},
        }
        if problem := self._event_problem(event):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        event["channel_id"] = _snowflake(event["channel_id"])
        if self._event_permission_problem(event, creating=True):
            return _error(403, 50013, "Missing Permissions")
        uncompleted = [e for e in self.scheduled_events.values()
                       if self._advanced(e)["status"] in (EVENT_SCHEDULED, EVENT_ACTIVE)]
        if len(uncompleted) >= MOST_UNCOMPLETED_EVENTS:
            return _error(400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)")
        self.scheduled_events[event_id] = event
        self._record(self.event_changes, {"method": "POST", "id": str(event_id), "data": payload})
        await self._notify("GUILD_SCHEDULED_EVENT_CREATE", event, intent=INTENT_GUILD_SCHEDULED_EVENTS)
        return _json_response(event)

    async def _modify_scheduled_event(self, request: web.Request) -> web.Response:
        """Modify Guild Scheduled Event: every parameter optional; entity_metadata silently discarded for an event
        that is not EXTERNAL; a status only along the valid transitions."""
        found = self._scheduled_event_of(request)
        if isinstance(found, web.Response):
            return found
        payload, _ = await _read_body(request)
        changed = {**found, **(payload or {})}
        if changed["entity_type"] != EVENT_EXTERNAL:
            changed["entity_metadata"] = None
        if "status" in (payload or {}) and payload["status"] != found["status"] \
                and payload["status"] not in EVENT_TRANSITIONS.get(found["status"], ()):
            return _error(400, 50035, f"Invalid Form Body: the status cannot go from {found['status']} to"
                                      f" {payload['status']}")
        if problem := self._event_problem(changed):
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        if self._event_permission_problem(changed, creating=False):
            return _error(403, 50013, "Missing Permissions")
        found.update(changed, channel_id=_snowflake(changed["channel_id"]))
        self._record(self.event_changes, {"method": "PATCH", "id": found["id"], "data": payload})
        await self._notify("GUILD_SCHEDULED_EVENT_UPDATE", found, intent=INTENT_GUILD_SCHEDULED_EVENTS)
        return _json_response(found)

    async def _delete_scheduled_event(self, request: web.Request) -> web.Response:
        found = self._scheduled_event_of(request)
        if isinstance(found, web.Response):
            return found
        if self._event_permission_problem(found, creating=False):
            return _error(403, 50013, "Missing Permissions")
        del self.scheduled_events[int(found["id"])]
        self._record(self.event_changes, {"method": "DELETE", "id": found["id"], "data": None})
        await self._notify("GUILD_SCHEDULED_EVENT_DELETE", found, intent=INTENT_GUILD_SCHEDULED_EVENTS)
        return web.Response(status=204)
