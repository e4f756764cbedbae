"""Each event copied into the platform's own list of events, where members look for them (Discord's
scheduled events; the console and Slack have none).

The bot's event stays the source of truth: answers, places and the waitlist live here, and the copy
shows the next occurrence only (Discord restricts the repeating events a bot may make). The copy is kept
in step by `sync`, after every change and once a minute: made for the next occurrence to come, changed
when the event is edited, started when a voice event begins, ended when it ends (then the series'
next occurrence gets a copy of its own), cancelled with the event.

Each copy is a row of `event_mirrors`, written before the platform is asked: a copy whose making was
interrupted (the bot stopped before the answer) is looked for before it is made again, and a change is
carried over once. What the platform refuses (a missing permission, a full list) is tried again an hour
later, or at the next change; the event works on without its copy.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.core import Community
from bot.core.adapter import EventMirror, MirrorsEvents
from bot.core.cog import Cog
from bot.values import stamp
from cogs.events.schedule import Occurrence
from cogs.events.store import CANCELLED, SCHEDULED, Event, EventStore

log = logging.getLogger(__name__)

MAKING, LISTED, STARTED, REFUSED = "making", "listed", "started", "refused"
ENDED, GONE = "ended", "gone"  # and CANCELLED
OPEN = (MAKING, LISTED, STARTED, REFUSED)
RETRY_REFUSED = timedelta(hours=1)
MOST_LISTED = 100  # Discord keeps at most 100 uncompleted events a server: the nearest are listed first


@dataclass(frozen=True)
class Copy:
    """A row of event_mirrors."""

    id: int
    mirror_id: str | None
    starts_at: datetime
    ends_at: datetime
    revision: int
    state: str
    retry_at: datetime | None


def _copy(row: Any) -> Copy:
    return Copy(row["id"], row["mirror_id"], datetime.fromisoformat(row["starts_at"]),
                datetime.fromisoformat(row["ends_at"]), row["revision"], row["state"],
                datetime.fromisoformat(row["retry_at"]) if row["retry_at"] else None)


class EventMirrors:
    """Keeps each event's copy in the platform's own list in step with it (see the module's docstring)."""

    def __init__(self, cog: Cog, store: EventStore, describe: Callable[[Community, Event, Occurrence], EventMirror]):
        self._bot = cog.bot
        self._db = cog.db
        self._clock = cog.clock
        self._store = store
        self._describe = describe
        self._lock = asyncio.Lock()  # one sync at a time: a copy is never made twice by two at once

    def _adapters(self) -> dict[str, MirrorsEvents]:
        return {p: a for p, a in self._bot.adapters.items() if isinstance(a, MirrorsEvents)}

    async def sync(self, community: Community | None = None, event_id: int | None = None) -> None:
        """Bring the copies in step: of one event, or of every event on a platform that lists events."""
        adapters = self._adapters()
        if not adapters or (community is not None and community.platform not in adapters):
            return
        async with self._lock:
            if event_id is not None:
                event = await self._store.get(community, event_id)
                events = [event] if event is not None else []
            else:
                events = [e for e in await self._store.scheduled(community) if e.community.partition(":")[0] in adapters]
                events += await self._cancelled_with_copies(community)
            now = self._clock.now()
            # The next occurrences (repeat rules expanded: CPU work) on a thread, so members are answered meanwhile.
            coming = await asyncio.to_thread(lambda: [(e, _next_to_come(e, now)) for e in events])
            coming.sort(key=lambda pair: pair[1].start if pair[1] else now)  # the nearest are listed first
            copies = await self._open(community, event_id)
            listed: dict[str, int] = {}
            for event, upcoming in coming:
                held = copies.get((event.community, event.id), [])
                if upcoming is None and not held:
                    continue  # over, and nothing of it listed: nothing to do
                platform, _, community_id = event.community.partition(":")
                where = Community(platform, community_id)
                if event.community not in listed:
                    listed[event.community] = await self._listed(where)
                try:
                    listed[event.community] += await self._sync_event(adapters[platform], where, event, held, upcoming,
                                                                      now, room=listed[event.community] < MOST_LISTED)
                except Exception as exc:  # the platform, most likely: the row says where it stopped; tried again
                    log.warning("could not bring event %s of %s in step with its copy in the platform's events: %s",
                                event.id, event.community, exc)

    async def event_of(self, community: Community, mirror_id: str) -> int | None:
        """The event a copy belongs to (None for one the bot did not make)."""
        return await self._db.fetchval("SELECT event_id FROM event_mirrors WHERE community = ? AND mirror_id = ?",
                                       (community.key, mirror_id))

    async def _sync_event(self, adapter: MirrorsEvents, community: Community, event: Event, held: list[Copy],
                          upcoming: Occurrence | None, now: datetime, *, room: bool) -> int:
        """One event's copies still open (`held`); returns how many were made."""
        have_open = False
        for copy in held:
            if copy.state == REFUSED:
                if event.status == CANCELLED or upcoming is None:
                    await self._set(copy, state=CANCELLED)  # nothing left to list
                elif now < copy.retry_at and copy.revision == event.revision:
                    have_open = True  # waits for its time, or for a change
                else:
                    await self._db.execute("DELETE FROM event_mirrors WHERE id = ?", (copy.id,))
                continue
            if copy.state == MAKING:  # the last attempt's outcome is unknown: it may have made the copy
                copy = await self._made(adapter, community, event, copy, unsure=True)
                if copy.state != LISTED:
                    have_open = copy.state == REFUSED
                    continue
            if event.status == CANCELLED:
                await adapter.cancel_mirror(community, copy.mirror_id)
                await self._set(copy, state=CANCELLED)
            elif copy.ends_at <= now:
                await adapter.end_mirror(community, copy.mirror_id)
                await self._set(copy, state=ENDED)
            elif copy.starts_at <= now:
                if copy.state == LISTED:
                    await adapter.start_mirror(community, copy.mirror_id)
                    await self._set(copy, state=STARTED)
                have_open = True  # under way: left as it is until it ends
            elif upcoming is None:  # changed so that nothing more is to come
                await adapter.cancel_mirror(community, copy.mirror_id)
                await self._set(copy, state=CANCELLED)
            elif copy.revision != event.revision or copy.starts_at != upcoming.start:
                if await adapter.update_mirror(community, copy.mirror_id, self._describe(community, event, upcoming)):
                    await self._set(copy, revision=event.revision, starts_at=stamp(upcoming.start),
                                    ends_at=stamp(upcoming.end))
                    have_open = True
                else:
                    await self._set(copy, state=GONE)  # deleted in the platform: not made again for it
            else:
                have_open = True
        if event.status != SCHEDULED or upcoming is None or have_open or not room:
            return 0
        if await self._db.fetchval("SELECT COUNT(*) FROM event_mirrors WHERE community = ? AND event_id = ? AND"
                                   " starts_at = ?", (community.key, event.id, stamp(upcoming.start))):
            return 0  # this occurrence had its copy (someone deleted it in the platform): not made again
        row_id = await self._db.insert(
            "INSERT INTO event_mirrors (community, event_id, starts_at, ends_at, revision, state, tried_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (community.key, event.id, stamp(upcoming.start), stamp(upcoming.end),
                                              event.revision, MAKING, stamp(now)))
        copy = Copy(row_id, None, upcoming.start, upcoming.end, event.revision, MAKING, None)
        return int((await self._made(adapter, community, event, copy, unsure=False)).state == LISTED)

    async def _made(self, adapter: MirrorsEvents, community: Community, event: Event, copy: Copy, *,
                    unsure: bool) -> Copy:
        """Ask the platform for the copy the row stands for (written first, so an interrupted attempt is known)."""
        occurrence = Occurrence(copy.starts_at, copy.ends_at)
        mirror_id = await adapter.mirror_event(community, self._describe(community, event, occurrence), unsure=unsure)
        if mirror_id is None:
            retry = self._clock.now() + RETRY_REFUSED
            await self._set(copy, state=REFUSED, retry_at=stamp(retry))
            return Copy(copy.id, None, copy.starts_at, copy.ends_at, copy.revision, REFUSED, retry)
        await self._set(copy, state=LISTED, mirror_id=mirror_id, tried_at=None)
        return Copy(copy.id, mirror_id, copy.starts_at, copy.ends_at, copy.revision, LISTED, None)

    async def _set(self, copy: Copy, **changes: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in changes)
        await self._db.execute(f"UPDATE event_mirrors SET {columns} WHERE id = ?", (*changes.values(), copy.id))

    async def _open(self, community: Community | None, event_id: int | None) -> dict[tuple[str, int], list[Copy]]:
        """The copies not yet over (of one community, or of one event), by (community key, event id), in one read."""
        marks = ", ".join("?" for _ in OPEN)
        where, params = f"state IN ({marks})", list(OPEN)
        if community is not None:
            where, params = f"{where} AND community = ?", [*params, community.key]
        if event_id is not None:
            where, params = f"{where} AND event_id = ?", [*params, event_id]
        found: dict[tuple[str, int], list[Copy]] = {}
        for row in await self._db.fetchall(f"SELECT * FROM event_mirrors WHERE {where} ORDER BY starts_at", params):
            found.setdefault((row["community"], row["event_id"]), []).append(_copy(row))
        return found

    async def _listed(self, community: Community) -> int:
        return await self._db.fetchval("SELECT COUNT(*) FROM event_mirrors WHERE community = ? AND state IN (?, ?, ?)",
                                       (community.key, MAKING, LISTED, STARTED))

    async def _cancelled_with_copies(self, community: Community | None) -> list[Event]:
        """Cancelled events whose copies are still listed (the cancellation is carried over next)."""
        found = []
        for key, event_id in await self._open(community, None):
            platform, _, community_id = key.partition(":")
            event = await self._store.get(Community(platform, community_id), event_id)
            if event is not None and event.status == CANCELLED:
                found.append(event)
        return found


def _next_to_come(event: Event, now: datetime) -> Occurrence | None:
    """The first occurrence that has not begun: a copy is made for a start to come, never one past."""
    if event.status != SCHEDULED:
        return None
    occurrence = event.next(now)
    while occurrence is not None and occurrence.start <= now:  # under way: the one after it (ends only grow)
        occurrence = event.next(occurrence.end)
    return occurrence
