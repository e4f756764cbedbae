"""The testimonials cog's SQL: testimonials, their moderation, and the posts that show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.forms import Submission
from bot.storage import Database, Transaction
from bot.values import stamp

PENDING, APPROVED, REJECTED, CHANGES_REQUESTED, WITHDRAWN = (
    "pending", "approved", "rejected", "changes_requested", "withdrawn")
# What recording a submission did.
RECORDED, ALREADY_RECORDED, NOT_REVISABLE = "recorded", "already_recorded", "not_revisable"


@dataclass(frozen=True)
class Testimonial:
    id: int
    community: str
    member_id: str
    member_name: str
    story: str
    surprise: str
    advice: str | None
    credit: str
    consent_given: bool
    consent_wording: str
    consent_at: str
    status: str
    moderator_note: str | None
    decided_by: str | None
    submitted_at: str
    decided_at: str | None


_FIELDS = ("id, community, member_id, member_name, story, surprise, advice, credit, consent_given,"
           " consent_wording, consent_at, status, moderator_note, decided_by, submitted_at, decided_at")


class TestimonialStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    async def record(self, tx: Transaction, submission: Submission,
                     at: datetime) -> tuple[int, str, DomainEvent | None]:
        """Store a submitted testimonial, inside the caller's transaction (with its card for the moderators);
        returns its id, RECORDED, ALREADY_RECORDED or NOT_REVISABLE, and its `testimonial.submitted` event
        to publish once the transaction has committed.

        A revision (after a moderator asked for changes) updates the same testimonial and
        puts it back in the queue, but only while changes are still being asked for (not
        once it was withdrawn or decided otherwise), with `testimonial.revised` instead. A retried submit
        finds the row already there.
        """
        answers = submission.answers
        consent_given = answers["may_quote"]
        values = (answers["story"], answers["surprise"], answers.get("advice"), answers["credit"],
                  int(consent_given["agreed"]), consent_given["wording"], consent_given["at"])
        revising = submission.context.get("revising")
        community = submission.community
        existing = await tx.fetchone("SELECT id FROM testimonials WHERE submission_id = ?", (submission.id,))
        if existing is not None:
            return existing["id"], ALREADY_RECORDED, None
        if revising is not None:
            revised = await tx.execute(
                "UPDATE testimonials SET story = ?, surprise = ?, advice = ?, credit = ?, consent_given = ?,"
                " consent_wording = ?, consent_at = ?, status = ?, moderator_note = NULL, decided_by = NULL,"
                " decided_at = NULL, submission_id = ?, submitted_at = ?"
                " WHERE id = ? AND community = ? AND member_id = ? AND status = ?",
                (*values, PENDING, submission.id, stamp(at), revising, community.key, submission.member.id,
                 CHANGES_REQUESTED))
            if not revised:
                return revising, NOT_REVISABLE, None
            testimonial_id = revising
        else:
            testimonial_id = await tx.next_number(community.key, "testimonials")
            await tx.execute(
                "INSERT INTO testimonials (id, community, member_id, member_name, submission_id, story, surprise,"
                " advice, credit, consent_given, consent_wording, consent_at, status, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (testimonial_id, community.key, submission.member.id, submission.member.display_name,
                 submission.id, *values, PENDING, stamp(at)))
        # A revision is the same testimonial again: the weekly stats count `testimonial.submitted`.
        event = await self._events.record(tx, "testimonial.revised" if revising is not None else
                                          "testimonial.submitted", community, submission.member,
                                          testimonial=testimonial_id)
        return testimonial_id, RECORDED, event

    async def get(self, community: Community, testimonial_id: int, *,
                  tx: Transaction | None = None) -> Testimonial | None:
        row = await (tx or self._db).fetchone(f"SELECT {_FIELDS} FROM testimonials WHERE community = ? AND id = ?",
                                      (community.key, testimonial_id))
        return _testimonial(row) if row else None

    async def in_status(self, community: Community, *statuses: str) -> list[Testimonial]:
        marks = ", ".join("?" for _ in statuses)
        rows = await self._db.fetchall(
            f"SELECT {_FIELDS} FROM testimonials WHERE community = ? AND status IN ({marks}) ORDER BY id",
            (community.key, *statuses))
        return [_testimonial(row) for row in rows]

    async def changes_asked(self, community: Community, member_id: str) -> Testimonial | None:
        """The member's oldest testimonial for which moderators asked changes, if any."""
        row = await self._db.fetchone(
            f"SELECT {_FIELDS} FROM testimonials WHERE community = ? AND member_id = ? AND status = ?"
            " ORDER BY id LIMIT 1", (community.key, member_id, CHANGES_REQUESTED))
        return _testimonial(row) if row else None

    async def of_member(self, community: Community, member_id: str) -> list[Testimonial]:
        rows = await self._db.fetchall(
            f"SELECT {_FIELDS} FROM testimonials WHERE community = ? AND member_id = ? AND status != ? ORDER BY id",
            (community.key, member_id, WITHDRAWN))
        return [_testimonial(row) for row in rows]

    async def decide(self, community: Community, testimonial_id: int, status: str, moderator: Member,
                     at: datetime, note: str | None = None, *, allowed_from: tuple[str, ...]) -> bool:
        """Move a testimonial to `status` if it is in one of `allowed_from`; False if it was not.

        Approval writes `testimonial.approved` in the same transaction.
        """
        async with self._db.transaction() as tx:
            marks = ", ".join("?" for _ in allowed_from)
            changed = await tx.execute(
                f"UPDATE testimonials SET status = ?, moderator_note = ?, decided_by = ?, decided_at = ?"
                f" WHERE community = ? AND id = ? AND status IN ({marks})",
                (status, note, moderator.id, stamp(at), community.key, testimonial_id, *allowed_from))
            event = None
            if changed and status == APPROVED:
                row = await tx.fetchone("SELECT member_id, member_name FROM testimonials WHERE id = ?",
                                        (testimonial_id,))
                author = Member(community.platform, row["member_id"], row["member_name"])
                event = await self._events.record(tx, "testimonial.approved", community, author,
                                                  testimonial=testimonial_id)
        if event is not None:
            await self._events.publish(event)
        return bool(changed)

    async def withdraw(self, community: Community, testimonial_id: int, member_id: str, at: datetime) -> bool:
        """The author takes their testimonial back; False if it is not theirs or already withdrawn."""
        changed = await self._db.execute(
            "UPDATE testimonials SET status = ?, decided_by = ?, decided_at = ?"
            " WHERE community = ? AND id = ? AND member_id = ? AND status != ?",
            (WITHDRAWN, member_id, stamp(at), community.key, testimonial_id, member_id, WITHDRAWN))
        return bool(changed)


async def quotable(db: Database, community_key: str | None) -> list[Testimonial]:
    """Approved testimonials whose authors agreed to be quoted (of every community if None)."""
    sql = f"SELECT {_FIELDS} FROM testimonials WHERE status = ? AND consent_given = 1"
    params: list[Any] = [APPROVED]
    if community_key is not None:
        sql += " AND community = ?"
        params.append(community_key)
    rows = await db.fetchall(sql + " ORDER BY community, id", params)
    return [_testimonial(row) for row in rows]


def _testimonial(row: Any) -> Testimonial:
    values = dict(row)
    values["consent_given"] = bool(values["consent_given"])
    return Testimonial(**values)
