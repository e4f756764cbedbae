"""What moderators review, posted where they see it: shared by every cog with a review queue.

A cog with submissions to review (testimonials, stories, reports) queues each one as a card with
decision buttons for the moderators' channel, and may feature an approved one elsewhere.
`ModerationPosts` sends and records those messages, so that a decision updates the queue card (its
buttons gone) and a withdrawal changes what was featured, wherever it is.

A card goes through the outbox: the member's submission stands, and they hear so, whatever becomes
of the post. When the moderators' channel is missing or closed to the bot, the card waits in the
outbox (or, with no channel at all, is not queued), the item waits in its queue command, and the
problem is logged and kept for `smallstep status` and `config check` until a later check finds the
channel usable.

    posts = ModerationPosts(bot, "story")
    channel = await posts.queue_channel(ctx, "moderators")          # checked; None: no such channel
    await posts.to_queue(ctx, channel, story.id, card, tx=tx)       # with the submission, or not at all
    await ctx.check_postable(channel)                              # refused with the fix if the bot cannot
    await posts.feature(ctx, channel, story.id, card, tx=tx)       # shown where a moderator asked
    await posts.refresh(ctx, story.id, card_after_decision)         # every queue card of it
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.context import Channel, Invocation
from bot.core.message import Message
from bot.outbox import SENT
from bot.storage import Transaction
from bot.values import stamp

if TYPE_CHECKING:
    from bot.app.bot import Bot

log = logging.getLogger(__name__)

QUEUE, FEATURED = "queue", "featured"


@dataclass(frozen=True)
class Post:
    role: str
    channel: str
    message_id: str


class ModerationPosts:
    """The messages about one kind of item moderators review: queue cards and featured posts."""

    def __init__(self, bot: Bot, kind: str) -> None:
        self._bot = bot
        self._db = bot.db
        self.kind = kind

    async def queue_channel(self, ctx: Invocation, name: str) -> Channel | None:
        """The moderators' channel called `name` (None if there is none), checked: what is wrong with it
        is logged and kept for `smallstep status`, and forgotten once it is fixed."""
        channel = await ctx.adapter.resolve_channel(ctx.community, name)
        if channel is None:
            problem = f"there is no channel {name}"
        else:
            problem = await ctx.adapter.check_channel(ctx.community, channel)
        if problem is None:
            await self._db.execute("DELETE FROM channel_problems WHERE community = ? AND channel = ?",
                                   (ctx.community.key, name))
            return channel
        log.warning("moderators' channel %r in %s: %s; the %s queue command shows what waits", name,
                    ctx.community.key, problem, self.kind)
        await self._db.execute("INSERT INTO channel_problems VALUES (?, ?, ?, ?) ON CONFLICT (community, channel)"
                               " DO UPDATE SET problem = excluded.problem, seen_at = excluded.seen_at",
                               (ctx.community.key, name, problem, stamp(self._bot.clock.now())))
        return channel

    async def to_queue(self, ctx: Invocation, channel: Channel | None, item_id: int, card: Message, *,
                       version: str = "", tx: Transaction | None = None) -> None:
        """Queue the card for the moderators' channel through the outbox, once per item and `version` (a
        revised testimonial is a new one); given `tx`, with the submission. Without a channel nothing is
        queued: the item waits in its queue command."""
        if channel is not None:
            await self._bot.outbox.put(ctx.community, self._batch(item_id, QUEUE, version), [(channel, card)], tx=tx)

    async def feature(self, ctx: Invocation, channel: Channel, item_id: int, card: Message, *,
                      tx: Transaction | None = None) -> None:
        """Show the card where a moderator asked (a featured testimonial), through the outbox: recorded before
        it is sent, with the change that calls for it (given `tx`), so a crash neither loses it nor posts it
        twice, and a later withdrawal finds it. Check the channel first (`ctx.check_postable`), outside `tx`."""
        batch = self._batch(item_id, FEATURED, stamp(self._bot.clock.now()))  # each time a moderator asks
        await self._bot.outbox.put(ctx.community, batch, [(channel, card)], tx=tx)

    async def of(self, ctx: Invocation, item_id: int) -> list[Post]:
        """Every message about the item that reached its channel: queue cards and featured posts the outbox
        delivered, and those an older version of the bot posted directly (recorded in moderation_posts)."""
        rows = await self._db.fetchall(
            "SELECT role, channel, message_id FROM moderation_posts WHERE community = ? AND item_kind = ? AND"
            " item_id = ? ORDER BY posted_at, channel, message_id", (ctx.community.key, self.kind, item_id))
        delivered = [Post(role, p.target_id, p.message_id) for role in (QUEUE, FEATURED)
                     for p in await self._bot.outbox.posts(ctx.community, self._batch(item_id, role), prefix=True)
                     if p.status == SENT and p.message_id]
        return [Post(r["role"], r["channel"], r["message_id"]) for r in rows] + delivered

    async def forget(self, ctx: Invocation, item_id: int) -> None:
        """Drop the record of an item's posts (the item itself is being deleted)."""
        await self._db.execute("DELETE FROM moderation_posts WHERE community = ? AND item_kind = ? AND item_id = ?",
                               (ctx.community.key, self.kind, item_id))

    async def refresh(self, ctx: Invocation, item_id: int, card: Message, *, roles: tuple[str, ...] = (QUEUE,)) -> None:
        """Replace each posted message of the item in these roles with `card`. One still waiting in the outbox
        is taken back instead: once decided or withdrawn, there is nothing to review or to show."""
        for role in roles:  # first, so none is delivered between the edits and this
            await self._bot.outbox.withdraw(ctx.community, self._batch(item_id, role), prefix=True)
        for post in await self.of(ctx, item_id):
            if post.role in roles:
                await ctx.adapter.edit(ctx.community, Channel(post.channel, post.channel), post.message_id, card)

    def _batch(self, item_id: int, role: str, version: str | None = None) -> str:
        """The outbox batch of an item's message in `role` (of every version, with none given)."""
        return f"moderation:{self.kind}:{item_id}:{role}:" + (version or "")
