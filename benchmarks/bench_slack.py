"""1,000 signed slash-command requests through the Bolt app, each to its answer at the fake Slack.

    python benchmarks/bench_slack.py [--n 1000] [--all-cores]

Each `/smallstep share` goes the whole way a real one does: a signed request, Bolt's
signature check and routing, the acknowledgement, the adapter building an Invocation, the
core, the share cog writing SQLite, the Message turned into Block Kit, and slack-sdk posting it
to the command's response_url at the fake, which records it. Beside it, the same count through
the console adapter in the same run: the ratio is what Slack's round trip costs on top.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the fake Slack lives with the tests

from slack_bolt.request.async_request import AsyncBoltRequest  # noqa: E402

from bot.app import Bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.platforms.slack import SlackAdapter  # noqa: E402
from fakes.slack_server import FakeSlack, signed_headers, slash_command_body  # noqa: E402
from measure import UNLIMITED, command_line, describe, share_through_the_console  # noqa: E402

SECRET = "benchmark-secret"
TEAM = "T0001"
MEMBERS = 100
IN_FLIGHT = 16  # Slack sends a busy workspace's requests side by side


async def through_slack(folder: Path, n: int) -> dict:
    fake = FakeSlack(team_id=TEAM)
    users = [f"U{i:05d}" for i in range(MEMBERS)]
    for user in users:
        fake.add_user(user, user.lower())
    fake.add_channel("C0GENERAL", "general")
    await fake.start()
    bot = await Bot.open(parse_config(UNLIMITED + f'[slack]\napi_base_url = "{fake.api_base}"\n', base_dir=folder),
                         database=folder / "slack.db")
    adapter = SlackAdapter(bot, token="xoxb-benchmark", signing_secret=SECRET)
    await bot.start()
    await adapter.prepare()

    answered: dict[str, float] = {}

    async def one(i: int, latencies: list[float]) -> None:
        """A request; its latency runs to the moment its answer reached the fake, not to Bolt's ack."""
        url = fake.response_url()
        url_id = url.rstrip("/").rsplit("/", 1)[-1]
        body = slash_command_body(command="/smallstep", text="share", user_id=users[i % MEMBERS],
                                  user_name=users[i % MEMBERS].lower(), channel_id="C0GENERAL", team_id=TEAM,
                                  response_url=url)
        t0 = time.perf_counter()
        response = await adapter.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed_headers(SECRET, body)))
        assert response.status == 200, response.body
        await fake.wait_for(lambda: url_id in answered, timeout=30)
        latencies.append(answered.pop(url_id) - t0)

    def note_answers() -> None:
        while len(fake.responses) > note_answers.seen:
            answered[fake.responses[note_answers.seen]["url_id"]] = time.perf_counter()
            note_answers.seen += 1

    note_answers.seen = 0
    fake._record = _recording(fake._record, note_answers)

    async def run(count: int, in_flight: int) -> dict:
        latencies: list[float] = []
        gate = asyncio.Semaphore(in_flight)

        async def gated(i: int) -> None:
            async with gate:
                await one(i, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(gated(i) for i in range(count)))
        return {"elapsed": time.perf_counter() - started, "latencies": latencies}

    try:
        await run(50, 1)  # warm up
        sequential = await run(n, 1)
        overlapping = await run(n, IN_FLIGHT)
    finally:
        await adapter.close()
        await bot.close()
        await fake.close()
    return {"sequential": sequential, "overlapping": overlapping}


def _recording(record, then):
    """Wrap the fake's recorder so the moment each answer arrives is noted."""
    def wrapped(records, entry):
        record(records, entry)
        then()
    return wrapped


async def main() -> None:
    args, cores = command_line(__doc__, n=1_000)
    with tempfile.TemporaryDirectory() as tmp:
        on_slack = await through_slack(Path(tmp), args.n)
        on_console = await share_through_the_console(Path(tmp), args.n, MEMBERS)
    print(f"/smallstep share, {args.n:,} signed requests, fake Slack and bot in one process ({cores})")
    print("latency: from the signed request to its answer arriving at the fake's response_url")
    describe("Bolt + fake Slack", "requests", args.n, on_slack["sequential"])
    describe(f"  ... {IN_FLIGHT} in flight", "requests", args.n, on_slack["overlapping"])
    describe("through the console", "commands", args.n, on_console)
    print(f"ratio Slack / console (one at a time): {on_slack['sequential']['elapsed'] / on_console['elapsed']:.2f}")
    print("One at a time, each request also waits for Bolt to return its acknowledgement, which Bolt")
    print("polls for every 10 ms; with requests side by side, that wait overlaps the work.")


if __name__ == "__main__":
    asyncio.run(main())
