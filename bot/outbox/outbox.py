"""The outbox: durable, de-duplicated delivery of messages that must not be lost or doubled.

An announcement to many channels, a reminder to each member going to an event, a notice to
a member whose direct messages are closed, a post in the thread under an announcement (a
`Thread`: kept as kind "thread", "<channel id>/<root message id>"): each recipient gets a row in `outbox` *before*
anything is sent, and the row is marked once its message was delivered. So

- a crash halfway through a fan-out resumes at the first recipient not yet marked;
- a batch reaches each channel or member once: its rows are unique per (batch, recipient),
  so queueing the same batch again (a job that runs twice, a retried command) adds nothing;
- a message that could not be delivered now is tried again later, and one whose moment
  passed (`expires_at`: a reminder for an event that has begun) is dropped, not sent late.

Delivery goes through each platform's adapter one message at a time. Rate limits are the
platform libraries' business (discord.py's buckets, slack-sdk's retry handlers); where an
adapter declares a sending rate, the outbox also paces itself to it (`bot.pace`, shared by every
process of the bot on PostgreSQL), so that a fan-out to a thousand channels stays under the limit
instead of running into it.

Several processes may deliver from one (PostgreSQL) database. Each claims the rows it sends, a few at a
time (`FOR UPDATE SKIP LOCKED`: the others pass over them and claim the next ones), for a lease
(`bot.outbox_lease_seconds`) longer than a send may take; just before each send it checks that the row
is still its own. So a message is sent by one process, and the rows of a process that died (killed, its
machine lost) are anybody's once its lease has ended. New rows wake the other processes (`LISTEN/NOTIFY`).
What is queued for a member while this process answers them (the badge a command earned) is held from the
other processes until the answer is given, so that it never arrives before the answer.
Should the connection that listens be lost (the server restarted, an administrator ended it), it is opened
again after a pause that grows to `LOOK_WHILE_DEAF`, and meanwhile the outbox looks for due rows that often,
so nothing another process queued waits for the next periodic look.

A member whose DMs were closed is tried again the next time they use the bot. A crash *while* a
message is on its way leaves its outcome unknown: the platform may have taken it before the row was
marked. So each delivery carries a key of its own, the same on every attempt (`Delivery`), and the
moment an attempt began is written first: Discord recognises the key as the message's nonce and
returns what it already posted; the Slack adapter looks for a message with that key in the
conversation's recent history before posting again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable

from bot.core.adapter import Delivery
from bot.core.context import Channel, Community, Member, Thread
from bot.core.errors import ChannelUnavailable, MemberUnreachable
from bot.core.message import Message
from bot.pace import Pace
from bot.storage import StorageError, Transaction
from bot.values import stamp

if TYPE_CHECKING:
    from bot.core.adapter import Adapter
    from bot.app.bot import Bot

log = logging.getLogger(__name__)

PENDING, SENT, UNREACHABLE, FAILED, EXPIRED, WITHDRAWN = (
    "pending", "sent", "unreachable", "failed", "expired", "withdrawn")
# After a failure that may pass (a network error, a server error): wait, then try again.
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
# A channel closed to the bot (a permission taken away, a moderators' channel not set up yet): the message
# waits for someone to fix it, tried again at these intervals, for about a day and a half, then gives up.
CLOSED_CHANNEL_RETRY = (timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6), timedelta(days=1))
CLAIM = 20  # rows a process claims at a time: the next ones are left for the others meanwhile
WAKE = "smallstep_outbox"  # notified when rows are queued or a member's DMs are to be tried again
FILES = "outbox:files"  # the lock taken to queue messages with files (shared), and to tidy the files (alone)
HEARING = "outbox wake-ups"  # how listening again is named in the log and in `smallstep status`
LOOK_WHILE_DEAF = 5  # seconds: while not listening, due rows are looked for this often, and listening tried again


@dataclass(frozen=True)
class Posted:
    """A message the outbox delivered (or tried to), and where."""

    target_kind: str
    target_id: str
    target_name: str
    status: str
    message_id: str | None
    problem: str | None

    @property
    def channel(self) -> Channel:
        return Channel(self.target_id, self.target_name)


def _target(kind: str, target_id: str, name: str, platform: str) -> Channel | Member | Thread:
    if kind == "thread":  # kept as "<channel id>/<root message id>", named by the thread's name
        channel_id, _, root = target_id.partition("/")
        return Thread(Channel(channel_id, channel_id), root, name)
    return Channel(target_id, name) if kind == "channel" else Member(platform, target_id, name)


def _row_target(to: Channel | Member | Thread) -> tuple[str, str, str]:
    """How a recipient is kept in a row of the outbox: its kind, its id and its name."""
    if isinstance(to, Member):
        return "member", to.id, to.display_name
    if isinstance(to, Thread):
        return "thread", recipient_id(to), to.name
    return "channel", to.id, to.name


def recipient_id(to: Channel | Member | Thread) -> str:
    """A recipient's `target_id` in the outbox (and in `Posted`)."""
    return f"{to.channel.id}/{to.root}" if isinstance(to, Thread) else to.id


