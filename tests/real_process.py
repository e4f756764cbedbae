"""The real `smallstep console` as a separate process: fed line by line, read as it prints, stopped
with SIGTERM or killed with SIGKILL. For what only a real process shows: signals, deadlines, crashes.

    bot = await ConsoleProcess.start(tmp_path, '[cogs]\\nenabled = ["testimonials"]\\n')
    await bot.send(":as alice", "/testimonial")
    await bot.wait_for("Question 1")
    await bot.kill()
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.storage import Location
from databases import database_for

TESTS = Path(__file__).resolve().parent


def environment() -> dict[str, str]:
    """The process's environment, with the tests' sample cogs importable."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def smallstep(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Another `smallstep` command, run to its end in `folder` (where smallstep.toml is)."""
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=folder, env=environment(), capture_output=True,
                          text=True, timeout=120)


class ConsoleProcess:
    def __init__(self, process: asyncio.subprocess.Process, database: Location) -> None:
        self.process = process
        self.database = database
        self.lines: list[str] = []
        self.errors: list[str] = []  # what it wrote on stderr (the log)
        self._printed = asyncio.Event()
        self._readers = [asyncio.create_task(self._read(process.stdout, self.lines)),
                         asyncio.create_task(self._read(process.stderr, self.errors))]

    @classmethod
    async def start(cls, folder: Path, config_text: str = "", *, log_level: str = "WARNING",
                    file_size_limit: int | None = None) -> ConsoleProcess:
        """Start the console on the test's database with `config_text` as its smallstep.toml (the sample
        cogs of the tests are importable). With `file_size_limit`, the process may write no file past
        that many bytes (the kernel refuses, as a disk that will take no more would)."""
        (folder / "smallstep.toml").write_text(config_text)

        def limited() -> None:  # in the child, before it runs Python
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

        database = database_for(folder)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "console", "--db", str(database), "--log-level", log_level,
            cwd=folder, env=environment(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, preexec_fn=limited if file_size_limit else None)
        return cls(process, database)

    async def _read(self, stream: asyncio.StreamReader, into: list[str]) -> None:
        while line := await stream.readline():
            into.append(line.decode().rstrip("\n"))
            self._printed.set()

    async def send(self, *lines: str) -> None:
        for line in lines:
            self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def wait_for(self, text: str, *, after: int = 0, timeout: float = 30) -> int:
        """Wait until a printed line (from line number `after` on) contains `text`; returns its number."""
        deadline = time.monotonic() + timeout
        while True:
            for number in range(after, len(self.lines)):
                if text in self.lines[number]:
                    return number
            left = deadline - time.monotonic()
            if left <= 0 or self.process.returncode is not None:
                raise AssertionError(f"{text!r} was not printed; the last lines: {self.lines[-15:]}")
            self._printed.clear()
            try:
                await asyncio.wait_for(self._printed.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def stop(self, *, timeout: float = 30) -> tuple[int, str]:
        """SIGTERM, as a service manager sends it; returns the exit status and what it wrote on stderr."""
        self.process.send_signal(signal.SIGTERM)
        return await self.finished(timeout)

    async def finished(self, timeout: float = 30) -> tuple[int, str]:
        """Wait for the process to end; its exit status and its log."""
        await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.gather(*self._readers)
        return self.process.returncode, "\n".join(self.errors)

    async def kill(self) -> None:
        """SIGKILL: the process is gone at once, with whatever it was doing."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        await asyncio.gather(*self._readers)


async def announcement_setup(folder: Path, fake: Any, rooms: range | list[int], *, guild: int, admin: int,
                             moderator_role: int, bot_settings: str = "") -> Location:
    """The fake Discord started with `rooms` (channels) and a moderator, and a smallstep.toml in `folder` for
    processes that announce events in every room (and run the sample echo job): the test's database."""
    for room in rooms:
        fake.add_channel(room, f"room-{room}")
    fake.add_role(moderator_role, "Moderators")
    fake.add_member(admin, "admin", roles=[moderator_role])
    await fake.start()
    database = database_for(folder)
    (folder / "smallstep.toml").write_text(
        f'[bot]\ndatabase = "{database}"\nscheduler_interval_seconds = 1\n{bot_settings}'
        f'[discord]\nguild_id = "{guild}"\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
        '[cogs]\nenabled = ["events", "sample_cogs.echo"]\n'
        f'[cogs.events]\nchannels = [{", ".join(f"{chr(34)}{room}{chr(34)}" for room in rooms)}]\n')
    return database
