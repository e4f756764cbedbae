"""The outbox's own jobs, loaded with the core like /help."""

from __future__ import annotations

from datetime import datetime

from bot.core.cog import Cog, job


class OutboxCog(Cog):
    """Loaded with the core: delivers what is due, including retries and what waited over a restart."""

    @job(every="1m", at_start=True)
    async def deliver(self, now: datetime) -> None:
        self.bot.outbox.kick()

    @job(every="1d")
    async def tidy(self, now: datetime) -> None:
        await self.bot.outbox.forget_delivered_files()
