"""The audit log: what moderators did, who, when and why, kept in the database.

    await self.bot.audit.record(ctx, "badge.grant", target=member.display_name, reason=reason, badge="regular")
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core.clock import Clock
from bot.core.context import Community, Member
from bot.storage import Database, Transaction
from bot.values import stamp


@dataclass(frozen=True)
class AuditEntry:
    moderator_id: str
    moderator_name: str
    action: str
    target: str
    reason: str
    details: dict[str, Any]
    at: str


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(self, community: Community, moderator: Member, action: str, *, target: str = "",
                     reason: str = "", tx: Transaction | None = None, **details: Any) -> None:
        """Record what a moderator did; given `tx`, inside the transaction of the change itself."""
        await (tx or self._db).execute(
            "INSERT INTO audit_log (community, moderator_id, moderator_name, action, target, reason, details, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (community.key, moderator.id, moderator.display_name, action, target, reason, json.dumps(details),
             stamp(self._clock.now())))

    async def entries(self, community: Community, *, moderator_id: str | None = None, since: str | None = None,
                      limit: int = 50, skip: int = 0) -> list[AuditEntry]:
        """The newest entries first: `limit` of them, after the `skip` newest (to page back)."""
        sql = ("SELECT moderator_id, moderator_name, action, target, reason, details, at FROM audit_log"
               " WHERE community = ?")
        params: list[Any] = [community.key]
        if moderator_id is not None:
            sql += " AND moderator_id = ?"
            params.append(moderator_id)
        if since is not None:
            sql += " AND at >= ?"
            params.append(since)
        rows = await self._db.fetchall(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", (*params, limit, skip))
        return [AuditEntry(r["moderator_id"], r["moderator_name"], r["action"], r["target"], r["reason"],
                           json.loads(r["details"]), r["at"]) for r in rows]
