"""The events cog's SQL: events, answers (RSVPs), attendance, members' time zones."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import Channel, Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.storage import Database, Transaction
from bot.values import stamp
from cogs.events.schedule import Occurrence, next_occurrence, occurrences

SCHEDULED, CANCELLED = "scheduled", "cancelled"
GOING, MAYBE, NO, WAITLIST = "going", "maybe", "no", "waitlist"
ANSWERS = (GOING, MAYBE, NO)


@dataclass(frozen=True)
class Event:
    id: int
    community: str
    title: str
    partner_id: int | None
    first: datetime  # the first start, local wall clock (naive)
    zone: ZoneInfo
    length: timedelta
    place: str
    description: str
    capacity: int | None
    channels: tuple[Channel, ...]
    recurrence: str | None
    status: str
    revision: int

    def next(self, now: datetime) -> Occurrence | None:
        return next_occurrence(self.first, self.zone, self.length, self.recurrence, now)

    def between(self, now: datetime, until: datetime) -> list[Occurrence]:
        return occurrences(self.first, self.zone, self.length, self.recurrence, ending_after=now, until=until)


@dataclass(frozen=True)
class Counts:
    going: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0


@dataclass
class Draft:
    """An event's fields as a moderator gave them, checked (see the cog)."""

    title: str
    first: datetime
    zone: ZoneInfo
    length: timedelta
    place: str = ""
    description: str = ""
    capacity: int | None = None
    channels: list[Channel] = field(default_factory=list)
    recurrence: str | None = None
    partner_id: int | None = None


@dataclass(frozen=True)
class Rsvp:
    member_id: str
    member_name: str
    answer: str


_FIELDS = ("id, community, title, partner_id, starts_local, timezone, minutes, place, description, capacity,"
           " channels, recurrence, status, revision")


def _event(row: Any) -> Event:
    return Event(
        id=row["id"], community=row["community"], title=row["title"], partner_id=row["partner_id"],
        first=datetime.fromisoformat(row["starts_local"]), zone=ZoneInfo(row["timezone"]),
        length=timedelta(minutes=row["minutes"]), place=row["place"], description=row["description"],
        capacity=row["capacity"], channels=tuple(Channel(i, n) for i, n in json.loads(row["channels"])),
        recurrence=row["recurrence"], status=row["status"], revision=row["revision"])


def as_draft(event: Event) -> Draft:
    return Draft(event.title, event.first, event.zone, event.length, event.place, event.description,
                 event.capacity, list(event.channels), event.recurrence, event.partner_id)


