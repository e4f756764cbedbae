"""Step 4 of the ten: members submit a testimonial; moderators curate what the program may quote.

/testimonial opens a conversational form in DMs (bot.forms). A submission enters the
moderators' queue, posted in their channel with Approve / Reject / Ask for changes
buttons (rejecting or asking for changes asks the moderator for a note, by the same kind
of form). The member hears the outcome by DM; "ask for changes" reopens their answers.
Approved testimonials whose authors agreed can be featured in a channel and exported,
credited as the member chose. /testimonial withdraw takes one back everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from bot.config import setting
from bot.core import (Button, ButtonStyle, Channel, Cog, Field, File, Invocation, Member, Message, action, command,
                      option)
from bot.core.errors import MemberUnreachable
from bot.forms import Submission, on_submit
from bot.moderation import FEATURED, QUEUE, ModerationPosts
from bot.values import stamp
from cogs.testimonials import export as exports
from cogs.testimonials.forms import CHANGES, REJECTION, TESTIMONIAL
from cogs.testimonials.store import (APPROVED, CHANGES_REQUESTED, NOT_REVISABLE, PENDING, RECORDED, REJECTED,
                                     Testimonial, TestimonialStore)

log = logging.getLogger(__name__)

TEXTS = "testimonials/messages.j2"


@dataclass(frozen=True)
class TestimonialSettings:
    """[cogs.testimonials] in the config."""

    moderators_channel: str = setting(
        "moderators", "The channel where new testimonials wait for a moderator (name or id).")


class Testimonials(Cog):
    """Collecting testimonials, moderating them, featuring and exporting the approved ones."""

    emits = ("testimonial.submitted", "testimonial.revised", "testimonial.approved")
    member_rows = {"testimonials": "member_id"}
    member_mentions = {"testimonials": ("decided_by",)}

    Settings = TestimonialSettings

    async def cog_load(self) -> None:
        self.store = TestimonialStore(self.db, self.events)
        self.posts = ModerationPosts(self.bot, "testimonial")

    async def forget_member(self, ctx: Invocation) -> None:
        """A member's testimonials go, and wherever one was shown it says it was withdrawn."""
        for testimonial in await self.store.of_member(ctx.community, ctx.member.id):
            replacement = Message(text=ctx.render(TEXTS, id=testimonial.id)["post_withdrawn"])
            await self.posts.refresh(ctx, testimonial.id, replacement, roles=(QUEUE, FEATURED))
            await self.posts.forget(ctx, testimonial.id)
        await super().forget_member(ctx)

    # -- members -------------------------------------------------------------------------

    @command("testimonial", help="Tell the program about your conversation, in a few questions by DM")
    async def write(self, ctx: Invocation) -> None:
        asked = await self.store.changes_asked(ctx.community, ctx.member.id)
        if asked is None:
            await self.bot.forms.start(ctx, TESTIMONIAL)
            return
        # Moderators asked for changes to one: that comes first, with their note, whenever the member returns.
        await self._reopen(ctx, asked)

    async def _reopen(self, ctx: Invocation, testimonial: Testimonial) -> bool:
        """Give a testimonial's answers back to its author, with the moderators' note; False if undelivered."""
        note = ctx.render(TEXTS, id=testimonial.id, note=testimonial.moderator_note or "")["dm_changes"]
        return await self.bot.forms.start(ctx, TESTIMONIAL, answers=_answers_of(testimonial),
                                          context={"revising": testimonial.id}, intro=note)

    @on_submit(TESTIMONIAL)
    async def submitted(self, ctx: Invocation, submission: Submission) -> None:
        channel = await self.posts.queue_channel(ctx, self.settings.moderators_channel)
        # The testimonial, its event, its card for the moderators, the member's thanks and the end of their
        # draft: all of them, or none. A retried submit finds it recorded, and the rest queued already.
        async with self.db.transaction() as tx:
            testimonial_id, outcome, event = await self.store.record(tx, submission, self.clock.now())
            texts = ctx.render(TEXTS, id=testimonial_id)
            if outcome == RECORDED:
                testimonial = await self.store.get(ctx.community, testimonial_id, tx=tx)
                await self.posts.to_queue(ctx, channel, testimonial_id, self._queue_card(ctx, testimonial),
                                          version=testimonial.submitted_at, tx=tx)
            if outcome != NOT_REVISABLE:
                thanks = texts["thanks_revised" if submission.context.get("revising") else "thanks"]
                await self.bot.outbox.put(ctx.community, f"testimonials:thanks:{submission.id}",
                                          [(ctx.member, Message(text=thanks))], tx=tx)
            await self.bot.forms.finish(tx, submission)
        if event is not None:
            await self.events.publish(event)
        if outcome == NOT_REVISABLE:
            await ctx.reply(texts["not_revisable"])

    @command("testimonial withdraw", help="Take back a testimonial you submitted, wherever it is shown")
    async def withdraw(self, ctx: Invocation) -> None:
        mine = await self.store.of_member(ctx.community, ctx.member.id)
        texts = ctx.render(TEXTS, testimonials=mine)
        if not mine:
            await ctx.reply_private(texts["nothing_to_withdraw"])
            return
        await ctx.reply_private(Message(text=texts["withdraw_list"], buttons=[
            Button(ctx.render(TEXTS, id=t.id)["button_withdraw"], "testimonials:withdraw", str(t.id),
                   style=ButtonStyle.DANGER) for t in mine]))

    @action("testimonials:withdraw")
    async def confirm_withdrawal(self, ctx: Invocation, value: str) -> None:
        testimonial = await self._own(ctx, value)
        if testimonial is None:
            return
        texts = ctx.render(TEXTS, id=testimonial.id)
        await ctx.reply_private(Message(text=texts["withdraw_confirm"], buttons=[
            Button(texts["button_withdraw_yes"], "testimonials:withdraw-confirmed", value, style=ButtonStyle.DANGER),
            Button(texts["button_keep"], "testimonials:keep", value, style=ButtonStyle.SECONDARY),
        ]))

    @action("testimonials:withdraw-confirmed")
    async def withdrawn(self, ctx: Invocation, value: str) -> None:
        testimonial = await self._own(ctx, value)
        if testimonial is None:
            return
        await self.store.withdraw(ctx.community, testimonial.id, ctx.member.id, self.clock.now())
        await self.bot.forms.discard(ctx.community, ctx.member.id, TESTIMONIAL, revising=testimonial.id)
        replacement = Message(text=ctx.render(TEXTS, id=testimonial.id)["post_withdrawn"])
        await self.posts.refresh(ctx, testimonial.id, replacement, roles=(QUEUE, FEATURED))
        await ctx.reply_private(ctx.render(TEXTS, id=testimonial.id)["withdrawn"])

    @action("testimonials:keep")
    async def keep(self, ctx: Invocation, value: str) -> None:
        await ctx.reply_private(ctx.render(TEXTS)["kept"])

    # -- moderators ------------------------------------------------------------------------

    @command("testimonials queue", help="List the testimonials waiting for a decision", moderator=True)
    async def queue(self, ctx: Invocation) -> None:
        waiting = await self.store.in_status(ctx.community, PENDING)
        await ctx.reply_private(ctx.render(TEXTS, testimonials=waiting)["queue"])

    @command("testimonials show", help="Show one testimonial in full", moderator=True)
    async def show(self, ctx: Invocation, id: int = option("The testimonial's number")) -> None:
        testimonial = await self._find(ctx, id)
        if testimonial:
            await ctx.reply_private(self._card(ctx, testimonial))

    @command("testimonials approve", help="Approve a testimonial for the program's use", moderator=True)
    async def approve(self, ctx: Invocation, id: int = option("The testimonial's number")) -> None:
        await self._decide(ctx, id, APPROVED, None)

    @command("testimonials reject", help="Reject a testimonial, saying why", moderator=True)
    async def reject(self, ctx: Invocation, id: int = option("The testimonial's number"),
                     reason: str = option("Why; the member will read this")) -> None:
        await self._decide(ctx, id, REJECTED, reason)

    @command("testimonials request-changes", help="Ask the member to change their testimonial", moderator=True)
    async def request_changes(self, ctx: Invocation, id: int = option("The testimonial's number"),
                              note: str = option("What to change; the member will read this")) -> None:
        await self._decide(ctx, id, CHANGES_REQUESTED, note)

    @action("testimonials:approve", moderator=True)
    async def approve_button(self, ctx: Invocation, value: str) -> None:
        await self._decide(ctx, int(value), APPROVED, None)

    @action("testimonials:reject", moderator=True)
    async def reject_button(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.start(ctx, REJECTION, context={"testimonial": int(value)})

    @action("testimonials:changes", moderator=True)
    async def changes_button(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.start(ctx, CHANGES, context={"testimonial": int(value)})

    @on_submit(REJECTION)
    async def rejection_written(self, ctx: Invocation, submission: Submission) -> None:
        await self._decide(ctx, submission.context["testimonial"], REJECTED, submission.answers["note"])

    @on_submit(CHANGES)
    async def changes_written(self, ctx: Invocation, submission: Submission) -> None:
        await self._decide(ctx, submission.context["testimonial"], CHANGES_REQUESTED, submission.answers["note"])

    @command("testimonials feature", help="Show an approved testimonial in a channel, credited as its author chose",
             moderator=True)
    async def feature(self, ctx: Invocation, id: int = option("The testimonial's number"),
                      channel: Channel = option("Where to show it")) -> None:
        testimonial = await self._find(ctx, id)
        if testimonial is None:
            return
        texts = ctx.render(TEXTS, testimonial=testimonial, id=id, channel=channel,
                           credited=exports.credited_name(testimonial, ctx.render(TEXTS)["anonymous"]))
        if testimonial.status != APPROVED or not testimonial.consent_given:
            await ctx.reply_private(texts["cannot_feature"])
            return
        await ctx.check_postable(channel)
        async with self.db.transaction() as tx:  # the post is recorded with its audit entry, before it is sent
            await self.posts.feature(ctx, channel, id, Message(text=texts["featured"]), tx=tx)
            await self.bot.audit.record(ctx.community, ctx.member, "testimonial.feature", target=f"#{channel.name}",
                                        testimonial=id, tx=tx)
        await ctx.reply_private(texts["featured_done"])

    @command("testimonials export", help="Send yourself the approved testimonials as a file", moderator=True)
    async def export(self, ctx: Invocation,
                     format: Literal["csv", "json"] = option("The file's format", default="csv")) -> None:
        anonymous = self.bot.render(TEXTS, "plain")["anonymous"]
        content = await exports.export(self.db, format, ctx.community.key, anonymous)
        await self.bot.audit.record(ctx.community, ctx.member, "testimonials.export", format=format)
        texts = ctx.render(TEXTS, format=format)
        try:
            await ctx.dm(Message(text=texts["export_ready"],
                                 files=[File(f"testimonials.{format}", content.encode("utf-8"))]))
        except MemberUnreachable:
            await ctx.reply_private(texts["export_dm_closed"])
            return
        if ctx.channel is not None:
            await ctx.reply_private(texts["export_sent"])

    # -- the decisions -----------------------------------------------------------------------

    async def _decide(self, ctx: Invocation, testimonial_id: int, status: str, note: str | None) -> None:
        if not ctx.member.is_moderator:  # a note form outlives its moderator's role: check again
            await ctx.reply_private(ctx.render("core/errors.j2", name="testimonials")["not_moderator"])
            return
        testimonial = await self._find(ctx, testimonial_id)
        if testimonial is None:
            return
        allowed_from = (PENDING,) if status != APPROVED else (PENDING, REJECTED, CHANGES_REQUESTED)
        texts = ctx.render(TEXTS, id=testimonial_id, status=testimonial.status, note=note or "")
        if not await self.store.decide(ctx.community, testimonial_id, status, ctx.member, self.clock.now(), note,
                                       allowed_from=allowed_from):
            await ctx.reply_private(texts["wrong_status"])
            return
        action = {APPROVED: "approve", REJECTED: "reject", CHANGES_REQUESTED: "request_changes"}[status]
        await self.bot.audit.record(ctx.community, ctx.member, f"testimonial.{action}", target=f"#{testimonial_id}",
                                    reason=note or "", testimonial=testimonial_id)
        author = Member(ctx.platform, testimonial.member_id, testimonial.member_name)
        outcome = ctx.render(TEXTS, id=testimonial_id, note=note or "")
        if status == CHANGES_REQUESTED:
            asked = await self.store.get(ctx.community, testimonial_id)
            delivered = await self._reopen(ctx.toward(author), asked)
            await ctx.reply_private(texts["done_changes_requested" if delivered else "changes_undelivered"])
        else:
            await ctx.reply_private(texts[f"done_{status}"])
            if status == APPROVED:  # a revision still open for it no longer applies
                await self.bot.forms.discard(ctx.community, author.id, TESTIMONIAL, revising=testimonial_id)
            # Through the outbox: an author whose DMs are closed hears it when they are next here.
            decided = stamp(self.clock.now())
            await self.bot.outbox.put(ctx.community, f"testimonials:{testimonial_id}:{status}:{decided}",
                                      [(author, Message(text=outcome[f"dm_{status}"]))])
        await self._update_queue_posts(ctx, testimonial_id)

    def _queue_card(self, ctx: Invocation, testimonial: Testimonial) -> Message:
        """The card in the moderators' queue: the testimonial, and the buttons that decide."""
        texts = ctx.render(TEXTS, id=testimonial.id)
        card = self._card(ctx, testimonial)
        card.buttons = [
            Button(texts["button_approve"], "testimonials:approve", str(testimonial.id), style=ButtonStyle.SUCCESS),
            Button(texts["button_reject"], "testimonials:reject", str(testimonial.id), style=ButtonStyle.DANGER),
            Button(texts["button_changes"], "testimonials:changes", str(testimonial.id), style=ButtonStyle.SECONDARY),
        ]
        return card

    async def _update_queue_posts(self, ctx: Invocation, testimonial_id: int) -> None:
        """A decided testimonial's queue post says so, and loses its buttons."""
        testimonial = await self.store.get(ctx.community, testimonial_id)
        if testimonial is not None:
            await self.posts.refresh(ctx, testimonial_id, self._card(ctx, testimonial))

    def _card(self, ctx: Invocation, testimonial: Testimonial) -> Message:
        anonymous = ctx.render(TEXTS)["anonymous"]
        texts = ctx.render(TEXTS, testimonial=testimonial, credited=exports.credited_name(testimonial, anonymous))
        fields = [Field(texts["label_story"], texts["story"]), Field(texts["label_surprise"], texts["surprise"])]
        if testimonial.advice:
            fields.append(Field(texts["label_advice"], texts["advice"]))
        fields += [Field(texts["label_credit"], texts["credit"]), Field(texts["label_consent"], texts["consent"])]
        return Message(title=texts["card_title"], text=texts["card_status"], fields=fields)

    async def _find(self, ctx: Invocation, testimonial_id: int) -> Testimonial | None:
        testimonial = await self.store.get(ctx.community, testimonial_id)
        if testimonial is None:
            await ctx.reply_private(ctx.render(TEXTS, id=testimonial_id)["not_found"])
        return testimonial

    async def _own(self, ctx: Invocation, value: str) -> Testimonial | None:
        """The member's own testimonial named by a button, or None (and a word) if it is not theirs."""
        testimonial = await self.store.get(ctx.community, int(value))
        if testimonial is None or testimonial.member_id != ctx.member.id or testimonial.status == "withdrawn":
            await ctx.reply_private(ctx.render(TEXTS)["not_yours"])
            return None
        return testimonial


def _answers_of(testimonial: Testimonial) -> dict:
    """A testimonial's answers, to reopen the form with them filled in."""
    return {
        "story": testimonial.story,
        "surprise": testimonial.surprise,
        "advice": testimonial.advice,
        "credit": testimonial.credit,
        "may_quote": {"agreed": testimonial.consent_given, "wording": testimonial.consent_wording,
                      "at": testimonial.consent_at},
    }
