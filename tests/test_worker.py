"""`smallstep worker`: the outbox and the scheduled jobs over REST only, beside `smallstep run --no-background`,
which holds the gateway and only answers members. Real processes on one PostgreSQL database against the fake
Discord; on SQLite both are refused, saying why. And the connection a process listens on for the others' new
messages (LISTEN/NOTIFY) is opened again when the server ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections import Counter

import discord
import pytest

from bot.app import Bot
from bot.config import parse_config
from bot.core import Channel, Community, Member, Message
from bot.platforms.discord.runner import over_rest
from bot.platforms.worker import run_worker
from conversation import Chat
from databases import database_for, query
from fakes.discord_server import SEND_MESSAGES, FakeDiscord
from fakes.slack_server import FakeSlack
from real_process import announcement_setup, environment, smallstep

GUILD, GENERAL, CLOSED, ADMIN, ALICE, MODERATOR_ROLE = 2000, 3000, 3001, 5002, 5001, 4000
SLACK_TEAM, SLACK_GENERAL = "T0001", "C0GENERAL"
ROOMS = 150


async def test_a_worker_reads_its_server_over_rest_and_sends_without_the_gateway(tmp_path, monkeypatch):
    """Logged in over REST only, the worker's Discord knows the server's channels, roles and its own permissions
    as the gateway's process does (what scheduled jobs ask: a channel by name, whether the bot may post there),
    and sends to channels and DMs; no gateway connection is ever opened. With and without discord.guild_id."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)  # point_at changes it for the process
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake = FakeDiscord(guild_id=GUILD)
    fake.add_channel(CLOSED, "closed")
    fake.add_member(ALICE, "alice")
    await fake.start()
    try:
        for guild_setting in (f'guild_id = "{GUILD}"\n', ""):
            config = parse_config(f'[cogs]\nenabled = []\n[discord]\n{guild_setting}api_base_url = "{fake.api_base}"\n'
                                  f'gateway_url = "{fake.gateway_url}"\n', base_dir=tmp_path)
            await fake.deny_bot(CLOSED, SEND_MESSAGES, gateway=False)
            bot = await Bot.open(config, database=database_for(tmp_path))
            await bot.start()
            adapter = await over_rest(bot, "fake-token")
            try:
                community = Community("discord", str(GUILD), "Test Guild")
                assert adapter.serves(community)
                assert await adapter.resolve_channel(community, "general") == Channel(str(GENERAL), "general")
                assert await adapter.check_channel(community, Channel(str(GENERAL), "general")) is None
                assert "Send Messages" in await adapter.check_channel(community, Channel(str(CLOSED), "closed"))
                await fake.deny_bot(CLOSED, 0, gateway=False)
                await adapter.read_servers()  # again (every few minutes): what changed since is seen
                assert await adapter.check_channel(community, Channel(str(CLOSED), "closed")) is None
                before = len(fake.channel_messages)
                await bot.outbox.put(community, f"worker:{guild_setting}", [
                    (Channel(str(GENERAL), "general"), Message(text="to the channel")),
                    (Member("discord", str(ALICE), "alice"), Message(text="to alice"))])
                await fake.wait_for(lambda: len(fake.channel_messages) - before == 2)
                assert [m["data"]["content"] for m in fake.messages_to(ALICE)][-1:] == ["to alice"]
            finally:
                await adapter.close()
                await bot.close()
        assert fake.identifies == [] and fake._bot_socket is None, "no gateway connection"
        assert not fake.unknown_requests, fake.unknown_requests
    finally:
        await fake.close()


