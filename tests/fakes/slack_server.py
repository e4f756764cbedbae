"""A fake Slack for tests: the Web API, response_url endpoints and a Socket Mode websocket on 127.0.0.1.

Point the real Bolt app at it through its Web API client:

    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_base)
    app = AsyncApp(client=client, signing_secret=SECRET)

Slack reaches an app in one of two ways, and the fake serves both:

- HTTP: the module's builders make the signed requests Slack would send (slash commands, button
  presses, events); a test dispatches them in-process with
  `app.async_dispatch(AsyncBoltRequest(body=body, headers=signed_headers(SECRET, body)))`,
  or POSTs them to `app.web_app()` served on 127.0.0.1. `response_url()` gives the URL to put
  in them, so that `respond()` lands in the fake.
- Socket Mode: `AsyncSocketModeHandler(app, "xapp-...")` asks `apps.connections.open` for the
  fake's websocket, and `socket_send()` delivers the same payloads as envelopes.

The fake records what the app did, in order: Web API calls (`calls`), posts to response URLs
(`responses`), shared files (`uploads`), Socket Mode acknowledgements (`socket_acks`). It answers
the Web API methods a bot needs for everyday work; any other method gets
{"ok": false, "error": "unknown_method"} and is recorded in `unknown_calls`, so a test shows what
is missing instead of failing obscurely.

Every user's DM channel with the bot exists from the start, with a stable id (`dm_channel_id`):
on Slack a member can write to an app before the app ever opened the conversation.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass
from pprint import pformat
from typing import Any, Callable
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

API_PATH = "/api/"
SOCKET_PATH = "/socket"
UPLOAD_PATH = "/upload/"
RESPONSE_PATH = "/response/"
TEAM_DOMAIN = "fake"
# The deprecated verification token Slack still puts in payloads; Bolt checks signatures instead.
VERIFICATION_TOKEN = "fake-verification-token"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Arguments that carry JSON: sent as form fields they arrive as strings, and are parsed so that
# records look the same whichever encoding the client used.
JSON_ARGS = ("blocks", "attachments", "view", "files", "metadata")

# Block Kit limits (https://docs.slack.dev/reference/block-kit): Slack refuses the message with
# "invalid_blocks", so a bot over them fails in tests as it would in production.
MAX_BLOCKS = 50
MAX_TEXT_LENGTH = 40_000
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_MODAL_TITLE = 24  # a modal's title and submit label
MAX_MODAL_BLOCKS = 100
MAX_PRIVATE_METADATA = 3000
MAX_INPUT_LABEL = 2000
MAX_INPUT_LENGTH = 3000


# ---- ids and payloads shared by the fake and the request builders ----------------------------

_last_ts_micros = 0


def _new_ts() -> str:
    """A message timestamp as Slack writes them ("1700000000.000100"): unique and increasing,
    because Slack identifies a message by its channel and ts."""
    global _last_ts_micros
    _last_ts_micros = max(time.time_ns() // 1000, _last_ts_micros + 1)
    return f"{_last_ts_micros // 1_000_000}.{_last_ts_micros % 1_000_000:06d}"


def _new_id(prefix: str) -> str:
    """An id shaped like Slack's: a type letter, then upper-case letters and digits."""
    return prefix + secrets.token_hex(5).upper()


def _new_trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


def dm_channel_id(user_id: str) -> str:
    """The bot's DM channel with a user, as conversations.open returns it: stable, so a test can
    build a DM event before the bot opened anything."""
    return "D" + user_id[1:]


def handle_of(user_id: str, name: str) -> str:
    """The legacy handle Slack keeps beside the names people see: `user.name` in users.info and in
    interaction payloads, `user_name` in slash commands (docs.slack.dev: "The name field is a legacy
    username", not the display name). Lower case and unlike the display name, as real handles are."""
    return f"{name.lower().replace(' ', '.')}.{user_id[-3:].lower()}"


def _user_payload(user_id: str, name: str, team_id: str, *, display_name: str | None = None,
                  is_admin: bool = False, is_bot: bool = False) -> dict:
    """A user object as users.info and team_join carry it (the keys bots commonly read). `name` is the
    real name; `display_name` the one the user chose, which may be empty; `name` the legacy handle."""
    display_name = name if display_name is None else display_name
    return {
        "id": user_id,
        "team_id": team_id,
        "name": handle_of(user_id, name),
        "real_name": name,
        "deleted": False,
        "is_admin": is_admin,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "tz": "UTC",
        "tz_label": "Coordinated Universal Time",
        "tz_offset": 0,
        "profile": {
            "display_name": display_name,
            "display_name_normalized": display_name,
            "real_name": name,
            "real_name_normalized": name,
        },
    }


