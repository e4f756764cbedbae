"""The share cog's SQL: kit offers, and the one-per-member record of having shared."""

from __future__ import annotations

from datetime import datetime

from bot.core import Community, Member
from bot.core.events import EventBus
from bot.storage import Database
from bot.values import stamp


class ShareStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    async def record_offer(self, community: Community, member: Member, at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO share_offers (community, member_id, offered_at) VALUES (?, ?, ?)",
            (community.key, member.id, stamp(at)),
        )

    async def record_share(self, community: Community, member: Member, at: datetime) -> bool:
        """Record that the member shared; True the first time, False ever after.

        The share and its `share.completed` event are written in one transaction, so a
        crash can't leave one without the other; listeners hear of it after the commit.
        """
        async with self._db.transaction() as tx:
            first = await tx.execute(
                "INSERT INTO shares (community, member_id, shared_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (community.key, member.id, stamp(at)),
            ) == 1
            event = await self._events.record(tx, "share.completed", community, member) if first else None
        if event is not None:
            await self._events.publish(event)
        return first
