"""What moderators review, posted where they see it: shared by every cog with a review queue.

A cog with submissions to review (testimonials, stories) posts each one as a card with decision
buttons in the moderators' channel, and may feature an approved one elsewhere. `ModerationPosts`
posts and records those messages, so that a decision updates the queue card (its buttons gone)
and a withdrawal changes what was featured, wherever it is.

    posts = ModerationPosts(bot, "story")
    await posts.to_queue(ctx, "moderators", story.id, card)       # False: no such channel
    await posts.refresh(ctx, story.id, card_after_decision)       # every queue card of it
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.clock import stamp
from bot.core.context import Channel, Invocation
from bot.core.message import Message

if TYPE_CHECKING:
    from bot.core.bot import Bot

log = logging.getLogger(__name__)

QUEUE, FEATURED = "queue", "featured"


@dataclass(frozen=True)
class Post:
    role: str
    channel: str
    message_id: str


class ModerationPosts:
    def __init__(self, bot: Bot, kind: str) -> None:
        self._bot = bot
        self._db = bot.db
        self.kind = kind

    async def to_queue(self, ctx: Invocation, channel_name: str, item_id: int, card: Message) -> bool:
        """Post the card in the moderators' channel; False (and a log line) when there is none."""
        channel = await ctx.adapter.resolve_channel(ctx.community, channel_name)
        if channel is None:
            log.warning("no moderators' channel %r: %s %s waits in its queue command", channel_name, self.kind,
                        item_id)
            return False
        await self.post(ctx, QUEUE, channel, item_id, card)
        return True

    async def post(self, ctx: Invocation, role: str, channel: Channel, item_id: int, card: Message) -> str:
        message_id = await ctx.send_to(channel, card)
        await self._db.execute(
            "INSERT INTO moderation_posts (community, item_kind, item_id, role, channel, message_id, posted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ctx.community.key, self.kind, item_id, role, channel.id, message_id, stamp(self._bot.clock.now())))
        return message_id

    async def of(self, ctx: Invocation, item_id: int) -> list[Post]:
        rows = await self._db.fetchall(
            "SELECT role, channel, message_id FROM moderation_posts WHERE community = ? AND item_kind = ? AND"
            " item_id = ? ORDER BY rowid", (ctx.community.key, self.kind, item_id))
        return [Post(r["role"], r["channel"], r["message_id"]) for r in rows]

    async def queued_since(self, ctx: Invocation, item_id: int, moment: str | datetime) -> bool:
        """Whether the queue already shows this item as it is since `moment` (its last submission)."""
        since = moment if isinstance(moment, str) else stamp(moment)
        return await self._db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM moderation_posts WHERE community = ? AND item_kind = ? AND item_id = ?"
            " AND role = ? AND posted_at >= ?)", (ctx.community.key, self.kind, item_id, QUEUE, since)) == 1

    async def forget(self, ctx: Invocation, item_id: int) -> None:
        """Drop the record of an item's posts (the item itself is being deleted)."""
        await self._db.execute("DELETE FROM moderation_posts WHERE community = ? AND item_kind = ? AND item_id = ?",
                               (ctx.community.key, self.kind, item_id))

    async def refresh(self, ctx: Invocation, item_id: int, card: Message, *, roles: tuple[str, ...] = (QUEUE,)) -> None:
        """Replace each posted message of the item in these roles with `card`."""
        for post in await self.of(ctx, item_id):
            if post.role in roles:
                await ctx.adapter.edit(ctx.community, Channel(post.channel, post.channel), post.message_id, card)
