"""The pairing cog's SQL: who is in and their (private) answers, rounds, pairs, blocks."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import Community, Member
from bot.core.clock import stamp
from bot.core.events import DomainEvent, EventBus
from bot.storage import Database, Transaction

IN, PAUSED = "in", "paused"
YES, NOT_YET, WONT = "yes", "not_yet", "wont"
ASKS = 2  # "Did you meet?" is asked at most twice: after the first wait, and once more after "Not yet"


def fingerprint(community: Community, member_id: str) -> str:
    """A one-way stand-in for a member's id, for blocks that must outlive the blocked member's data."""
    return hashlib.sha256(f"pairing:{community.key}:{member_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Joined:
    """A member who is in pairing, with their answers (never shown to anyone else)."""

    member_id: str
    member_name: str
    views: list[str]
    timezone: str
    availability: list[str]
    formats: list[str]
    town: str
    avoid: str
    status: str
    waiting: bool

    @classmethod
    def of(cls, row: Any) -> Joined:
        return cls(row["member_id"], row["member_name"], json.loads(row["views"]), row["timezone"],
                   json.loads(row["availability"]), json.loads(row["formats"]), row["town"], row["avoid"],
                   row["status"], row["waiting_since"] is not None)


@dataclass(frozen=True)
class Pair:
    id: int
    round_id: int
    member_a: str
    name_a: str
    member_b: str
    name_b: str
    difference: float
    asked: int
    answer_a: str | None
    answer_b: str | None
    met_at: str | None

    def side(self, member_id: str) -> str | None:
        """'a' or 'b' for a member of this pair, None for anyone else."""
        return "a" if member_id == self.member_a else "b" if member_id == self.member_b else None

    def other(self, member_id: str) -> tuple[str, str]:
        return (self.member_b, self.name_b) if self.side(member_id) == "a" else (self.member_a, self.name_a)

    def answer_of(self, member_id: str) -> str | None:
        return self.answer_a if self.side(member_id) == "a" else self.answer_b

    @property
    def closed(self) -> bool:
        return self.met_at is not None or WONT in (self.answer_a, self.answer_b)


_PAIR = "id, round_id, member_a, name_a, member_b, name_b, difference, asked, answer_a, answer_b, met_at"


class PairingStore:
    def __init__(self, db: Database, events: EventBus) -> None:
        self._db = db
        self._events = events

    # -- members ----------------------------------------------------------------------------

    async def join(self, community: Community, member: Member, submission_id: str, answers: dict[str, Any],
                   at: datetime) -> DomainEvent | None:
        """Keep a member's answers (new, or changed by joining again); `pairing.joined` the first time."""
        async with self._db.transaction() as tx:
            known = await tx.fetchone("SELECT submission_id FROM pairing_members WHERE community = ? AND"
                                      " member_id = ?", (community.key, member.id))
            if known is not None and known["submission_id"] == submission_id:
                return None  # a retried submit
            values = (member.display_name, submission_id, json.dumps(answers["views"]), answers["timezone"],
                      json.dumps(answers["availability"]), json.dumps(answers["formats"]), answers["town"],
                      answers["avoid"])
            if known is not None:
                await tx.execute("UPDATE pairing_members SET member_name = ?, submission_id = ?, views = ?,"
                                 " timezone = ?, availability = ?, formats = ?, town = ?, avoid = ?, status = ?"
                                 " WHERE community = ? AND member_id = ?",
                                 (*values, IN, community.key, member.id))
                return None
            await tx.execute("INSERT INTO pairing_members (community, member_id, member_name, submission_id, views,"
                             " timezone, availability, formats, town, avoid, status, joined_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (community.key, member.id, *values, IN, stamp(at)))
            return await self._events.record(tx, "pairing.joined", community, member)

    async def member(self, community: Community, member_id: str) -> Joined | None:
        row = await self._db.fetchone("SELECT * FROM pairing_members WHERE community = ? AND member_id = ?",
                                      (community.key, member_id))
        return Joined.of(row) if row else None

    async def set_status(self, community: Community, member_id: str, status: str) -> bool:
        return bool(await self._db.execute(
            "UPDATE pairing_members SET status = ? WHERE community = ? AND member_id = ? AND status != ?",
            (status, community.key, member_id, status)))

    async def leave(self, community: Community, member_id: str) -> bool:
        """Delete the member's answers. Their blocks and past pairs stay (so no one is paired again with
        someone they blocked or already met, should they join again)."""
        return bool(await self._db.execute("DELETE FROM pairing_members WHERE community = ? AND member_id = ?",
                                           (community.key, member_id)))

    async def exclude(self, community: Community, member_id: str, moderator: Member, at: datetime) -> bool:
        """Leave a member out of the rounds; False if they were already."""
        return bool(await self._db.execute("INSERT OR IGNORE INTO pairing_exclusions VALUES (?, ?, ?, ?)",
                                           (community.key, fingerprint(community, member_id), moderator.id,
                                            stamp(at))))

    async def include(self, community: Community, member_id: str) -> bool:
        return bool(await self._db.execute("DELETE FROM pairing_exclusions WHERE community = ? AND excluded = ?",
                                           (community.key, fingerprint(community, member_id))))

    async def _excluded(self, community: Community) -> set[str]:
        return {row["excluded"] for row in await self._db.fetchall(
            "SELECT excluded FROM pairing_exclusions WHERE community = ?", (community.key,))}

    async def in_round(self, community: Community) -> list[Joined]:
        """Those a round may pair: in, and not left out by a moderator."""
        left_out = await self._excluded(community)
        rows = await self._db.fetchall("SELECT * FROM pairing_members WHERE community = ? AND status = ?",
                                       (community.key, IN))
        joined = []
        for start in range(0, len(rows), 500):  # thousands of answers to read: members are answered between
            joined += [Joined.of(row) for row in rows[start:start + 500]
                       if fingerprint(community, row["member_id"]) not in left_out]
            await asyncio.sleep(0)
        return joined

    async def counts(self, community: Community) -> dict[str, int]:
        """How many are in, paused, left out (totals only)."""
        left_out = await self._excluded(community)
        counts: dict[str, int] = {}
        for row in await self._db.fetchall("SELECT member_id, status FROM pairing_members WHERE community = ?",
                                           (community.key,)):
            state = "excluded" if fingerprint(community, row["member_id"]) in left_out else row["status"]
            counts[state] = counts.get(state, 0) + 1
        return counts

    async def round_count(self, community: Community) -> int:
        return await self._db.fetchval("SELECT COUNT(*) FROM pairing_rounds WHERE community = ?", (community.key,))

    async def last_round(self, community: Community) -> int:
        return await self._db.fetchval("SELECT COALESCE(MAX(id), 0) FROM pairing_rounds WHERE community = ?",
                                       (community.key,))

    async def communities_in(self) -> list[tuple[str, str | None, str]]:
        """Every community with members in: its key, its last round's time, its first member's joining."""
        rows = await self._db.fetchall(
            "SELECT m.community, (SELECT MAX(at) FROM pairing_rounds r WHERE r.community = m.community) AS last,"
            " MIN(m.joined_at) AS first FROM pairing_members m WHERE m.status = ? GROUP BY m.community", (IN,))
        return [(row["community"], row["last"], row["first"]) for row in rows]

    # -- who must not meet ------------------------------------------------------------------

    async def block(self, community: Community, member_id: str, blocked_id: str, at: datetime) -> None:
        await self._db.execute("INSERT OR IGNORE INTO pairing_blocks VALUES (?, ?, ?, ?)",
                               (community.key, member_id, fingerprint(community, blocked_id), stamp(at)))

    async def never(self, community: Community, ids: list[str]) -> set[frozenset[str]]:
        """Pairs among `ids` that must not meet: paired before, or one blocked the other."""
        known = set(ids)
        pairs = {frozenset((row["member_a"], row["member_b"])) for row in await self._db.fetchall(
            "SELECT member_a, member_b FROM pairing_pairs WHERE community = ?", (community.key,))
            if row["member_a"] in known and row["member_b"] in known}
        by_print = {fingerprint(community, i): i for i in ids}
        for row in await self._db.fetchall("SELECT member_id, blocked FROM pairing_blocks WHERE community = ?",
                                           (community.key,)):
            if row["member_id"] in known and row["blocked"] in by_print:
                pairs.add(frozenset((row["member_id"], by_print[row["blocked"]])))
        return pairs

    # -- rounds and pairs -------------------------------------------------------------------

    async def start_round(self, community: Community, at: datetime, started_by: str, members: int,
                          too_alike: int) -> int:
        """A round begins: its row, with no pairs yet (each batch of pairs adds itself, see `record_pairs`), and
        how many will be left out for want of a different enough partner."""
        return await self._db.insert("INSERT INTO pairing_rounds (community, at, started_by, members, pairs,"
                                     " too_alike) VALUES (?, ?, ?, ?, 0, ?)",
                                     (community.key, stamp(at), started_by, members, too_alike))

    async def record_pairs(self, tx: Transaction, community: Community, round_id: int,
                           pairs: list[tuple[Joined, Joined, float]], follow_up_at: datetime) -> list[int]:
        """Store some of a round's pairs, in `tx` (with their introductions); their ids, in order."""
        ids = []
        for a, b, gap in pairs:
            ids.append(await tx.insert(
                "INSERT INTO pairing_pairs (community, round_id, member_a, name_a, member_b, name_b, difference,"
                " follow_up_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (community.key, round_id, a.member_id, a.member_name, b.member_id, b.member_name, gap,
                 stamp(follow_up_at))))
        await tx.executemany("UPDATE pairing_members SET waiting_since = NULL WHERE community = ? AND member_id = ?",
                             [(community.key, m.member_id) for a, b, _ in pairs for m in (a, b)])
        await tx.execute("UPDATE pairing_rounds SET pairs = pairs + ? WHERE id = ?", (len(pairs), round_id))
        return ids

    async def left_out(self, tx: Transaction, community: Community, members: list[Joined], at: datetime) -> None:
        """Those a round could not pair are first in line next time (in `tx`, with what they are told)."""
        await tx.executemany("UPDATE pairing_members SET waiting_since = ? WHERE community = ? AND member_id = ?",
                             [(stamp(at), community.key, m.member_id) for m in members])

    async def pair(self, community: Community, pair_id: int) -> Pair | None:
        row = await self._db.fetchone(f"SELECT {_PAIR} FROM pairing_pairs WHERE community = ? AND id = ?",
                                      (community.key, pair_id))
        return Pair(**dict(row)) if row else None

    async def latest_pair(self, community: Community, member_id: str) -> Pair | None:
        row = await self._db.fetchone(f"SELECT {_PAIR} FROM pairing_pairs WHERE community = ? AND"
                                      " (member_a = ? OR member_b = ?) ORDER BY id DESC LIMIT 1",
                                      (community.key, member_id, member_id))
        return Pair(**dict(row)) if row else None

    async def due_follow_ups(self, now: datetime) -> list[tuple[str, Pair]]:
        rows = await self._db.fetchall(
            f"SELECT community, {_PAIR} FROM pairing_pairs WHERE follow_up_at <= ? AND asked < ? AND met_at IS NULL"
            " AND COALESCE(answer_a, '') != ? AND COALESCE(answer_b, '') != ?"
            " AND member_a != '' AND member_b != '' ORDER BY id",  # one of them erased their data: no asking
            (stamp(now), ASKS, WONT, WONT))
        return [(row["community"], Pair(**{k: row[k] for k in row.keys() if k != "community"})) for row in rows]

    async def mark_asked(self, tx: Transaction, community_key: str, pair: Pair, next_at: datetime) -> bool:
        """Count one more "Did you meet?" (with its messages, in `tx`); False if another run counted it first."""
        return bool(await tx.execute(
            "UPDATE pairing_pairs SET asked = asked + 1, follow_up_at = ? WHERE community = ? AND id = ? AND asked = ?",
            (stamp(next_at), community_key, pair.id, pair.asked)))

    async def answer(self, community: Community, pair: Pair, member: Member, answer: str,
                     at: datetime) -> tuple[Pair, list[DomainEvent]]:
        """A member's "Did you meet?"; when both said yes, `pairing.met` for each of them, once."""
        column = f"answer_{pair.side(member.id)}"
        async with self._db.transaction() as tx:
            await tx.execute(f"UPDATE pairing_pairs SET {column} = ? WHERE community = ? AND id = ? AND met_at IS NULL",
                             (answer, community.key, pair.id))
            row = await tx.fetchone(f"SELECT {_PAIR} FROM pairing_pairs WHERE id = ?", (pair.id,))
            now = Pair(**dict(row))
            events = []
            if now.met_at is None and now.answer_a == YES and now.answer_b == YES:
                await tx.execute("UPDATE pairing_pairs SET met_at = ? WHERE id = ?", (stamp(at), pair.id))
                for member_id, name in ((now.member_a, now.name_a), (now.member_b, now.name_b)):
                    events.append(await self._events.record(tx, "pairing.met", community,
                                                            Member(community.platform, member_id, name), pair=pair.id))
                now = Pair(**{**dict(row), "met_at": stamp(at)})
        return now, events

    async def rate(self, community: Community, pair: Pair, member_id: str, rating: int) -> None:
        await self._db.execute(f"UPDATE pairing_pairs SET rating_{pair.side(member_id)} = ? WHERE community = ?"
                               " AND id = ?", (rating, community.key, pair.id))

    async def rounds(self, community: Community, last: int = 12) -> list[dict[str, Any]]:
        """The last rounds, oldest first: members in, pairs, those left out for want of a different enough
        partner, met, average difference and rating."""
        rows = await self._db.fetchall(
            "SELECT r.id, r.at, r.members, r.pairs, r.too_alike, COUNT(p.met_at) AS met, AVG(p.difference) AS difference,"
            " (SELECT AVG(x) FROM (SELECT rating_a AS x FROM pairing_pairs WHERE round_id = r.id"
            "  UNION ALL SELECT rating_b FROM pairing_pairs WHERE round_id = r.id)) AS rating,"
            " (SELECT COUNT(x) FROM (SELECT rating_a AS x FROM pairing_pairs WHERE round_id = r.id"
            "  UNION ALL SELECT rating_b FROM pairing_pairs WHERE round_id = r.id)) AS ratings"
            " FROM pairing_rounds r LEFT JOIN pairing_pairs p ON p.round_id = r.id WHERE r.community = ?"
            " GROUP BY r.id ORDER BY r.id DESC LIMIT ?", (community.key, last))
        return [dict(row) for row in reversed(rows)]

    # -- a member's own data ----------------------------------------------------------------

    async def own_pairs(self, community: Community, member_id: str) -> list[dict[str, Any]]:
        """The member's pairs as they may see them: their partner, their own answers, never the other's."""
        rows = await self._db.fetchall("SELECT * FROM pairing_pairs WHERE community = ? AND (member_a = ? OR"
                                       " member_b = ?) ORDER BY id", (community.key, member_id, member_id))
        own = []
        for row in rows:
            side = "a" if row["member_a"] == member_id else "b"
            other = "b" if side == "a" else "a"
            own.append({"pair": row["id"], "round": row["round_id"], "paired_with": row[f"name_{other}"],
                        "did_you_meet": row[f"answer_{side}"], "how_it_went": row[f"rating_{side}"],
                        "met_at": row["met_at"]})
        return own

    async def forget_in_pairs(self, tx: Transaction, community: Community, member_id: str) -> None:
        """Empty the member's side of their pairs: the pair's counts stay, naming no one."""
        for side in ("a", "b"):
            await tx.execute(f"UPDATE pairing_pairs SET member_{side} = '', name_{side} = '' WHERE community = ? AND"
                             f" member_{side} = ?", (community.key, member_id))
