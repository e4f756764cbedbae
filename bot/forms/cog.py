"""The forms' own buttons and deadlines, loaded with the core like /help."""

from __future__ import annotations

from datetime import datetime

from bot.core.cog import Cog, action, job
from bot.core.context import Invocation
from bot.forms.view import BUTTONS


class FormsCog(Cog):
    """The buttons under form questions (each of view.BUTTONS), and the job that sends reminders and
    expires drafts."""

    @action(*(button.action for button in BUTTONS))
    async def pressed(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, value)

    @job(every="1m", at_start=True)
    async def deadlines(self, now: datetime) -> None:
        await self.bot.forms.run_deadlines(now)
