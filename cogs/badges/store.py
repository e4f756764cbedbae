"""The badges cog's SQL: who holds which badge, and who keeps theirs private."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from bot.core import Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.storage import Database, Transaction
from bot.values import stamp

HELD, REVOKED = "held", "revoked"
EARNED, GRANTED, BACKFILL = "earned", "granted", "backfill"


class BadgeStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    async def award(self, tx: Transaction, community: Community, member: Member, badge: str, how: str,
                    at: datetime) -> DomainEvent | None:
        """Give a badge once, in the caller's transaction (with its congratulations); returns its
        `badge.awarded` event (to publish after the commit), or None if the member holds it already,
        or it was revoked and is not being granted again."""
        given = await tx.execute(
            "INSERT INTO badge_awards (community, member_id, member_name, badge, status, how, awarded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (community.key, member.id, member.display_name, badge, HELD, how,
                                              stamp(at)))
        if not given and how == GRANTED:  # a moderator gives back a badge that was revoked
            given = await tx.execute(
                "UPDATE badge_awards SET status = ?, how = ?, awarded_at = ? WHERE community = ? AND member_id = ?"
                " AND badge = ? AND status = ?", (HELD, how, stamp(at), community.key, member.id, badge, REVOKED))
        if not given:
            return None
        return await self._events.record(tx, "badge.awarded", community, member, badge=badge, how=how)

    async def revoke(self, community: Community, member_id: str, badge: str) -> bool:
        return bool(await self._db.execute(
            "UPDATE badge_awards SET status = ? WHERE community = ? AND member_id = ? AND badge = ? AND status = ?",
            (REVOKED, community.key, member_id, badge, HELD)))

    async def held(self, community: Community, member_id: str) -> dict[str, str]:
        """The badges a member holds, with when each came."""
        rows = await self._db.fetchall("SELECT badge, awarded_at FROM badge_awards WHERE community = ? AND"
                                       " member_id = ? AND status = ? ORDER BY awarded_at", (community.key, member_id,
                                                                                             HELD))
        return {row["badge"]: row["awarded_at"] for row in rows}

    async def ever_held(self, community: Community, badge: str) -> set[str]:
        """Members who hold the badge or had it revoked (a backfill gives it to neither)."""
        rows = await self._db.fetchall("SELECT member_id FROM badge_awards WHERE community = ? AND badge = ?",
                                       (community.key, badge))
        return {row["member_id"] for row in rows}

    async def holders(self, community: Community) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT badge, COUNT(*) AS n FROM badge_awards WHERE community = ? AND"
                                       " status = ? GROUP BY badge", (community.key, HELD))
        return {row["badge"]: row["n"] for row in rows}

    async def every_held(self, community: Community) -> dict[str, set[str]]:
        """The badges each member holds, by member id (one query for a whole community)."""
        held: dict[str, set[str]] = {}
        for row in await self._db.fetchall("SELECT member_id, badge FROM badge_awards WHERE community = ? AND"
                                           " status = ?", (community.key, HELD)):
            held.setdefault(row["member_id"], set()).add(row["badge"])
        return held

    async def private_among(self, community: Community, member_ids: list[str]) -> set[str]:
        """Those of `member_ids` who keep their badges private."""
        marks = ", ".join("?" for _ in member_ids)
        rows = await self._db.fetchall(f"SELECT member_id FROM badge_privacy WHERE community = ? AND public = 0"
                                       f" AND member_id IN ({marks})", (community.key, *member_ids))
        return {row["member_id"] for row in rows}

    async def is_public(self, community: Community, member_id: str) -> bool:
        public = await self._db.fetchval("SELECT public FROM badge_privacy WHERE community = ? AND member_id = ?",
                                         (community.key, member_id))
        return public is None or bool(public)

    async def set_public(self, community: Community, member_id: str, public: bool) -> None:
        await self._db.execute("INSERT INTO badge_privacy VALUES (?, ?, ?)"
                               " ON CONFLICT (community, member_id) DO UPDATE SET public = excluded.public",
                               (community.key, member_id, int(public)))

    async def counts_from_history(self, community: Community, events: tuple[str, ...], minimum: int) -> list[str]:
        """Members whose recorded history has any of `events` at least `minimum` times in all."""
        marks = ", ".join("?" for _ in events)
        rows = await self._db.fetchall(
            f"SELECT member_id FROM domain_events WHERE community = ? AND name IN ({marks}) AND member_id IS NOT NULL"
            " GROUP BY member_id HAVING COUNT(*) >= ?", (community.key, *events, minimum))
        return [row["member_id"] for row in rows]

    async def communities(self) -> list[str]:
        """Every community with a recorded history (for a backfill of all of them)."""
        return [row["community"] for row in await self._db.fetchall("SELECT DISTINCT community FROM domain_events")]

    async def steps_taken(self, community: Community, member_id: str, events: set[str]) -> set[str]:
        """Which of `events` the member ever did."""
        marks = ", ".join("?" for _ in events)
        rows = await self._db.fetchall(f"SELECT DISTINCT name FROM domain_events WHERE community = ? AND"
                                       f" member_id = ? AND name IN ({marks})", (community.key, member_id, *events))
        return {row["name"] for row in rows}

    async def weekly(self, community: Community, names: list[str], since: str) -> list[dict[str, Any]]:
        """How often each event happened per week (Monday first) since a moment."""
        marks = ", ".join("?" for _ in names)
        rows = await self._db.fetchall(  # per day (times are kept in UTC, so the day is the first ten characters)
            f"SELECT substr(at, 1, 10) AS day, name, COUNT(*) AS n FROM domain_events"
            f" WHERE community = ? AND at >= ? AND name IN ({marks}) GROUP BY substr(at, 1, 10), name",
            (community.key, since, *names))
        weeks: Counter[tuple[str, str]] = Counter()
        for row in rows:
            day = date.fromisoformat(row["day"])
            weeks[((day - timedelta(days=day.weekday())).isoformat(), row["name"])] += row["n"]
        return [{"week": week, "name": name, "n": n} for (week, name), n in sorted(weeks.items())]
