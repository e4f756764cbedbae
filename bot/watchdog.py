"""The event loop's watchdog: while one piece of code holds the loop, every member waits.

A heartbeat on the loop wakes every `BEAT` seconds and measures how late it woke. Beside it, a
thread looks in while the heartbeat is overdue, and notes which task holds the loop and what
that task is doing: the core labels each command, button and DM it handles, and the scheduler
each job (`doing`), and the line of the bot's code it is on. A stall longer than `STALL` is
logged at WARNING with both: a command's or a job's name and a place in the code, never who
asked nor what they wrote.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

BEAT = 0.05  # seconds between heartbeats
STALL = 0.25  # a heartbeat this late (seconds) is a stall worth a log line

Label = str | Callable[[], str]  # a callable: worked out only when a stall is logged


class Watchdog:
    """Notices stalls of the event loop and names what caused each."""

    def __init__(self) -> None:
        self._doing: dict[asyncio.Task, Label] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._last_beat = 0.0
        self._culprit: str | None = None
        self._stopped = threading.Event()

    def doing(self, what: Label) -> _Doing:
        """Label what the current task does, for as long as the block runs (`with watchdog.doing(...)`)."""
        return _Doing(self._doing, what)

    def start(self, loops) -> None:
        """Start the heartbeat (a loop of `loops`) and the thread that looks in during a stall."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._last_beat = time.monotonic()
        self._stopped.clear()
        threading.Thread(target=self._look_in, name="watchdog", daemon=True).start()
        loops.start("watchdog", self._beat, every=BEAT)

    def stop(self) -> None:
        self._stopped.set()

    async def _beat(self) -> None:
        now = time.monotonic()
        late = now - self._last_beat - BEAT
        self._last_beat = now
        if late > STALL:
            log.warning("the event loop was held for %.0f ms by %s: every member waited meanwhile", late * 1000,
                        self._culprit or "code outside any labelled work")
        self._culprit = None

    def _look_in(self) -> None:
        """On its own thread: while the heartbeat is overdue, note what holds the loop (once per stall)."""
        while not self._stopped.wait(BEAT):
            if self._culprit is None and time.monotonic() - self._last_beat - BEAT > STALL:
                self._culprit = f"{self._holding()}, in {self._where()}"

    def _holding(self) -> str:
        task = asyncio.current_task(self._loop)  # read across threads: a dictionary lookup, safe under the GIL
        if task is None:
            return "a callback outside any task"
        label = self._doing.get(task)
        if label is None:
            return f"task {task.get_name()} ({getattr(task.get_coro(), '__qualname__', '?')})"
        try:
            return label() if callable(label) else label
        except Exception:  # a label is only words; it must never break the watchdog
            return f"task {task.get_name()}"

    def _where(self) -> str:
        """The line of the bot's own code the loop is running now (the innermost one, below any library)."""
        frame = sys._current_frames().get(self._loop_thread)
        innermost = frame
        while frame is not None:
            if f"{os.sep}bot{os.sep}" in frame.f_code.co_filename or f"{os.sep}cogs{os.sep}" in frame.f_code.co_filename:
                break
            frame = frame.f_back
        frame = frame or innermost
        if frame is None:
            return "an unknown place"
        return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name}"


class _Doing:
    """The block of `Watchdog.doing`. A class, not a generator: it wraps every command and every answer in a
    form, and a generator's block costs five times as much."""

    __slots__ = ("_labels", "_what", "_task", "_before")

    def __init__(self, labels: dict[asyncio.Task, Label], what: Label) -> None:
        self._labels = labels
        self._what = what
        self._task: asyncio.Task | None = None
        self._before: Label | None = None

    def __enter__(self) -> None:
        self._task = task = asyncio.current_task()
        if task is not None:
            self._before = self._labels.get(task)
            self._labels[task] = self._what

    def __exit__(self, *exc: Any) -> None:
        task = self._task
        if task is None:
            return
        if self._before is None:
            self._labels.pop(task, None)
        else:
            self._labels[task] = self._before