class Outbox:
    """Queue messages with `put`; they are delivered in the background, in the order queued."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._db = bot.db
        self._clock = bot.clock
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._again = False
        self._stopping = False
        self._pausing = False  # after a failed run, waiting to try again
        # (community key, member id) with messages waiting for their DMs to open: read from the
        # database at start, so checking on every command costs no query.
        self._waiting: set[tuple[str, str]] = set()
        # Members whose command is being handled right now: their DMs wait until it has answered,
        # so "thank you" comes before the badge it earned.
        self._answering: dict[tuple[str, str], int] = {}
        self._held: set[tuple[str, str]] = set()  # of those, the ones a delivery had to pass over
        # Of those, the ones whose messages queued meanwhile this process holds (claims) from the other processes
        # of a shared database, which know nothing of the answer: let go once it is given.
        self._kept: set[tuple[str, str]] = set()
        # Members whose held messages were let go (by this process or another) while a delivery pass was under way:
        # that pass may have moved past the first of them, so it passes over the rest; the next pass sends them all,
        # in order.
        self._freed: set[tuple[str, str]] = set()
        self._paces: dict[str, Pace] = {}
        # Who claims rows: this process (its host and pid, for an operator reading the table; and a random part,
        # since a pid comes back after a restart).
        self.claimant = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = timedelta(seconds=bot.config.bot.outbox_lease_seconds)
        self._wake_at: asyncio.TimerHandle | None = None
        self._hearing: asyncio.Task | None = None  # listening again, after the connection that listens was lost

    async def start(self) -> None:
        await self._read_waiting()
        await self._release_the_departed()
        await self._db.listen(WAKE, self._woken, self._deaf)

    async def _read_waiting(self) -> None:
        rows = await self._db.fetchall(
            "SELECT DISTINCT community, target_id FROM outbox WHERE status = ? AND target_kind = 'member'",
            (UNREACHABLE,))
        self._waiting = {(row["community"], row["target_id"]) for row in rows}

    def _deaf(self) -> None:
        """The connection that hears the other processes was lost: listen again, looking for work meanwhile."""
        if self._stopping:
            return
        log.warning("outbox: lost the database connection that hears of new messages; looking for them every %d s"
                    " until it is open again", LOOK_WHILE_DEAF)
        self._hearing = asyncio.create_task(self._hear_again(), name=HEARING)

    async def _hear_again(self) -> None:
        loops = self._bot.loops
        while True:
            self.kick()  # what another process queued meanwhile is found by looking
            await asyncio.sleep(min(LOOK_WHILE_DEAF, loops.backoff(HEARING)))
            if await loops.attempt(HEARING, self._listen_again):
                log.info("outbox: hears of new messages again")
                return

    async def _listen_again(self) -> None:
        await self._read_waiting()  # a member's closed DMs, told while nobody listened
        await self._db.listen(WAKE, self._woken, self._deaf)  # last: once it listens, this attempt has worked
        self.kick()

    async def _release_the_departed(self) -> None:
        """Messages held by a process of this machine that is gone (this one's earlier life, before a crash or a
        kill) are let go at once, rather than when their lease ends: a bot started again sends them now."""
        host, pid = socket.gethostname(), os.getpid()
        for row in await self._db.fetchall("SELECT DISTINCT claimed_by FROM outbox WHERE status = ? AND"
                                           " claimed_until IS NOT NULL", (PENDING,)):
            claimant = row["claimed_by"]
            their_host, their_pid, _ = (claimant.rsplit(":", 2) + ["", ""])[:3]
            if their_host == host and their_pid.isdigit() and (int(their_pid) == pid or not _alive(int(their_pid))):
                await self._db.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?"
                                       " AND status = ?", (claimant, PENDING))

    def _woken(self, payload: str) -> None:
        """Another process queued messages ("" ), found a member's DMs closed ("closed <community> <member>"), or
        let go of the messages it held while it answered a member ("freed <community> <member>")."""
        kind, _, rest = payload.partition(" ")
        if kind == "closed":
            community, _, member_id = rest.partition(" ")
            self._waiting.add((community, member_id))
        elif kind == "freed":
            community, _, member_id = rest.partition(" ")
            self._freed.add((community, member_id))
            self.kick()
        elif kind != self.claimant:
            self.kick()

    async def close(self, timeout: float = 10) -> None:
        """Stop delivering after the message on its way (so it is marked, not sent again at the next
        start); what is not yet sent stays queued. A delivery stuck longer than `timeout` is cancelled."""
        self._stopping = True
        if self._wake_at is not None:
            self._wake_at.cancel()
        if self._hearing is not None:
            self._hearing.cancel()
        if self._task is not None and not self._task.done():
            if self._pausing:  # nothing on its way: no need to wait out the pause
                self._task.cancel()
            done, _ = await asyncio.wait({self._task}, timeout=timeout)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    # -- queueing --------------------------------------------------------------------

    async def put(self, community: Community, batch: str, items: Iterable[tuple[Channel | Member | Thread, Message]], *,
                  not_before: datetime | None = None, expires_at: datetime | None = None,
                  tx: Transaction | None = None) -> int:
        """Queue one message per recipient under `batch`; returns how many were new.

        A recipient already queued under the same batch is left as it is, delivered or not.
        `not_before`: not delivered before then (a reminder an hour before a time); it waits in the database.
        Given `tx`, the messages are queued inside the caller's transaction: with the change that
        calls for them, or not at all.
        """
        now = stamp(self._clock.now())
        due = stamp(not_before) if not_before else now
        files: dict[str, bytes] = {}
        stored: dict[int, str] = {}  # one JSON per distinct Message object: a fan-out shares one
        held_until = stamp(self._lease_clock() + self.lease)
        rows = []
        for to, message in items:
            if id(message) not in stored:
                stored[id(message)] = json.dumps(message.to_json(keep=lambda data: _kept(data, files)))
            kind, target_id, name = _row_target(to)
            # For a member this process is answering, held from the other processes until the answer is given.
            held = self._db.shared and kind == "member" and (community.key, target_id) in self._answering
            if held:
                self._kept.add((community.key, target_id))
            rows.append((community.key, community.platform, batch, kind, target_id, name, stored[id(message)],
                         PENDING, due, stamp(expires_at) if expires_at else None, now,
                         self.claimant if held else None, held_until if held else None))
        if not rows:
            return 0
        if tx is None:
            async with self._db.transaction() as own:
                queued = await self._insert(own, community, files, rows)
            self.kick()
        else:
            queued = await self._insert(tx, community, files, rows)
            tx.after_commit(self.kick)  # delivered once they are there to read
        return queued

    async def _insert(self, tx: Transaction, community: Community, files: dict[str, bytes], rows: list[tuple]) -> int:
        await tx.notify(WAKE, self.claimant)  # the other processes claim their share
        if files:
            await tx.lock(FILES, shared=True)  # see forget_delivered_files
            await tx.executemany("INSERT INTO outbox_files (community, hash, data) VALUES (?, ?, ?)"
                                 " ON CONFLICT DO NOTHING", [(community.key, digest, blob) for digest, blob in files.items()])
        return await tx.executemany(
            "INSERT INTO outbox (community, platform, batch, target_kind, target_id, target_name, message, status,"
            " not_before, expires_at, created_at, claimed_by, claimed_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING", rows)

    async def withdraw(self, community: Community, batch: str, *, prefix: bool = False,
                       tx: Transaction | None = None) -> int:
        """Take back what a batch (or every batch starting with `batch`) has not delivered yet:
        the reminders of an event that was cancelled are never sent. Given `tx`, with the change
        that calls for it."""
        where = "batch LIKE ? ESCAPE '\\'" if prefix else "batch = ?"
        return await (tx or self._db).execute(
            f"UPDATE outbox SET status = ? WHERE community = ? AND {where} AND status IN (?, ?)",
            (WITHDRAWN, community.key, _like(batch) if prefix else batch, PENDING, UNREACHABLE))

    # -- reading back -----------------------------------------------------------------

    async def posts(self, community: Community, batch: str, *, prefix: bool = False) -> list[Posted]:
        """Every recipient of a batch (or of every batch starting with `batch`), with what became of its
        message (in the order queued)."""
        where = "batch LIKE ? ESCAPE '\\'" if prefix else "batch = ?"
        rows = await self._db.fetchall(
            "SELECT target_kind, target_id, target_name, status, message_id, problem FROM outbox"
            f" WHERE community = ? AND {where} ORDER BY id", (community.key, _like(batch) if prefix else batch))
        return [Posted(r["target_kind"], r["target_id"], r["target_name"], r["status"], r["message_id"],
                       r["problem"]) for r in rows]

    async def forget_delivered_files(self) -> int:
        """Delete the images and files no message still waiting needs; returns how many went."""
        async with self._db.transaction() as tx:
            # No message that needs a file is being queued meanwhile: it could find the file here, then lose it.
            await tx.lock(FILES)
            kept = [(row[0], row[1]) for row in await tx.fetchall("SELECT community, hash FROM outbox_files")]
            if not kept:
                return 0
            needed = set()
            for row in await tx.fetchall(
                    "SELECT community, message FROM outbox WHERE status IN (?, ?) AND message NOT LIKE ?",
                    (PENDING, UNREACHABLE, '%"images": [], "files": []%')):  # only messages that carry some
                data = json.loads(row["message"])
                needed.update((row["community"], item[1]) for kind in ("images", "files") for item in data[kind])
            return await tx.executemany("DELETE FROM outbox_files WHERE community = ? AND hash = ?",
                                        [key for key in kept if key not in needed])

    async def pending(self) -> int:
        """Messages still to deliver, in every community (for `smallstep status`)."""
        return await self._db.fetchval("SELECT COUNT(*) FROM outbox WHERE status IN (?, ?)", (PENDING, UNREACHABLE))

    # -- delivering -------------------------------------------------------------------

    def kick(self) -> None:
        """Deliver what is due, in the background (one delivery run at a time); nothing in a process without
        background work (`Bot.background`), whose messages another process (`smallstep worker`) delivers."""
        if self._stopping or not self._bot.background:
            return
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="outbox")

    async def idle(self) -> None:
        """Wait until the background delivery has nothing left to do now (the console waits after each line),
        or is pausing after a failure (the database is locked, say): then it is tried again later."""
        while (task := self._task) is not None and not task.done() and not self._pausing:
            await asyncio.wait({task}, timeout=0.05)
        if task is not None and task.done() and not task.cancelled():
            task.result()  # a run that died of something no attempt catches says so here

    def answering(self, community: Community, member: Member) -> _Answering:
        """While the bot answers a member's command (`async with outbox.answering(...)`), messages queued for that
        member wait; then they go."""
        return _Answering(self, (community.key, member.id))

    def _answering_begins(self, key: tuple[str, str]) -> None:
        self._answering[key] = self._answering.get(key, 0) + 1

    async def _answering_ends(self, key: tuple[str, str]) -> None:
        self._answering[key] -= 1
        if not self._answering[key]:
            del self._answering[key]
            if key in self._kept:
                self._kept.discard(key)
                await self._let_go(key)
            if key in self._held:  # only then is there something to send them now
                self._held.discard(key)
                self.kick()

    async def _let_go(self, key: tuple[str, str]) -> None:
        """The messages held for a member while this process answered them are anybody's now: the other processes
        are woken to send them (this one too, if it delivers)."""
        self._freed.add(key)  # before they can be claimed
        try:
            async with self._db.transaction() as tx:
                # Never one ever tried: a send of this process's own pass may be on its way (it keeps its claim
                # while it sends), and no other process may take a message whose send may still land.
                if await tx.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE community = ?"
                                    " AND target_kind = 'member' AND target_id = ? AND claimed_by = ? AND status = ?"
                                    " AND tried_at IS NULL", (*key, self.claimant, PENDING)):
                    await tx.notify(WAKE, f"freed {key[0]} {key[1]}")
        except StorageError as exc:  # the answer was given: what it queued goes when the hold's lease ends
            log.warning("outbox: could not let go of the messages held while a member was answered; they go when"
                        " the hold ends (%s): %s", self.lease, exc)
        self.kick()

    async def member_active(self, community: Community, member: Member) -> None:
        """A member used the bot: whatever could not reach their DMs is tried again now."""
        key = (community.key, member.id)
        if key not in self._waiting:
            return
        self._waiting.discard(key)
        async with self._db.transaction() as tx:
            if await tx.execute(
                    "UPDATE outbox SET status = ?, not_before = ?, claimed_by = NULL, claimed_until = NULL"
                    " WHERE community = ? AND target_kind = 'member' AND target_id = ? AND status = ?",
                    (PENDING, stamp(self._clock.now()), community.key, member.id, UNREACHABLE)):
                await tx.notify(WAKE)  # sent by whichever process serves the platform
        self.kick()

    async def _run(self) -> None:
        loops = self._bot.loops
        while self._again and not self._stopping:
            self._again = False
            with self._bot.watchdog.doing("outbox delivery"):
                delivered = await loops.attempt("outbox", self.deliver_due)
            if not delivered:  # the database, most likely: the rows wait, and are tried again after a pause
                self._again = True
                self._pausing = True
                try:
                    await asyncio.sleep(loops.backoff("outbox"))
                finally:
                    self._pausing = False

    async def deliver_due(self) -> int:
        """Deliver every message that is due on a platform being served, in the order queued (one pass;
        a message for a member being answered right now is left for the pass after); returns how many
        were sent. Rows are claimed a few at a time, so that other processes take their share meanwhile."""
        sent = last = 0
        passed_over: set[tuple[str, str]] = set()  # members whose messages wait: their later ones wait too
        async with self._lock:
            self._freed.clear()  # this pass starts from the first message: it sees theirs in order
            try:
                while True:
                    platforms = sorted(self._bot.adapters)
                    if not platforms:
                        return sent
                    rows = await self._claim(platforms, last)
                    if not rows:
                        await self._wake_when_released(platforms)
                        return sent
                    for index, row in enumerate(rows):
                        if self._stopping:
                            await self._release([r["id"] for r in rows[index:]])
                            return sent
                        last = row["id"]
                        member_key = (row["community"], row["target_id"])
                        if row["target_kind"] == "member" and (member_key in self._answering or member_key in
                                                               passed_over or member_key in self._freed):
                            # Once one is passed over, so are the rest of this pass: an answer that ends
                            # meanwhile must not let a later message overtake the one that waited (nor one
                            # held meanwhile and let go behind this pass).
                            passed_over.add(member_key)
                            self._held.add(member_key)
                            await self._release([row["id"]])
                            continue
                        sent += await self._deliver(row)
            except asyncio.CancelledError:
                if last:  # stopped in the middle: what it claimed and did not send is the others' at once
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self._release_mine(last))
                raise

    @staticmethod
    def _lease_clock() -> datetime:
        """Leases are counted in real time, whatever the bot's clock says (a test's, a console's `:clock`):
        every process must agree on them."""
        return datetime.now(timezone.utc)

    async def _claim(self, platforms: list[str], after: int) -> list[Any]:
        """The next due rows (ids past `after`) that no living process holds, made this process's for a lease."""
        marks = ", ".join("?" for _ in platforms)
        now = self._lease_clock()
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                f"SELECT * FROM outbox WHERE status = ? AND platform IN ({marks}) AND not_before <= ? AND id > ?"
                f" AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT {CLAIM}" + tx.skip_locked,
                (PENDING, *platforms, stamp(self._clock.now()), after, stamp(now)))
            if rows:
                marks = ", ".join("?" for _ in rows)
                await tx.execute(f"UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ({marks})",
                                 (self.claimant, stamp(now + self.lease), *(row["id"] for row in rows)))
        return rows

    async def _release(self, ids: list[int]) -> None:
        if ids:
            marks = ", ".join("?" for _ in ids)
            await self._db.execute(f"UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id IN ({marks})"
                                   " AND claimed_by = ? AND status = ?", (*ids, self.claimant, PENDING))

    async def _release_mine(self, after: int) -> None:
        await self._db.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?"
                               " AND status = ? AND id >= ?", (self.claimant, PENDING, after))

    async def _wake_when_released(self, platforms: list[str]) -> None:
        """Due rows another process holds are delivered here if its lease ends first (that process died): a run
        is planned for that moment."""
        marks = ", ".join("?" for _ in platforms)
        until = await self._db.fetchval(
            f"SELECT MIN(claimed_until) FROM outbox WHERE status = ? AND platform IN ({marks}) AND not_before <= ?"
            " AND claimed_by <> ?", (PENDING, *platforms, stamp(self._clock.now()), self.claimant))
        if until is None or self._stopping:
            return
        if self._wake_at is not None:
            self._wake_at.cancel()
        delay = (datetime.fromisoformat(until) - self._lease_clock()).total_seconds() + 0.1
        self._wake_at = asyncio.get_running_loop().call_later(max(0.5, delay), self.kick)

    async def _deliver(self, row: Any) -> int:
        adapter = self._bot.adapters[row["platform"]]
        now = self._clock.now()
        if row["expires_at"] and row["expires_at"] <= stamp(now):
            await self._mark(row, EXPIRED)
            return 0
        community = Community.from_key(row["community"])
        target = _target(row["target_kind"], row["target_id"], row["target_name"], community.platform)
        data = json.loads(row["message"])
        kept = {item[1] for kind in ("images", "files") for item in data[kind]}
        blobs = {digest: await self._db.fetchval("SELECT data FROM outbox_files WHERE community = ? AND hash = ?",
                                                 (row["community"], digest)) for digest in kept}
        message = Message.from_json(data, fetch=blobs.__getitem__)
        delivery = Delivery(delivery_key(row), datetime.fromisoformat(row["tried_at"]) if row["tried_at"] else None)
        try:
            # Written before the platform is asked: should this attempt never be marked, the next one knows.
            # The earliest attempt whose outcome is unknown is kept: a later one that also failed without an
            # answer must not hide it (Slack looks for the message from that moment on).
            # Still this process's (its lease did not run out, nobody withdrew it), and the lease runs from now.
            if not await self._db.execute(
                    "UPDATE outbox SET tried_at = COALESCE(tried_at, ?), claimed_until = ? WHERE id = ?"
                    " AND claimed_by = ? AND status = ?",
                    (stamp(now), stamp(self._lease_clock() + self.lease), row["id"], self.claimant, PENDING)):
                return 0
            await self._wait_for_turn(adapter)  # last, right before the request: its moment is the one it keeps
            # Given up well within the lease, so no other process can take the row while this send may still land
            # (an attempt given up is an unknown outcome, looked for by the next one).
            async with asyncio.timeout(self.lease.total_seconds() / 2):
                message_id = await adapter.send(community, target, message, delivery=delivery)
        except MemberUnreachable as exc:  # the platform refused it: this attempt posted nothing
            self._waiting.add((row["community"], row["target_id"]))
            await self._mark(row, UNREACHABLE, problem=str(exc), refused=delivery.tried_at is None,
                             closed=f"closed {row['community']} {row['target_id']}")
            return 0
        except ChannelUnavailable as exc:
            attempts = row["attempts"] + 1
            refused = delivery.tried_at is None
            if attempts > len(CLOSED_CHANNEL_RETRY):
                log.error("outbox: gave up on %s in %s (%s) after %d attempts: %s", _logged_kind(row),
                          row["target_name"], row["community"], attempts, exc)
                await self._mark(row, FAILED, problem=str(exc), attempts=attempts, refused=refused)
            else:
                log.warning("outbox: cannot post %s in %s (%s): %s; trying again in %s", _logged_kind(row),
                            row["target_name"], row["community"], exc, CLOSED_CHANNEL_RETRY[attempts - 1])
                await self._mark(row, PENDING, problem=str(exc), attempts=attempts, refused=refused,
                                 not_before=now + CLOSED_CHANNEL_RETRY[attempts - 1])
            return 0
        except Exception as exc:
            attempts = row["attempts"] + 1
            if attempts > len(RETRY_AFTER):
                log.error("outbox: gave up on %s to %s after %d attempts: %s", _logged_kind(row), _logged_target(row),
                          attempts, exc)
                await self._mark(row, FAILED, problem=str(exc), attempts=attempts)
            else:
                log.warning("outbox: %s to %s failed (%s); trying again in %s", _logged_kind(row), _logged_target(row),
                            exc, RETRY_AFTER[attempts - 1])
                await self._mark(row, PENDING, problem=str(exc), attempts=attempts,
                                 not_before=now + RETRY_AFTER[attempts - 1])
            return 0
        await self._mark(row, SENT, message_id=message_id, sent_at=now)
        return 1

    async def _mark(self, row: Any, status: str, *, problem: str | None = None, message_id: str | None = None,
                    attempts: int | None = None, not_before: datetime | None = None,
                    sent_at: datetime | None = None, refused: bool = False, closed: str = "") -> None:
        """Record what became of an attempt. `refused`: the platform said no to the first attempt, so
        nothing was posted, and a later attempt need not look for an earlier post. A message to try again
        is let go (any process takes it when it is due); one that is done keeps the name of the process that
        delivered it. `closed`: the member's DMs were closed, which every process is told."""
        sql = ("UPDATE outbox SET status = ?, problem = ?, message_id = ?, attempts = ?, not_before = ?, sent_at = ?,"
               " tried_at = CASE WHEN ? THEN NULL ELSE tried_at END,"
               " claimed_until = NULL, claimed_by = CASE WHEN ? THEN NULL ELSE claimed_by END WHERE id = ?")
        params = (status, problem, message_id, row["attempts"] if attempts is None else attempts,
                  stamp(not_before) if not_before else row["not_before"], stamp(sent_at) if sent_at else None, refused,
                  status in (PENDING, UNREACHABLE), row["id"])
        if not closed:
            await self._db.execute(sql, params)
            return
        async with self._db.transaction() as tx:
            await tx.execute(sql, params)
            await tx.notify(WAKE, closed)

    async def _wait_for_turn(self, adapter: Adapter) -> None:
        rate = adapter.send_rate
        if not rate:
            return
        if adapter.platform not in self._paces:
            self._paces[adapter.platform] = Pace(self._db, adapter.platform, rate)
        await self._paces[adapter.platform].wait()


