"""Commands that exist only on Discord, loaded with the core when the Discord adapter starts."""

from __future__ import annotations

from bot.core.cog import Cog, command
from bot.core.context import Invocation


class DiscordCommands(Cog):
    """Discord-only commands."""

    @command("sync", help="Register the bot's commands with Discord again, for this server", moderator=True)
    async def sync(self, ctx: Invocation) -> None:
        count = await self.bot.adapters["discord"].sync_commands(int(ctx.community.id))
        await self.bot.audit.record(ctx.community, ctx.member, "discord.sync", commands=count)
        await ctx.reply_private(ctx.render("core/discord.j2", count=count)["synced"])
