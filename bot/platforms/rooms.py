"""A pair's room (a private thread on Discord, a group DM on Slack): what the adapters that offer one share.

An adapter that can make rooms has `open_room(community, members, name, within) -> Channel | None` and, where a
room can be closed, `close_room(community, room)`. When it cannot make one (a permission, a scope, a member
out of reach) it returns None and says why in the log, never who: the caller writes to each member by DM.
"""

from __future__ import annotations

import logging
import time

REPEAT_AFTER = 3600.0  # seconds: the same reason is logged again at most this often


class RoomRefusals:
    """Why rooms could not be made, each reason logged at most once an hour: a round of thousands of pairs
    would otherwise repeat it thousands of times."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._logged: dict[str, float] = {}

    def refuse(self, why: str) -> None:
        now = time.monotonic()
        if now - self._logged.get(why, -REPEAT_AFTER) >= REPEAT_AFTER:
            self._logged[why] = now
            self._log.warning("no room for a pair, so they are introduced by DM: %s", why)
