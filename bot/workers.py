"""Worker processes for CPU-heavy work, so that the event loop keeps answering members meanwhile.

    pairs = await self.bot.workers.run(pair, candidates, rules, seed=seed)

The function must be importable by name (defined at the top level of a module), and its arguments
and result picklable: they travel to another process and back. A thread would not do: Python runs
one thread's code at a time, so a long computation there still slows every member down.

The processes start from a fresh interpreter (`forkserver`), not as copies of the bot: a copy
would inherit the database's threads and locks mid-use. They start on first use and are ended when
the bot closes, even in the middle of a computation (the work is simply not done).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

PROCESSES = 1  # one computation at a time is enough for one community, and leaves a core to the bot
NICENESS = 10  # on a busy CPU, members' commands go first; an idle CPU is the workers' whole


class Workers:
    """A small pool of worker processes, started when first needed."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in a worker process; its result, or the exception it raised."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("forkserver"),
                                             initializer=os.nice, initargs=(NICENESS,))
            # The first task starts the processes, which takes a while: from a thread, not the event loop.
            await asyncio.to_thread(lambda: self._pool.submit(os.getpid).result())
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, partial(function, *args, **kwargs))
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this work is lost, the next starts a new pool.
            if self._pool is pool:
                self._pool = None
            raise

    def close(self) -> None:
        """End the workers now, whatever they are doing."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # Python 3.11's pool has no public way to stop a running worker: end the processes, then the pool.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
