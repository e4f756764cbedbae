"""The partners cog's SQL: the directory of partner organisations."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.core import Community
from bot.storage import Database
from bot.values import stamp

EDITABLE = ("name", "description", "website", "region", "contact", "logo_url")


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    description: str
    website: str
    region: str
    contact: str
    logo_url: str

    def public(self) -> dict[str, Any]:
        """What other cogs may know of a partner: everything but the contact."""
        return {k: v for k, v in asdict(self).items() if k != "contact"}


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


_FIELDS = "id, name, description, website, region, contact, logo_url"


class PartnerStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, community: Community, values: dict[str, str], by: str, at: datetime) -> int | None:
        """Add a partner; None if one of that name is already there."""
        changed = await self._db.execute(
            "INSERT INTO partners (community, name, name_key, description, website, region, contact,"
            " logo_url, added_by, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (community.key, values["name"], name_key(values["name"]), values.get("description", ""),
             values.get("website", ""), values.get("region", ""), values.get("contact", ""),
             values.get("logo_url", ""), by, stamp(at), stamp(at)))
        if not changed:
            return None
        return await self._db.fetchval("SELECT id FROM partners WHERE community = ? AND name_key = ?",
                                       (community.key, name_key(values["name"])))

    async def update(self, community: Community, partner_id: int, values: dict[str, str], at: datetime) -> bool:
        """Change the given fields; False if the new name is another partner's."""
        changes = {k: v for k, v in values.items() if k in EDITABLE}
        if "name" in changes:
            changes["name_key"] = name_key(changes["name"])
            taken = await self._db.fetchval(
                "SELECT id FROM partners WHERE community = ? AND name_key = ? AND id != ?",
                (community.key, changes["name_key"], partner_id))
            if taken:
                return False
        assignments = ", ".join(f"{column} = ?" for column in changes)
        await self._db.execute(f"UPDATE partners SET {assignments}, updated_at = ? WHERE community = ? AND id = ?",
                               (*changes.values(), stamp(at), community.key, partner_id))
        return True

    async def remove(self, community: Community, partner_id: int) -> bool:
        return bool(await self._db.execute("DELETE FROM partners WHERE community = ? AND id = ?",
                                           (community.key, partner_id)))

    async def get(self, community: Community, partner_id: int) -> Partner | None:
        row = await self._db.fetchone(f"SELECT {_FIELDS} FROM partners WHERE community = ? AND id = ?",
                                      (community.key, partner_id))
        return Partner(**dict(row)) if row else None

    async def named(self, community: Community, name: str) -> Partner | None:
        row = await self._db.fetchone(f"SELECT {_FIELDS} FROM partners WHERE community = ? AND name_key = ?",
                                      (community.key, name_key(name)))
        return Partner(**dict(row)) if row else None

    async def all(self, community: Community) -> list[Partner]:
        rows = await self._db.fetchall(f"SELECT {_FIELDS} FROM partners WHERE community = ? ORDER BY name_key",
                                       (community.key,))
        return [Partner(**dict(row)) for row in rows]
