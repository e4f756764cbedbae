"""The pairing cog's SQL: who is in and their (private) answers, rounds, pairs, blocks."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import Channel, Community, Member
from bot.core.events import DomainEvent, EventBus
from bot.storage import Database, Transaction
from bot.values import stamp

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
    paused_until: str | None = None

    @classmethod
    def of(cls, row: Any) -> Joined:
        return cls(row["member_id"], row["member_name"], json.loads(row["views"]), row["timezone"],
                   json.loads(row["availability"]), json.loads(row["formats"]), row["town"], row["avoid"],
                   row["status"], row["waiting_since"] is not None, row["paused_until"])


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
    rating_a: int | None = None
    rating_b: int | None = None
    room: str = ""
    room_name: str = ""
    first_turn: int = 0
    ended_at: str | None = None
    concluded_at: str | None = None
    recording_a: str | None = None
    recording_b: str | None = None
    recording_agreed_at: str | None = None

    def side(self, member_id: str) -> str | None:
        """'a' or 'b' for a member of this pair, None for anyone else."""
        return "a" if member_id == self.member_a else "b" if member_id == self.member_b else None

    def other(self, member_id: str) -> tuple[str, str]:
        return (self.member_b, self.name_b) if self.side(member_id) == "a" else (self.member_a, self.name_a)

    def answer_of(self, member_id: str) -> str | None:
        return self.answer_a if self.side(member_id) == "a" else self.answer_b

    def rating_of(self, member_id: str) -> int | None:
        return self.rating_a if self.side(member_id) == "a" else self.rating_b

    def recording_of(self, member_id: str) -> str | None:
        return self.recording_a if self.side(member_id) == "a" else self.recording_b

    def people(self, platform: str) -> list[Member]:
        """Both of them, but anyone who erased their data."""
        return [Member(platform, member_id, name) for member_id, name in ((self.member_a, self.name_a),
                                                                          (self.member_b, self.name_b)) if member_id]

    @property
    def room_channel(self) -> Channel:
        return Channel(self.room, self.room_name)

    @property
    def closed(self) -> bool:
        """Nothing more to ask or suggest: they met, one of them said they won't, or ended it."""
        return self.met_at is not None or WONT in (self.answer_a, self.answer_b) or self.ended_at is not None


