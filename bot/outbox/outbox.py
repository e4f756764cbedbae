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
adapter declares a sending rate, the outbox also paces itself to it (aiolimiter), so that a
fan-out to a thousand channels stays under the limit instead of running into it.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterable

from aiolimiter import AsyncLimiter

from bot.core.adapter import Delivery
from bot.core.context import Channel, Community, Member, Thread
from bot.core.errors import ChannelUnavailable, MemberUnreachable
from bot.core.message import Message
from bot.storage import Transaction
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
CHUNK = 200  # rows read at a time while delivering


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
        self._limiters: dict[str, AsyncLimiter] = {}
        # (community key, member id) with messages waiting for their DMs to open: read from the
        # database at start, so checking on every command costs no query.
        self._waiting: set[tuple[str, str]] = set()
        # Members whose command is being handled right now: their DMs wait until it has answered,
        # so "thank you" comes before the badge it earned.
        self._answering: dict[tuple[str, str], int] = {}
        self._held: set[tuple[str, str]] = set()  # of those, the ones a delivery had to pass over

    async def start(self) -> None:
        rows = await self._db.fetchall(
            "SELECT DISTINCT community, target_id FROM outbox WHERE status = ? AND target_kind = 'member'",
            (UNREACHABLE,))
        self._waiting = {(row["community"], row["target_id"]) for row in rows}

    async def close(self, timeout: float = 10) -> None:
        """Stop delivering after the message on its way (so it is marked, not sent again at the next
        start); what is not yet sent stays queued. A delivery stuck longer than `timeout` is cancelled."""
        self._stopping = True
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
        rows = []
        for to, message in items:
            if id(message) not in stored:
                stored[id(message)] = json.dumps(message.to_json(keep=lambda data: _kept(data, files)))
            rows.append((community.key, community.platform, batch, *_row_target(to), stored[id(message)],
                         PENDING, due, stamp(expires_at) if expires_at else None, now))
        if not rows:
            return 0
        if tx is None:
            async with self._db.transaction() as own:
                queued = await self._insert(own, community, files, rows)
        else:
            queued = await self._insert(tx, community, files, rows)
        self.kick()  # its run waits for the transaction to end before it reads
        return queued

    @staticmethod
    async def _insert(tx: Transaction, community: Community, files: dict[str, bytes], rows: list[tuple]) -> int:
        if files:
            await tx.executemany("INSERT OR IGNORE INTO outbox_files (community, hash, data) VALUES (?, ?, ?)",
                                 [(community.key, digest, blob) for digest, blob in files.items()])
        return await tx.executemany(
            "INSERT OR IGNORE INTO outbox (community, platform, batch, target_kind, target_id, target_name,"
            " message, status, not_before, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

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
        waiting = ("SELECT outbox.community || ' ' || json_extract(item.value, '$[1]') FROM outbox,"
                   " json_each(outbox.message, '$.{kind}') AS item WHERE outbox.status IN ('pending', 'unreachable')")
        return await self._db.execute(
            f"DELETE FROM outbox_files WHERE community || ' ' || hash NOT IN ({waiting.format(kind='images')}"
            f" UNION {waiting.format(kind='files')})")

    async def pending(self) -> int:
        """Messages still to deliver, in every community (for `smallstep status`)."""
        return await self._db.fetchval("SELECT COUNT(*) FROM outbox WHERE status IN (?, ?)", (PENDING, UNREACHABLE))

    # -- delivering -------------------------------------------------------------------

    def kick(self) -> None:
        """Deliver what is due, in the background (one delivery run at a time)."""
        if self._stopping:
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

    @contextlib.asynccontextmanager
    async def answering(self, community: Community, member: Member) -> AsyncIterator[None]:
        """While the bot answers a member's command, messages queued for that member wait; then they go."""
        key = (community.key, member.id)
        self._answering[key] = self._answering.get(key, 0) + 1
        try:
            yield
        finally:
            self._answering[key] -= 1
            if not self._answering[key]:
                del self._answering[key]
                if key in self._held:  # only then is there something to send them now
                    self._held.discard(key)
                    self.kick()

    async def member_active(self, community: Community, member: Member) -> None:
        """A member used the bot: whatever could not reach their DMs is tried again now."""
        key = (community.key, member.id)
        if key not in self._waiting:
            return
        self._waiting.discard(key)
        await self._db.execute(
            "UPDATE outbox SET status = ?, not_before = ? WHERE community = ? AND target_kind = 'member'"
            " AND target_id = ? AND status = ?", (PENDING, stamp(self._clock.now()), community.key, member.id,
                                                  UNREACHABLE))
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
        were sent."""
        sent = last = 0
        passed_over: set[tuple[str, str]] = set()  # members whose messages wait: their later ones wait too
        async with self._lock:
            while True:
                platforms = sorted(self._bot.adapters)
                if not platforms:
                    return sent
                marks = ", ".join("?" for _ in platforms)
                rows = await self._db.fetchall(
                    f"SELECT * FROM outbox WHERE status = ? AND platform IN ({marks}) AND not_before <= ? AND id > ?"
                    f" ORDER BY id LIMIT {CHUNK}", (PENDING, *platforms, stamp(self._clock.now()), last))
                if not rows:
                    return sent
                for row in rows:
                    if self._stopping:
                        return sent
                    last = row["id"]
                    member_key = (row["community"], row["target_id"])
                    if row["target_kind"] == "member" and (member_key in self._answering or member_key in passed_over):
                        # Once one is passed over, so are the rest of this pass: an answer that ends meanwhile
                        # must not let a later message overtake the one that waited.
                        passed_over.add(member_key)
                        self._held.add(member_key)
                        continue
                    sent += await self._deliver(row)

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
        limiter = self._limiter(adapter)
        try:
            if limiter is not None:
                await limiter.acquire()
            # Written before the platform is asked: should this attempt never be marked, the next one knows.
            # The earliest attempt whose outcome is unknown is kept: a later one that also failed without an
            # answer must not hide it (Slack looks for the message from that moment on).
            await self._db.execute("UPDATE outbox SET tried_at = COALESCE(tried_at, ?) WHERE id = ?",
                                   (stamp(now), row["id"]))
            message_id = await adapter.send(community, target, message, delivery=delivery)
        except MemberUnreachable as exc:  # the platform refused it: this attempt posted nothing
            self._waiting.add((row["community"], row["target_id"]))
            await self._mark(row, UNREACHABLE, problem=str(exc), refused=delivery.tried_at is None)
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
                    sent_at: datetime | None = None, refused: bool = False) -> None:
        """Record what became of an attempt. `refused`: the platform said no to the first attempt, so
        nothing was posted, and a later attempt need not look for an earlier post."""
        await self._db.execute(
            "UPDATE outbox SET status = ?, problem = ?, message_id = ?, attempts = ?, not_before = ?, sent_at = ?,"
            " tried_at = CASE WHEN ? THEN NULL ELSE tried_at END WHERE id = ?",
            (status, problem, message_id, row["attempts"] if attempts is None else attempts,
             stamp(not_before) if not_before else row["not_before"], stamp(sent_at) if sent_at else None, refused,
             row["id"]))

    def _limiter(self, adapter: Adapter) -> AsyncLimiter | None:
        rate = adapter.send_rate
        if not rate:
            return None
        if adapter.platform not in self._limiters:
            # One message per 1/rate seconds, never a burst: a platform counting per second sees at most `rate`.
            self._limiters[adapter.platform] = AsyncLimiter(1, 1 / rate)
        return self._limiters[adapter.platform]


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
