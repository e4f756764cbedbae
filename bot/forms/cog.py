"""The forms' own buttons and deadlines, loaded with the core like /help."""

from __future__ import annotations

from datetime import datetime

from bot.core.cog import Cog, action, job
from bot.core.context import Invocation


class FormsCog(Cog):
    """Buttons under form questions, and the job that sends reminders and expires drafts."""

    @action("forms:answer")
    async def answer(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "answer", value)

    @action("forms:switch")
    async def switch(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "switch", value)

    @action("forms:continue")
    async def carry_on(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "continue", value)

    @action("forms:retry")
    async def retry(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "retry", value)

    @action("forms:dialog")
    async def dialog(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "dialog", value)

    @action("forms:cancel")
    async def cancel(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "cancel", value)

    @action("forms:submit")
    async def submit(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.press(ctx, "submit", value)

    @job(every="1m", at_start=True)
    async def deadlines(self, now: datetime) -> None:
        await self.bot.forms.run_deadlines(now)
