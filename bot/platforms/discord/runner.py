"""`smallstep run --platform discord`, `smallstep sync-commands` and `smallstep invite-url`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import yarl

from bot.config import Config, DiscordConfig
from bot.core import Bot
from bot.platforms.discord.adapter import DiscordAdapter

# What the bot needs in a channel, and nothing more: see it, read its history (to edit its own
# posts), send messages with embeds and files.
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


async def run_discord(config: Config, *, token: str, database: Path | None = None) -> None:
    """Serve the community on Discord until stopped."""
    point_at(config.discord)
    bot = await Bot.open(config, database=database)
    adapter = DiscordAdapter(bot)
    try:
        await bot.start()
        client = asyncio.create_task(adapter.start(token))
        ready = asyncio.create_task(adapter.ready.wait())
        await asyncio.wait({client, ready}, return_when=asyncio.FIRST_COMPLETED)
        if client.done():
            ready.cancel()
            await client  # raises LoginFailure for a rejected token
            return
        bot.start_background()
        await client
    finally:
        await bot.outbox.close()  # the message on its way is delivered and marked while Discord is still there
        await adapter.close()
        await bot.close()


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


def invite_url(app_id: int) -> str:
    return discord.utils.oauth_url(app_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands"))