async def test_a_worker_for_discord_and_slack_delivers_each_platforms_messages_and_takes_their_jobs_turns(
        tmp_path, monkeypatch):
    """What waited for a worker (messages queued by the processes answering members) goes out when it starts,
    on each of its platforms; its jobs' turns are those of both platforms together; cancelled (as SIGTERM does),
    it stops."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord_fake, slack_fake = FakeDiscord(guild_id=GUILD), FakeSlack(team_id=SLACK_TEAM)
    slack_fake.add_channel(SLACK_GENERAL, "general")
    await discord_fake.start()
    await slack_fake.start()
    config = parse_config(
        f'[cogs]\nenabled = ["sample_cogs.echo"]\n[discord]\nguild_id = "{GUILD}"\napi_base_url = "{discord_fake.api_base}"\n'
        f'gateway_url = "{discord_fake.gateway_url}"\n[slack]\napi_base_url = "{slack_fake.api_base}"\n', base_dir=tmp_path)
    answering = await Bot.open(config, database=database_for(tmp_path))  # a process answering members, meanwhile
    await answering.start()
    await answering.outbox.put(Community("discord", str(GUILD)), "waited", [(Channel(str(GENERAL), "general"),
                                                                           Message(text="for Discord"))])
    await answering.outbox.put(Community("slack", SLACK_TEAM), "waited", [(Channel(SLACK_GENERAL, "general"),
                                                                         Message(text="for Slack"))])
    await answering.close()
    worker = asyncio.create_task(run_worker(config, tokens={"discord": "fake-token", "slack": "xoxb-test"},
                                            database=database_for(tmp_path)))
    try:
        await discord_fake.wait_for(lambda: any(m["data"]["content"] == "for Discord" for m in discord_fake.channel_messages), 30)
        await slack_fake.wait_for(lambda: any(m["text"] == "for Slack" for m in slack_fake.messages_in(SLACK_GENERAL)), 30)
        await until(lambda: query(database_for(tmp_path), "SELECT COUNT(*) FROM scheduled_jobs WHERE name = 'often'")[0][0])
        assert {row[0] for row in query(database_for(tmp_path), "SELECT platforms FROM scheduled_jobs")} == {"discord slack"}
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await discord_fake.close()
        await slack_fake.close()
    assert discord_fake.identifies == [], "no gateway connection"


@pytest.mark.sqlite_only
def test_a_worker_and_a_run_without_background_are_refused_on_sqlite(tmp_path):
    """On SQLite one process does everything: a worker would hear of no new message (no NOTIFY), and each
    process would keep its own pace of Discord's 50 requests a second."""
    (tmp_path / "smallstep.toml").write_text(f'[bot]\ndatabase = "{tmp_path / "bot.db"}"\n')
    worker = smallstep(tmp_path, "worker", "--platform", "discord")
    assert worker.returncode == 2 and "smallstep worker needs a PostgreSQL database" in worker.stderr, worker.stderr
    quiet = smallstep(tmp_path, "run", "--platform", "discord", "--no-background")
    assert quiet.returncode == 2 and "--no-background leaves the outbox" in quiet.stderr, quiet.stderr
    assert not (tmp_path / "bot.db").exists(), "refused before anything was made"


class Process:
    """A real `smallstep` process against the fake Discord; what it logs is kept in `log`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log: list[str] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, folder, *args: str) -> Process:
        return cls(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=folder, env={**environment(), "DISCORD_TOKEN": "fake-token"},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))

    async def _read(self) -> None:
        while line := await self.process.stderr.readline():
            self.log.append(line.decode().rstrip("\n"))

    def said(self, text: str) -> int:
        return sum(text in line for line in self.log)

    @property
    def claimant(self) -> str:
        """How its claims on the outbox begin: host:pid:."""
        import socket

        return f"{socket.gethostname()}:{self.process.pid}:"

    async def stop(self) -> int:
        """SIGTERM, as a service manager sends it; its exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 60)
        await self._reader
        return self.process.returncode


async def until(condition, timeout: float = 120) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the processes made no progress")


async def gateway_and_workers(tmp_path, fake: FakeDiscord, workers: int) -> tuple[Process, list[Process], str]:
    """`run --platform discord --no-background` (holding the gateway) and `workers` workers on the test's database."""
    database = await announcement_setup(tmp_path, fake, range(7000, 7000 + ROOMS), guild=GUILD, admin=ADMIN,
                                        moderator_role=MODERATOR_ROLE)
    gateway = await Process.start(tmp_path, "run", "--platform", "discord", "--no-background")
    started = [await Process.start(tmp_path, "worker", "--platform", "discord") for _ in range(workers)]
    await fake.wait_for(lambda: fake._bot_socket is not None, timeout=60)
    await until(lambda: all(w.said("worker: delivering the outbox") for w in started))
    return gateway, started, database


async def announce(fake: FakeDiscord, title: str) -> None:
    """An event created in the gateway's process: its announcement goes to every room, through the outbox."""
    created = await fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
        {"name": "title", "type": 3, "value": title}, {"name": "start", "type": 3, "value": "2030-01-14 18:00"}]}])
    await fake.wait_for(lambda: any(r["interaction_id"] == created for r in fake.interaction_responses), 60)


def posted(fake: FakeDiscord, title: str) -> Counter:
    return Counter(m["channel_id"] for m in fake.channel_messages
                   if 7000 <= m["channel_id"] < 7000 + ROOMS and title in str(m["data"]))