def _blocks_problem(blocks: list) -> str | None:
    """What Slack would refuse in a message's blocks, or None (only the limits bots commonly hit)."""
    if len(blocks) > MAX_BLOCKS:
        return f"more than {MAX_BLOCKS} blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text") or ""
        if block.get("type") == "section" and len(text) > MAX_SECTION_TEXT:
            return f"a section's text is longer than {MAX_SECTION_TEXT}"
        if block.get("type") == "header" and len(text) > MAX_HEADER_TEXT:
            return f"a header's text is longer than {MAX_HEADER_TEXT}"
        for element in block.get("elements") or []:
            if element.get("type") != "button":
                continue
            if len((element.get("text") or {}).get("text") or "") > MAX_BUTTON_TEXT:
                return f"a button's text is longer than {MAX_BUTTON_TEXT}"
            if len(element.get("value") or "") > MAX_BUTTON_VALUE or len(element.get("action_id") or "") > MAX_ACTION_ID:
                return "a button's value or action_id is too long"
    return None


# ---- request builders: what Slack sends to the app --------------------------------------------


def signed_headers(
    secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    retry_num: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """The headers of a request from Slack, signed with the app's signing secret.

    `timestamp` defaults to now (Bolt refuses one more than 5 minutes away); `retry_num` marks an
    Events API redelivery, which Slack sends when the app did not answer within 3 seconds.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": str(timestamp),
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body),
    }
    if retry_num is not None:
        headers["x-slack-retry-num"] = str(retry_num)
        headers["x-slack-retry-reason"] = "http_timeout"
    return headers


def slash_command_payload(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    team_id: str,
    response_url: str,
    trigger_id: str | None = None,
    api_app_id: str = "A0001",
) -> dict[str, str]:
    """A slash command's fields, as a Socket Mode "slash_commands" envelope carries them."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _new_trigger_id(),
    }


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    team_id: str,
    response_url: str,
    trigger_id: str | None = None,
    api_app_id: str = "A0001",
) -> str:
    """A slash command as Slack POSTs it over HTTP: form-encoded fields."""
    return urlencode(
        slash_command_payload(
            command=command,
            text=text,
            user_id=user_id,
            user_name=user_name,
            channel_id=channel_id,
            team_id=team_id,
            response_url=response_url,
            trigger_id=trigger_id,
            api_app_id=api_app_id,
        )
    )


def block_action_payload(
    *,
    user_id: str,
    user_name: str,
    team_id: str,
    channel_id: str | None,
    action_id: str,
    value: str,
    block_id: str = "actions",
    message_ts: str | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
    api_app_id: str = "A0001",
) -> dict:
    """A button press (a block_actions interaction), as a Socket Mode "interactive" envelope carries it.

    With a channel (a D-channel for a DM), the button was on a message in it, `message_ts`
    (made up when not given). Without one, the button was in a view such as App Home: Slack then
    sends the view instead, and no response_url.
    """
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": block_id, "value": value, "action_ts": _new_ts()}
        ],
    }
    if channel_id is None:
        view_id = _new_id("V")
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {"id": view_id, "type": "home", "team_id": team_id, "blocks": []}
    else:
        message_ts = message_ts or _new_ts()
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id}
        payload["message"] = {"type": "message", "ts": message_ts, "text": "", "blocks": []}
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def block_action_body(
    *,
    user_id: str,
    user_name: str,
    team_id: str,
    channel_id: str | None,
    action_id: str,
    value: str,
    block_id: str = "actions",
    message_ts: str | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
    api_app_id: str = "A0001",
) -> str:
    """A button press as Slack POSTs it over HTTP: the JSON in a form field named `payload`."""
    payload = block_action_payload(
        user_id=user_id,
        user_name=user_name,
        team_id=team_id,
        channel_id=channel_id,
        action_id=action_id,
        value=value,
        block_id=block_id,
        message_ts=message_ts,
        response_url=response_url,
        trigger_id=trigger_id,
        api_app_id=api_app_id,
    )
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(*, view: dict, user_id: str, user_name: str, team_id: str, values: dict[str, str],
                         api_app_id: str = "A0001") -> str:
    """A modal's submit (a view_submission interaction), for a view the app opened with views.open
    (see FakeSlack.views): each input block's one element gets the value written in it."""
    state = {}
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            element = block["element"]
            state[block["block_id"]] = {element["action_id"]: {"type": element["type"],
                                                               "value": values.get(block["block_id"])}}
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": _new_trigger_id(),
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_payload(
    event: dict, *, team_id: str, event_id: str | None = None, api_app_id: str = "A0001", bot_user_id: str = "U0BOT"
) -> dict:
    """The event_callback envelope of an Events API event, as a Socket Mode "events_api" envelope
    carries it. Pass the same `event_id` to model a redelivery of one event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or _new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def event_body(
    event: dict, *, team_id: str, event_id: str | None = None, api_app_id: str = "A0001", bot_user_id: str = "U0BOT"
) -> str:
    """An Events API event as Slack POSTs it over HTTP: JSON (sign it with content_type="application/json")."""
    return json.dumps(
        event_payload(event, team_id=team_id, event_id=event_id, api_app_id=api_app_id, bot_user_id=bot_user_id)
    )


def message_im_event(*, user_id: str, text: str, channel_id: str | None = None, ts: str | None = None) -> dict:
    """A member writes to the bot in their DM (channel defaults to `dm_channel_id(user_id)`)."""
    ts = ts or _new_ts()
    return {
        "type": "message",
        "channel": channel_id or dm_channel_id(user_id),
        "user": user_id,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "client_msg_id": str(uuid.uuid4()),
    }


def team_join_event(*, user_id: str, name: str, team_id: str = "T0001") -> dict:
    """A new member joins the workspace. Also add_user() them if the bot will look them up."""
    return {"type": "team_join", "user": _user_payload(user_id, name, team_id), "event_ts": _new_ts()}


def tokens_revoked_event(*, bot: list[str] = (), oauth: list[str] = ()) -> dict:
    """Tokens of this app were revoked: user tokens (`oauth`, by user id) or the bot's (`bot`, by its user id)."""
    return {"type": "tokens_revoked", "tokens": {"oauth": list(oauth), "bot": list(bot)}, "event_ts": _new_ts()}


