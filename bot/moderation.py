"""What moderators review, posted where they see it: shared by every cog with a review queue.

A cog with submissions to review (testimonials, stories, reports) posts each one as a card with
decision buttons in the moderators' channel, and may feature an approved one elsewhere.
`ModerationPosts` records each such post *before* it is sent: the record and the card, queued in
the outbox, are written in the transaction that records the item (or the decision to feature it).
So a crash leaves both or neither, a restart delivers the card once, and a decision updates the
card that was posted (its buttons gone), or the one still waiting to go out.

    posts = ModerationPosts(bot, "story")
    channel = await posts.channel(ctx, "moderators")                # None: no such channel (logged)
    async with db.transaction() as tx:
        story_id = ...                                              # record the item
        await posts.queue(tx, ctx, channel, story_id, card)          # and its card, together
    await posts.refresh(ctx, story.id, card_after_decision)         # every queue card of it
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.clock import stamp
from bot.core.context import Channel, Invocation
from bot.core.message import Message
from bot.storage import Transaction

if TYPE_CHECKING:
    from bot.core.bot import Bot

log = logging.getLogger(__name__)

QUEUE, FEATURED = "queue", "featured"


@dataclass(frozen=True)
class Post:
    role: str
    channel: str
    message_id: str | None  # None while it waits in the outbox
    batch: str | None


class ModerationPosts:
    def __init__(self, bot: Bot, kind: str) -> None:
        self._bot = bot
        self._db = bot.db
        self.kind = kind

    async def channel(self, ctx: Invocation, name: str) -> Channel | None:
        """The channel to post in (looked up before the transaction: it may ask the platform); None, and
        a log line, when there is none: the item then waits in its queue command."""
        channel = await ctx.adapter.resolve_channel(ctx.community, name)
        if channel is None:
            log.warning("no moderators' channel %r: a new %s waits in its queue command", name, self.kind)
        return channel

    async def queue(self, tx: Transaction, ctx: Invocation, channel: Channel | None, item_id: int, card: Message, *,
                    role: str = QUEUE) -> None:
        """Record the post and queue its card, inside the transaction that records the item (nothing
        when there is no channel)."""
        if channel is None:
            return
        now = stamp(self._bot.clock.now())
        batch = f"moderation:{self.kind}:{item_id}:{role}:{channel.id}:{now}"
        await tx.execute(
            "INSERT INTO moderation_posts (community, item_kind, item_id, role, channel, batch, posted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (ctx.community.key, self.kind, item_id, role, channel.id, batch, now))
        await self._bot.outbox.put(ctx.community, batch, [(channel, card)], tx=tx)

    async def of(self, ctx: Invocation, item_id: int) -> list[Post]:
        rows = await self._db.fetchall(
            "SELECT p.role, p.channel, COALESCE(p.message_id, o.message_id) AS message_id, p.batch"
            " FROM moderation_posts p LEFT JOIN outbox o ON o.community = p.community AND o.batch = p.batch"
            " WHERE p.community = ? AND p.item_kind = ? AND p.item_id = ? ORDER BY p.rowid",
            (ctx.community.key, self.kind, item_id))
        return [Post(r["role"], r["channel"], r["message_id"], r["batch"]) for r in rows]

    async def forget(self, ctx: Invocation, item_id: int) -> None:
        """Drop the record of an item's posts, and any still waiting to go out (the item is being deleted)."""
        for post in await self.of(ctx, item_id):
            if post.message_id is None and post.batch:
                await self._bot.outbox.withdraw(ctx.community, post.batch)
        await self._db.execute("DELETE FROM moderation_posts WHERE community = ? AND item_kind = ? AND item_id = ?",
                               (ctx.community.key, self.kind, item_id))

    async def refresh(self, ctx: Invocation, item_id: int, card: Message, *, roles: tuple[str, ...] = (QUEUE,)) -> None:
        """Replace each posted message of the item in these roles with `card`; one still waiting in the
        outbox goes out as `card`."""
        for post in await self.of(ctx, item_id):
            if post.role not in roles:
                continue
            if post.message_id is not None:
                await ctx.adapter.edit(ctx.community, Channel(post.channel, post.channel), post.message_id, card)
            elif post.batch:
                await self._bot.outbox.replace(ctx.community, post.batch, card)
