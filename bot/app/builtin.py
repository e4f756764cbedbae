"""The core's own commands: /help, and /cogs for moderators to manage features at runtime."""

from __future__ import annotations

from datetime import datetime

from bot.app.cogs import CogLoadError
from bot.config import ConfigError, available_cogs
from bot.core.cog import Cog, CommandSpec, action, command, option
from bot.core.commands import closest
from bot.core.context import Invocation, Member
from bot.core.errors import Refusal, UnknownName, UsageError
from bot.core.message import Button, ButtonStyle, Message
from bot.values import parse_duration, stamp

AUDIT_SHOWN = 30  # entries on one page of /audit
MOST_PAGES = 10**9  # far past any log, and within what SQLite can skip


class CoreCommands(Cog):
    """Help for members, and cog management for moderators."""

    def _visible(self, ctx: Invocation) -> list[CommandSpec]:
        specs = self.bot.cogs.command_specs().values()
        return sorted((s for s in specs if ctx.member.is_moderator or not s.moderator), key=lambda s: s.name)

    @command("help", help="List the commands you can use, or explain one")
    async def help(self, ctx: Invocation, command: str | None = option("A command to explain, e.g. share")) -> None:
        if command is None:
            await ctx.reply_private(ctx.render("core/help.j2", commands=self._visible(ctx))["list"])
            return
        name = command.strip().removeprefix("/").lower()
        spec = self.bot.cogs.command_specs().get(name)
        if spec is None:
            names = [s.name for s in self._visible(ctx)]
            raise UsageError("unknown_command", typed=name, suggestion=closest(name, names))
        if spec.moderator and not ctx.member.is_moderator:
            raise UsageError("not_moderator", name=spec.name)
        await ctx.reply_private(ctx.render("core/help.j2", spec=spec)["one"])

    @command("audit", help="What moderators did: who, what, when and why (newest first)", moderator=True)
    async def audit(self, ctx: Invocation, moderator: Member | None = option("Only what this moderator did"),
                    since: str | None = option("From when: a date (2026-11-01) or a time ago (7d)",
                                               max_length=30),
                    page: int = option("Which page, 1 being the newest entries", default=1)) -> None:
        start = None
        if since:
            try:
                start = stamp(self.clock.now() - parse_duration(since))
            except ValueError:
                try:
                    start = stamp(datetime.fromisoformat(since.strip()).replace(tzinfo=self.clock.tz))
                except ValueError:
                    raise Refusal(ctx.render("core/audit.j2", value=since)["bad_since"], show_usage=True) from None
        if not 1 <= page <= MOST_PAGES:
            raise Refusal(ctx.render("core/audit.j2", page=page)["bad_page"], show_usage=True)
        await self._audit_page(ctx, moderator.id if moderator else "", start or "", page)

    @action("core:audit-page", moderator=True)
    async def audit_older(self, ctx: Invocation, value: str) -> None:
        page, _, rest = value.partition("|")
        start, _, moderator_id = rest.partition("|")  # the id last: it is the one part that may hold a "|"
        await self._audit_page(ctx, moderator_id, start, int(page) if page.isdigit() else 1)

    async def _audit_page(self, ctx: Invocation, moderator_id: str, start: str, page: int) -> None:
        """One page of the audit log; the button to the next (older) page only when there is one.
        The filters travel in the button, `since` as the moment it meant when first asked."""
        found = await self.bot.audit.entries(ctx.community, moderator_id=moderator_id or None, since=start or None,
                                             limit=AUDIT_SHOWN + 1, skip=(page - 1) * AUDIT_SHOWN)
        entries, more = found[:AUDIT_SHOWN], len(found) > AUDIT_SHOWN
        texts = ctx.render("core/audit.j2", entries=entries, page=page, more=more)
        buttons = [Button(texts["button_older"], "core:audit-page", f"{page + 1}|{start}|{moderator_id}",
                          ButtonStyle.SECONDARY)] if more else []
        await ctx.reply_private(Message(text=texts["list"], buttons=buttons))

    @command("cogs list", help="Show which features are loaded, which failed and which are available", moderator=True)
    async def list_cogs(self, ctx: Invocation) -> None:
        registry = self.bot.cogs
        loaded = {name: len(cog.commands) for name, cog in registry.loaded.items() if name not in registry.builtin}
        available = [name for name in available_cogs() if name not in loaded and name not in registry.failed]
        text = ctx.render("core/cogs.j2", loaded=loaded, failed=registry.failed, available=available)["list"]
        await ctx.reply_private(text)

    @command("cogs load", help="Switch a feature on until the next restart", moderator=True)
    async def load(self, ctx: Invocation, name: str = option("The cog's name, e.g. share")) -> None:
        await self._change(ctx, "loaded", name, self.bot.cogs.load)

    @command("cogs unload", help="Switch a feature off until the next restart", moderator=True)
    async def unload(self, ctx: Invocation, name: str = option("The cog's name, e.g. share")) -> None:
        await self._change(ctx, "unloaded", name, self.bot.cogs.unload)

    @command("cogs reload", help="Reload a feature from its files (after editing it)", moderator=True)
    async def reload(self, ctx: Invocation, name: str = option("The cog's name, e.g. share")) -> None:
        await self._change(ctx, "reloaded", name, self.bot.cogs.reload)

    async def _change(self, ctx: Invocation, done: str, name: str, change) -> None:
        if others := await self.bot.db.other_processes():  # a change here would reach this process alone
            raise Refusal(ctx.render("core/cogs.j2", name=name, others=others)["shared"])
        try:
            await change(name)
        except (CogLoadError, ConfigError, UnknownName) as exc:
            await ctx.reply_private(ctx.render("core/cogs.j2", name=name, problem=str(exc))["failed"])
            return
        verb = {"loaded": "load", "unloaded": "unload", "reloaded": "reload"}[done]
        await self.bot.audit.record(ctx.community, ctx.member, f"cogs.{verb}", target=name)
        await ctx.reply_private(ctx.render("core/cogs.j2", name=name, done=done)["changed"])
