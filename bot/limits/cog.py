"""The limits' own job, loaded with the core like /help."""

from __future__ import annotations

from datetime import datetime

from bot.core.cog import Cog, job


class LimitsCog(Cog):
    """Loaded with the core: deletes the members' limits whose window has ended."""

    @job(every="1h")
    async def tidy(self, now: datetime) -> None:
        await self.bot.limits.tidy(now)
