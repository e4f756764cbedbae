"""`smallstep console`: start the bot on the console adapter and feed it lines.

Lines come from the keyboard, or from a script on standard input (for tests and
demos). Lines are read on a thread and handled one at a time on the event loop.
Scheduled jobs are checked at start (for what fell due while the bot was down) and
then every `bot.scheduler_interval_seconds`, taking turns with the lines.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Callable, TextIO

from bot.app import Bot
from bot.config import Config
from bot.core import Clock
from bot.platforms.console.adapter import ConsoleAdapter
from bot.storage import Location


class LineReader:
    """Reads standard input on a thread and hands lines to the event loop; None means the end."""

    def __init__(self, stream: TextIO, prompt: Callable[[], str]) -> None:
        self._stream = stream
        self._prompt = prompt
        self._interactive = stream.isatty()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        # At a keyboard, wait until a line is handled before prompting for the next.
        self._ready = threading.Event()
        self._ready.set()
        threading.Thread(target=self._read, name="console-input", daemon=True).start()

    @property
    def interactive(self) -> bool:
        return self._interactive

    def _read(self) -> None:
        try:
            while True:
                if self._interactive:
                    self._ready.wait()
                    self._ready.clear()
                    line = input(self._prompt())
                else:
                    line = self._stream.readline()
                    if not line:
                        break
                self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except (EOFError, KeyboardInterrupt):
            pass
        finally:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    async def next(self) -> str | None:
        """The next line, or None at the end of the input."""
        return await self._queue.get()

    def done_with_line(self) -> None:
        self._ready.set()


async def run_console(config: Config, *, database: Location | None, stdin: TextIO, write: Callable[[str], None],
                      clock: Clock | None = None) -> None:
    """Run the bot in the console until :quit or the end of the input (on `clock`, if given)."""
    database = database or config.database()
    beside = database.parent if isinstance(database, Path) else config.base_dir  # PostgreSQL: the config's folder
    images_dir = config.path(config.console.images_dir) if config.console.images_dir else beside / "smallstep-images"
    bot = await Bot.open(config, database=database, clock=clock)
    try:
        adapter = ConsoleAdapter(bot, images_dir=images_dir, write=write)
        try:
            await adapter.start()
            await bot.start()
            await _converse(bot, adapter, config, stdin, write)
        finally:
            await adapter.close()
    finally:
        await bot.close()  # always: an open aiosqlite connection would keep the process alive


async def _converse(bot: Bot, adapter: ConsoleAdapter, config: Config, stdin: TextIO,
                    write: Callable[[str], None]) -> None:
    # Lines and scheduled jobs take turns, so a job's messages never land in the middle of a command's.
    turn = asyncio.Lock()
    if stdin.isatty():
        write(f"Small Step Bot console: {config.program.name}, database {bot.db.path}.")
        write(f"You are {adapter.acting} in #{adapter.channel}. Type /help for the bot's commands, :help for the console's.")
    # What fell due while the bot was down, before the first line.
    await bot.loops.attempt("scheduler", bot.scheduler.run_due)
    bot.start_background(turn)
    reader = LineReader(stdin, lambda: f"{adapter.acting} #{adapter.channel}> ")
    while (line := await reader.next()) is not None:
        async with turn:
            if not reader.interactive and line.strip():
                write(f"{adapter.acting}> {line.strip()}")
            if not await adapter.handle_line(line):
                break
        reader.done_with_line()
