"""The outreach cog's SQL: groups being invited, organisations' interest, the webinar archive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.forms import Submission
from bot.storage import Database
from bot.values import stamp

OPEN, DONE = "open", "done"


@dataclass(frozen=True)
class Interest:
    id: int
    member_id: str
    member_name: str
    organisation: str
    contact_name: str
    email: str
    kind: str
    wants: str
    message: str | None
    status: str
    submitted_at: str


@dataclass(frozen=True)
class Webinar:
    id: int
    title: str
    held_on: str
    link: str
    description: str


_INTEREST = ("id, member_id, member_name, organisation, contact_name, email, kind, wants, message, status,"
             " submitted_at")


class OutreachStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    async def inviting(self, community: Community, member: Member, kind: str, at: datetime) -> DomainEvent | None:
        """A member is bringing a group of this kind; the `outreach.invited` event the first time."""
        async with self._db.transaction() as tx:
            if not await tx.execute("INSERT INTO outreach_invitations VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                    (community.key, member.id, member.display_name, kind, stamp(at))):
                return None
            return await self._events.record(tx, "outreach.invited", community, member, kind=kind)

    async def record_interest(self, submission: Submission, at: datetime) -> tuple[int, DomainEvent | None]:
        """Keep a submitted partner-interest form once; the event only the first time."""
        answers, community = submission.answers, submission.community
        async with self._db.transaction() as tx:
            known = await tx.fetchone("SELECT id FROM partner_interest WHERE submission_id = ?", (submission.id,))
            if known is not None:
                return known["id"], None
            interest_id = await tx.next_number(community.key, "partner_interest")
            await tx.execute(
                "INSERT INTO partner_interest (id, community, member_id, member_name, submission_id, organisation,"
                " contact_name, email, kind, wants, message, status, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (interest_id, community.key, submission.member.id, submission.member.display_name, submission.id,
                 answers["organisation"], answers["contact_name"], answers["email"], answers["kind"],
                 answers["wants"], answers.get("message"), OPEN, stamp(at)))
            event = await self._events.record(tx, "partner_interest.submitted", community, submission.member,
                                              interest=interest_id)
        return interest_id, event

    async def interests(self, community: Community, status: str) -> list[Interest]:
        rows = await self._db.fetchall(f"SELECT {_INTEREST} FROM partner_interest WHERE community = ? AND"
                                       " status = ? ORDER BY id", (community.key, status))
        return [Interest(**dict(row)) for row in rows]

    async def interest(self, community: Community, interest_id: int) -> Interest | None:
        row = await self._db.fetchone(f"SELECT {_INTEREST} FROM partner_interest WHERE community = ? AND id = ?",
                                      (community.key, interest_id))
        return Interest(**dict(row)) if row else None

    async def mark_done(self, community: Community, interest_id: int, by: str, at: datetime) -> bool:
        return bool(await self._db.execute(
            "UPDATE partner_interest SET status = ?, done_by = ?, done_at = ? WHERE community = ? AND id = ? AND"
            " status = ?", (DONE, by, stamp(at), community.key, interest_id, OPEN)))

    async def add_webinar(self, community: Community, values: dict[str, Any], by: str, at: datetime) -> int:
        async with self._db.transaction() as tx:
            webinar_id = await tx.next_number(community.key, "webinars")
            await tx.execute(
                "INSERT INTO webinars (id, community, title, held_on, link, description, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (webinar_id, community.key, values["title"], values["held_on"],
                                                     values["link"], values.get("description", ""), by, stamp(at)))
        return webinar_id

    async def webinars(self, community: Community) -> list[Webinar]:
        rows = await self._db.fetchall("SELECT id, title, held_on, link, description FROM webinars WHERE"
                                       " community = ? ORDER BY held_on DESC, id DESC", (community.key,))
        return [Webinar(**dict(row)) for row in rows]

    async def webinar(self, community: Community, webinar_id: int) -> Webinar | None:
        row = await self._db.fetchone("SELECT id, title, held_on, link, description FROM webinars WHERE"
                                      " community = ? AND id = ?", (community.key, webinar_id))
        return Webinar(**dict(row)) if row else None

    async def remove_webinar(self, community: Community, webinar_id: int) -> bool:
        return bool(await self._db.execute("DELETE FROM webinars WHERE community = ? AND id = ?",
                                           (community.key, webinar_id)))