def _alive(pid: int) -> bool:
    """Whether a process of this machine is running (or a process has its pid now, which is as good: wait)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _logged_kind(row: Any) -> str:
    """What a message is, for the log: its batch's first word (`badges`), since the rest of a batch may
    name a member (`badges:step-1:<member id>:...`), which the log never does."""
    return f"a {row['batch'].split(':', 1)[0]} message"


def _logged_target(row: Any) -> str:
    return {"member": "a member", "thread": "a thread"}.get(row["target_kind"], f"#{row['target_name']}")


def delivery_key(row: Any) -> str:
    """A key for one outbox row, the same on every attempt and unlike any other row's (ids alone could
    come back after rows are deleted): 25 hex digits, which is as long as Discord's nonce may be."""
    origin = f"{row['community']}|{row['id']}|{row['batch']}|{row['target_kind']}:{row['target_id']}|{row['created_at']}"
    return hashlib.sha256(origin.encode()).hexdigest()[:25]


def _like(prefix: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for every batch name starting with `prefix`."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _kept(data: bytes, files: dict[str, bytes]) -> str:
    """An image's or file's bytes, set aside in `files` under their hash, which is written instead."""
    digest = hashlib.sha256(data).hexdigest()
    files[digest] = data
    return digest


class _Answering:
    """The block of `Outbox.answering`. A class, not an async generator: it wraps every command and every answer
    in a form, and an async generator's block costs six times as much."""

    __slots__ = ("_outbox", "_key")

    def __init__(self, outbox: Outbox, key: tuple[str, str]) -> None:
        self._outbox = outbox
        self._key = key

    async def __aenter__(self) -> None:
        self._outbox._answering_begins(self._key)

    async def __aexit__(self, *exc: Any) -> None:
        await self._outbox._answering_ends(self._key)
