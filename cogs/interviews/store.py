"""The interviews cog's SQL: recordings that are ready, and each partner's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core import Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.storage import Database, Transaction
from bot.values import link_key, stamp

ASKING, PUBLIC = "asking", "public"
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Interview:
    id: int
    community: str
    url: str
    member_id: str
    member_name: str
    partner_id: str | None
    partner_name: str
    outside_answer: str | None
    status: str

    @property
    def outside_partner(self) -> bool:
        """The partner is not a member here: their side is recorded by a moderator."""
        return self.partner_id is None and bool(self.partner_name)


@dataclass(frozen=True)
class Consent:
    member_id: str
    member_name: str
    answer: str | None
    asked_at: str
    reminded_at: str | None


_FIELDS = "id, community, url, member_id, member_name, partner_id, partner_name, outside_answer, status"


class InterviewStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    async def add(self, tx: Transaction, community: Community, *, url: str, member: Member, partner: Member | None,
                  partner_name: str, external_id: str | None, source: str, at: datetime) -> tuple[int, bool]:
        """Keep a recording that is ready, with a question to each partner who is a member (inside the
        caller's transaction, with the questions' messages); returns its number and whether it is new (the
        same recording again adds nothing)."""
        known = await tx.fetchone(
            "SELECT id FROM interviews WHERE community = ? AND (url_key = ? OR (external_id IS NOT NULL AND"
            " external_id = ?))", (community.key, link_key(url), external_id))
        if known is not None:
            return known["id"], False
        interview_id = await tx.next_number(community.key, "interviews")
        await tx.execute(
            "INSERT INTO interviews (id, community, url, url_key, external_id, member_id, member_name,"
            " partner_id, partner_name, status, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (interview_id, community.key, url, link_key(url), external_id, member.id, member.display_name,
             partner.id if partner else None, partner.display_name if partner else partner_name, ASKING, source,
             stamp(at)))
        await tx.executemany(
            "INSERT INTO interview_consents (community, interview_id, member_id, member_name, asked_at)"
            " VALUES (?, ?, ?, ?, ?)", [(community.key, interview_id, m.id, m.display_name, stamp(at))
                                        for m in (member, partner) if m is not None])
        return interview_id, True

    async def get(self, community: Community, interview_id: int, *,
                  tx: Transaction | None = None) -> Interview | None:
        row = await (tx or self._db).fetchone(f"SELECT {_FIELDS} FROM interviews WHERE community = ? AND id = ?",
                                      (community.key, interview_id))
        return Interview(**dict(row)) if row else None

    async def all(self, community: Community) -> list[Interview]:
        rows = await self._db.fetchall(f"SELECT {_FIELDS} FROM interviews WHERE community = ? ORDER BY id",
                                       (community.key,))
        return [Interview(**dict(row)) for row in rows]

    async def consents(self, community: Community, interview_id: int, *,
                       tx: Transaction | None = None) -> list[Consent]:
        rows = await (tx or self._db).fetchall(
            "SELECT c.member_id, c.member_name, c.answer, c.asked_at, c.reminded_at FROM interview_consents c"
            " JOIN interviews i ON i.id = c.interview_id WHERE c.community = ? AND c.interview_id = ?"
            " ORDER BY c.asked_at, c.member_id <> i.member_id", (community.key, interview_id))  # the member, then their partner
        return [Consent(**dict(row)) for row in rows]

    async def answer(self, tx: Transaction, community: Community, interview_id: int, member_id: str, answer: str,
                     at: datetime) -> bool:
        """Record (or change) a member's answer while the recording is not yet public (inside the caller's
        transaction, with what it makes happen)."""
        return bool(await tx.execute(
            "UPDATE interview_consents SET answer = ?, answered_at = ? WHERE community = ? AND interview_id = ? AND"
            " member_id = ? AND (SELECT status FROM interviews WHERE id = ?) = ?",
            (answer, stamp(at), community.key, interview_id, member_id, interview_id, ASKING)))

    async def outside_agrees(self, tx: Transaction, community: Community, interview_id: int) -> bool:
        return bool(await tx.execute(
            "UPDATE interviews SET outside_answer = ? WHERE community = ? AND id = ? AND status = ? AND"
            " partner_id IS NULL AND partner_name != ''", (YES, community.key, interview_id, ASKING)))

    async def publish(self, tx: Transaction, community: Community, interview: Interview,
                      at: datetime) -> list[DomainEvent]:
        """Make it public, once (inside the caller's transaction, with what the partners are told);
        `interview.published` for each partner who is a member here."""
        if not await tx.execute("UPDATE interviews SET status = ?, published_at = ? WHERE id = ? AND status = ?",
                                (PUBLIC, stamp(at), interview.id, ASKING)):
            return []
        people = [Member(community.platform, interview.member_id, interview.member_name)]
        if interview.partner_id:
            people.append(Member(community.platform, interview.partner_id, interview.partner_name))
        return [await self._events.record(tx, "interview.published", community, person, interview=interview.id)
                for person in people]

    async def to_remind(self, asked_before: datetime) -> list[tuple[str, int, Consent]]:
        """Unanswered questions asked before a moment, not reminded yet, of recordings nobody said no to."""
        rows = await self._db.fetchall(
            "SELECT c.community, c.interview_id, c.member_id, c.member_name, c.answer, c.asked_at, c.reminded_at"
            " FROM interview_consents c JOIN interviews i ON i.id = c.interview_id"
            " WHERE i.status = ? AND c.answer IS NULL AND c.reminded_at IS NULL AND c.asked_at <= ?"
            " AND NOT EXISTS (SELECT 1 FROM interview_consents o WHERE o.interview_id = c.interview_id AND o.answer = ?)",
            (ASKING, stamp(asked_before), NO))
        return [(r["community"], r["interview_id"], Consent(r["member_id"], r["member_name"], r["answer"],
                                                              r["asked_at"], r["reminded_at"])) for r in rows]

    async def mark_reminded(self, community_key: str, interview_id: int, member_id: str, at: datetime) -> bool:
        return bool(await self._db.execute(
            "UPDATE interview_consents SET reminded_at = ? WHERE community = ? AND interview_id = ? AND member_id = ?"
            " AND reminded_at IS NULL", (stamp(at), community_key, interview_id, member_id)))

    async def forget_member(self, community: Community, member_id: str) -> None:
        async with self._db.transaction() as tx:
            ids = [row["id"] for row in await tx.fetchall(
                "SELECT id FROM interviews WHERE community = ? AND (member_id = ? OR partner_id = ?)",
                (community.key, member_id, member_id))]
            for interview_id in ids:
                await tx.execute("DELETE FROM interview_consents WHERE community = ? AND interview_id = ?",
                                 (community.key, interview_id))
                await tx.execute("DELETE FROM interviews WHERE id = ?", (interview_id,))

    async def first_seen(self, community: Community, signature: str, at: datetime) -> bool:
        """Whether a webhook request's signature is new (False: a replay)."""
        return bool(await self._db.execute("INSERT INTO interview_webhook_seen VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                           (community.key, signature, stamp(at))))
