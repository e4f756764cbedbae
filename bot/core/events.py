"""The domain-event bus: how cogs react to each other without importing each other.

`await bot.events.emit("share.completed", community, member)` records the event in
the `domain_events` table (the history badges are computed from) and then calls every
listener subscribed to that name. A listener that fails is logged; the others still run.
When the event belongs with a change of the cog's own, `record` writes it inside the
cog's transaction and `publish` tells the listeners after the commit.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable

from bot.core.clock import Clock
from bot.core.context import Community, Member
from bot.storage import Database, Transaction
from bot.values import stamp

log = logging.getLogger(__name__)

_EVENT_NAME = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")

_INSERT = "INSERT INTO domain_events (community, member_id, name, data, at) VALUES (?, ?, ?, ?, ?)"

Listener = Callable[["DomainEvent"], Awaitable[None]]

# Events the platform adapters emit themselves (cogs declare theirs in `Cog.emits`): a member joined; a member
# marked a copy of an event in the platform's own list as interesting (data: `mirror`, the copy's id there).
CORE_EVENTS = ("member.joined", "event_mirror.interested")


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened in the program: `share.completed`, `testimonial.approved`, …"""

    name: str
    community: Community
    member: Member | None
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


def _row(event: DomainEvent) -> tuple[Any, ...]:
    member_id = event.member.id if event.member else None
    return (event.community.key, member_id, event.name, json.dumps(event.data), stamp(event.at))


def check_event_name(name: str) -> str:
    if not _EVENT_NAME.match(name):
        raise ValueError(f"event names look like 'share.completed' (feature.what_happened), not {name!r}")
    return name


class EventBus:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._listeners: dict[str, list[tuple[str, Listener]]] = {}

    def subscribe(self, name: str, listener: Listener, owner: str) -> None:
        self._listeners.setdefault(check_event_name(name), []).append((owner, listener))

    def unsubscribe_owner(self, owner: str) -> None:
        """Remove every listener a cog subscribed (when it is unloaded)."""
        for name in list(self._listeners):
            self._listeners[name] = [(o, f) for o, f in self._listeners[name] if o != owner]

    async def emit(self, name: str, community: Community, member: Member | None = None, **data: Any) -> DomainEvent:
        """Record the event, then tell every listener."""
        event = self._event(name, community, member, data)
        await self._db.execute(_INSERT, _row(event))
        await self.publish(event)
        return event

    async def record(self, tx: Transaction, name: str, community: Community,
                     member: Member | None = None, **data: Any) -> DomainEvent:
        """Record an event inside the caller's transaction, with the change that caused it.

        Call `publish(event)` once the transaction has committed.
        """
        event = self._event(name, community, member, data)
        await tx.execute(_INSERT, _row(event))
        return event

    async def publish(self, event: DomainEvent) -> None:
        """Tell every listener; one that fails is logged and the others still hear it."""
        for owner, listener in list(self._listeners.get(event.name, [])):
            try:
                await listener(event)
            except Exception:
                log.exception("listener %s for %s failed; the other listeners still ran", owner, event.name)

    def _event(self, name: str, community: Community, member: Member | None, data: dict[str, Any]) -> DomainEvent:
        return DomainEvent(check_event_name(name), community, member, self._clock.now(), data)

    async def count(self, community: Community, name: str, member_id: str | None = None) -> int:
        """How many times an event happened in a community (for one member, if given)."""
        sql = "SELECT COUNT(*) FROM domain_events WHERE community = ? AND name = ?"
        params: list[Any] = [community.key, name]
        if member_id is not None:
            sql += " AND member_id = ?"
            params.append(member_id)
        return await self._db.fetchval(sql, params)
