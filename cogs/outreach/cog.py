"""Steps 8, 9 and 10 of the ten: bring your group in, bring your organisation in as a partner,
support the program.

/invite-group gives a kit for one kind of group (what to say, how to go about it, the sign-up
link) and a button to tell the moderators the member is trying, which counts the step.
/partner-with-us is a form for organisations; what they send lands with the moderators, who
follow up and mark it done. /webinars is the archive of past webinars. /support says thank you
and where to give.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from bot.config import setting
from bot.core import Button, ButtonStyle, Field, Invocation, Message, Refusal, action, command, option
from bot.core.cog import Cog
from bot.forms import Submission, on_submit
from bot.values import looks_like_link, web_address, with_digits
from cogs.outreach.forms import PARTNER_INTEREST
from cogs.outreach.store import DONE, OPEN, Interest, OutreachStore

TEXTS = "outreach/messages.j2"
GROUPS = ("church", "workplace", "school", "club", "other")
Group = Literal["church", "workplace", "school", "club", "other"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class OutreachSettings:
    """[cogs.outreach] in the config."""

    moderators_channel: str = setting(
        "moderators", "Where moderators hear of organisations that want to partner, and groups being invited.")


class Outreach(Cog):
    """Inviting groups, partnering as an organisation, supporting the program."""

    Settings = OutreachSettings
    emits = ("outreach.invited", "partner_interest.submitted", "support.opened")
    member_rows = {"outreach_invitations": "member_id", "partner_interest": "member_id"}
    member_mentions = {"partner_interest": ("done_by",), "webinars": ("added_by",)}

    async def cog_load(self) -> None:
        self.store = OutreachStore(self.db, self.events)

    # -- step 8: your group --------------------------------------------------------------------

    @command("invite-group", help="A kit for bringing your church, workplace, school or club into the program")
    async def invite_group(self, ctx: Invocation, group: Group | None = option("What kind of group")) -> None:
        if group is None:
            texts = ctx.render(TEXTS)
            await ctx.reply_private(Message(text=texts["which_group"], buttons=[
                Button(texts[f"group_{g}"], "outreach:kit", g, ButtonStyle.SECONDARY) for g in GROUPS]))
            return
        await self._kit(ctx, group)

    @action("outreach:kit")
    async def kit_button(self, ctx: Invocation, value: str) -> None:
        await self._kit(ctx, value if value in GROUPS else "other")

    async def _kit(self, ctx: Invocation, group: str) -> None:
        texts = ctx.render(TEXTS, group=group)
        await ctx.reply_private(Message(title=texts["kit_title"], text=texts["kit_intro"], fields=[
            Field(texts["label_message"], texts[f"message_{group}"]), Field(texts["label_steps"], texts["steps"])],
            buttons=[Button(texts["button_trying"], "outreach:trying", group, ButtonStyle.SUCCESS)]))

    @action("outreach:trying")
    async def trying(self, ctx: Invocation, value: str) -> None:
        group = value if value in GROUPS else "other"
        event = await self.store.inviting(ctx.community, ctx.member, group, self.clock.now())
        if event is not None:
            await self.events.publish(event)
            await self._tell_moderators(ctx, f"outreach:invited:{ctx.member.id}:{group}",
                                        Message(text=ctx.render(TEXTS, group=group)["moderators_invited"]))
        await ctx.reply_private(ctx.render(TEXTS, group=group, again=event is None)["trying_thanks"])

    # -- step 9: your organisation -------------------------------------------------------------

    @command("partner-with-us", help="Tell the program your organisation would like to partner (a few questions by DM)")
    async def partner_with_us(self, ctx: Invocation) -> None:
        await self.bot.forms.start(ctx, PARTNER_INTEREST)

    @on_submit(PARTNER_INTEREST)
    async def interest_sent(self, ctx: Invocation, submission: Submission) -> None:
        interest_id, event = await self.store.record_interest(submission, self.clock.now())
        if event is not None:
            await self.events.publish(event)
        interest = await self.store.interest(ctx.community, interest_id)
        await self._tell_moderators(ctx, f"outreach:interest:{interest_id}", self._card(ctx, interest))
        await ctx.reply(ctx.render(TEXTS, diy_guide=self.config.program.diy_guide_url)["interest_thanks"])

    @command("partner-interest list", help="The organisations waiting for an answer", moderator=True)
    async def interest_list(self, ctx: Invocation) -> None:
        waiting = await self.store.interests(ctx.community, OPEN)
        await ctx.reply_private(ctx.render(TEXTS, interests=waiting)["interest_list"])

    @command("partner-interest show", help="One organisation's message in full", moderator=True)
    async def interest_show(self, ctx: Invocation, id: int = option("Its number")) -> None:
        await ctx.reply_private(self._card(ctx, await self._interest(ctx, id)))

    @command("partner-interest done", help="Mark an organisation as answered", moderator=True)
    async def interest_done(self, ctx: Invocation, id: int = option("Its number")) -> None:
        interest = await self._interest(ctx, id)
        texts = ctx.render(TEXTS, interest=interest)
        if not await self.store.mark_done(ctx.community, interest.id, ctx.member.id, self.clock.now()):
            raise Refusal(texts["interest_already_done"])
        await self.bot.audit.record(ctx.community, ctx.member, "partner_interest.done", target=interest.organisation,
                                    interest=interest.id)
        await ctx.reply_private(texts["interest_marked_done"])

    async def _interest(self, ctx: Invocation, interest_id: int) -> Interest:
        interest = await self.store.interest(ctx.community, interest_id)
        if interest is None:
            raise Refusal(ctx.render(TEXTS, id=interest_id)["interest_not_found"])
        return interest

    def _card(self, ctx: Invocation, interest: Interest) -> Message:
        texts = ctx.render(TEXTS, interest=interest, done=interest.status == DONE)
        fields = [Field(texts["label_contact"], texts["contact"], inline=True),
                  Field(texts["label_kind"], texts["kind"], inline=True),
                  Field(texts["label_wants"], texts["wants"], inline=True)]
        if interest.message:
            fields.append(Field(texts["label_their_message"], texts["their_message"]))
        return Message(title=texts["card_title"], text=texts["card_status"], fields=fields)

    # -- the webinar archive -------------------------------------------------------------------

    @command("webinars", help="The archive of past webinars")
    async def webinars(self, ctx: Invocation) -> None:
        await ctx.reply_private(ctx.render(TEXTS, webinars=await self.store.webinars(ctx.community))["webinars"])

    @command("webinar add", help="Add a webinar to the archive", moderator=True)
    async def webinar_add(self, ctx: Invocation, title: str = option("Its title", max_length=200),
                          date: str = option("When it was held, e.g. 2026-09-14", max_length=10, fits=with_digits),
                          link: str = option("Where to watch it, https://...", max_length=500, fits=looks_like_link),
                          description: str | None = option("What it was about", max_length=1000)) -> None:
        texts = ctx.render(TEXTS, value=date, today=self.clock.today())
        try:
            held_on = dt.date.fromisoformat(date.strip()) if _DATE.match(date.strip()) else None
        except ValueError:  # 2026-02-30
            held_on = None
        if held_on is None:
            raise Refusal(texts["bad_date"], show_usage=True)
        if held_on > self.clock.today():  # the archive is of webinars that took place
            raise Refusal(texts["webinar_in_future"], show_usage=True)
        if web_address(link) is None:
            raise Refusal(ctx.render(TEXTS, value=link)["bad_link"], show_usage=True)
        webinar_id = await self.store.add_webinar(ctx.community, {"title": title.strip(), "held_on": date.strip(),
                                                                  "link": link.strip(),
                                                                  "description": (description or "").strip()},
                                                  ctx.member.id, self.clock.now())
        await self.bot.audit.record(ctx.community, ctx.member, "webinar.add", target=title, webinar=webinar_id)
        await ctx.reply_private(ctx.render(TEXTS, title=title, id=webinar_id)["webinar_added"])

    @command("webinar remove", help="Take a webinar out of the archive (asks first)", moderator=True)
    async def webinar_remove(self, ctx: Invocation, id: int = option("Its number (see /webinars)")) -> None:
        webinar = await self.store.webinar(ctx.community, id)
        if webinar is None:
            raise Refusal(ctx.render(TEXTS, id=id)["webinar_not_found"])
        texts = ctx.render(TEXTS, webinar=webinar)
        await ctx.reply_private(Message(text=texts["webinar_remove_confirm"], buttons=[
            Button(texts["button_remove"], "outreach:remove-webinar", str(id), ButtonStyle.DANGER),
            Button(texts["button_keep"], "outreach:keep", str(id), ButtonStyle.SECONDARY)]))

    @action("outreach:remove-webinar", moderator=True)
    async def webinar_removed(self, ctx: Invocation, value: str) -> None:
        webinar = await self.store.webinar(ctx.community, int(value))
        if webinar is None or not await self.store.remove_webinar(ctx.community, webinar.id):
            raise Refusal(ctx.render(TEXTS, id=value)["webinar_not_found"])
        await self.bot.audit.record(ctx.community, ctx.member, "webinar.remove", target=webinar.title,
                                    webinar=webinar.id)
        await ctx.reply_private(ctx.render(TEXTS, webinar=webinar)["webinar_removed"])

    @action("outreach:keep", moderator=True)
    async def kept(self, ctx: Invocation, value: str) -> None:
        await ctx.reply_private(ctx.render(TEXTS)["kept"])

    # -- step 10: support ----------------------------------------------------------------------

    @command("support", help="Thank you, and how to support the program")
    async def support(self, ctx: Invocation) -> None:
        await self.events.emit("support.opened", ctx.community, ctx.member)
        await ctx.reply_private(ctx.render(TEXTS)["support"])

    # -- helpers -------------------------------------------------------------------------------

    async def _tell_moderators(self, ctx: Invocation, batch: str, message: Message) -> None:
        """A post in the moderators' channel, through the outbox (once, even if asked again)."""
        channel = await ctx.adapter.resolve_channel(ctx.community, self.settings.moderators_channel)
        if channel is not None:
            await self.bot.outbox.put(ctx.community, batch, [(channel, message)])
