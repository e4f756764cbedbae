"""Members report a message, a submission or someone's behaviour to the moderators.

A report lands in the moderators' channel, in the same queue as testimonials and stories
(bot.moderation), with a "Handled" button; /reports lists those still open. The member who
reported is told when it was handled; who they reported is never told by the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import setting
from bot.core import Button, ButtonStyle, Invocation, Member, Message, Refusal, action, command, option, query
from bot.core.cog import Cog
from bot.moderation import ModerationPosts
from bot.values import looks_like_link, stamp

TEXTS = "reports/messages.j2"
OPEN, HANDLED = "open", "handled"


@dataclass(frozen=True)
class ReportSettings:
    """[cogs.reports] in the config."""

    moderators_channel: str = setting("moderators", "Where reports reach the moderators (name or id).")


class Reports(Cog):
    """Reports to the moderators."""

    Settings = ReportSettings
    emits = ("report.made",)
    member_rows = {"reports": "member_id"}
    member_mentions = {"reports": ("handled_by",)}

    async def cog_load(self) -> None:
        self.posts = ModerationPosts(self.bot, "report")

    @command("report", help="Tell the moderators about a message, a submission or someone's behaviour",
             cooldown="1m")
    async def report(self, ctx: Invocation, what: str = option("What happened, in a few words", max_length=1000),
                     link: str | None = option("A link to the message, if you have one", max_length=500,
                                               fits=looks_like_link)) -> None:
        report = await self._report(ctx, await self.file(ctx, what, link or ""))
        await ctx.reply_private(ctx.render(TEXTS, report=report)["thanks"])

    @query("reports.file")
    async def file(self, ctx: Invocation, what: str, link: str = "") -> int:
        """File a report from the member of `ctx` (also for other cogs: /pairing report); its number."""
        channel = await self.posts.queue_channel(ctx, self.settings.moderators_channel)
        async with self.db.transaction() as tx:
            report_id = await tx.next_number(ctx.community.key, "reports")
            await tx.execute(
                "INSERT INTO reports (id, community, member_id, member_name, what, link, status, reported_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (report_id, ctx.community.key, ctx.member.id,
                                                     ctx.member.display_name, what.strip(), link.strip(), OPEN,
                                                     stamp(self.clock.now())))
            event = await self.events.record(tx, "report.made", ctx.community, ctx.member, report=report_id)
            report = dict(await tx.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,)))
            await self.posts.to_queue(ctx, channel, report_id, self._card(ctx, report), tx=tx)
        await self.events.publish(event)
        return report_id

    @command("reports", help="The reports still open", moderator=True)
    async def open_reports(self, ctx: Invocation) -> None:
        rows = await self.db.fetchall("SELECT * FROM reports WHERE community = ? AND status = ? ORDER BY id",
                                      (ctx.community.key, OPEN))
        await ctx.reply_private(ctx.render(TEXTS, reports=[dict(r) for r in rows])["listing"])

    @command("report handled", help="Mark a report as handled (the member who made it is told)", moderator=True)
    async def handled(self, ctx: Invocation, id: int = option("The report's number"),
                      note: str | None = option("What was done, for the audit log", max_length=300)) -> None:
        await self._handle(ctx, id, note or "")

    @action("reports:handled", moderator=True)
    async def handled_button(self, ctx: Invocation, value: str) -> None:
        await self._handle(ctx, int(value), "")

    async def _handle(self, ctx: Invocation, report_id: int, note: str) -> None:
        report = await self._report(ctx, report_id)
        changed = await self.db.execute(
            "UPDATE reports SET status = ?, handled_by = ?, handled_at = ?, note = ? WHERE community = ? AND id = ?"
            " AND status = ?", (HANDLED, ctx.member.id, stamp(self.clock.now()), note, ctx.community.key, report_id,
                                OPEN))
        if not changed:
            raise Refusal(ctx.render(TEXTS, report=report)["already_handled"])
        await self.bot.audit.record(ctx.community, ctx.member, "report.handled", target=f"#{report_id}", reason=note,
                                    report=report_id)
        report = await self._report(ctx, report_id)
        await self.posts.refresh(ctx, report_id, self._card(ctx, report))
        reporter = Member(ctx.platform, report["member_id"], report["member_name"])
        await self.bot.outbox.put(ctx.community, f"reports:{report_id}:handled", [(reporter, Message(
            text=ctx.render(TEXTS, report=report)["dm_handled"]))])
        await ctx.reply_private(ctx.render(TEXTS, report=report)["handled_done"])

    def _card(self, ctx: Invocation, report: dict[str, Any]) -> Message:
        texts = ctx.render(TEXTS, report=report)
        buttons = [Button(texts["button_handled"], "reports:handled", str(report["id"]), ButtonStyle.SUCCESS)] \
            if report["status"] == OPEN else []
        return Message(title=texts["card_title"], text=texts["card"], buttons=buttons)

    async def _report(self, ctx: Invocation, report_id: int) -> dict[str, Any]:
        row = await self.db.fetchone("SELECT * FROM reports WHERE community = ? AND id = ?",
                                     (ctx.community.key, report_id))
        if row is None:
            raise Refusal(ctx.render(TEXTS, id=report_id)["not_found"])
        return dict(row)