_PAIR = ("id, round_id, member_a, name_a, member_b, name_b, difference, asked, answer_a, answer_b, met_at, rating_a,"
         " rating_b, room, room_name, first_turn, ended_at, concluded_at, recording_a, recording_b,"
         " recording_agreed_at")


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
            await self._feeling_before(tx, community, member.id, answers.get("feeling"), at)
            if known is not None:
                await tx.execute("UPDATE pairing_members SET member_name = ?, submission_id = ?, views = ?,"
                                 " timezone = ?, availability = ?, formats = ?, town = ?, avoid = ?, status = ?,"
                                 " paused_until = NULL, silent = 0 WHERE community = ? AND member_id = ?",
                                 (*values, IN, community.key, member.id))
                return None
            await tx.execute("INSERT INTO pairing_members (community, member_id, member_name, submission_id, views,"
                             " timezone, availability, formats, town, avoid, status, joined_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (community.key, member.id, *values, IN, stamp(at)))
            return await self._events.record(tx, "pairing.joined", community, member)

    async def _feeling_before(self, tx: Transaction, community: Community, member_id: str, feeling: int | None,
                              at: datetime) -> None:
        """The pulse's answer when joining: kept (or changed, or taken back) until their first answer after a
        conversation, which it is then compared with."""
        if await tx.fetchone("SELECT 1 FROM pairing_pulse WHERE community = ? AND member_id = ? AND moment = 'after'"
                             " LIMIT 1", (community.key, member_id)):
            return
        await tx.execute("DELETE FROM pairing_pulse WHERE community = ? AND member_id = ? AND moment = 'before'",
                         (community.key, member_id))
        if feeling is not None:
            await tx.execute("INSERT INTO pairing_pulse (community, member_id, moment, pair_id, feeling, at)"
                             " VALUES (?, ?, 'before', 0, ?, ?)", (community.key, member_id, feeling, stamp(at)))

    async def feeling_before(self, community: Community, member_id: str) -> int | None:
        """Their answer to the pulse when joining, if they gave one."""
        return await self._db.fetchval("SELECT feeling FROM pairing_pulse WHERE community = ? AND member_id = ? AND"
                                       " moment = 'before'", (community.key, member_id))

    async def member(self, community: Community, member_id: str) -> Joined | None:
        row = await self._db.fetchone("SELECT * FROM pairing_members WHERE community = ? AND member_id = ?",
                                      (community.key, member_id))
        return Joined.of(row) if row else None

    async def set_status(self, community: Community, member_id: str, status: str, until: str | None = None) -> bool:
        """In or paused (until a day, or until they resume); False if nothing changed. Either way the count of
        introductions let pass starts again."""
        return bool(await self._db.execute(
            "UPDATE pairing_members SET status = ?, paused_until = ?, silent = 0 WHERE community = ? AND member_id = ?"
            # A changed status or day (`IS NOT ?` is SQLite's alone; no day is '' on both sides).
            " AND (status != ? OR COALESCE(paused_until, '') <> COALESCE(?, ''))",
            (status, until, community.key, member_id, status, until)))

    async def paused_until(self) -> list[tuple[str, Joined]]:
        """Every member paused until a day, in every community (a few: those who chose one)."""
        rows = await self._db.fetchall("SELECT * FROM pairing_members WHERE status = ? AND paused_until IS NOT NULL",
                                       (PAUSED,))
        return [(row["community"], Joined.of(row)) for row in rows]

    async def back(self, tx: Transaction, community_key: str, member: Joined) -> bool:
        """Their day has come: in the rounds again (in `tx`, with what they are told); False if they changed
        anything meanwhile."""
        return bool(await tx.execute(
            "UPDATE pairing_members SET status = ?, paused_until = NULL, silent = 0 WHERE community = ? AND"
            " member_id = ? AND status = ? AND paused_until = ?",
            (IN, community_key, member.member_id, PAUSED, member.paused_until)))
    async def leave(self, community: Community, member_id: str) -> bool:
        """Delete the member's answers. Their blocks and past pairs stay (so no one is paired again with
        someone they blocked or already met, should they join again)."""
        return bool(await self._db.execute("DELETE FROM pairing_members WHERE community = ? AND member_id = ?",
                                           (community.key, member_id)))

    async def exclude(self, community: Community, member_id: str, moderator: Member, at: datetime) -> bool:
        """Leave a member out of the rounds; False if they were already."""
        return bool(await self._db.execute("INSERT INTO pairing_exclusions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
        await self._db.execute("INSERT INTO pairing_blocks VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
                          too_alike: int, *, after: int) -> int | None:
        """A round begins: its row, with no pairs yet (each batch of pairs adds itself, see `record_pairs`), and
        how many will be left out for want of a different enough partner. None if the community's last round
        is no longer `after`: another process made one meanwhile."""
        async with self._db.transaction() as tx:
            await tx.lock(f"pairing:round:{community.key}")  # one round at a time per community, in every process
            if await tx.fetchval("SELECT COALESCE(MAX(id), 0) FROM pairing_rounds WHERE community = ?",
                                 (community.key,)) != after:
                return None
            return await tx.insert("INSERT INTO pairing_rounds (community, at, started_by, members, pairs,"
                                   " too_alike) VALUES (?, ?, ?, ?, 0, ?)",
                                   (community.key, stamp(at), started_by, members, too_alike))

    async def record_pairs(self, tx: Transaction, community: Community, round_id: int,
                           pairs: list[tuple[Joined, Joined, float]], follow_up_at: datetime, *, turn: int,
                           introduced: bool) -> list[int]:
        """Store some of a round's pairs, in `tx` (with their introductions, when `introduced`; else their rooms
        are to be opened first); their ids, in order."""
        ids = []
        for a, b, gap in pairs:
            ids.append(await tx.insert(
                "INSERT INTO pairing_pairs (community, round_id, member_a, name_a, member_b, name_b, difference,"
                " follow_up_at, first_turn, introduced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (community.key, round_id, a.member_id, a.member_name, b.member_id, b.member_name, gap,
                 stamp(follow_up_at), turn, int(introduced))))
        await tx.executemany("UPDATE pairing_members SET waiting_since = NULL WHERE community = ? AND member_id = ?",
                             [(community.key, m.member_id) for a, b, _ in pairs for m in (a, b)])
        await tx.execute("UPDATE pairing_rounds SET pairs = pairs + ? WHERE id = ?", (len(pairs), round_id))
        return ids

    async def left_out(self, tx: Transaction, community: Community, members: list[Joined], at: datetime) -> None:
        """Those a round could not pair are first in line next time (in `tx`, with what they are told)."""
        await tx.executemany("UPDATE pairing_members SET waiting_since = ? WHERE community = ? AND member_id = ?",
                             [(stamp(at), community.key, m.member_id) for m in members])

    async def pair(self, community: Community, pair_id: int, *, tx: Transaction | None = None) -> Pair | None:
        row = await (tx or self._db).fetchone(f"SELECT {_PAIR} FROM pairing_pairs WHERE community = ? AND id = ?",
                                              (community.key, pair_id))
        return Pair(**dict(row)) if row else None

    async def waiting_for_rooms(self, community: Community, limit: int = 50) -> list[Pair]:
        """Pairs whose introduction waits for their room, oldest first."""
        rows = await self._db.fetchall(f"SELECT {_PAIR} FROM pairing_pairs WHERE community = ? AND introduced = 0"
                                       " ORDER BY id LIMIT ?", (community.key, limit))
        return [Pair(**dict(row)) for row in rows]

    async def communities_waiting_for_rooms(self) -> list[str]:
        return [row["community"] for row in await self._db.fetchall(
            "SELECT DISTINCT community FROM pairing_pairs WHERE introduced = 0")]

    async def introduced(self, tx: Transaction, pair: Pair, room: str, room_name: str) -> bool:
        """The pair's introduction is queued (in `tx`), in its room or by DM ('');
        False if it was already."""
        return bool(await tx.execute("UPDATE pairing_pairs SET introduced = 1, room = ?, room_name = ? WHERE id = ?"
                                     " AND introduced = 0", (room, room_name, pair.id)))

    async def heard(self, tx: Transaction | None, community: Community, pair: Pair, member_id: str,
                    at: datetime) -> None:
        """A sign from a member about their pair (an answer, a button pressed): they took part, so the count of
        introductions they let pass starts again."""
        side = pair.side(member_id)
        if side is None:
            return
        runner = tx or self._db
        await runner.execute(f"UPDATE pairing_pairs SET heard_{side} = ? WHERE id = ?", (stamp(at), pair.id))
        await runner.execute("UPDATE pairing_members SET silent = 0 WHERE community = ? AND member_id = ?",
                             (community.key, member_id))

    async def end(self, tx: Transaction, pair: Pair, at: datetime) -> bool:
        return bool(await tx.execute("UPDATE pairing_pairs SET ended_at = ? WHERE id = ? AND ended_at IS NULL AND"
                                     " met_at IS NULL", (stamp(at), pair.id)))

    async def to_conclude(self, now: datetime) -> list[tuple[str, Pair, bool]]:
        """Pairs whose follow-up is over and not yet concluded: (community, pair, whether it ran out unanswered:
        asked as often as it is asked, and not answered by both)."""
        rows = await self._db.fetchall(
            f"SELECT community, {_PAIR}, (asked >= ? AND follow_up_at <= ?) AS ran_out FROM pairing_pairs"
            " WHERE concluded_at IS NULL AND introduced = 1 AND (met_at IS NOT NULL OR ended_at IS NOT NULL"
            " OR COALESCE(answer_a, '') = ? OR COALESCE(answer_b, '') = ? OR (asked >= ? AND follow_up_at <= ?)"
            " OR member_a = '' OR member_b = '') ORDER BY id",
            (ASKS, stamp(now), WONT, WONT, ASKS, stamp(now)))
        found = []
        for row in rows:
            pair = Pair(**{k: row[k] for k in row.keys() if k not in ("community", "ran_out")})
            found.append((row["community"], pair, bool(row["ran_out"]) and not pair.closed))
        return found

    async def silent_sides(self, pair: Pair) -> tuple[list[str], list[str]]:
        """Of the pair's members, those who gave no sign at all about it, and those who did."""
        row = await self._db.fetchone("SELECT heard_a, heard_b FROM pairing_pairs WHERE id = ?", (pair.id,))
        silent, heard = [], []
        for side, member_id, answer in (("a", pair.member_a, pair.answer_a), ("b", pair.member_b, pair.answer_b)):
            if member_id:
                (heard if answer is not None or row[f"heard_{side}"] else silent).append(member_id)
        return silent, heard

    async def conclude(self, tx: Transaction, community_key: str, pair: Pair, silent: list[str], at: datetime,
                       pause_after: int) -> list[Joined]:
        """The pair's follow-up is over (in `tx`, with what anyone is told): each member who gave no sign has let
        one more introduction pass; whoever reaches `pause_after` in a row, and is in, is paused. Returns those
        paused now; [] if another run concluded it first."""
        if not await tx.execute("UPDATE pairing_pairs SET concluded_at = ? WHERE id = ? AND concluded_at IS NULL",
                                (stamp(at), pair.id)):
            return []
        paused = []
        for member_id in silent:
            await tx.execute("UPDATE pairing_members SET silent = silent + 1 WHERE community = ? AND member_id = ?",
                             (community_key, member_id))
            row = await tx.fetchone("SELECT * FROM pairing_members WHERE community = ? AND member_id = ? AND"
                                    " silent >= ? AND status = ?", (community_key, member_id, pause_after, IN))
            if row is not None:
                await tx.execute("UPDATE pairing_members SET status = ?, paused_until = NULL WHERE community = ? AND"
                                 " member_id = ?", (PAUSED, community_key, member_id))
                paused.append(Joined.of(row))
        return paused

    async def rooms_to_close(self) -> list[tuple[str, Pair]]:
        rows = await self._db.fetchall(f"SELECT community, {_PAIR} FROM pairing_pairs WHERE concluded_at IS NOT NULL"
                                       " AND room != '' AND room_closed = 0 ORDER BY id")
        return [(row["community"], Pair(**{k: row[k] for k in row.keys() if k != "community"})) for row in rows]

    async def room_closed(self, pair: Pair) -> None:
        await self._db.execute("UPDATE pairing_pairs SET room_closed = 1 WHERE id = ?", (pair.id,))

    async def meet_at(self, tx: Transaction, pair: Pair, at: datetime) -> None:
        await tx.execute("UPDATE pairing_pairs SET meet_at = ? WHERE id = ?", (stamp(at), pair.id))

    async def latest_pair(self, community: Community, member_id: str) -> Pair | None:
        row = await self._db.fetchone(f"SELECT {_PAIR} FROM pairing_pairs WHERE community = ? AND"
                                      " (member_a = ? OR member_b = ?) ORDER BY id DESC LIMIT 1",
                                      (community.key, member_id, member_id))
        return Pair(**dict(row)) if row else None

    async def due_follow_ups(self, now: datetime) -> list[tuple[str, Pair]]:
        rows = await self._db.fetchall(
            f"SELECT community, {_PAIR} FROM pairing_pairs WHERE follow_up_at <= ? AND asked < ? AND met_at IS NULL"
            " AND ended_at IS NULL AND introduced = 1 AND COALESCE(answer_a, '') != ? AND COALESCE(answer_b, '') != ?"
            " AND member_a != '' AND member_b != '' ORDER BY id",  # one of them erased their data: no asking
            (stamp(now), ASKS, WONT, WONT))
        return [(row["community"], Pair(**{k: row[k] for k in row.keys() if k != "community"})) for row in rows]

    async def mark_asked(self, tx: Transaction, community_key: str, pair: Pair, next_at: datetime) -> bool:
        """Count one more "Did you meet?" (with its messages, in `tx`); False if another run counted it first."""
        return bool(await tx.execute(
            "UPDATE pairing_pairs SET asked = asked + 1, follow_up_at = ? WHERE community = ? AND id = ? AND asked = ?",
            (stamp(next_at), community_key, pair.id, pair.asked)))

    async def answer(self, tx: Transaction, community: Community, pair: Pair, member: Member, answer: str,
                     at: datetime) -> tuple[Pair, list[DomainEvent]]:
        """A member's "Did you meet?" (in `tx`, with what it makes happen); when both said yes, `pairing.met` for
        each of them, once."""
        column = f"answer_{pair.side(member.id)}"
        await tx.execute(f"UPDATE pairing_pairs SET {column} = ? WHERE community = ? AND id = ? AND met_at IS NULL",
                         (answer, community.key, pair.id))
        now = await self.pair(community, pair.id, tx=tx)
        events = []
        if now.met_at is None and now.answer_a == YES and now.answer_b == YES:
            await tx.execute("UPDATE pairing_pairs SET met_at = ? WHERE id = ?", (stamp(at), pair.id))
            for person in now.people(community.platform):
                events.append(await self._events.record(tx, "pairing.met", community, person, pair=pair.id))
            now = await self.pair(community, pair.id, tx=tx)
        return now, events

    async def rate(self, tx: Transaction, community: Community, pair: Pair, member_id: str, rating: int) -> None:
        await tx.execute(f"UPDATE pairing_pairs SET rating_{pair.side(member_id)} = ? WHERE community = ?"
                         " AND id = ?", (rating, community.key, pair.id))

    async def invite_to_record(self, tx: Transaction, pair: Pair, at: datetime, at_least: int) -> bool:
        """Both met and both rated it `at_least` or more, and they were not invited yet: they are now (in `tx`,
        with the invitations)."""
        return bool(await tx.execute(
            "UPDATE pairing_pairs SET recording_asked_at = ? WHERE id = ? AND met_at IS NOT NULL AND"
            " recording_asked_at IS NULL AND rating_a >= ? AND rating_b >= ? AND member_a != '' AND member_b != ''",
            (stamp(at), pair.id, at_least, at_least)))

    async def recording_answer(self, tx: Transaction, pair: Pair, member_id: str, answer: str,
                               at: datetime) -> Pair | None:
        """A member's answer to the invitation to record (in `tx`): the pair as it is now, or None when the
        question is settled already (both said yes, or one said no)."""
        side = pair.side(member_id)
        if not await tx.execute(
                f"UPDATE pairing_pairs SET recording_{side} = ? WHERE id = ? AND recording_asked_at IS NOT NULL AND"
                " recording_agreed_at IS NULL AND COALESCE(recording_a, '') != 'no' AND"
                " COALESCE(recording_b, '') != 'no'", (answer, pair.id)):
            return None
        await tx.execute("UPDATE pairing_pairs SET recording_agreed_at = ? WHERE id = ? AND recording_a = 'yes' AND"
                         " recording_b = 'yes'", (stamp(at), pair.id))
        row = await tx.fetchone(f"SELECT {_PAIR} FROM pairing_pairs WHERE id = ?", (pair.id,))
        return Pair(**dict(row))

    async def feeling_after(self, tx: Transaction, community: Community, pair: Pair, member_id: str, feeling: int,
                            at: datetime) -> None:
        await tx.execute("INSERT INTO pairing_pulse (community, member_id, moment, pair_id, feeling, at)"
                         " VALUES (?, ?, 'after', ?, ?, ?) ON CONFLICT (community, member_id, moment, pair_id)"
                         " DO UPDATE SET feeling = excluded.feeling, at = excluded.at",
                         (community.key, member_id, pair.id, feeling, stamp(at)))

    async def pulse(self, community: Community | None = None) -> dict[str, tuple[int, float]]:
        """By community: how many answered the thermometer both when joining and after a conversation, and the
        change in their average (each one's latest answer after, against their answer before)."""
        where = "AND b.community = ?" if community else ""
        rows = await self._db.fetchall(
            # AVG of whole numbers is a decimal on PostgreSQL: a float, as on SQLite.
            "SELECT b.community, COUNT(*) AS answered, CAST(AVG(a.feeling - b.feeling) AS DOUBLE PRECISION) AS change"
            " FROM pairing_pulse b"
            " JOIN pairing_pulse a ON a.community = b.community AND a.member_id = b.member_id AND a.moment = 'after'"
            " AND a.pair_id = (SELECT MAX(pair_id) FROM pairing_pulse l WHERE l.community = a.community AND"
            "  l.member_id = a.member_id AND l.moment = 'after')"
            f" WHERE b.moment = 'before' {where} GROUP BY b.community ORDER BY b.community",
            (community.key,) if community else ())
        return {row["community"]: (row["answered"], row["change"]) for row in rows}

    async def rounds(self, community: Community, last: int = 12) -> list[dict[str, Any]]:
        """The last rounds, oldest first: members in, pairs, those left out for want of a different enough
        partner, met, recordings agreed, average difference and rating."""
        rows = await self._db.fetchall(
            "SELECT r.id, r.at, r.members, r.pairs, r.too_alike, COUNT(p.met_at) AS met,"
            " COUNT(p.recording_agreed_at) AS recordings, AVG(p.difference) AS difference,"
            # AVG of whole numbers is a decimal on PostgreSQL: a float, as on SQLite.
            " (SELECT CAST(AVG(x) AS DOUBLE PRECISION) FROM (SELECT rating_a AS x FROM pairing_pairs"
            "  WHERE round_id = r.id UNION ALL SELECT rating_b FROM pairing_pairs WHERE round_id = r.id) AS given)"
            "  AS rating,"
            " (SELECT COUNT(x) FROM (SELECT rating_a AS x FROM pairing_pairs WHERE round_id = r.id"
            "  UNION ALL SELECT rating_b FROM pairing_pairs WHERE round_id = r.id) AS given) AS ratings"
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
                        "met_at": row["met_at"], "time_picked": row["meet_at"],
                        "record_together": row[f"recording_{side}"], "ended_at": row["ended_at"]})
        return own

    async def forget_in_pairs(self, tx: Transaction, community: Community, member_id: str) -> None:
        """Empty the member's side of their pairs: the pair's counts stay, naming no one."""
        for side in ("a", "b"):
            await tx.execute(f"UPDATE pairing_pairs SET member_{side} = '', name_{side} = '' WHERE community = ? AND"
                             f" member_{side} = ?", (community.key, member_id))
