"""What the bot keeps about a member, showing it, and forgetting it; forgetting a whole community.

Each cog declares the tables holding a member's rows (`Cog.member_rows`) and the columns that
mention a member in others' rows (`Cog.member_mentions`), and may extend `personal_data` and
`forget_member` where it has more to do (testimonials edit where they were shown). The core adds
its own: open forms, the history of domain events (kept as counts: the member's id is taken out),
messages waiting for or about them, the audit log, and the adapters' records.

A community that removes the bot (it leaves a Discord server, a Slack workspace uninstalls it) is
forgotten after a grace period (`bot.purge_after`, 30 days), or at once with
`smallstep purge-community KEY`: every row of every table of that community is deleted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.cog import Cog, action, command, job
from bot.core.context import Community, Invocation, Member
from bot.core.errors import MemberUnreachable
from bot.core.message import Button, ButtonStyle, File, Message
from bot.values import parse_duration, stamp

if TYPE_CHECKING:
    from bot.core.bot import Bot

log = logging.getLogger(__name__)

TEXTS = "core/privacy.j2"
DELETED = "(deleted member)"
BOOKKEEPING = {"schema_migrations", "scheduled_jobs", "loop_health"}
# Columns left out of a member's export: the same on every row (the community, their own id, given
# once at the top), or the bot's own bookkeeping, which means nothing to them.
NOT_EXPORTED = {"community", "member_id", "submission_id", "url_key"}


def _owner(member: Member) -> str:
    """Whose confirmation a button is, short enough for any button id however long the member's id
    (the console's is their name): a digest, not the id itself."""
    return hashlib.sha256(member.id.encode()).hexdigest()[:16]


async def core_data(bot: Bot, community: Community, member_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the core keeps about a member, named as they would say it: their unfinished form, their history
    (what they did, for their steps and badges), messages to them, and what they did as a moderator."""
    db, key = bot.db, community.key
    found = {
        "unfinished_forms": await db.fetchall(
            "SELECT form, answers, started_at, updated_at FROM form_drafts WHERE community = ? AND member_id = ?",
            (key, member_id)),
        "history": await db.fetchall(
            "SELECT name, data, at FROM domain_events WHERE community = ? AND member_id = ? ORDER BY id",
            (key, member_id)),
        "messages_to_you": await db.fetchall(
            "SELECT json_extract(message, '$.title') AS title, json_extract(message, '$.text') AS text, status,"
            " created_at, sent_at FROM outbox WHERE community = ? AND target_kind = 'member' AND target_id = ?"
            " ORDER BY id", (key, member_id)),
        "moderator_actions": await db.fetchall(
            "SELECT action, target, reason, at FROM audit_log WHERE community = ? AND moderator_id = ? ORDER BY id",
            (key, member_id)),
    }
    return {table: [dict(row) for row in rows] for table, rows in found.items() if rows}


async def forget_in_core(bot: Bot, community: Community, member: Member) -> None:
    """Take the member out of the core's tables. The history keeps its counts, naming no one."""
    key, like_id, like_name = community.key, f"%{member.id}%", f"%{member.display_name}%"
    async with bot.db.transaction() as tx:
        await tx.execute("DELETE FROM form_drafts WHERE community = ? AND member_id = ?", (key, member.id))
        await tx.execute("UPDATE domain_events SET member_id = NULL, data = '{}' WHERE community = ? AND"
                         " member_id = ?", (key, member.id))
        # Messages for them, and any message that names them (a celebration of their badge).
        await tx.execute("DELETE FROM outbox WHERE community = ? AND ((target_kind = 'member' AND target_id = ?)"
                         " OR batch LIKE ? OR message LIKE ?)", (key, member.id, like_id, like_name))
        await tx.execute("UPDATE audit_log SET moderator_id = '', moderator_name = ? WHERE community = ? AND"
                         " moderator_id = ?", (DELETED, key, member.id))
        await tx.execute("UPDATE audit_log SET target = ?, details = '{}' WHERE community = ? AND (target = ? OR"
                         " details LIKE ?)", (DELETED, key, member.display_name, like_id))


async def community_rows(bot: Bot, key: str) -> dict[str, int]:
    """How many rows of each table belong to one community (what a purge would delete)."""
    counts = {}
    for table in await _tables(bot):
        count = await bot.db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE community = ?", (key,))
        if count:
            counts[table] = count
    return counts


async def _tables(bot: Bot) -> list[str]:
    rows = await bot.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [row["name"] for row in rows if row["name"] not in BOOKKEEPING]


async def purge_community(bot: Bot, key: str) -> dict[str, int]:
    """Delete every row of one community from every table; returns how many went from each."""
    tables = await _tables(bot)
    deleted = {}
    async with bot.db.transaction() as tx:
        await tx.execute("PRAGMA defer_foreign_keys = ON")  # children and parents go in one transaction
        for table in tables:
            count = await tx.execute(f"DELETE FROM {table} WHERE community = ?", (key,))
            if count:
                deleted[table] = count
    return deleted


class PrivacyCog(Cog):
    """Loaded with the core: /my-data, and forgetting communities that removed the bot."""

    @command("my-data", help="What the bot keeps about you", alone="show")
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


async def community_left(bot: Bot, community: Community) -> None:
    """The bot was removed from a community (or uninstalled): its data goes after the grace period."""
    await bot.db.execute("INSERT OR IGNORE INTO community_departures (community, left_at) VALUES (?, ?)",
                         (community.key, stamp(bot.clock.now())))
    log.info("%s removed the bot; its data is deleted in %s unless it comes back", community.key,
             bot.config.bot.purge_after)


async def community_returned(bot: Bot, community: Community) -> None:
    """The bot is back in a community before its data was purged: nothing is deleted."""
    await bot.db.execute("DELETE FROM community_departures WHERE community = ?", (community.key,))
