"""The Slack adapter, on the real slack-bolt AsyncApp.

One slash command reaches every feature: `/smallstep share`, `/smallstep testimonials queue`;
its text goes through the same parsing as the console's lines. Buttons carry the core's
action in their action id and its value in their value, so a button posted last week works
after any restart: nothing about it is kept in memory. Direct messages (`message.im`) reach
the forms; `team_join` becomes `member.joined`; the App Home tab shows the member's steps.

Every request is acknowledged first (Slack wants an answer within 3 seconds); the work
follows, and its replies go to the command's `response_url`, or by `chat.postMessage` /
`chat.postEphemeral`. Slack retries an event it thinks was missed: each event id is
recorded in SQLite, so a retried event is never handled twice. Rate-limited calls are
retried by slack-sdk's own retry handlers; a call that lost its connection is retried only when
repeating it cannot post a message twice.

Slack has no idempotency key for chat.postMessage, so each message of the outbox carries its
delivery key in the message's metadata; when an earlier attempt's outcome is unknown (the process
stopped, or the connection broke, before Slack's answer came), the conversation's recent history
is searched for that key before the message is posted again.

Members are named as Slack shows them (`users.info`: the display name, else the real name), never
by the legacy handle that payloads carry in `user_name` or `user.name`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime, timedelta
from functools import partial

import aiohttp
from cachetools import TTLCache
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Awaitable, Iterable

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.app import Bot
from bot.core import Channel, Community, Invocation, Member, Message, Thread
from bot.core.adapter import Adapter, Delivery, Dialog
from bot.core.errors import ChannelUnavailable, MemberUnreachable
from bot.core.message import ButtonStyle
from bot.platforms.rooms import RoomRefusals
from bot.platforms.text import cut, pieces, readable
from bot.privacy import community_left, community_returned
from bot.storage import apply_migrations
from bot.values import stamp

log = logging.getLogger(__name__)

SECTION_TEXT = 3000  # Slack's limit for a section's text
HEADER = 150
FIELD_TEXT, FIELDS_PER_SECTION = 2000, 10  # a section's fields: each text, and how many
BUTTONS_PER_BLOCK = 25
BUTTON_TEXT = 75
# Errors that mean a member cannot be reached by DM now: their next activity tries again. `user_not_visible`
# comes from conversations.open for someone the bot may not see (another organisation, a guest).
UNREACHABLE = {"cannot_dm_bot", "user_not_found", "user_disabled", "channel_not_found", "is_archived",
               "user_not_visible"}
# chat.postMessage errors that mean the bot may not post in that channel (trying again will not help).
CLOSED_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "missing_scope"}
GROUP_CACHE_SECONDS = 60
MAX_BLOCKS = 50
DIALOG = "smallstep-form"  # the callback id of every form shown as a modal
DIALOG_TITLE = 24  # Slack's limits for a modal's title and submit label, a label or hint, a text box
DIALOG_LABEL = 2000
DIALOG_TEXT = 3000
DIALOG_CHECK_SECONDS = 2.0  # answers checked before the acknowledgement, which Slack wants within 3 s
RESPONSE_URL_LIFE = 29 * 60  # seconds: Slack honours a response_url for 30 minutes
EVENT_MEMORY = timedelta(days=1)  # how long handled event ids are kept (Slack retries within minutes)
DM_SUBTYPES = {None, "file_share"}
NAME_CACHE_SIZE, NAME_CACHE_SECONDS = 2000, 3600  # names change: one seen an hour ago is looked up again
# Message metadata marking a message of the outbox, with its delivery key (Delivery.key).
DELIVERY_EVENT = "smallstep_delivery"
HISTORY_MARGIN = timedelta(minutes=1)  # searched before the attempt began, for clocks a little apart
HISTORY_PAGES = 5  # of 200 messages: a message posted moments ago is near the top
# conversations.history errors that no later attempt will get past: the message is posted again instead.
UNREADABLE_HISTORY = {"channel_not_found", "missing_scope", "not_authed", "invalid_auth", "is_archived",
                      "method_not_supported_for_channel_type", "not_allowed_token_type"}
# Channels are C… ids, and G… for private channels made before 2021; DMs are D….
_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$")
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_STYLES = {ButtonStyle.PRIMARY: "primary", ButtonStyle.SUCCESS: "primary", ButtonStyle.DANGER: "danger"}


@dataclass
class SlackReply:
    """What an Invocation needs to answer a Slack command or button press."""

    response_url: str | None
    trigger_id: str | None = None  # a press may open a modal with it, within 3 seconds
    responses_left: int = 5  # Slack takes five answers per response_url...
    received: float = field(default_factory=time.monotonic)

    def usable(self) -> bool:
        """...within 30 minutes of the request."""
        return bool(self.response_url) and self.responses_left > 0 and time.monotonic() - self.received < RESPONSE_URL_LIFE


# Calls that make something members see: after a broken connection Slack may have done it already, and
# none takes an idempotency key, so a blind retry could do it twice.
POSTING = ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal")


class _OnlyWhatPostsNothing(AsyncConnectionErrorRetryHandler):
    """Retries a Web API call whose connection broke, unless it posts (POSTING), and never an answer to a
    response_url (not the Web API either). The outbox tries such a message again itself, looking for it first."""

    def __init__(self, api_base: str, **options: Any) -> None:
        super().__init__(**options)
        self.api_base = api_base

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest, response: Any = None,
                               error: Exception | None = None) -> bool:
        method = request.url.removeprefix(self.api_base) if request.url.startswith(self.api_base) else None
        return (method is not None and method.split("?")[0] not in POSTING
                and await super()._can_retry_async(state=state, request=request, response=response, error=error))


class SlackAdapter(Adapter):
    """Connects the core to a Slack workspace."""

    platform = "slack"
    offers_rooms = True  # a group DM for a pair

    def __init__(self, bot: Bot, *, token: str, signing_secret: str = "", client: AsyncWebClient | None = None) -> None:
        self.bot = bot
        self.settings = bot.config.slack
        self.send_rate = self.settings.outbox_per_second or None
        api_base = self.settings.api_base_url or AsyncWebClient.BASE_URL
        self.client = client or AsyncWebClient(
            token=token, base_url=api_base,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5),
                            _OnlyWhatPostsNothing(api_base, max_retry_count=2)])
        # In Socket Mode there is no signing secret: requests come over the app's own socket.
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret,
                            request_verification_enabled=bool(signing_secret))
        self.team = Community(self.platform, "")
        self._names: TTLCache[str, str] = TTLCache(NAME_CACHE_SIZE, NAME_CACHE_SECONDS)
        self._bot_user = ""  # the bot's own user id, from auth.test
        self._departed = False  # the workspace uninstalled the app: its next request means it is back
        self._group: tuple[float, set[str]] | None = None  # (when fetched, members) of the moderators' group
        self._group_lock = asyncio.Lock()
        self._in_flight: set[asyncio.Task] = set()
        self._next_cleanup: datetime | None = None
        self._rooms_refused = RoomRefusals(log)
        self._register_listeners()

    async def prepare(self) -> None:
        """Learn which workspace this is (auth.test), and keep a table of events already handled.

        One HTTP session serves every Web API call and response_url answer: slack-sdk would
        otherwise open a new connection for each.
        """
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession()
        identity = await self.client.auth_test()
        self.team = Community(self.platform, identity["team_id"], identity.get("team", ""))
        self._bot_user = identity.get("user_id", "")
        await apply_migrations(self.bot.db, "slack", files("bot.platforms.slack") / "migrations")
        # The token works, so the app is installed: a workspace that uninstalled it came back.
        await community_returned(self.bot, self.team)
        self.bot.attach(self)
        self.bot.outbox.kick()  # what was queued before the last stop

    async def close(self) -> None:
        """Let the work that follows acknowledgements finish (briefly), then close the HTTP session."""
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=10)
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None

    # -- listeners -----------------------------------------------------------------------

    def _register_listeners(self) -> None:
        app = self.app
        app.use(_readable_body)

        @app.command(self.settings.command)
        async def on_command(ack, body: dict[str, Any]) -> None:
            await ack()
            if self._foreign(body):
                return
            await self._tracked(self._command(body))

        @app.action(re.compile(".+"))
        async def on_action(ack, body: dict[str, Any]) -> None:
            await ack()
            if self._foreign(body):
                return
            await self._tracked(self._action(body))

        @app.view(DIALOG)
        async def on_dialog(ack, body: dict[str, Any]) -> None:
            # Answers are checked before the acknowledgement, which carries what is wrong beside its
            # box; once they are kept in the draft, the form is submitted after it.
            if self._foreign(body):
                await ack()
                return
            values = _dialog_values(body)

            async def check() -> tuple[Invocation, str, dict[str, str]]:
                ctx, dialog_id = await self._dialog_origin(body)
                return ctx, dialog_id, await self.bot.forms.dialog_answers(ctx, dialog_id, values)

            try:  # within Slack's 3 seconds: the answer to the submission carries what is wrong
                ctx, dialog_id, problems = await asyncio.wait_for(check(), DIALOG_CHECK_SECONDS)
            except Exception as exc:  # slow, or a locked database: the modal stays open with what was written
                if not isinstance(exc, TimeoutError):
                    log.exception("could not keep the answers of a Slack dialog")
                sorry = str(self.bot.render("forms/engine.j2", "plain")["dialog_not_kept"])
                problems = {key: sorry for key in values}
            if problems:
                await ack(response_action="errors", errors={key: cut(text, 2000) for key, text in problems.items()})
                return
            await ack()
            await self._tracked(self.bot.guarded(ctx, partial(self.bot.forms.submit_dialog, ctx, dialog_id), "dialog",
                                                 "forms"))

        @app.event("message")
        async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
            # A text, possibly with a photo (file_share); not edits, deletions, or other bots.
            if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype") not in DM_SUBTYPES:
                return
            if not self._foreign(body) and await self._first_time(body):
                await self._tracked(self._direct_message(body, event))

        @app.event("team_join")
        async def on_team_join(body: dict[str, Any], event: dict[str, Any]) -> None:
            user = event.get("user", {})
            if user.get("is_bot") or self._foreign(body) or not await self._first_time(body):
                return
            await self._tracked(self.bot.events.emit("member.joined", self.team,
                                                     Member(self.platform, user.get("id", ""), _shown_name(user))))

        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        async def on_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
            # The workspace removed the app: its data goes after the grace period (bot.purge_after).
            if self._foreign(body) or not await self._first_time(body):
                return
            # tokens_revoked also tells of a user's token revoked: it counts only when it names this bot.
            if event.get("type") == "tokens_revoked" and self._bot_user not in (event.get("tokens") or {}).get("bot", []):
                return
            self._departed = True
            await self._tracked(community_left(self.bot, self.team))

        @app.event("app_home_opened")
        async def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
            if event.get("tab", "home") == "home" and not self._foreign(body) and await self._first_time(body):
                await self._tracked(self._publish_home(event.get("user", "")))

    async def _command(self, body: dict[str, Any]) -> None:
        ctx = await self._invocation(body, body.get("user_id", ""), body.get("channel_id"), body.get("channel_name", ""))
        # Links and entities become what the member typed; channel and member references stay
        # as Slack's markup (<#C1|name>, <@U1>) for the options that name them.
        await self.bot.run_line(ctx, as_typed(body.get("text", ""), keep_references=True).strip() or "help")

    async def _action(self, body: dict[str, Any]) -> None:
        pressed = body["actions"][0]
        user = body.get("user", {})
        channel = body.get("channel") or {}
        ctx = await self._invocation(body, user.get("id", ""), channel.get("id"), channel.get("name", ""))
        ctx.platform_data.trigger_id = body.get("trigger_id")
        await self.bot.press(ctx, pressed["action_id"].split("#", 1)[0], pressed.get("value", ""))

    async def _dialog_origin(self, body: dict[str, Any]) -> tuple[Invocation, str]:
        """The member, and where they pressed the button that opened the dialog (its answers go there)."""
        view = body.get("view") or {}
        try:
            origin = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            origin = {}
        user = body.get("user", {})
        ctx = await self._invocation({"response_url": origin.get("response_url")}, user.get("id", ""),
                                     origin.get("channel"), origin.get("channel_name", ""))
        return ctx, str(origin.get("dialog", ""))

    async def open_dialog(self, ctx: Invocation, dialog: Dialog) -> bool:
        """A modal for a short form, opened with the press's trigger (valid for 3 seconds); False when
        there is none or Slack refused it, and the form is asked in DMs instead."""
        reply = ctx.platform_data
        if not isinstance(reply, SlackReply) or not reply.trigger_id or time.monotonic() - reply.received > 2.5:
            return False
        origin = {"dialog": dialog.id, "response_url": reply.response_url,
                  "channel": ctx.channel.id if ctx.channel else None,
                  "channel_name": ctx.channel.name if ctx.channel else ""}
        blocks: list[dict[str, Any]] = [_section(dialog.intro)] if dialog.intro else []
        for box in dialog.fields:
            element: dict[str, Any] = {"type": "plain_text_input", "action_id": "answer", "multiline": box.multiline,
                                       "max_length": min(box.max_length, DIALOG_TEXT)}
            if box.min_length > 1:
                element["min_length"] = min(box.min_length, DIALOG_TEXT)
            if box.value:
                element["initial_value"] = box.value[:DIALOG_TEXT]
            block = {"type": "input", "block_id": box.key, "optional": box.optional, "element": element,
                     "label": _plain_text(box.label, DIALOG_LABEL)}
            if box.hint:
                block["hint"] = _plain_text(box.hint, DIALOG_LABEL)
            blocks.append(block)
        view = {"type": "modal", "callback_id": DIALOG, "private_metadata": json.dumps(origin),
                "title": _plain_text(dialog.title, DIALOG_TITLE), "submit": _plain_text(dialog.submit, DIALOG_TITLE),
                "blocks": blocks}
        try:
            await self.client.views_open(trigger_id=reply.trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("Slack did not open a dialog (%s); asking in DMs instead", exc.response.get("error"))
            return False
        return True

    async def _direct_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        ctx = await self._invocation(body, event.get("user", ""), event.get("channel"), "")
        await self.bot.receive_dm(ctx, as_typed(event.get("text", "")))

    def _foreign(self, body: dict[str, Any]) -> bool:
        """A request from another workspace: this bot serves the one its token belongs to."""
        team_id = body.get("team_id") or (body.get("team") or {}).get("id") or self.team.id
        if team_id != self.team.id:
            log.warning("ignored a request from workspace %s; this bot serves %s", team_id, self.team.id)
            return True
        return False

    async def _tracked(self, work: Awaitable[None]) -> None:
        """Bolt runs what follows an acknowledgement as a task of its own: keep count, so shutdown
        can wait for it, and log its failures as ours."""
        task = asyncio.current_task()
        self._in_flight.add(task)
        try:
            await work
        except Exception:
            log.exception("Slack listener failed after its acknowledgement")
        finally:
            self._in_flight.discard(task)

    async def _first_time(self, body: dict[str, Any]) -> bool:
        """Record the event's id; False if it was handled already (Slack retried it).

        Slack retries within minutes, so ids older than a day are forgotten, once an hour.
        """
        event_id = body.get("event_id")
        if not event_id:
            return True
        now = self.bot.clock.now()
        if self._next_cleanup is None or now >= self._next_cleanup:
            await self.bot.db.execute("DELETE FROM slack_events WHERE received_at < ?", (stamp(now - EVENT_MEMORY),))
            self._next_cleanup = now + timedelta(hours=1)
        return await self.bot.db.execute(
            "INSERT INTO slack_events (community, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (self.team.key, event_id, stamp(now))) == 1

    # -- the Adapter protocol ------------------------------------------------------------

    def command_text(self, name: str) -> str:
        return f"{self.settings.command} {name}"

    async def respond(self, ctx: Invocation, message: Message, *, private: bool) -> None:
        if ctx.channel is None:  # the member's DMs
            await self.send(ctx.community, ctx.member, message)
            return
        if message.images or message.files:
            # Slack cannot show a file to one person in a channel: a private one goes to their DMs.
            await self.send(ctx.community, ctx.member if private else ctx.channel, message)
            return
        reply = ctx.platform_data
        if isinstance(reply, SlackReply) and reply.usable():
            reply.responses_left -= 1
            webhook = AsyncWebhookClient(reply.response_url, session=self.client.session,
                                         retry_handlers=self.client.retry_handlers)
            answer = await webhook.send(text=_fallback(message), blocks=_blocks(message), replace_original=False,
                                        response_type="ephemeral" if private else "in_channel")
            if answer.status_code == 200:
                return
            log.warning("response_url refused an answer (%s %s); posting it instead", answer.status_code, answer.body)
            reply.responses_left = 0
        if private:
            await self.client.chat_postEphemeral(channel=ctx.channel.id, user=ctx.member.id,
                                                 text=_fallback(message), blocks=_blocks(message))
        else:
            await self.send(ctx.community, ctx.channel, message)

    async def send(self, community: Community, to: Channel | Member | Thread, message: Message, *,
                   delivery: Delivery | None = None) -> str:
        """A post in a thread is a reply to its message (`thread_ts`); Slack's thread is its replies, so
        `message.thread` asks nothing more here."""
        try:
            try:
                return await self._post(await self._conversation_of(to), message, delivery,
                                        to.root if isinstance(to, Thread) else None)
            except SlackApiError as exc:
                # A DM id kept from before that Slack no longer knows: opened again, once.
                if not isinstance(to, Member) or exc.response.get("error") != "channel_not_found":
                    raise
                await self.forget_member(community, to)
                return await self._post(await self._conversation_of(to), message, delivery, None)
        except SlackApiError as exc:
            error = exc.response.get("error")
            if isinstance(to, Member) and error in UNREACHABLE:
                raise MemberUnreachable(f"{to.display_name} cannot be reached by direct message") from exc
            if isinstance(to, Channel) and error in CLOSED_CHANNEL:
                raise ChannelUnavailable(f"the bot may not post in #{to.name} ({error})") from exc
            if isinstance(to, Thread) and error in CLOSED_CHANNEL:
                raise ChannelUnavailable(f"the bot may not post in the thread {to.name} ({error})") from exc
            raise

    async def _conversation_of(self, to: Channel | Member | Thread) -> str:
        if isinstance(to, Thread):
            return to.channel.id
        return to.id if isinstance(to, Channel) else await self._dm_channel(to)

    async def _post(self, channel: str, message: Message, delivery: Delivery | None, thread_ts: str | None) -> str:
        """The message, then its images and files (each shared as a message of its own, as Slack does); in the
        thread of `thread_ts` if given. After an attempt whose outcome is unknown, only what did not arrive then
        is posted now. A thread's replies are not looked through: conversations.replies is closed to bot tokens
        in channels (docs.slack.dev, conversations.replies), so such a post is made again, a repeat rather than a
        loss."""
        files = [*message.images, *message.files]
        look = delivery is not None and delivery.tried_at is not None and thread_ts is None
        earlier = await self._posted_before(channel, delivery) if look else None
        if earlier is None:
            metadata = {"event_type": DELIVERY_EVENT, "event_payload": {"key": delivery.key}} if delivery else None
            ts = str((await self.client.chat_postMessage(channel=channel, text=_fallback(message),
                                                         blocks=_blocks(message), unfurl_links=False,
                                                         metadata=metadata, thread_ts=thread_ts))["ts"])
            shared: set[str] = set()
        else:
            ts, shared = earlier
        for item in files:
            if item.filename not in shared:
                await self.client.files_upload_v2(channel=channel, file=item.data, filename=item.filename,
                                                  title=item.description or item.filename, thread_ts=thread_ts)
        return ts

    async def _posted_before(self, channel: str, delivery: Delivery) -> tuple[str, set[str]] | None:
        """The message an earlier attempt posted, found by its delivery key in the conversation's history
        since that attempt began: its ts, and the names of the files shared after it (before the next
        message of the outbox). None if it never arrived, and None for a pair's room, whose history the bot
        never reads: there it posts again (a repeat rather than a loss).

        The bot reads only the history of a conversation it is in (conversations.history); it may post
        in public channels it has not joined (chat:write.public), so it joins one when it must read it.
        A history that cannot be read for good (a private channel it left, a missing scope) means the
        message is posted again: a repeat rather than a loss. A passing error is raised, and the outbox
        tries again later."""
        if await self.bot.db.fetchval("SELECT 1 FROM slack_rooms WHERE community = ? AND channel_id = ?",
                                      (self.team.key, channel)):
            return None
        oldest = f"{(delivery.tried_at - HISTORY_MARGIN).timestamp():.6f}"
        newer: list[dict[str, Any]] = []  # what came after, newest first, as the history gives it
        cursor = None
        try:
            for _ in range(HISTORY_PAGES):
                page = await self._history(channel, oldest, cursor)
                for found in page.get("messages", []):
                    metadata = found.get("metadata") or {}
                    if (metadata.get("event_type") == DELIVERY_EVENT
                            and (metadata.get("event_payload") or {}).get("key") == delivery.key):
                        return str(found["ts"]), _shared_after(reversed(newer))
                    newer.append(found)
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return None
        except SlackApiError as exc:
            if exc.response.get("error") not in UNREADABLE_HISTORY:
                raise
            log.warning("could not read a conversation's history to tell whether a message arrived (%s);"
                        " sending it again", exc.response.get("error"))
        return None

    async def _history(self, channel: str, oldest: str, cursor: str | None) -> dict[str, Any]:
        try:
            return (await self.client.conversations_history(channel=channel, oldest=oldest, limit=200, cursor=cursor,
                                                            include_all_metadata=True)).data
        except SlackApiError as exc:
            if exc.response.get("error") != "not_in_channel":
                raise
        await self.client.conversations_join(channel=channel)  # a public channel it posts in without being in it
        return (await self.client.conversations_history(channel=channel, oldest=oldest, limit=200, cursor=cursor,
                                                        include_all_metadata=True)).data

    def serves(self, community: Community) -> bool:
        return community.id == self.team.id

    async def open_room(self, community: Community, members: list[Member], name: str, within: str) -> Channel | None:
        """A room for a few members: a group DM of them and the bot (conversations.open with their ids: "Providing
        more than 1 will create a multi-person direct message", and the caller is added by Slack; the same people
        again get the same conversation). It needs the mpim:write scope; the bot never reads it (no mpim:history,
        and no message.mpim event). None when Slack refuses, with a log line saying why (never who); `within` is
        Discord's."""
        try:
            opened = (await self.client.conversations_open(users=",".join(m.id for m in members)))["channel"]["id"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            needed = " (the app needs the mpim:write scope: reinstall it from smallstep slack-manifest)" \
                if error == "missing_scope" else ""
            self._rooms_refused.refuse(f"Slack refused a group DM: {error}{needed}")
            return None
        await self.bot.db.execute("INSERT INTO slack_rooms (community, channel_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                  (self.team.key, opened))
        return Channel(opened, name)

    async def check_channel(self, community: Community, channel: Channel) -> str | None:
        try:
            info = (await self.client.conversations_info(channel=channel.id))["channel"]
        except SlackApiError as exc:
            return f"#{channel.name} is not a channel the bot can see ({exc.response.get('error')})"
        if info.get("is_archived"):
            return f"#{channel.name} is archived"
        if info.get("is_private") and not info.get("is_member"):
            return f"the bot is not a member of the private channel #{channel.name}: invite it with /invite"
        return None

    async def edit(self, community: Community, channel: Channel, message_id: str, message: Message) -> None:
        try:
            await self.client.chat_update(channel=channel.id, ts=message_id, text=_fallback(message),
                                          blocks=_blocks(message))
        except SlackApiError as exc:
            # Someone deleted the post, or the bot left the channel: there is nothing left to update.
            log.warning("could not edit message %s in %s: %s", message_id, channel.id, exc.response.get("error"))

    async def resolve_channel(self, community: Community, text: str) -> Channel | None:
        text = text.strip()
        match = _CHANNEL.match(text)
        if match:
            return Channel(match.group(1), match.group(2) or match.group(1))
        if re.fullmatch(r"[CG][A-Z0-9]+", text):
            return Channel(text, text)
        wanted = text.lstrip("#").lower()
        cursor = None
        while True:  # a name: look it up among the channels the bot can see
            page = await self.client.conversations_list(types="public_channel,private_channel", limit=200,
                                                        cursor=cursor, exclude_archived=True)
            for channel in page.get("channels", []):
                if channel.get("name") == wanted:
                    return Channel(channel["id"], channel["name"])
            cursor = page.get("response_metadata", {}).get("next_cursor")
            if not cursor:
                return None

    async def resolve_member(self, community: Community, text: str) -> Member | None:
        text = text.strip()
        match = _USER.match(text)
        user_id = match.group(1) if match else (text if re.fullmatch(r"[UW][A-Z0-9]+", text) else None)
        if user_id is None:
            return None
        # The label in <@U1|label> is the legacy handle: the name shown is looked up.
        return Member(self.platform, user_id, await self._display_name(user_id),
                      is_moderator=await self._is_moderator(user_id))

    # -- people and places -------------------------------------------------------------------

    async def _invocation(self, body: dict[str, Any], user_id: str, channel_id: str | None,
                          channel_name: str) -> Invocation:
        if self._departed:  # a request from a workspace that uninstalled the app: it is back
            self._departed = False
            await community_returned(self.bot, self.team)
        in_dm = not channel_id or channel_id.startswith("D")
        member = Member(self.platform, user_id, await self._display_name(user_id),
                        is_moderator=await self._is_moderator(user_id))
        return Invocation(bot=self.bot, adapter=self, community=self.team, member=member,
                          channel=None if in_dm else Channel(channel_id, channel_name or channel_id),
                          platform_data=SlackReply(body.get("response_url")))

    async def _display_name(self, user_id: str) -> str:
        """The member's name as Slack shows it, from users.info (kept for an hour)."""
        if user_id in self._names:
            return self._names[user_id]
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except SlackApiError:
            return user_id
        name = self._names[user_id] = readable(_shown_name(user)) or user_id
        return name

    async def _is_moderator(self, user_id: str) -> bool:
        if user_id in self.settings.moderators:
            return True
        if not self.settings.moderator_group:
            return False
        async with self._group_lock:  # ten commands at once make one call, not ten
            if self._group is None or time.monotonic() - self._group[0] > GROUP_CACHE_SECONDS:
                members = self._group[1] if self._group else set()
                try:
                    found = await self.client.usergroups_users_list(usergroup=self.settings.moderator_group)
                    members = set(found.get("users", []))
                except SlackApiError as exc:
                    log.warning("cannot read the moderators' user group: %s", exc.response.get("error"))
                self._group = (time.monotonic(), members)
            return user_id in self._group[1]

    async def _dm_channel(self, member: Member) -> str:
        """The bot's DM with a member: opened once with conversations.open, then kept in the database."""
        known = await self.bot.db.fetchval("SELECT channel_id FROM slack_dm_channels WHERE community = ?"
                                           " AND member_id = ?", (self.team.key, member.id))
        if known is not None:
            return known
        opened = (await self.client.conversations_open(users=member.id))["channel"]["id"]
        await self.bot.db.execute("INSERT INTO slack_dm_channels (community, member_id, channel_id) VALUES (?, ?, ?)"
                                  " ON CONFLICT (community, member_id) DO UPDATE SET channel_id = excluded.channel_id", (self.team.key, member.id, opened))
        return opened

    async def personal_data(self, community: Community, member_id: str) -> dict[str, list[dict[str, Any]]]:
        """What this adapter keeps about a member, for /my-data: the id of their DM with the bot."""
        rows = await self.bot.db.fetchall("SELECT channel_id FROM slack_dm_channels WHERE community = ? AND member_id = ?",
                                          (community.key, member_id))
        return {"direct_message_conversation": [dict(row) for row in rows]} if rows else {}

    async def forget_member(self, community: Community, member: Member) -> None:
        """A member's data is erased: the id of their DM goes too."""
        await self.bot.db.execute("DELETE FROM slack_dm_channels WHERE community = ? AND member_id = ?",
                                  (community.key, member.id))

    async def _publish_home(self, user_id: str) -> None:
        """The App Home tab: the member's ten steps and badges, as the badges cog knows them."""
        name = await self._display_name(user_id)
        journey = await self.bot.ask("badges.journey", self.team, Member(self.platform, user_id, name),
                                     default={"steps": [], "badges": []})
        text = self.bot.render("slack/home.j2", self.platform, steps=journey["steps"], badges=journey["badges"],
                               name=name)
        await self.client.views_publish(user_id=user_id, view={
            "type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": part}}
                                       for part in pieces(text.body, SECTION_TEXT)]})


