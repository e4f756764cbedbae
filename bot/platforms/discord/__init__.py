"""The Discord adapter: `smallstep run --platform discord`."""

from bot.platforms.discord.adapter import DiscordAdapter
from bot.platforms.discord.runner import application_id, invite_url, run_discord, sync_commands

__all__ = ["DiscordAdapter", "application_id", "invite_url", "run_discord", "sync_commands"]
