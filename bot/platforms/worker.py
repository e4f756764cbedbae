"""`smallstep worker`: the outbox and the scheduled jobs of Discord, Slack or both, over their REST APIs only.

A worker holds no Discord gateway and no Slack socket or HTTP listener: it answers no member. Beside it, the
process holding the gateway (`smallstep run --platform discord --no-background`) and the Slack processes
(`smallstep run --platform slack --no-background`, as many as a load balancer spreads requests over) answer
members and queue what is to be sent; a worker sends it, woken by PostgreSQL's NOTIFY, and runs the jobs that
fall due. Several workers share the work through the database's claims, as every process of the bot does
(`bot.outbox`, `bot.scheduler`): each message is sent by one, each due run of a job taken by one.

A worker needs a database other processes share: PostgreSQL (the command line refuses an SQLite file).
"""

from __future__ import annotations

import asyncio
import logging

from bot.app import Bot
from bot.config import Config
from bot.core.adapter import Adapter
from bot.storage import Location

log = logging.getLogger(__name__)


async def run_worker(config: Config, *, tokens: dict[str, str], database: Location | None = None) -> None:
    """Deliver the outbox and run the scheduled jobs for the platforms of `tokens` (Discord's bot token,
    Slack's bot token) until stopped."""
    bot = await Bot.open(config, database=database)
    adapters: list[Adapter] = []
    try:
        await bot.start()
        if "discord" in tokens:
            from bot.platforms.discord.runner import over_rest

            adapters.append(await over_rest(bot, tokens["discord"]))
        if "slack" in tokens:
            from bot.platforms.slack.adapter import SlackAdapter

            slack = SlackAdapter(bot, token=tokens["slack"])
            adapters.append(slack)
            await slack.prepare()  # auth.test: a rejected token stops here
        bot.start_background()
        bot.outbox.kick()  # what waited for a worker
        log.info("worker: delivering the outbox and running the scheduled jobs of %s", " and ".join(sorted(tokens)))
        await asyncio.Event().wait()  # until cancelled (SIGTERM, Ctrl-C)
    finally:
        await bot.outbox.close()  # the message on its way is delivered and marked while the platform is there
        for adapter in adapters:
            await adapter.close()
        await bot.close()