def _shared_after(messages: Iterable[dict[str, Any]]) -> set[str]:
    """The names of the files shared in `messages` (oldest first) before the next message of the outbox:
    those of the message just before them."""
    names: set[str] = set()
    for message in messages:
        if (message.get("metadata") or {}).get("event_type") == DELIVERY_EVENT:
            break
        names |= {shared.get("name", "") for shared in message.get("files") or []}
    return names


def _shown_name(user: dict[str, Any]) -> str:
    """How Slack shows a user: the display name they chose, else their real name. `name` is a legacy
    handle (jane.doe) that Slack shows nowhere any more, so it is never used."""
    profile = user.get("profile") or {}
    return profile.get("display_name") or profile.get("real_name") or user.get("real_name") or ""

async def _readable_body(request, next) -> None:  # noqa: A002 - Bolt passes its arguments by these names
    """A Bolt middleware: a verified request's text made safe to keep before any listener sees it."""
    request.body = readable(request.body)
    await next()


def _blocks(message: Message) -> list[dict[str, Any]]:
    """A Message as Block Kit: a header, the text, one section per field, then the buttons."""
    blocks: list[dict[str, Any]] = []
    if message.title:
        # A header is plain text, which Slack never reads for mentions: the mrkdwn escaping is undone.
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": cut(_plain(message.title), HEADER)}})
    text = [_section(part) for part in pieces(message.text, SECTION_TEXT)]
    if message.thumbnail_url:  # beside the first part of the text, as an accessory
        text = text or [_section(" ")]
        text[0]["accessory"] = {"type": "image", "image_url": message.thumbnail_url,
                                "alt_text": cut(_plain(message.title) or "image", 2000)}
    blocks += text
    side_by_side: list[dict[str, Any]] = []
    for item in message.fields:
        if item.inline:  # short fields share a section, two columns wide, as embed fields do on Discord
            side_by_side.append({"type": "mrkdwn", "text": cut(f"*{item.name}*\n{item.value}", FIELD_TEXT)})
            continue
        blocks += _columns(side_by_side)
        side_by_side = []
        blocks += [_section(part) for part in pieces(f"*{item.name}*\n{item.value}", SECTION_TEXT)]
    blocks += _columns(side_by_side)
    actions = [{"type": "actions", "elements": [_button(button, start + i) for i, button in
                                              enumerate(message.buttons[start:start + BUTTONS_PER_BLOCK])]}
               for start in range(0, len(message.buttons), BUTTONS_PER_BLOCK)]
    room = MAX_BLOCKS - len(actions)
    if len(blocks) > room:  # Slack takes 50 blocks: the rest of the text is cut, the buttons kept
        blocks = [*blocks[:room - 1], _section("…")]
    return blocks + actions


