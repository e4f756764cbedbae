"""Several real `smallstep run` processes on one database, against the fake Discord: what one process did
alone (one writer, one outbox, one scheduler) stays true with three. Each claims the messages it sends, a
run of a job is taken by one of them, the messages a killed process held are sent by the others once
its lease has ended, and Discord's 50 requests a second are one budget for all of them.

On PostgreSQL, new rows wake the other processes (LISTEN/NOTIFY), so the three share the fan-out, and share
Discord's budget; on SQLite (one process's database) they take turns on its one writer, each at its own
pace, and the others find the work at their next scheduled look.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter

import pytest

from conversation import Chat
from databases import ON_POSTGRES, database_for, query
from fakes.discord_server import FakeDiscord
from real_process import ConsoleProcess, announcement_setup, environment

ROOMS = 1000
PROCESSES = 3
LEASE_SECONDS = 5
GUILD, ADMIN, MODERATOR_ROLE = 2000, 5002, 4000


async def until(condition, timeout: float = 180) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("the processes made no progress")


async def test_three_processes_deliver_a_thousand_channel_announcement_once_each_through_a_kill(tmp_path):
    fake = FakeDiscord(guild_id=GUILD)
    rooms = list(range(7000, 7000 + ROOMS))
    database = await announcement_setup(tmp_path, fake, rooms, guild=GUILD, admin=ADMIN, moderator_role=MODERATOR_ROLE,
                                        bot_settings=f"outbox_lease_seconds = {LEASE_SECONDS}\n")
    processes: list[asyncio.subprocess.Process] = []

    def posted() -> list[int]:
        return [m["channel_id"] for m in fake.channel_messages if m["channel_id"] in rooms]

    try:
        for _ in range(PROCESSES):  # one after the other: the newest holds the gateway, as the fake gives it
            fake.identifies.clear()
            processes.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--platform", "discord", cwd=tmp_path,
                env={**environment(), "DISCORD_TOKEN": "fake-token"},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE))
            await fake.wait_for(lambda: fake.identifies and fake._bot_socket is not None, timeout=60)

        # A daily job fallen due: every process's scheduler sees it, one runs it.
        await until(lambda: query(database, "SELECT COUNT(*) FROM scheduled_jobs WHERE name = 'daily'")[0][0])
        query(database, "UPDATE scheduled_jobs SET next_run_at = '2000-01-01T00:00:00.000000+00:00' WHERE name = 'daily'")
        created = await fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
            {"name": "title", "type": 3, "value": "Listening session"},
            {"name": "start", "type": 3, "value": "2030-01-14 18:00"}]}])
        await fake.wait_for(lambda: any(r["interaction_id"] == created for r in fake.interaction_responses), 60)

        # A process that holds messages is killed in the middle of the fan-out.
        await until(lambda: len(posted()) >= ROOMS // 3)
        holders = Counter(row[0] for row in query(
            database, "SELECT claimed_by FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL"))
        pids = {process.pid: process for process in processes}
        victim = next(claimant for claimant, _ in holders.most_common() if int(claimant.split(":")[1]) in pids)
        held = [row[0] for row in query(database, "SELECT id FROM outbox WHERE claimed_by = ? AND status = 'pending'",
                                        (victim,))]
        killed = pids[int(victim.split(":")[1])]
        killed.send_signal(signal.SIGKILL)
        await killed.wait()

        try:
            await until(lambda: len(set(posted())) >= ROOMS)
        except TimeoutError:
            state = query(database, "SELECT status, claimed_by, claimed_until, COUNT(*) FROM outbox"
                                    " GROUP BY status, claimed_by, claimed_until")
            jobs = query(database, "SELECT * FROM scheduled_jobs")
            raise AssertionError(f"{len(set(posted()))} posted; {[tuple(r) for r in state]}; {[tuple(r) for r in jobs]}"
                                 f" killed {victim}") from None
        copies = Counter(posted())
        assert sorted(copies) == rooms and set(copies.values()) == {1}, copies.most_common(3)
        assert held, "the killed process held messages"
        taken_over = query(database, f"SELECT status, claimed_by FROM outbox WHERE id IN ({', '.join('?' * len(held))})",
                           tuple(held))
        assert {row[0] for row in taken_over} == {"sent"} and victim not in {row[1] for row in taken_over}, \
            "what the killed process held was sent by the others, after its lease"
        senders = {row[0] for row in query(database, "SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sent'")}
        if ON_POSTGRES:
            assert len(senders) == PROCESSES, senders  # woken by NOTIFY, every process took its share
            # Discord's 50 requests a second count the three together: their pace is shared through the database
            # (48 a second, by when each is sent). Each process pacing alone drew 104 to 163 429s. A request can
            # reach Discord late, beside the next ones (a loaded machine, the network), so a second of arrivals
            # may rarely hold one more than 50: Discord answers it with a 429 and discord.py sends it again after
            # (it still arrives once, above). CI on a loaded machine saw one such 429 in one run of many.
            times = [at for at, _ in fake.requests]
            busiest = max(sum(1 for t in times if start <= t < start + 1) for start in times)
            assert busiest <= fake.global_limit and fake.rate_limited <= 3, (busiest, fake.rate_limited)
        assert query(database, "SELECT COUNT(*) FROM echo_runs")[0][0] == 1, "the due job ran once"
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
        for process in processes:
            _, errors = await asyncio.wait_for(process.communicate(), 60)
            assert process.returncode in (0, -signal.SIGKILL), errors.decode()[-3000:]
        await fake.close()


@pytest.mark.postgres_only
async def test_cogs_load_and_unload_are_refused_while_another_process_shares_the_database(tmp_path):
    """A cog switched on or off by a moderator would change one process of several: refused, saying why and
    what to do instead; alone again, the bot does it."""
    chat = await Chat.open(tmp_path)
    other = await ConsoleProcess.start(tmp_path)
    try:
        await other.send("/help")
        await other.wait_for("share")  # it has started, and holds its connections
        await chat.as_member("admin").run("/cogs unload share")
        said = chat.last_private("admin").text
        assert said.startswith("share stays as it is: 1 other process of the bot shares its database"), said
        assert "share" in chat.bot.cogs.loaded
        await other.stop()
        await chat.run("/cogs unload share")
        assert chat.last_private("admin").text.startswith("share is unloaded")
    finally:
        if other.process.returncode is None:
            await other.kill()
        await chat.close()


@pytest.mark.postgres_only
async def test_a_process_starting_beside_another_asks_again_only_what_nobody_has_answered_for_a_while(tmp_path):
    """At start, a process asks again the members whose answer was kept but who were not shown what came next.
    Beside a live process, a draft written a moment ago may be one that process is answering (it marks it
    shown just after its reply): asked again only once some time has passed, not at once as after a crash."""
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["sample_cogs.survey"]\n')
    other = await ConsoleProcess.start(tmp_path, '[cogs]\nenabled = ["sample_cogs.survey"]\n')
    try:
        await other.send("/help")
        await other.wait_for("survey")  # it has started, and holds its connections
        await chat.as_member("kit").run("/survey", ":dm Kit")
        await chat.as_member("lou").run("/survey", ":dm Lou")
        await chat.bot.forms.close()  # what they were shown is on record
        # kit's answer was written a moment ago, and not yet marked shown (a live process between its write
        # and its mark); lou's a minute ago, by a process that stopped there.
        query(chat.database, "UPDATE form_drafts SET asked = 0")
        query(chat.database, "UPDATE form_drafts SET updated_at = '2000-01-01T00:00:00.000000+00:00'"
                             " WHERE member_id = 'lou'")
        await chat.restart()
        asked_again = query(chat.database, "SELECT target_id FROM outbox WHERE batch LIKE 'forms:asked-again:%'")
        assert [row[0] for row in asked_again] == ["lou"], "lou asked again (by whichever process sends it); kit not:" \
                                                          " the other process may be answering kit"
    finally:
        await other.stop()
        await chat.close()
