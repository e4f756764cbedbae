"""What the bot keeps about a member, showing it, and forgetting it; forgetting a whole community.

Each cog declares the tables holding a member's rows (`Cog.member_rows`) and the columns that
mention a member in others' rows (`Cog.member_mentions`), and may extend `personal_data` and
`forget_member` where it has more to do (testimonials edit where they were shown). The core adds
its own: open forms, the history of domain events (kept as counts: the member's id is taken out),
messages waiting for or about them, the audit log, the adapters' records, and the limits they are within
(which /my-data does not show: they last a minute or so).

A community that removes the bot (it leaves a Discord server, a Slack workspace uninstalls it) is
forgotten after a grace period (`bot.purge_after`, 30 days), or at once with
`smallstep purge-community KEY`: every row of every table of that community is deleted.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from bot.core.context import Community, Member
from bot.values import stamp

if TYPE_CHECKING:
    from bot.app.bot import Bot

log = logging.getLogger(__name__)

DELETED = "(deleted member)"
BOOKKEEPING = {"schema_migrations", "scheduled_jobs", "loop_health", "send_pace"}


async def core_data(bot: Bot, community: Community, member_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the core keeps about a member, named as they would say it: their unfinished form, their history
    (what they did, for their steps and badges), messages to them, and what they did as a moderator."""
    db, key = bot.db, community.key
    messages = await db.fetchall(
        "SELECT message, status, created_at, sent_at FROM outbox WHERE community = ? AND target_kind = 'member'"
        " AND target_id = ? ORDER BY id", (key, member_id))
    found = {
        "unfinished_forms": [dict(row) for row in await db.fetchall(
            "SELECT form, answers, started_at, updated_at FROM form_drafts WHERE community = ? AND member_id = ?",
            (key, member_id))],
        "history": [dict(row) for row in await db.fetchall(
            "SELECT name, data, at FROM domain_events WHERE community = ? AND member_id = ? ORDER BY id",
            (key, member_id))],
        "messages_to_you": [_message_to(row) for row in messages],
        "moderator_actions": [dict(row) for row in await db.fetchall(
            "SELECT action, target, reason, at FROM audit_log WHERE community = ? AND moderator_id = ? ORDER BY id",
            (key, member_id))],
    }
    return {table: rows for table, rows in found.items() if rows}


def _message_to(row: Any) -> dict[str, Any]:
    """A message of the outbox as its member reads it: its title and text, and what became of it."""
    message = json.loads(row["message"])
    return {"title": message.get("title"), "text": message.get("text"), "status": row["status"],
            "created_at": row["created_at"], "sent_at": row["sent_at"]}


def _containing(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for values that contain `text`, whatever it holds (`%`, `_`)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# Compared in lower case on both sides: SQLite's LIKE ignores the case of ASCII letters, PostgreSQL's does not.
_CONTAINS = "LOWER({}) LIKE LOWER(?) ESCAPE '\\'"


async def forget_in_core(bot: Bot, community: Community, member: Member) -> None:
    """Take the member out of the core's tables. The history keeps its counts, naming no one."""
    key, like_id = community.key, _containing(member.id)
    # Messages are kept as JSON, where a name beyond ASCII is written with escapes: look for both.
    names = (_containing(member.display_name), _containing(json.dumps(member.display_name)[1:-1]))
    async with bot.db.transaction() as tx:
        await tx.execute("DELETE FROM form_drafts WHERE community = ? AND member_id = ?", (key, member.id))
        await tx.execute("DELETE FROM member_limits WHERE community = ? AND member_id = ?", (key, member.id))
        await tx.execute("UPDATE domain_events SET member_id = NULL, data = '{}' WHERE community = ? AND"
                         " member_id = ?", (key, member.id))
        # Messages for them, and any message that names them (a celebration of their badge).
        await tx.execute("DELETE FROM outbox WHERE community = ? AND ((target_kind = 'member' AND target_id = ?)"
                         f" OR {_CONTAINS.format('batch')} OR {_CONTAINS.format('message')}"
                         f" OR {_CONTAINS.format('message')})", (key, member.id, like_id, *names))
        await tx.execute("UPDATE audit_log SET moderator_id = '', moderator_name = ? WHERE community = ? AND"
                         " moderator_id = ?", (DELETED, key, member.id))
        await tx.execute("UPDATE audit_log SET target = ?, details = '{}' WHERE community = ? AND (target = ? OR"
                         f" {_CONTAINS.format('details')})", (DELETED, key, member.display_name, like_id))


async def community_rows(bot: Bot, key: str) -> dict[str, int]:
    """How many rows of each table belong to one community (what a purge would delete)."""
    counts = {}
    for table in await _tables(bot):
        count = await bot.db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE community = ?", (key,))
        if count:
            counts[table] = count
    return counts


async def _tables(bot: Bot) -> list[str]:
    return [name for name in await bot.db.tables() if name not in BOOKKEEPING]


async def purge_community(bot: Bot, key: str) -> dict[str, int]:
    """Delete every row of one community from every table; returns how many went from each."""
    tables = await _tables(bot)
    deleted = {}
    async with bot.db.transaction() as tx:
        await tx.defer_foreign_keys()  # children and parents go in one transaction, in any order
        for table in tables:
            count = await tx.execute(f"DELETE FROM {table} WHERE community = ?", (key,))
            if count:
                deleted[table] = count
    return deleted


async def community_left(bot: Bot, community: Community) -> None:
    """The bot was removed from a community (or uninstalled): its data goes after the grace period."""
    await bot.db.execute("INSERT INTO community_departures (community, left_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                         (community.key, stamp(bot.clock.now())))
    log.info("%s removed the bot; its data is deleted in %s unless it comes back", community.key,
             bot.config.bot.purge_after)


async def community_returned(bot: Bot, community: Community) -> None:
    """The bot is back in a community before its data was purged: nothing is deleted."""
    await bot.db.execute("DELETE FROM community_departures WHERE community = ?", (community.key,))