def _button(button, index: int) -> dict[str, Any]:
    # Action ids must be unique within a message; the index keeps two presses of one action apart.
    element = {"type": "button", "action_id": f"{button.action}#{index}",
               "text": {"type": "plain_text", "text": cut(_plain(button.label), BUTTON_TEXT), "emoji": True}}
    if button.value:  # a button's value is optional in Slack; an absent one comes back as ""
        element["value"] = button.value
    if button.style in _STYLES:
        element["style"] = _STYLES[button.style]
    return element


def _columns(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sections of at most ten fields each (Slack's limit)."""
    return [{"type": "section", "fields": fields[i:i + FIELDS_PER_SECTION]}
            for i in range(0, len(fields), FIELDS_PER_SECTION)]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}


def _dialog_values(body: dict[str, Any]) -> dict[str, str]:
    """What was written in a submitted modal, by box (its block id: the form's question key)."""
    state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    return {block: (element.get("value") or "") for block, inputs in state.items() for element in inputs.values()}


def _plain_text(text: str, limit: int) -> dict[str, str]:
    return {"type": "plain_text", "text": cut(text, limit) or " "}


def _fallback(message: Message) -> str:
    """The plain text Slack shows in notifications."""
    return pieces(f"{message.title}\n{message.text}".strip() or "…", SECTION_TEXT)[0]


def _plain(text: str) -> str:
    """Button labels are plain_text, where Slack shows entities literally: undo the mrkdwn escaping."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_REFERENCE = re.compile(r"<([@#])([UWCG][A-Z0-9]+)(?:\|([^>]*))?>")


def as_typed(text: str, *, keep_references: bool = False) -> str:
    """What a member typed, as they typed it: Slack sends links as <https://…|label>, mentions as
    <@U1> and <#C1|name>, and &, < and > as entities."""
    text = _LINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    if not keep_references:
        text = _REFERENCE.sub(lambda m: m.group(1) + (m.group(3) or m.group(2)), text)
    return _plain(text)
