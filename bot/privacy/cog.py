"""/my-data (what the bot keeps about you, as a file, erased), and forgetting the communities that removed
the bot: loaded with the core like /help."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from bot.core.cog import Cog, action, command, job
from bot.core.context import Invocation, Member
from bot.core.errors import MemberUnreachable
from bot.core.message import Button, ButtonStyle, File, Message
from bot.privacy.privacy import core_data, forget_in_core, purge_community
from bot.values import parse_duration, stamp

log = logging.getLogger(__name__)

TEXTS = "core/privacy.j2"
# Columns left out of a member's export: the same on every row (the community, their own id, given
# once at the top), or the bot's own bookkeeping, which means nothing to them.
NOT_EXPORTED = {"community", "member_id", "submission_id", "url_key"}


def _owner(member: Member) -> str:
    """Whose confirmation a button is, short enough for any button id however long the member's id
    (the console's is their name): a digest, not the id itself."""
    return hashlib.sha256(member.id.encode()).hexdigest()[:16]


class PrivacyCog(Cog):
    """Loaded with the core: /my-data, and forgetting communities that removed the bot."""

    @command("my-data", help="What the bot keeps about you")
    async def show(self, ctx: Invocation) -> None:
        collected = await self._collect(ctx)
        summary = {part: {table: len(rows) for table, rows in tables.items()} for part, tables in collected.items()}
        await ctx.reply_private(ctx.render(TEXTS, summary=summary)["summary"])

    @command("my-data export", help="Everything the bot keeps about you, as a file by direct message")
    async def export(self, ctx: Invocation) -> None:
        collected = await self._collect(ctx)
        plain = self.bot.render(TEXTS, "plain")
        data = {
            "about": str(plain["export_about"]),
            "member": {"name": ctx.member.display_name, "id": ctx.member.id},
            "community": ctx.community.name or ctx.community.key,
            "exported_at": stamp(self.clock.now()),
            "summary": {part: ", ".join(f"{table.replace('_', ' ')} ({len(rows)})" for table, rows in tables.items())
                        for part, tables in collected.items()},
            "data": {part: {table: [_readable(row) for row in rows] for table, rows in tables.items()}
                     for part, tables in collected.items()},
        }
        texts = ctx.render(TEXTS)
        file = File("my-data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str).encode())
        try:
            await ctx.dm(Message(text=texts["export_ready"], files=[file]))
        except MemberUnreachable:
            await ctx.reply_private(texts["export_dm_closed"])
            return
        if ctx.channel is not None:
            await ctx.reply_private(texts["export_sent"])

    @command("my-data delete", help="Erase what the bot keeps about you in this community (asks first)")
    async def delete(self, ctx: Invocation) -> None:
        texts = ctx.render(TEXTS)
        await ctx.reply_private(Message(text=texts["delete_confirm"], buttons=[
            Button(texts["button_delete"], "privacy:delete", _owner(ctx.member), ButtonStyle.DANGER),
            Button(texts["button_keep"], "privacy:keep", "", ButtonStyle.SECONDARY)]))

    @action("privacy:delete")
    async def deleted(self, ctx: Invocation, value: str) -> None:
        if value != _owner(ctx.member):  # a button from someone else's screen
            await ctx.reply_private(ctx.render(TEXTS)["not_yours"])
            return
        for name, cog in list(self.bot.cogs.loaded.items()):
            if name not in self.bot.cogs.builtin:
                await cog.forget_member(ctx)
        await forget_in_core(self.bot, ctx.community, ctx.member)
        for adapter in self.bot.adapters.values():
            await adapter.forget_member(ctx.community, ctx.member)
        log.info("a member's data was deleted in %s", ctx.community.key)
        await ctx.reply_private(ctx.render(TEXTS)["deleted"])

    @action("privacy:keep")
    async def kept(self, ctx: Invocation, value: str) -> None:
        await ctx.reply_private(ctx.render(TEXTS)["kept"])

    async def _collect(self, ctx: Invocation) -> dict[str, dict[str, list[dict[str, Any]]]]:
        collected = {"core": await core_data(self.bot, ctx.community, ctx.member.id)}
        for name, cog in self.bot.cogs.loaded.items():
            if name not in self.bot.cogs.builtin:
                found = await cog.personal_data(ctx.community, ctx.member.id)
                if found:
                    collected[name] = found
        for platform, adapter in self.bot.adapters.items():
            collected[platform] = await adapter.personal_data(ctx.community, ctx.member.id)
        return {part: tables for part, tables in collected.items() if tables}

    # -- communities that removed the bot ----------------------------------------------------------

    @job(every="1d", at_start=True)
    async def purge_departed(self, now: datetime) -> None:
        """Forget the communities that removed the bot longer ago than the grace period."""
        grace = parse_duration(self.config.bot.purge_after)
        for row in await self.db.fetchall("SELECT community FROM community_departures WHERE left_at <= ?",
                                          (stamp(now - grace),)):
            deleted = await purge_community(self.bot, row["community"])
            log.info("purged %s, %d rows, %s after it removed the bot", row["community"], sum(deleted.values()), grace)


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """A row as its member reads it: without the columns they need not see, and with what is kept
    as JSON text (a form's answers, an event's details) shown as the data it holds."""
    readable = {}
    for column, value in row.items():
        if column in NOT_EXPORTED:
            continue
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            value = parsed if isinstance(parsed, (dict, list)) else value
        readable[column] = value
    return readable