def _columns(draft: Draft) -> tuple[Any, ...]:
    return (draft.title, draft.partner_id, draft.first.isoformat(), draft.zone.key,
            int(draft.length.total_seconds() // 60), draft.place, draft.description, draft.capacity,
            json.dumps([[c.id, c.name] for c in draft.channels]), draft.recurrence)


class EventStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    # -- events ------------------------------------------------------------------------

    async def create(self, tx: Transaction, community: Community, draft: Draft, by: str, at: datetime) -> int:
        """A new event, inside the caller's transaction (with its announcement and its audit entry); its number."""
        event_id = await tx.next_number(community.key, "events")
        await tx.execute(
            "INSERT INTO events (id, community, title, partner_id, starts_local, timezone, minutes, place,"
            " description, capacity, channels, recurrence, status, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, community.key, *_columns(draft), SCHEDULED, by, stamp(at), stamp(at)))
        return event_id

    async def update(self, tx: Transaction, community: Community, event_id: int, draft: Draft, at: datetime) -> None:
        """Change an event, inside the caller's transaction (with what it tells those going)."""
        await tx.execute(
            "UPDATE events SET title = ?, partner_id = ?, starts_local = ?, timezone = ?, minutes = ?, place = ?,"
            " description = ?, capacity = ?, channels = ?, recurrence = ?, revision = revision + 1, updated_at = ?"
            " WHERE community = ? AND id = ?", (*_columns(draft), stamp(at), community.key, event_id))

    async def note_cancellation(self, community: Community, event_id: int, note: str) -> None:
        """Keep the reason a moderator gave, until they confirm the cancellation."""
        await self._db.execute("UPDATE events SET cancel_note = ? WHERE community = ? AND id = ?",
                               (note, community.key, event_id))

    async def cancel(self, tx: Transaction, community: Community, event_id: int, at: datetime) -> str | None:
        """Cancel a scheduled event, inside the caller's transaction (with what it tells those going); its
        reason (possibly ""), or None if it was cancelled already."""
        done = await tx.execute("UPDATE events SET status = ?, revision = revision + 1, updated_at = ?"
                                " WHERE community = ? AND id = ? AND status = ?",
                                (CANCELLED, stamp(at), community.key, event_id, SCHEDULED))
        row = await tx.fetchone("SELECT cancel_note FROM events WHERE id = ?", (event_id,))
        return (row["cancel_note"] or "") if done else None

    async def get(self, community: Community, event_id: int, *, tx: Transaction | None = None) -> Event | None:
        row = await (tx or self._db).fetchone(f"SELECT {_FIELDS} FROM events WHERE community = ? AND id = ?",
                                      (community.key, event_id))
        return _event(row) if row else None

    async def scheduled(self, community: Community | None = None) -> list[Event]:
        """Events not cancelled (in one community, or in all of them); past ones too."""
        if community is None:
            rows = await self._db.fetchall(f"SELECT {_FIELDS} FROM events WHERE status = ? ORDER BY id", (SCHEDULED,))
        else:
            rows = await self._db.fetchall(f"SELECT {_FIELDS} FROM events WHERE community = ? AND status = ?"
                                           " ORDER BY id", (community.key, SCHEDULED))
        return [_event(row) for row in rows]

    # -- answers -----------------------------------------------------------------------

    async def answer(self, tx: Transaction, community: Community, event: Event, member: Member, answer: str,
                     at: datetime) -> tuple[str, Rsvp | None, list[DomainEvent]]:
        """Record a member's answer, in the caller's transaction (with the message to whoever moved up);
        a Going past the capacity joins the waitlist.

        Returns what was recorded (going, maybe, no or waitlist), the member moved up from the
        waitlist when a place came free (if any), and the `event.rsvp` events of whoever is going
        for the first time, this member or the one moved up (published by the caller).
        """
        # Answers to one event take turns, in every process: the places counted stay so until this one is
        # written (and a capacity changed meanwhile is the one that counts).
        capacity = await tx.fetchval("SELECT capacity FROM events WHERE community = ? AND id = ?" + tx.for_update,
                                     (community.key, event.id))
        before = await tx.fetchone("SELECT answer, first_going_at FROM event_rsvps"
                                   " WHERE community = ? AND event_id = ? AND member_id = ?",
                                   (community.key, event.id, member.id))
        previous = before["answer"] if before else None
        recorded = answer
        if answer == GOING and previous not in (GOING,) and capacity is not None:
            going = await tx.fetchone("SELECT COUNT(*) AS n FROM event_rsvps WHERE community = ? AND"
                                      " event_id = ? AND answer = ?", (community.key, event.id, GOING))
            if going["n"] >= capacity:
                recorded = WAITLIST
        if recorded == previous or (previous == WAITLIST and recorded == WAITLIST):
            return recorded, None, []  # nothing changes, and the waitlist keeps its order
        first_going = (before["first_going_at"] if before else None) or (stamp(at) if recorded == GOING else None)
        await tx.execute(
            "INSERT INTO event_rsvps (community, event_id, member_id, member_name, answer, answered_at,"
            " first_going_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (community, event_id, member_id)"
            " DO UPDATE SET member_name = excluded.member_name, answer = excluded.answer,"
            " answered_at = excluded.answered_at, first_going_at = excluded.first_going_at",
            (community.key, event.id, member.id, member.display_name, recorded, stamp(at), first_going))
        happened = []
        if recorded == GOING and not (before and before["first_going_at"]):
            happened.append(await self._events.record(tx, "event.rsvp", community, member, event=event.id))
        promoted = None
        if previous == GOING and recorded != GOING:
            promoted = await self._promote(tx, community, event, at, happened)
        return recorded, promoted, happened

    async def _promote(self, tx: Any, community: Community, event: Event, at: datetime,
                       happened: list[DomainEvent]) -> Rsvp | None:
        """The first on the waitlist takes the place that came free. Going now, they have joined the
        event as much as by pressing Going: `event.rsvp` (added to `happened`) if it is their first time."""
        row = await tx.fetchone("SELECT member_id, member_name, first_going_at FROM event_rsvps WHERE community = ?"
                                " AND event_id = ? AND answer = ? ORDER BY answered_at LIMIT 1",
                                (community.key, event.id, WAITLIST))
        if row is None:
            return None
        await tx.execute("UPDATE event_rsvps SET answer = ?, first_going_at = COALESCE(first_going_at, ?)"
                         " WHERE community = ? AND event_id = ? AND member_id = ?",
                         (GOING, stamp(at), community.key, event.id, row["member_id"]))
        if row["first_going_at"] is None:
            member = Member(community.platform, row["member_id"], row["member_name"])
            happened.append(await self._events.record(tx, "event.rsvp", community, member, event=event.id))
        return Rsvp(row["member_id"], row["member_name"], GOING)

    async def fill_places(self, tx: Transaction, community: Community, event: Event,
                          at: datetime) -> tuple[list[Rsvp], list[DomainEvent]]:
        """After the capacity grew: move people up from the waitlist while there is room, inside the caller's
        transaction (with what they are told); returns them, and their `event.rsvp` events (published by
        the caller after the commit)."""
        promoted: list[Rsvp] = []
        happened: list[DomainEvent] = []
        while True:
            going = await tx.fetchone("SELECT COUNT(*) AS n FROM event_rsvps WHERE community = ? AND"
                                      " event_id = ? AND answer = ?", (community.key, event.id, GOING))
            if event.capacity is not None and going["n"] >= event.capacity:
                break
            moved = await self._promote(tx, community, event, at, happened)
            if moved is None:
                break
            promoted.append(moved)
        return promoted, happened

    async def counts(self, community: Community, event_id: int, *, tx: Transaction | None = None) -> Counts:
        rows = await (tx or self._db).fetchall("SELECT answer, COUNT(*) AS n FROM event_rsvps WHERE community = ? AND"
                                       " event_id = ? GROUP BY answer", (community.key, event_id))
        return Counts(**{row["answer"]: row["n"] for row in rows})

    async def answer_of(self, community: Community, event_id: int, member_id: str) -> str | None:
        return await self._db.fetchval("SELECT answer FROM event_rsvps WHERE community = ? AND event_id = ? AND"
                                       " member_id = ?", (community.key, event_id, member_id))

    async def waitlist_position(self, community: Community, event_id: int, member_id: str) -> int:
        return await self._db.fetchval(
            "SELECT COUNT(*) FROM event_rsvps w WHERE w.community = ? AND w.event_id = ? AND w.answer = ? AND"
            " w.answered_at <= (SELECT answered_at FROM event_rsvps WHERE community = ? AND event_id = ? AND"
            " member_id = ?)", (community.key, event_id, WAITLIST, community.key, event_id, member_id))

    async def with_answer(self, community: Community, event_id: int, *answers: str,
                          tx: Transaction | None = None) -> list[Rsvp]:
        marks = ", ".join("?" for _ in answers)
        rows = await (tx or self._db).fetchall(
            f"SELECT member_id, member_name, answer FROM event_rsvps WHERE community = ? AND event_id = ? AND"
            f" answer IN ({marks}) ORDER BY answered_at", (community.key, event_id, *answers))
        return [Rsvp(r["member_id"], r["member_name"], r["answer"]) for r in rows]

    # -- attendance --------------------------------------------------------------------

    async def mark_attended(self, community: Community, event_id: int, members: list[Member], by: str,
                            at: datetime) -> list[DomainEvent]:
        """Mark members as having been there; returns the `event.attended` events for those newly marked."""
        recorded = []
        async with self._db.transaction() as tx:
            for member in members:
                if await tx.execute("INSERT INTO event_attendance VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                    (community.key, event_id, member.id, by, stamp(at))):
                    recorded.append(await self._events.record(tx, "event.attended", community, member,
                                                              event=event_id))
        return recorded

    # -- time zones --------------------------------------------------------------------

    async def zone_of(self, community: Community, member_id: str) -> str | None:
        return await self._db.fetchval("SELECT timezone FROM member_timezones WHERE community = ? AND member_id = ?",
                                       (community.key, member_id))

    async def zones(self, community: Community, *, tx: Transaction | None = None) -> dict[str, str]:
        """Every member's own time zone, by member id (those who set one)."""
        rows = await (tx or self._db).fetchall("SELECT member_id, timezone FROM member_timezones WHERE community = ?",
                                       (community.key,))
        return {row["member_id"]: row["timezone"] for row in rows}

    async def set_zone(self, community: Community, member_id: str, zone: str) -> None:
        await self._db.execute("INSERT INTO member_timezones VALUES (?, ?, ?)"
                               " ON CONFLICT (community, member_id) DO UPDATE SET timezone = excluded.timezone",
                               (community.key, member_id, zone))


def with_changes(draft: Draft, **changes: Any) -> Draft:
    return replace(draft, **changes)
