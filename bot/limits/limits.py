"""Per-member limits, so that one member cannot flood the moderators' queue or the channels: how many commands
a member may run in a minute (`safety.commands_per_minute`), and how long they wait before using a command
with a `cooldown=` (/story submit, /report) or a form (`forms.submit_cooldown`) again. Moderators have none:
nothing asks for theirs.

Kept in the database (`member_limits`), so that the processes of a bot sharing one PostgreSQL database count a
member's commands together, and a restart forgets nothing. A limit is a window, opened by a member's first use,
in which each use is counted; once it has ended, the next use opens a new one. One statement counts a use and
returns the count (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`), and the uses of one member's limit take
turns on its row: of two processes checking the last use allowed at once, one gets it and the other is asked
to wait. A window counted from the first use, rather than one sliding with each, is what one row can keep: a
member who spreads their commands over the edge of two windows gets in up to twice the limit in a minute,
which still keeps a flood out.

A cooldown starts when the command is checked, before it runs, so that two processes cannot both let it
through; a command that then does not go through (a mistake in an option, a refusal, an error) lifts it, so
that only what was done counts. Should the database not answer, members are let through rather than refused
(a command that writes meets the same trouble in its own work, and is told so there); that is logged once,
and so is its end.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.storage import Database, StorageError

log = logging.getLogger(__name__)

COMMANDS = "commands"  # what safety.commands_per_minute counts: every command a member runs
MINUTE = timedelta(minutes=1)

_USE = ("INSERT INTO member_limits (community, member_id, what, used, window_ends) VALUES (?, ?, ?, 1, ?)"
        " ON CONFLICT (community, member_id, what) DO UPDATE SET"
        " used = CASE WHEN member_limits.window_ends <= ? THEN 1 ELSE member_limits.used + 1 END,"
        " window_ends = CASE WHEN member_limits.window_ends <= ? THEN excluded.window_ends"
        " ELSE member_limits.window_ends END"
        " RETURNING used, window_ends")


@dataclass(frozen=True)
class Cooldown:
    """One use of something that has a cooldown. `wait`: the seconds before the member may use it again; 0 if
    this use may go ahead, the cooldown running from now (`Limits.lift` it if the use did not count)."""

    community: str
    member_id: str
    what: str
    wait: int
    window_ends: float | None = None  # of the cooldown this use started; None if it started none


class Limits:
    """The members' limits, counted in the database on the bot's clock."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._unanswered = False  # the database did not answer the last count (logged once)

    async def rate(self, community: str, member_id: str, per_minute: int) -> int:
        """Count one command of a member: 0 if it is within `per_minute` (0: no limit), else the seconds until
        one more is."""
        if per_minute <= 0:
            return 0
        counted = await self._use(community, member_id, COMMANDS, MINUTE)
        if counted is None:
            return 0
        used, window_ends, now = counted
        return 0 if used <= per_minute else _seconds_until(window_ends, now, MINUTE)

    async def cooldown(self, community: str, member_id: str, what: str, gap: timedelta) -> Cooldown:
        """One use of `what` (`/story submit`, `form:testimonial`) by a member, who then waits `gap` before the
        next: whether this one may go ahead (`wait` 0: it may, and starts the wait), else how long is left."""
        counted = await self._use(community, member_id, what, gap)
        if counted is None:
            return Cooldown(community, member_id, what, wait=0)
        used, window_ends, now = counted
        if used > 1:
            return Cooldown(community, member_id, what, wait=_seconds_until(window_ends, now, gap))
        return Cooldown(community, member_id, what, wait=0, window_ends=window_ends)

    async def left(self, community: str, member_id: str, what: str, gap: timedelta) -> int:
        """The seconds before a member may use `what` again (0: now), counting nothing: for a use that marks its
        cooldown itself once done (`started`), as a form's submit does, so that a submit cut short (a crash in
        its handler) leaves no cooldown behind while its answers wait to be sent again."""
        now = self._clock.now().timestamp()
        try:
            ends = await self._db.fetchval("SELECT window_ends FROM member_limits WHERE community = ? AND member_id = ?"
                                           " AND what = ? AND window_ends > ?", (community, member_id, what, now))
        except StorageError as exc:
            self._not_answered(exc)
            return 0
        return 0 if ends is None else _seconds_until(ends, now, gap)

    async def started(self, community: str, member_id: str, what: str, gap: timedelta) -> None:
        """`what` was used now, and done: the member waits `gap` before the next use (see `left`)."""
        now = self._clock.now().timestamp()
        try:
            await self._db.execute(
                "INSERT INTO member_limits (community, member_id, what, used, window_ends) VALUES (?, ?, ?, 1, ?)"
                " ON CONFLICT (community, member_id, what) DO UPDATE SET used = 1, window_ends = excluded.window_ends",
                (community, member_id, what, now + gap.total_seconds()))
        except StorageError as exc:  # done all the same: the member is let off this cooldown
            self._not_answered(exc)

    async def lift(self, cooldown: Cooldown) -> None:
        """The use did not count after all (a mistake, a refusal, an error): the member may try again at once."""
        if cooldown.window_ends is None:
            return
        try:
            await self._db.execute("DELETE FROM member_limits WHERE community = ? AND member_id = ? AND what = ?"
                                   " AND window_ends = ?",
                                   (cooldown.community, cooldown.member_id, cooldown.what, cooldown.window_ends))
        except StorageError as exc:  # the member waits out the cooldown, as if the use had counted
            self._not_answered(exc)

    async def tidy(self, now: datetime) -> int:
        """Delete the limits whose window has ended (they count for nothing); how many."""
        return await self._db.execute("DELETE FROM member_limits WHERE window_ends <= ?", (now.timestamp(),))

    async def _use(self, community: str, member_id: str, what: str, per: timedelta) -> tuple[int, float, float] | None:
        """Count one use in the current window (a new one if it has ended): the count, when the window ends and
        now; None if the database did not answer."""
        now = self._clock.now().timestamp()
        try:
            row = await self._db.fetchone(_USE, (community, member_id, what, now + per.total_seconds(), now, now))
        except StorageError as exc:
            self._not_answered(exc)
            return None
        if self._unanswered:
            self._unanswered = False
            log.warning("members' limits are counted again")
        return row["used"], row["window_ends"], now

    def _not_answered(self, exc: StorageError) -> None:
        if not self._unanswered:
            self._unanswered = True
            log.warning("members' limits could not be counted, so commands are let through: %s", exc)


def _seconds_until(window_ends: float, now: float, window: timedelta) -> int:
    # Never more than the window: one opened by a check that started after this one (in another process,
    # whose clock may also be a little ahead) ends a little later than this one's now + window.
    return max(1, min(math.ceil(window_ends - now), math.ceil(window.total_seconds())))
