"""`smallstep run --platform discord`, `smallstep sync-commands` and `smallstep invite-url`."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from pathlib import Path

import aiohttp
import discord
import yarl

from bot.app import Bot
from bot.config import Config, DiscordConfig
from bot.platforms.discord.adapter import DiscordAdapter, needed_permissions

# What the bot needs in a channel, and nothing more: see it, read its history (to edit its own
# posts), send messages with embeds and files. The cogs' platform needs add theirs (`invite_url`).
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True, attach_files=True,
                                  read_message_history=True, send_messages_in_threads=True)


def point_at(settings: DiscordConfig) -> None:
    """Use another REST base or gateway (a rate-limit proxy, or a local fake) for this process.

    discord.py keeps both as class attributes, so this applies to every client in the process.
    """
    if settings.api_base_url:
        discord.http.Route.BASE = settings.api_base_url.rstrip("/")
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


async def run_discord(config: Config, *, token: str, database: Path | None = None, background: bool = True) -> None:
    """Serve the community on Discord until stopped; without `background`, only answer members (see
    `Bot.background`)."""
    point_at(config.discord)
    bot = await Bot.open(config, database=database, background=background)
    adapter = DiscordAdapter(bot)
    try:
        await bot.start()
        client = asyncio.create_task(adapter.start(token))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({client, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if client.done() and (client.cancelled() or client.exception() is None
                              or isinstance(client.exception(), FOR_A_PERSON)):
            await client  # raises LoginFailure for a rejected token
            return
        bot.start_background()
        await _stay_connected(bot, adapter, client)
    finally:
        await bot.outbox.close()  # the message on its way is delivered and marked while Discord is still there
        await adapter.close()
        await bot.close()


SERVERS = "discord servers"  # the worker's reading of its servers, in the log and in `smallstep status`
SERVERS_EVERY = 300  # seconds: a channel made meanwhile is found by the worker's jobs within this


async def over_rest(bot: Bot, token: str) -> DiscordAdapter:
    """Discord for `smallstep worker`: logged in over REST (discord.py's `login` without `connect`), no gateway.
    The servers it serves are read over REST now and every `SERVERS_EVERY` seconds (a loop of `bot.loops`:
    a failure is logged once and tried again), so jobs find their channels. Discord lets a bot create messages
    once it has connected to the gateway at least once, which the process holding the gateway does."""
    point_at(bot.config.discord)
    adapter = DiscordAdapter(bot)
    try:
        await adapter.prepare()
        await adapter.client.login(token)  # raises LoginFailure for a rejected token
    except BaseException:
        await adapter.close()
        raise
    read = await bot.loops.attempt(SERVERS, adapter.read_servers)
    bot.loops.start(SERVERS, adapter.read_servers, every=SERVERS_EVERY,
                    after=SERVERS_EVERY if read else bot.loops.backoff(SERVERS))
    return adapter


CONNECTION = "discord connection"  # its name in the log and in `smallstep status`
# What stops the bot at start with a message saying what to fix (see the cli); anything else, connecting
# again may cure.
FOR_A_PERSON = (discord.LoginFailure, discord.PrivilegedIntentsRequired, discord.Forbidden, aiohttp.ClientError,
                OSError)


async def _stay_connected(bot: Bot, adapter: DiscordAdapter, client: asyncio.Task) -> None:
    """discord.py reconnects by itself after network trouble; an error it does not handle (a payload it
    cannot read) ends its connection. That is logged once, as a loop of `bot.loops`, and the client,
    still logged in, connects to the gateway again after a pause, until it is ready again (logged too)
    or the bot stops. (Closing it and starting it again would fail: discord.py 2.x cannot reopen a
    closed client's HTTP session.)"""
    while not await bot.loops.attempt(CONNECTION, lambda: client):  # it ends only with an error, or closed
        while True:
            await asyncio.sleep(bot.loops.backoff(CONNECTION))
            if adapter.client.ws is not None:
                with contextlib.suppress(Exception):  # the socket the error left behind
                    await adapter.client.ws.close()
            adapter.ready.clear()
            client = asyncio.create_task(adapter.client.connect(reconnect=True))
            if await bot.loops.attempt(CONNECTION, partial(_ready, adapter, client)):
                break


async def _ready(adapter: DiscordAdapter, client: asyncio.Task) -> None:
    """Until the client is connected and ready; its error if it ends first."""
    ready = asyncio.create_task(adapter.ready.wait())
    await asyncio.wait({client, ready}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await client  # its error
        raise RuntimeError("the connection closed before it was ready")


async def sync_commands(config: Config, *, token: str, guild_id: int | None, database: Path | None = None) -> int:
    """Register the enabled cogs' commands with Discord, without connecting to the gateway."""
    point_at(config.discord)
    bot = await Bot.open(config, database=database)
    adapter = DiscordAdapter(bot)
    try:
        await bot.start()
        await adapter.prepare()
        await adapter.client.login(token)
        return await adapter.sync_commands(guild_id)
    finally:
        await adapter.close()
        await bot.close()


async def application_id(config: Config, *, token: str) -> int:
    point_at(config.discord)
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        return (await client.application_info()).id
    finally:
        await client.close()


def invite_url(app_id: int, needs: frozenset[str] = frozenset()) -> str:
    """The link that adds the bot to a server, asking for what it posts with and what the enabled cogs need
    (Create Events for the server's Events list; Create Public Threads for a thread under each announcement;
    Create Private Threads and Manage Threads for the pairs' rooms)."""
    return discord.utils.oauth_url(app_id, permissions=PERMISSIONS | needed_permissions(needs),
                                   scopes=("bot", "applications.commands"))
