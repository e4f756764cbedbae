"""Each message once, across crashes: the real `smallstep run` process, killed with SIGKILL at random
moments of a 200-channel announcement and started again each time, against the fake Discord and
the fake Slack (which keep what they were sent across the bot's restarts).

A kill can land after the platform took a message and before the outbox marked it. On Discord the
next attempt carries the same nonce and Discord hands back the message it made; on Slack the
outbox looks for the message's delivery key in the channel's history before posting again.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Awaitable, Callable

from fakes.discord_server import FakeDiscord
from fakes.slack_server import FakeSlack, slash_command_payload

ROOMS = 200
KILLS = 20
GUILD, ADMIN, MODERATOR_ROLE = 2000, 5002, 4000
TEAM, SLACK_ADMIN = "T0001", "U0ADMIN"


async def kill_through(process: asyncio.subprocess.Process, start: Callable[[], Awaitable[asyncio.subprocess.Process]],
                       delivered: Callable[[], int], fake: FakeDiscord | FakeSlack, seed: int) -> tuple[int, int]:
    """Kill the bot with SIGKILL and start it again, at least KILLS times, until all ROOMS channels have
    their message. Every other kill lands in the worst moment: the platform has taken a message and the
    bot is waiting for its answer (the fake holds it). The others land at a random moment after a random
    number of messages. Returns (kills, kills in the worst moment)."""
    chance = random.Random(seed)
    kills = held_kills = 0
    try:
        while delivered() < ROOMS:
            # Enough messages kept back for the kills still to come: each life takes a random share.
            left = ROOMS - delivered() - max(0, KILLS - kills)
            share = max(1, left // max(1, KILLS + 1 - kills))
            target = delivered() + chance.randint(0, min(left, 2 * share))
            await until(lambda: delivered() >= target or process.returncode is not None)
            assert process.returncode is None, (await process.communicate())[1].decode()[-3000:]
            if delivered() >= ROOMS:
                break
            if kills % 2 == 0:
                held = fake.hold_next_message() if isinstance(fake, FakeDiscord) else fake.hold_next_post()
                await until(held.is_set)
                held_kills += 1
            else:
                await asyncio.sleep(chance.uniform(0, 0.03))
            process.kill()
            await process.wait()
            fake.release_held()
            kills += 1
            process = await start()
        return kills, held_kills
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.communicate(), 30)


async def started(process: asyncio.subprocess.Process, connected: Awaitable[None]) -> asyncio.subprocess.Process:
    """The process once `connected`; if it never connects, fail with what it wrote on stderr."""
    try:
        await connected
    except TimeoutError:
        if process.returncode is None:
            process.kill()
        raise AssertionError("the bot never connected; it wrote:\n"
                             + (await process.communicate())[1].decode(errors="replace")[-3000:]) from None
    return process


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("the bot made no progress")


def smallstep(folder: Path, platform: str, env: dict[str, str]) -> Awaitable[asyncio.subprocess.Process]:
    return asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--platform", platform, cwd=folder, env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def test_discord_every_channel_once_through_twenty_kills(tmp_path):
    fake = FakeDiscord(guild_id=GUILD)
    rooms = list(range(7000, 7000 + ROOMS))
    for room in rooms:
        fake.add_channel(room, f"room-{room}")
    fake.add_role(MODERATOR_ROLE, "Moderators")
    fake.add_member(ADMIN, "admin", roles=[MODERATOR_ROLE])
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(
        f'[discord]\nguild_id = "{GUILD}"\napi_base_url = "{fake.api_base}"\ngateway_url = "{fake.gateway_url}"\n'
        f'[cogs.events]\nchannels = [{", ".join(f"{chr(34)}{room}{chr(34)}" for room in rooms)}]\n')

    async def start() -> asyncio.subprocess.Process:
        fake.identifies.clear()
        process = await smallstep(tmp_path, "discord", {"DISCORD_TOKEN": "fake-token"})
        return await started(process, fake.wait_for(lambda: fake.identifies and fake._bot_socket is not None,
                                                     timeout=60))

    def posted() -> list[int]:
        return [m["channel_id"] for m in fake.channel_messages if m["channel_id"] in rooms]

    try:
        first = await start()
        created = await fake.slash_command(ADMIN, "event", [{"name": "create", "type": 1, "options": [
            {"name": "title", "type": 3, "value": "Listening session"},
            {"name": "start", "type": 3, "value": "2030-01-14 18:00"}]}])
        await fake.wait_for(lambda: any(r["interaction_id"] == created for r in fake.interaction_responses), 30)
        seed = random.randrange(1 << 30)
        kills, held_kills = await kill_through(first, start, lambda: len(set(posted())), fake, seed)
        copies = Counter(posted())
        assert sorted(copies) == rooms and set(copies.values()) == {1}, (seed, copies.most_common(3))
        assert kills >= KILLS, (seed, kills)
        # Each kill in the worst moment left a message Discord had made: sent again, it came back by its nonce.
        assert fake.nonce_repeats >= held_kills >= KILLS // 2, (seed, fake.nonce_repeats, held_kills)
    finally:
        await fake.close()


async def test_slack_every_channel_once_through_twenty_kills(tmp_path):
    fake = FakeSlack(team_id=TEAM)
    fake.add_user(SLACK_ADMIN, "admin")
    rooms = [f"C{n:07d}" for n in range(ROOMS)]
    for room in rooms:  # public channels the bot posts in without having joined them (chat:write.public)
        fake.add_channel(room, f"room-{room.lower()}", bot_is_member=False)
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(
        f'[slack]\napi_base_url = "{fake.api_base}"\nmoderators = ["{SLACK_ADMIN}"]\noutbox_per_second = 50\n'
        f'[cogs.events]\nchannels = [{", ".join(f"{chr(34)}{room}{chr(34)}" for room in rooms)}]\n')
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"}

    async def start() -> asyncio.subprocess.Process:
        process = await smallstep(tmp_path, "slack", env)
        return await started(process, fake.wait_for(lambda: fake._socket is not None, timeout=60))

    def posted() -> list[str]:
        return [c["args"]["channel"] for c in fake.calls_to("chat.postMessage") if c["args"]["channel"] in rooms]

    def kept() -> list[str]:
        return [room for room in rooms for _ in fake.messages_in(room)]

    try:
        first = await start()
        url = fake.response_url()
        await fake.socket_send("slash_commands", slash_command_payload(
            command="/smallstep", text='event create title:"Listening session" start:"2030-01-14 18:00"',
            user_id=SLACK_ADMIN, user_name=fake.handle(SLACK_ADMIN), channel_id=rooms[0], team_id=TEAM,
            response_url=url))
        await fake.wait_for(lambda: fake.responses, timeout=30)
        seed = random.randrange(1 << 30)
        kills, held_kills = await kill_through(first, start, lambda: len(set(kept())), fake, seed)
        copies = Counter(kept())
        assert sorted(copies) == rooms and set(copies.values()) == {1}, (seed, copies.most_common(3))
        assert kills >= KILLS and held_kills >= KILLS // 2, (seed, kills, held_kills)
        # Each kill in the worst moment left a post Slack had made: found in the history, not posted again.
        assert len(posted()) == ROOMS, "no post was repeated"
        assert len(fake.calls_to("conversations.history")) >= held_kills
    finally:
        await fake.close()
