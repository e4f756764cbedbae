"""A small cog used by the core's tests: options of every type, a listener, a job."""

from __future__ import annotations

import asyncio
import time

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.config import setting
from bot.core import Channel, Cog, DomainEvent, Invocation, Member, Message, command, job, listener, option
from bot.values import stamp


@dataclass(frozen=True)
class EchoSettings:
    greeting: str = setting("Hello", "What /greet says.")
    repeat: int = setting(1, "How many times /greet says it.")


class Echo(Cog):
    """Says back what it is given."""

    Settings = EchoSettings

    @command("echo", help="Say the text back")
    async def echo(self, ctx: Invocation, text: str = option("What to say", max_length=20)) -> None:
        await ctx.reply(ctx.render("echo/said.j2", text=text).body)

    @command("greet", help="Greet someone")
    async def greet(self, ctx: Invocation, who: Member = option("Who to greet"),
                    where: Channel | None = option("Where to greet them")) -> None:
        text = " ".join([self.settings.greeting] * self.settings.repeat)
        message = Message(text=f"{text}, {who.display_name}")
        if where:
            await ctx.send_to(where, message)
        else:
            await ctx.reply(message)

    @command("pick", help="Pick a colour and a number")
    async def pick(self, ctx: Invocation, colour: Literal["red", "green"] = option("A colour"),
                   number: int = option("A number", default=7), loud: bool = option("Shout?", default=False)) -> None:
        await ctx.reply(f"{colour} {number} {'!' if loud else ''}".strip())

    @command("secret", help="Something only moderators may do", moderator=True)
    async def secret(self, ctx: Invocation) -> None:
        await ctx.reply_private("the secret")

    @command("slow", help="Take a while to answer")
    async def slow(self, ctx: Invocation) -> None:
        await asyncio.sleep(1.3)  # longer than the Discord tests' deferral delay
        await ctx.reply("done at last")

    @command("find", help="Find a town")
    async def find(self, ctx: Invocation, town: str = option("The town", autocomplete="towns")) -> None:
        await ctx.reply(f"found {town}")

    async def towns(self, ctx: Invocation, typed: str) -> list[str]:
        return [t for t in ("Wichita", "Winchester", "Charlottesville") if t.lower().startswith(typed.lower())]

    @command("broadcast", help="Post a text in several channels, through the outbox", moderator=True)
    async def broadcast(self, ctx: Invocation, batch: str = option("A name for this broadcast"),
                        channels: str = option("Channels, e.g. #a #b"),
                        text: str = option("What to post")) -> None:
        targets = [await ctx.adapter.resolve_channel(ctx.community, name) for name in channels.split()]
        queued = await self.bot.outbox.put(ctx.community, f"echo:{batch}", [(t, Message(text=text)) for t in targets])
        await ctx.reply_private(f"queued {queued}")

    @command("hog", help="Hold the event loop for 0.4 s, as CPU-heavy work on the loop would")
    async def hog(self, ctx: Invocation) -> None:
        time.sleep(0.4)
        await ctx.reply("done hogging")

    @command("crash", help="Fail on purpose")
    async def crash(self, ctx: Invocation) -> None:
        raise RuntimeError("deliberate failure")

    @listener("share.completed")
    async def failing_listener(self, event: DomainEvent) -> None:
        raise RuntimeError("this listener always fails")

    @listener("share.completed")
    async def count_shares(self, event: DomainEvent) -> None:
        await self._heard(event)

    @listener("member.joined")
    async def count_joins(self, event: DomainEvent) -> None:
        await self._heard(event)

    async def _heard(self, event: DomainEvent) -> None:
        await self.db.execute("INSERT INTO echo_heard (community, member_id, at) VALUES (?, ?, ?)",
                              (event.community.key, event.member.id, stamp(event.at)))

    @job(every="1d")
    async def daily(self, now: datetime) -> None:
        await self.db.execute("INSERT INTO echo_runs (community, at) VALUES ('console:local', ?)", (stamp(now),))

    @job(every="1d")
    async def hog_daily(self, now: datetime) -> None:
        time.sleep(0.4)

    @job(every="1s")
    async def often(self, now: datetime) -> None:
        await self.db.execute("INSERT INTO echo_ticks (community, at) VALUES ('console:local', ?)", (stamp(now),))


def setup(bot, name):
    return Echo(bot, name)
