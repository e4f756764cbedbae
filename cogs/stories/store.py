"""The stories cog's SQL: stories put forward, their review, the spotlight's turns, shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.storage import Database, Transaction
from bot.values import link_key, stamp

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True)
class Story:
    id: int
    member_id: str
    member_name: str
    url: str
    why: str | None
    status: str
    note: str | None
    submitted_at: str


_FIELDS = "id, member_id, member_name, url, why, status, note, submitted_at"


class StoryStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    async def submit(self, tx: Transaction, community: Community, member: Member, url: str, why: str | None,
                     at: datetime) -> tuple[int, DomainEvent | None]:
        """Keep a story put forward, inside the caller's transaction (with its card for the moderators);
        returns its number and its `story.submitted` event to publish after the commit (None: already there)."""
        known = await tx.fetchone("SELECT id FROM stories WHERE community = ? AND url_key = ?",
                                  (community.key, link_key(url)))
        if known is not None:
            return known["id"], None
        story_id = await tx.next_number(community.key, "stories")
        await tx.execute(
            "INSERT INTO stories (id, community, member_id, member_name, url, url_key, why, status, submitted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (story_id, community.key, member.id, member.display_name,
                                                    url.strip(), link_key(url), why, PENDING, stamp(at)))
        return story_id, await self._events.record(tx, "story.submitted", community, member, story=story_id)

    async def get(self, community: Community, story_id: int, *, tx: Transaction | None = None) -> Story | None:
        row = await (tx or self._db).fetchone(f"SELECT {_FIELDS} FROM stories WHERE community = ? AND id = ?",
                                      (community.key, story_id))
        return Story(**dict(row)) if row else None

    async def in_status(self, community: Community, status: str, *, newest_first: bool = False) -> list[Story]:
        rows = await self._db.fetchall(f"SELECT {_FIELDS} FROM stories WHERE community = ? AND status = ?"
                                       f" ORDER BY id {'DESC' if newest_first else ''}", (community.key, status))
        return [Story(**dict(row)) for row in rows]

    async def decide(self, community: Community, story_id: int, status: str, moderator: Member, note: str | None,
                     at: datetime) -> DomainEvent | None | bool:
        """Approve or reject a pending story; False if it was not pending. Approval records
        `story.approved` (returned, for the caller to publish)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE stories SET status = ?, note = ?, decided_by = ?, decided_at = ? WHERE community = ? AND"
                " id = ? AND status = ?", (status, note, moderator.id, stamp(at), community.key, story_id, PENDING))
            if not changed:
                return False
            if status != APPROVED:
                return None
            row = await tx.fetchone("SELECT member_id, member_name FROM stories WHERE id = ?", (story_id,))
            return await self._events.record(tx, "story.approved", community,
                                             Member(community.platform, row["member_id"], row["member_name"]),
                                             story=story_id)

    async def shared(self, community: Community, story_id: int, member: Member, at: datetime) -> DomainEvent | None:
        """A member passed a story on; `story.shared` the first time (for the caller to publish)."""
        async with self._db.transaction() as tx:
            if not await tx.execute("INSERT INTO story_shares VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                    (community.key, story_id, member.id, stamp(at))):
                return None
            return await self._events.record(tx, "story.shared", community, member, story=story_id)

    async def next_for_spotlight(self, community: Community) -> Story | None:
        """The approved story shown least (then longest ago, then oldest): none repeats before all had a turn."""
        row = await self._db.fetchone(
            f"SELECT {', '.join('s.' + f.strip() for f in _FIELDS.split(','))} FROM stories s"
            " LEFT JOIN story_spotlights t ON t.community = s.community AND t.story_id = s.id"
            " WHERE s.community = ? AND s.status = ? GROUP BY s.id"
            " ORDER BY COUNT(t.story_id), MAX(t.shown_at), s.id LIMIT 1", (community.key, APPROVED))
        return Story(**dict(row)) if row else None

    async def spotlighted(self, community: Community, story_id: int, at: datetime) -> None:
        await self._db.execute("INSERT INTO story_spotlights VALUES (?, ?, ?)", (community.key, story_id, stamp(at)))

    async def last_spotlight(self, community: Community) -> str | None:
        return await self._db.fetchval("SELECT MAX(shown_at) FROM story_spotlights WHERE community = ?",
                                       (community.key,))

    async def of_member(self, community: Community, member_id: str) -> list[Story]:
        rows = await self._db.fetchall(f"SELECT {_FIELDS} FROM stories WHERE community = ? AND member_id = ?",
                                       (community.key, member_id))
        return [Story(**dict(row)) for row in rows]

    async def forget_story(self, community: Community, story_id: int) -> None:
        """Delete what hangs off a story (its spotlight turns, its shares) before the story itself goes."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM story_spotlights WHERE community = ? AND story_id = ?", (community.key, story_id))
            await tx.execute("DELETE FROM story_shares WHERE community = ? AND story_id = ?", (community.key, story_id))

    async def communities_with_approved(self) -> list[str]:
        rows = await self._db.fetchall("SELECT DISTINCT community FROM stories WHERE status = ?", (APPROVED,))
        return [row["community"] for row in rows]