@pytest.mark.postgres_only
async def test_a_gateway_without_background_and_two_workers_deliver_once_each_and_run_a_due_job_once(tmp_path):
    fake = FakeDiscord(guild_id=GUILD)
    gateway, workers, database = await gateway_and_workers(tmp_path, fake, workers=2)
    try:
        await until(lambda: query(database, "SELECT COUNT(*) FROM scheduled_jobs WHERE name = 'daily'")[0][0])
        query(database, "UPDATE scheduled_jobs SET next_run_at = '2000-01-01T00:00:00.000000+00:00' WHERE name = 'daily'")
        await announce(fake, "Listening session")
        await until(lambda: len(posted(fake, "Listening session")) == ROOMS)
        copies = posted(fake, "Listening session")
        assert set(copies.values()) == {1}, copies.most_common(3)
        senders = {row[0].rsplit(":", 1)[0] + ":" for row in query(
            database, "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sent'")}
        assert senders <= {w.claimant for w in workers} and senders, (senders, gateway.claimant)

        await until(lambda: query(database, "SELECT COUNT(*) FROM echo_runs")[0][0] >= 1)
        ticks = query(database, "SELECT COUNT(*) FROM echo_ticks")[0][0]
        await until(lambda: query(database, "SELECT COUNT(*) FROM echo_ticks")[0][0] >= ticks + 3)  # more turns
        assert query(database, "SELECT COUNT(*) FROM echo_runs")[0][0] == 1, "the due job ran once"
        turns = {row[0] for row in query(database, "SELECT platforms FROM scheduled_jobs")}
        assert turns == {"discord"}, turns  # the workers' turns; the gateway's process runs no job
    finally:
        statuses = [await p.stop() for p in (gateway, *workers)]
        await fake.close()
    assert statuses == [0, 0, 0], [p.log[-5:] for p in (gateway, *workers)]
    assert all(p.said("stopped; left waiting for the next start") for p in (gateway, *workers))


@pytest.mark.postgres_only
async def test_a_worker_listens_again_when_the_server_ends_its_listening_connection(tmp_path):
    """The backend holding the worker's LISTEN is ended (as a server restart or an administrator would):
    the worker says so once, opens a new one, and an announcement another process queues after that reaches
    every room through it."""
    fake = FakeDiscord(guild_id=GUILD)
    gateway, (worker,), database = await gateway_and_workers(tmp_path, fake, workers=1)
    application = f"smallstep {worker.claimant[:-1]}"
    listening = ("SELECT pid FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN%'"
                 " AND datname = current_database()")
    try:
        await until(lambda: query(database, listening, (application,)))
        (ended,), = query(database, listening, (application,))
        assert query(database, "SELECT pg_terminate_backend(?)", (ended,))[0][0]
        await until(lambda: {row[0] for row in query(database, listening, (application,))} - {ended})
        assert worker.said("lost the database connection that hears of new messages") == 1, worker.log[-10:]

        await announce(fake, "After the restart")
        await until(lambda: len(posted(fake, "After the restart")) == ROOMS)
        assert set(posted(fake, "After the restart").values()) == {1}
        senders = {row[0].rsplit(":", 1)[0] + ":" for row in query(
            database, "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sent'")}
        assert senders == {worker.claimant}, senders
    finally:
        statuses = [await p.stop() for p in (gateway, worker)]
        await fake.close()
    assert statuses == [0, 0], [p.log[-5:] for p in (gateway, worker)]


@pytest.mark.postgres_only
async def test_a_message_for_a_member_being_answered_waits_for_the_answer_in_every_process(tmp_path):
    """What a command queues for its member (the badge its step earned) comes after the command's own answer.
    The process answering holds those messages from the others (a worker, which knows nothing of the answer)
    until the answer is given; then any process sends them, once."""
    answering, other = await Chat.open(tmp_path), await Chat.open(tmp_path)
    try:
        community, alice = answering.adapter.community, answering.adapter.member("alice")
        async with answering.bot.outbox.answering(community, alice):
            await answering.bot.outbox.put(community, "badges:test", [(alice, Message(text="a badge for you"))])
            assert await other.bot.outbox.deliver_due() == 0, "held by the process answering"
            (holder,), = query(other.database, "SELECT claimed_by FROM outbox WHERE batch = 'badges:test'")
            assert holder == answering.bot.outbox.claimant
        await other.bot.outbox.deliver_due()
        await answering.bot.outbox.idle()
        sent = [d for chat in (answering, other) for d in chat.transcript if "a badge for you" in d.text]
        assert len(sent) == 1, sent
        assert query(other.database, "SELECT status FROM outbox WHERE batch = 'badges:test'")[0][0] == "sent"
    finally:
        await answering.close()
        await other.close()