def app_uninstalled_event() -> dict:
    """The workspace removed the app."""
    return {"type": "app_uninstalled", "event_ts": _new_ts()}


def app_home_opened_event(*, user_id: str) -> dict:
    """A member opens the app's Home tab (its channel is their DM with the app)."""
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": dm_channel_id(user_id),
        "tab": "home",
        "event_ts": _new_ts(),
    }


# ---- the fake -----------------------------------------------------------------------------------


@dataclass
class _User:
    name: str  # the real name
    is_admin: bool = False
    is_bot: bool = False
    display_name: str | None = None  # None: the same as the real name


class _ApiError(Exception):
    """A refused call: the Web API answers {"ok": false, "error": ...} with HTTP 200."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def _read_args(request: web.Request) -> dict:
    """A call's arguments: the query string, then the body (JSON or form-encoded) over it.
    slack_sdk sends some methods' arguments in the query string even with POST
    (files.getUploadURLExternal, apps.connections.open), and users.info and a few more as GET."""
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            args.update(json.loads(body))
    elif request.content_type == "application/x-www-form-urlencoded":
        args.update(await request.post())
    return args


def _parse_json_args(args: dict) -> None:
    for key in JSON_ARGS:
        if isinstance(args.get(key), str):
            try:
                args[key] = json.loads(args[key])
            except ValueError:
                raise _ApiError("invalid_arguments") from None


class FakeSlack:
    """A fake Slack: the Web API, response_url endpoints and a Socket Mode websocket on 127.0.0.1."""

    def __init__(
        self, *, team_id: str = "T0001", bot_user_id: str = "U0BOT", app_id: str = "A0001", bot_id: str = "B0001",
        scopes: set[str] | None = None,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.app_id = app_id
        self.bot_id = bot_id

        self.api_base = ""
        self.socket_url = ""
        self._origin = ""
        self._runner: web.AppRunner | None = None

        # The workspace.
        self._users: dict[str, _User] = {bot_user_id: _User("smallstep", is_bot=True)}
        self._channels: dict[str, str] = {}  # id -> name
        self._joined: set[str] = set()  # the channels the bot is a member of
        self._mpims: dict[str, list[str]] = {}  # group DMs the app opened: id -> members, the bot included
        # The bot token's scopes, as the app was installed with them; None: whatever a method needs. Only the
        # methods a scope matters to here check it (conversations.open, conversations.history of a group DM).
        self.scopes = scopes
        self._usergroups: dict[str, list[str]] = {}

        # What the app created, to answer later calls consistently.
        self._messages: dict[tuple[str, str], dict] = {}  # (channel, ts) -> message
        self._pending_uploads: dict[str, dict] = {}  # file id -> filename, length, bytes
        self._response_url_ids: set[str] = set()

        # Socket Mode: every open socket, and the newest (envelopes go there).
        self._sockets: set[web.WebSocketResponse] = set()
        self._socket: web.WebSocketResponse | None = None
        self._socket_connected = asyncio.Event()

        # What the test asked the next calls to meet.
        self._rate_limits: dict[str, tuple[int, int]] = {}  # method -> (count left, retry_after)
        self._failures: dict[str, deque[str]] = {}  # method -> errors, one per call
        self._resets: dict[str, int] = {}  # method -> calls to carry out and then leave unanswered
        self._held: tuple[asyncio.Event, asyncio.Event] | None = None  # (a post is held, let it go)
        self.rate_limited = 0

        self._changed = asyncio.Event()  # set whenever something is recorded
        self._methods: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "apps.connections.open": self._apps_connections_open,
        }

        # What the app did, in order.
        self.calls: list[dict] = []  # {"method", "args", "token", "error"}; error is None when ok
        self.responses: list[dict] = []  # {"url_id", "body"}
        self.uploads: list[dict] = []
        self.views: list[dict] = []  # modals the app opened (views.open), newest last
        self.socket_acks: list[dict] = []  # {"envelope_id", "payload"}
        self.unknown_calls: list[dict] = []  # Web API methods the fake does not implement
        self.unknown_requests: list[dict] = []  # any other path, or a response/upload URL it never issued

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 on a port the system picks."""
        app = web.Application(middlewares=[self._record_unknown], client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_get(API_PATH + "{method}", self._web_api)
        app.router.add_post(API_PATH + "{method}", self._web_api)
        app.router.add_post(UPLOAD_PATH + "{file_id}", self._upload)
        app.router.add_post(RESPONSE_PATH + "{url_id}", self._response)
        app.router.add_get(SOCKET_PATH, self._socket_endpoint)
        # A short shutdown: close() ends the sockets itself, nothing is worth waiting a minute for.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._origin = f"http://127.0.0.1:{port}"
        self.api_base = self._origin + API_PATH
        self.socket_url = f"ws://127.0.0.1:{port}{SOCKET_PATH}"

    async def close(self) -> None:
        """Stop serving. Close a Socket Mode handler first: one that loses the fake keeps reconnecting."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- the workspace ----------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, is_admin: bool = False, display_name: str | None = None) -> None:
        """A member of the workspace: `name` is their real name, also their display name unless one is
        given ("" for someone who chose none). Their handle is another word (`handle`)."""
        self._users[user_id] = _User(name, is_admin, display_name=display_name)

    def handle(self, user_id: str) -> str:
        """The user's legacy handle, as slash commands (`user_name`) and payloads (`user.name`) carry it."""
        return handle_of(user_id, self._users[user_id].name)

    def add_usergroup(self, group_id: str, user_ids: list[str]) -> None:
        """A user group (S...), as usergroups.users.list lists it."""
        self._usergroups[group_id] = list(user_ids)

    def add_channel(self, channel_id: str, name: str, *, bot_is_member: bool = True) -> None:
        """A public channel; the bot is in it unless `bot_is_member` is False. A bot with chat:write.public
        posts in a public channel without being in it, but reads the history only of one it is in."""
        self._channels[channel_id] = name
        if bot_is_member:
            self._joined.add(channel_id)

    def dm_channel_of(self, user_id: str) -> str:
        """The D-channel conversations.open returns for this user (always the same)."""
        return dm_channel_id(user_id)

    def response_url(self) -> str:
        """A fresh response URL on the fake, to put in a slash command or action payload."""
        url_id = uuid.uuid4().hex
        self._response_url_ids.add(url_id)
        return f"{self._origin}{RESPONSE_PATH}{url_id}"

    # ---- what the test makes Slack do --------------------------------------------------------

    def rate_limit_next(self, method: str, count: int = 1, retry_after: int = 1) -> None:
        """Answer the next `count` calls to `method` with HTTP 429, a Retry-After header and
        {"ok": false, "error": "ratelimited"}. slack_sdk reads Retry-After as whole seconds and
        waits that plus up to one more second (random), so 0 keeps a test fast."""
        self._rate_limits[method] = (count, retry_after)

    def hold_next_post(self) -> asyncio.Event:
        """Carry out the next chat.postMessage but keep the app waiting for the answer until
        `release_held()`: the moment a crash leaves the message posted and the app unaware. Returns an
        event set once a post is held."""
        self._held = (asyncio.Event(), asyncio.Event())
        return self._held[0]

    def release_held(self) -> None:
        if self._held is not None:
            self._held[1].set()
            self._held = None

    async def drop_socket(self) -> None:
        """The Socket Mode connection breaks (Slack closes connections now and then, and networks fail):
        the app must open another with apps.connections.open."""
        if self._socket is not None:
            await self._socket.close()

    def reset_after_next(self, method: str, count: int = 1) -> None:
        """Carry out the next `count` calls to `method`, then close the connection without answering."""
        self._resets[method] = count

    def fail_next(self, method: str, error: str) -> None:
        """Refuse the next call to `method` with {"ok": false, "error": error}; calling this again
        queues another refusal for the call after."""
        self._failures.setdefault(method, deque()).append(error)

    async def socket_send(self, envelope_type: str, payload: dict) -> str:
        """Send an envelope over Socket Mode ("slash_commands", "interactive" or "events_api",
        with the payload the matching *_payload builder makes); returns its envelope id.
        Waits briefly for an app to be connected, since it may still be connecting."""
        try:
            await asyncio.wait_for(self._socket_connected.wait(), timeout=30.0)
        except TimeoutError:
            raise RuntimeError(f"cannot send {envelope_type}: no app is connected over Socket Mode") from None
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            # Commands and interactions may be answered in the ack; events may not.
            "accepts_response_payload": envelope_type != "events_api",
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        await self._socket.send_json(envelope)
        return envelope_id

    # ---- what the app did --------------------------------------------------------------------

    def messages_in(self, channel: str) -> list[dict]:
        """The messages the app posted in a conversation and did not delete, oldest first."""
        return sorted((m for (c, _), m in self._messages.items() if c == channel), key=lambda m: float(m["ts"]))

    def replies_to(self, channel: str, ts: str) -> list[dict]:
        """The replies in the thread of a message, oldest first."""
        return sorted((m for (c, t), m in self._messages.items() if c == channel and m.get("thread_ts") == ts != t),
                      key=lambda m: float(m["ts"]))

    def calls_to(self, method: str) -> list[dict]:
        """The recorded calls to one Web API method, in order."""
        return [call for call in self.calls if call["method"] == method]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until predicate() is true. An IndexError or KeyError counts as "not yet", so a
        predicate may simply read `fake.responses[0]["body"]["text"] == ...`.

        It is checked again as soon as anything new is recorded, with no polling delay."""
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
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    def _record(self, records: list, entry: Any) -> None:
        """Keep what the app did, and wake anyone waiting for it."""
        records.append(entry)
        self._changed.set()

    def _summary(self) -> str:
        recorded = {
            "calls": self.calls,
            "responses": self.responses,
            "uploads": [{**u, "bytes": f"{len(u['bytes'])} bytes"} for u in self.uploads],
            "socket_acks": self.socket_acks,
            "unknown_calls": self.unknown_calls,
            "unknown_requests": self.unknown_requests,
            "rate_limited": self.rate_limited,
            "socket_connected": self._socket_connected.is_set(),
        }
        return pformat(recorded, width=110)

    # ---- HTTP endpoints ----------------------------------------------------------------------

    @web.middleware
    async def _record_unknown(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        """Any path the fake does not serve: a 404 a test can see in `unknown_requests`."""
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            body = (await request.read()).decode(errors="replace")
            self._record(self.unknown_requests, {"method": request.method, "path": request.path, "body": body})
            return web.Response(status=404, text=f"the fake Slack has no {request.method} {request.path}")

    async def _web_api(self, request: web.Request) -> web.Response:
        """One Web API call: checks in Slack's order (method, rate limit, token), then the method."""
        method = request.match_info["method"]
        args = await _read_args(request)
        body_token = args.pop("token", None)
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else body_token
        call = {"method": method, "args": args, "token": token}

        handler = self._methods.get(method)
        if handler is None:
            self._record(self.unknown_calls, call)
            return web.json_response({"ok": False, "error": "unknown_method"})

        # A rate-limited attempt is counted, not recorded: the retry that follows is the call.
        left, retry_after = self._rate_limits.get(method, (0, 0))
        if left > 0:
            self._rate_limits[method] = (left - 1, retry_after)
            self.rate_limited += 1
            self._changed.set()
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(retry_after)}
            )

        try:
            self._check_token(method, token)
            if self._failures.get(method):
                raise _ApiError(self._failures[method].popleft())
            _parse_json_args(args)
            result = handler(args)
        except _ApiError as refused:
            self._record(self.calls, {**call, "error": refused.error})
            return web.json_response({"ok": False, "error": refused.error})
        self._record(self.calls, {**call, "error": None})
        if method == "chat.postMessage" and self._held is not None and not self._held[0].is_set():
            held, released = self._held
            held.set()
            await released.wait()
        if self._resets.get(method):
            # The call was carried out, then the connection broke before the answer: the caller cannot
            # tell whether it happened (what a reset or a dropped proxy connection does).
            self._resets[method] -= 1
            request.transport.close()
        return web.json_response({"ok": True, **result})

    async def _upload(self, request: web.Request) -> web.Response:
        """An upload URL from files.getUploadURLExternal: the file's bytes, raw or as multipart."""
        upload = self._pending_uploads.get(request.match_info["file_id"])
        if upload is None:
            raise web.HTTPNotFound()
        if request.content_type == "multipart/form-data":
            form = await request.post()
            files = [part for part in form.values() if isinstance(part, web.FileField)]
            if not files:
                return web.Response(status=400, text="no file in the multipart body")
            upload["bytes"] = files[0].file.read()
        else:
            upload["bytes"] = await request.read()
        # Text, as Slack's upload host answers: slack_sdk then checks only the status.
        return web.Response(text=f"OK - {len(upload['bytes'])}")

    async def _response(self, request: web.Request) -> web.Response:
        """A POST to a response URL (respond() in Bolt): a JSON message, answered "ok"."""
        url_id = request.match_info["url_id"]
        if url_id not in self._response_url_ids:
            raise web.HTTPNotFound()
        self._record(self.responses, {"url_id": url_id, "body": await request.json()})
        return web.Response(text="ok")

    async def _socket_endpoint(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: "hello" on connect, then every frame from the app is an acknowledgement.
        aiohttp answers the client's pings itself."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            hello = {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack"},
                "connection_info": {"app_id": self.app_id},
            }
            await ws.send_json(hello)
            self._socket = ws
            self._socket_connected.set()
            self._changed.set()  # a test may be waiting for the app to connect
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    ack = json.loads(msg.data)
                    self._record(self.socket_acks, {"envelope_id": ack.get("envelope_id"), "payload": ack.get("payload")})
        finally:
            self._sockets.discard(ws)
            if ws is self._socket:
                self._socket = None
                self._socket_connected.clear()
        return ws

    # ---- Web API methods: each takes the arguments and returns the reply without "ok" ----------

    def _check_token(self, method: str, token: str | None) -> None:
        """Slack's token rules: an app-level token (xapp-) opens Socket Mode connections and does
        nothing else; bot and user tokens do everything but that."""
        if not token:
            raise _ApiError("not_authed")
        if not token.startswith(("xoxb-", "xoxp-", "xapp-")):
            raise _ApiError("invalid_auth")
        if token.startswith("xapp-") != (method == "apps.connections.open"):
            raise _ApiError("not_allowed_token_type")

    def _user(self, user_id: str | None) -> _User:
        if user_id not in self._users:
            raise _ApiError("user_not_found")
        return self._users[user_id]

    def _dm_owner(self, channel_id: str) -> str | None:
        """The user whose DM with the bot this channel is, if it is one."""
        for user_id in self._users:
            if user_id != self.bot_user_id and dm_channel_id(user_id) == channel_id:
                return user_id
        return None

    def group_dms(self) -> dict[str, list[str]]:
        """The group DMs (mpims) the app opened: id -> members, the bot included."""
        return {mpim: list(members) for mpim, members in self._mpims.items()}

    def _needs(self, scope: str) -> None:
        """Slack refuses a call whose token lacks the scope it needs: `missing_scope`."""
        if self.scopes is not None and scope not in self.scopes:
            raise _ApiError("missing_scope")

    def _conversation(self, channel: str | None, *, user_means_dm: bool = False) -> str:
        """The channel id a call names: a channel added with add_channel, a user's DM or a group DM the app
        opened. With `user_means_dm`, a user id names their DM, as chat.postMessage allows."""
        if channel in self._channels or channel in self._mpims or (channel and self._dm_owner(channel)):
            return channel
        if user_means_dm and channel in self._users and channel != self.bot_user_id:
            return dm_channel_id(channel)
        raise _ApiError("channel_not_found")

    def _check_message(self, args: dict) -> None:
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            raise _ApiError("no_text")
        if len(args.get("text") or "") > MAX_TEXT_LENGTH:
            raise _ApiError("msg_too_long")
        if _blocks_problem(args.get("blocks") or []):
            raise _ApiError("invalid_blocks")

    def _stored_message(self, args: dict) -> tuple[str, dict]:
        channel = self._conversation(args.get("channel"))
        message = self._messages.get((channel, args.get("ts")))
        if message is None:
            raise _ApiError("message_not_found")
        return channel, message

    def _auth_test(self, args: dict) -> dict:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Fake Team",
            "user": self._users[self.bot_user_id].name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict) -> dict:
        channel = self._conversation(args.get("channel"), user_means_dm=True)
        self._check_message(args)
        ts = _new_ts()
        message = {
            "type": "message",
            "text": args.get("text") or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key):
                message[key] = args[key]
        self._messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, args: dict) -> dict:
        """Shown to one user only: it cannot be updated or deleted later, so it is not stored."""
        self._conversation(args.get("channel"))
        self._user(args.get("user"))
        self._check_message(args)
        return {"message_ts": _new_ts()}

    def _chat_update(self, args: dict) -> dict:
        channel, message = self._stored_message(args)
        self._check_message(args)
        for key in ("text", "blocks", "attachments"):
            if key in args:  # as on Slack, what the update leaves out stays as it was
                message[key] = args[key]
        message["edited"] = {"user": self.bot_user_id, "ts": _new_ts()}
        return {"channel": channel, "ts": message["ts"], "text": message["text"], "message": message}

    def _chat_delete(self, args: dict) -> dict:
        channel, message = self._stored_message(args)
        del self._messages[(channel, message["ts"])]
        return {"channel": channel, "ts": message["ts"]}

    def _conversations_open(self, args: dict) -> dict:
        """docs.slack.dev, conversations.open: "Provide 1 to 8 user IDs": one opens a DM (im:write), more a
        multi-person direct message (mpim:write); "Don't include the ID of the user you're calling
        conversations.open on behalf of - we do that for you"; "Subsequent calls to conversations.open with the
        same set of users will return the already existing conversation". More than 8: too_many_users."""
        users = [u for u in (args.get("users") or "").split(",") if u]
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(users) > 8:
            raise _ApiError("too_many_users")
        self._needs("im:write" if len(users) == 1 else "mpim:write")
        if len(users) > 1:
            for user_id in users:
                self._user(user_id)
            members = sorted({*users, self.bot_user_id})
            found = next((mpim for mpim, known in self._mpims.items() if known == members), None)
            if found is None:
                found = _new_id("G")  # group DMs have G ids, as the documentation's examples do
                self._mpims[found] = members
                self._changed.set()
            return {"channel": {"id": found}}
        if users[0] == self.bot_user_id:
            raise _ApiError("cannot_dm_bot")
        self._user(users[0])
        return {"channel": {"id": dm_channel_id(users[0])}}

    def _conversations_info(self, args: dict) -> dict:
        channel = self._conversation(args.get("channel"))
        if channel in self._channels:
            info = {
                "id": channel,
                "name": self._channels[channel],
                "is_channel": True,
                "is_im": False,
                "is_private": False,
                "is_archived": False,
                "is_member": channel in self._joined,
            }
        elif channel in self._mpims:
            info = {"id": channel, "name": "mpdm-" + "--".join(self._mpims[channel]) + "-1", "is_mpim": True,
                    "is_private": True, "is_archived": False, "is_member": True}
        else:
            info = {"id": channel, "is_im": True, "is_open": True, "user": self._dm_owner(channel)}
        return {"channel": info}

    def _conversations_list(self, args: dict) -> dict:
        """Every channel added with add_channel, on one page (the `types` filter is not applied)."""
        channels = [self._conversations_info({"channel": c})["channel"] for c in self._channels]
        return {"channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, args: dict) -> dict:
        """A conversation's messages, newest first, after `oldest` (exclusive), `limit` a page (default
        100) with a cursor for the next. As docs.slack.dev documents conversations.history, a message's
        `metadata` is returned only with `include_all_metadata`, and a bot token reads "any conversation
        the relevant bot is a member of": a channel it has not joined answers not_in_channel. Replies in a
        thread are not among them: conversations.history "returns only parent messages" (conversations.replies
        lists a thread)."""
        channel = self._conversation(args.get("channel"))
        if channel in self._channels and channel not in self._joined:
            raise _ApiError("not_in_channel")
        if channel in self._mpims:
            self._needs("mpim:history")  # scopes are per conversation type (docs.slack.dev, conversations.history)
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted((m for (c, ts), m in self._messages.items() if c == channel and float(ts) > oldest
                        and m.get("thread_ts", ts) == ts),
                       key=lambda m: float(m["ts"]), reverse=True)
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
                for m in found[start:start + limit]]
        more = start + limit < len(found)
        return {"messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conversations_join(self, args: dict) -> dict:
        """The bot joins a public channel (channels:join); joining one it is in already is fine."""
        channel = self._conversation(args.get("channel"))
        if channel not in self._channels:
            raise _ApiError("method_not_supported_for_channel_type")
        self._joined.add(channel)
        return {"channel": self._conversations_info({"channel": channel})["channel"]}

    def _users_info(self, args: dict) -> dict:
        user_id = args.get("user")
        user = self._user(user_id)
        return {"user": _user_payload(user_id, user.name, self.team_id, display_name=user.display_name,
                                      is_admin=user.is_admin, is_bot=user.is_bot)}

    def _usergroups_users_list(self, args: dict) -> dict:
        users = self._usergroups.get(args.get("usergroup"))
        if users is None:
            raise _ApiError("no_such_subteam")
        return {"users": users}

    def _views_publish(self, args: dict) -> dict:
        """A Home tab for one user; the view itself is in the recorded call's args."""
        self._user(args.get("user_id"))
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        if _blocks_problem(view.get("blocks") or []):
            raise _ApiError("invalid_blocks")
        return {"view": {**view, "id": _new_id("V"), "team_id": self.team_id, "app_id": self.app_id, "hash": _new_ts()}}

    def _views_open(self, args: dict) -> dict:
        """A modal, opened in answer to an interaction; kept in `views` (newest last)."""
        trigger = str(args.get("trigger_id") or "")
        issued = trigger.split(".", 1)[0]
        if not issued.isdigit() or trigger.count(".") != 2:
            raise _ApiError("invalid_trigger_id")
        if time.time() - int(issued) > 3:
            raise _ApiError("expired_trigger_id")
        view = args.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise _ApiError("invalid_arguments")
        blocks = view.get("blocks") or []
        titles = [view.get("title") or {}, view.get("submit") or {}]
        if any(t.get("type") != "plain_text" or not 0 < len(t.get("text") or "") <= MAX_MODAL_TITLE for t in titles):
            raise _ApiError("invalid_arguments")
        if len(blocks) > MAX_MODAL_BLOCKS or len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
            raise _ApiError("invalid_arguments")
        for block in blocks:
            if block.get("type") == "input":
                element = block.get("element") or {}
                label = (block.get("label") or {}).get("text") or ""
                if element.get("type") != "plain_text_input" or not 0 < len(label) <= MAX_INPUT_LABEL:
                    raise _ApiError("invalid_blocks")
                if int(element.get("max_length", MAX_INPUT_LENGTH)) > MAX_INPUT_LENGTH:
                    raise _ApiError("invalid_blocks")
            elif _blocks_problem([block]):
                raise _ApiError("invalid_blocks")
        opened = {**view, "id": _new_id("V"), "team_id": self.team_id, "app_id": self.app_id, "hash": _new_ts(),
                  "root_view_id": None}
        self.views.append(opened)
        return {"view": opened}

    def _files_get_upload_url_external(self, args: dict) -> dict:
        """Step 1 of files_upload_v2: an upload URL on the fake for one file."""
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            raise _ApiError("invalid_arguments")
        file_id = _new_id("F")
        self._pending_uploads[file_id] = {"filename": args["filename"], "length": int(args["length"]), "bytes": None}
        return {"upload_url": f"{self._origin}{UPLOAD_PATH}{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, args: dict) -> dict:
        """Step 3 of files_upload_v2: share the uploaded files, recorded in `uploads`."""
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        pending = [self._pending_uploads.get(f.get("id")) for f in files]
        if any(upload is None or upload["bytes"] is None for upload in pending):
            raise _ApiError("file_not_found")
        channel_id = args.get("channel_id")
        if channel_id:
            self._conversation(channel_id)
        shared = []
        for f, upload in zip(files, pending):
            del self._pending_uploads[f["id"]]
            title = f.get("title") or upload["filename"]
            self._record(
                self.uploads,
                {
                    "file_id": f["id"],
                    "filename": upload["filename"],
                    "bytes": upload["bytes"],
                    "channel_id": channel_id or args.get("channels"),
                    "initial_comment": args.get("initial_comment"),
                    "title": title,
                    "thread_ts": args.get("thread_ts"),
                },
            )
            shared.append({"id": f["id"], "name": upload["filename"], "title": title, "size": len(upload["bytes"])})
        if channel_id:
            # Sharing files in a conversation shows them there as a message of the app's, with the files.
            ts = _new_ts()
            self._messages[(channel_id, ts)] = {"type": "message", "text": args.get("initial_comment") or "",
                                                "user": self.bot_user_id, "bot_id": self.bot_id, "ts": ts,
                                                "files": shared, "upload": True}
        return {"files": shared}

    def _apps_connections_open(self, args: dict) -> dict:
        return {"url": self.socket_url}
