"""`smallstep run --platform slack` (Socket Mode or HTTP) and `smallstep slack-manifest`."""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.signature import SignatureVerifier

from bot.app import Bot
from bot.config import Config
from bot.core.adapter import ROOMS
from bot.platforms.slack.adapter import SlackAdapter
from bot.web import Handler, Middleware, serve

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
CONNECTION = "slack connection"  # its name in the log and in `smallstep status`
CONNECTION_CHECK_SECONDS = 10
# The signature headers, in the only shapes Slack sends (Unix seconds; "v0=" and a hex SHA-256), checked
# before slack-sdk reads them: it would raise on a timestamp such as "²" rather than refuse it.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
SCOPES = ["commands", "chat:write", "chat:write.public", "im:write", "im:history", "channels:history", "groups:history",
          "channels:join",
          "users:read", "usergroups:read",
          "files:write", "channels:read", "groups:read"]
BOT_EVENTS = ["message.im", "team_join", "app_home_opened", "app_uninstalled", "tokens_revoked"]
# What the cogs' platform needs add (Cog.platform_needs). mpim:write opens a pair's room (a group DM);
# mpim:history is left out on purpose: the bot never reads a room.
NEEDED_SCOPES: dict[str, list[str]] = {ROOMS: ["mpim:write"]}


def scopes(needs: frozenset[str] = frozenset()) -> list[str]:
    """The bot scopes the app asks for: what it posts and reads with, and what the enabled cogs need."""
    return SCOPES + sorted({scope for need in needs for scope in NEEDED_SCOPES.get(need, ())})


async def run_slack(config: Config, *, bot_token: str, app_token: str = "", signing_secret: str = "",
                    database: Path | None = None, background: bool = True, port: int | None = None) -> None:
    """Serve the workspace until stopped: over Socket Mode with an app token, else over HTTP (on `port`, else
    slack.port); without `background`, only answer members (see `Bot.background`)."""
    if not app_token and not signing_secret:
        # Bolt checks signatures only when it has the secret: HTTP mode without one would trust anyone.
        raise ValueError("HTTP mode needs the signing secret (SLACK_SIGNING_SECRET), or use Socket Mode")
    bot = await Bot.open(config, database=database, background=background)
    adapter = SlackAdapter(bot, token=bot_token, signing_secret=signing_secret)
    socket: AsyncSocketModeHandler | None = None
    server: web.AppRunner | None = None
    try:
        await bot.start()
        await adapter.prepare()  # auth.test: a rejected token stops here
        if app_token:
            # The handler retries a refused app token forever: try it once first, so it can fail plainly.
            await adapter.client.apps_connections_open(app_token=app_token)
            socket = AsyncSocketModeHandler(adapter.app, app_token)
            await socket.connect_async()
            bot.loops.start(CONNECTION, partial(_keep_connected, socket), every=CONNECTION_CHECK_SECONDS)
        else:
            app = adapter.app.web_app(path=EVENTS_PATH, port=port or config.slack.port)
            app.middlewares.append(signed_only(signing_secret))
            server = await serve(app, config.slack.host, port or config.slack.port)
        bot.start_background()
        await asyncio.Event().wait()  # until cancelled (SIGTERM, Ctrl-C)
    finally:
        await bot.outbox.close()  # the message on its way is delivered and marked while Slack is still there
        if socket is not None:
            await socket.close_async()
        if server is not None:
            await server.cleanup()
        await adapter.close()
        await bot.close()


async def _keep_connected(socket: AsyncSocketModeHandler) -> None:
    """slack-sdk reconnects Socket Mode by itself, from a task of its own; should that task have ended (an
    error it did not expect), the connection is made again here, and a failure is the loop's to log."""
    if not await socket.client.is_connected():
        await socket.client.connect_to_new_endpoint()
        if not await socket.client.is_connected():
            raise ConnectionError("Socket Mode is not connected")


def signed_only(signing_secret: str) -> Middleware:
    """An aiohttp middleware that refuses a request without Slack's valid signature before Bolt sees it,
    with Bolt's own answer (401) and one short log line: Bolt would log the whole body of each, at INFO."""
    verifier = SignatureVerifier(signing_secret)

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)
                and verifier.is_valid(await request.read(), timestamp, signature)):
            log.warning("refused a request from %s without a valid Slack signature (%s bytes)", request.remote,
                        request.content_length)
            return web.json_response({"error": "invalid request"}, status=401)
        return await handler(request)

    return check


def manifest(config: Config, commands: list[str], *, needs: frozenset[str] = frozenset(),
             request_url: str | None = None) -> dict[str, Any]:
    """The app manifest for api.slack.com/apps → Create New App → From a manifest, with the scopes the
    enabled cogs' `needs` add.

    Without a request URL the app uses Socket Mode (no public address needed); with one,
    Slack sends commands, button presses and events to `request_url` + /slack/events.
    """
    name = f"{config.program.name} bot"[:35]
    endpoint = f"{request_url.rstrip('/')}{EVENTS_PATH}" if request_url else None
    command: dict[str, Any] = {"command": config.slack.command, "description": f"Stay involved with {config.program.name}"[:100],
                               "usage_hint": _usage_hint(commands), "should_escape": True}
    settings: dict[str, Any] = {"event_subscriptions": {"bot_events": BOT_EVENTS},
                                "interactivity": {"is_enabled": True},
                                "org_deploy_enabled": False, "socket_mode_enabled": endpoint is None,
                                "token_rotation_enabled": False}
    if endpoint:
        command["url"] = endpoint
        settings["event_subscriptions"]["request_url"] = endpoint
        settings["interactivity"]["request_url"] = endpoint
    return {
        "display_information": {"name": name, "description": f"Helps {config.program.name} participants stay involved"[:140]},
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": False},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": scopes(needs)}},
        "settings": settings,
    }


def _usage_hint(commands: list[str]) -> str:
    """The enabled cogs' commands, as Slack shows them under the command (at most 100 characters):
    help first, then the shortest, so that as many as possible fit; `help` lists them all."""
    words = sorted({name.split(" ")[0] for name in commands}, key=lambda w: (w != "help", len(w), w))
    hint = ""
    for word in words:
        candidate = f"{hint} | {word}" if hint else word
        if len(candidate) > 96:
            return hint + " | …"
        hint = candidate
    return hint
