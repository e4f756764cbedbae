"""A test helper that reads like a conversation, driving the real console adapter in-process.

    chat = await Chat.open(tmp_path)
    await chat.as_member("alice").run("/share")
    await chat.press("I shared it")
    assert "Thank you" in chat.last_private("alice").text
    await chat.restart()          # same database, fresh bot: nothing in memory survives

Everything goes through the real core, the real templates and a real database: an SQLite file, or
a PostgreSQL database of the test's own (see `databases.py`).
"""

from __future__ import annotations

from pathlib import Path

from datetime import timedelta

from bot.app import Bot
from bot.config import Config, parse_config
from bot.core import Clock
from bot.platforms.console import ConsoleAdapter, Delivery
from databases import database_for


class Chat:
    def __init__(self, tmp_path: Path, config: Config) -> None:
        self.tmp_path = tmp_path
        self.config = config
        self.database = database_for(tmp_path)
        self.images_dir = tmp_path / "images"
        self.printed: list[str] = []
        self.transcript: list[Delivery] = []
        self.bot: Bot | None = None
        self.adapter: ConsoleAdapter | None = None
        self._acting = config.console.member

    @classmethod
    async def open(cls, tmp_path: Path, config_text: str = "") -> Chat:
        chat = cls(tmp_path, parse_config(config_text, base_dir=tmp_path))
        await chat._start()
        return chat

    async def _start(self, clock: Clock | None = None) -> None:
        self.bot = await Bot.open(self.config, database=self.database, clock=clock)
        self.adapter = ConsoleAdapter(self.bot, images_dir=self.images_dir, write=self.printed.append,
                                      observe=self.transcript.append)
        self.adapter.acting = self._acting
        try:
            await self.adapter.start()
            await self.bot.start()
            await self.bot.scheduler.run_due()  # as the console does at start: what fell due meanwhile
            await self.bot.outbox.idle()
        except BaseException:
            await self.close()  # an unclosed aiosqlite connection keeps the test process alive
            raise

    async def close(self) -> None:
        if self.adapter is not None:
            self._acting = self.adapter.acting
            await self.adapter.close()
            await self.bot.close()
            self.adapter = self.bot = None

    async def restart(self, *, later: timedelta | None = None) -> None:
        """Stop the bot and start a new one on the same database, as after a crash-free restart;
        the clock carries on from where the test moved it, `later` on if given (the bot was down
        that long: its clock moves on while nothing runs)."""
        clock = Clock(self.config.bot.timezone, self.bot.clock.offset + (later or timedelta(0)))
        await self.close()
        await self._start(clock)

    # -- acting ---------------------------------------------------------------------

    def as_member(self, name: str) -> Chat:
        self.adapter.acting = self.adapter.member(name).display_name
        return self

    async def run(self, *lines: str) -> list[Delivery]:
        """Type lines into the console; returns what the bot said in answer."""
        before = len(self.transcript)
        for line in lines:
            await self.adapter.handle_line(line)
        return self.transcript[before:]

    async def press(self, label: str) -> list[Delivery]:
        return await self.run(f":press {label}")

    # -- reading what the bot said -----------------------------------------------------

    @property
    def db(self):
        return self.bot.db

    def said(self, where: str) -> list[Delivery]:
        return [d for d in self.transcript if d.where == where]

    def last(self, where: str) -> Delivery:
        found = self.said(where)
        assert found, f"the bot said nothing to {where!r}; it said: {[d.where for d in self.transcript]}"
        return found[-1]

    def last_private(self, name: str) -> Delivery:
        return self.last(f"private {name}")

    def last_dm(self, name: str) -> Delivery:
        return self.last(f"DM {name}")

    def last_in(self, channel: str) -> Delivery:
        return self.last(f"#{channel.lstrip('#')}")


def to_the_morning(clock: Clock) -> None:
    """The clock on to the next 12:00 UTC (morning in the Americas, afternoon in Europe): hours offered from two
    hours ahead (the pairing cog's `times.AHEAD`) then start with each day's first free hour, whatever time of
    day the test runs."""
    now = clock.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    clock.advance((noon if noon > now else noon + timedelta(days=1)) - now)
