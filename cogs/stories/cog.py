"""Step 2 of the ten: amplify other participants' public stories.

Members put forward a public conversation from the program's archive (/story submit: an https
link on one of `program.archive_domains`; a conversation already put forward is caught).
Moderators approve or reject it in the same queue as testimonials (bot.moderation). Approved
stories can be browsed (/stories), and one at a time is spotlighted in a channel on a schedule,
each in turn before any repeats, with a Share button that opens ready-to-post texts for it and
"I shared it", which counts the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import duration, setting
from bot.core import (Button, ButtonStyle, Community, Field, Invocation, Member, Message, Refusal, action, command, job,
                      option, parse_duration)
from bot.core.cog import Cog
from bot.forms import Form, Submission, long_text, on_submit
from bot.moderation import ModerationPosts
from bot.values import host_of, web_address
from cogs.stories.store import APPROVED, PENDING, REJECTED, Story, StoryStore

TEXTS = "stories/messages.j2"
POSTS = "stories/posts/"
LISTED = 10

REJECTION = Form("story-rejection", template="stories/rejection.j2", questions=(
    long_text("note", min_length=5, max_length=1000),
))


@dataclass(frozen=True)
class StorySettings:
    """[cogs.stories] in the config."""

    moderators_channel: str = setting("moderators", "Where new stories wait for a moderator (name or id).")
    spotlight_channel: str = setting("", "Where a story is spotlighted on a schedule. Empty: no spotlight.")
    spotlight_every: str = setting("7d", "How often the spotlight moves on to the next story.", duration)


class Stories(Cog):
    """Stories put forward, reviewed, browsed, spotlighted and passed on."""

    Settings = StorySettings
    emits = ("story.submitted", "story.approved", "story.shared")
    member_rows = {"story_shares": "member_id", "stories": "member_id"}
    member_mentions = {"stories": ("decided_by",)}

    async def cog_load(self) -> None:
        self.store = StoryStore(self.db, self.events)
        self.posts = ModerationPosts(self.bot, "story")
        self.every = parse_duration(self.settings.spotlight_every)

    async def forget_member(self, ctx: Invocation) -> None:
        """A member's stories go (their queue cards say so), with their turns in the spotlight and shares."""
        for story in await self.store.of_member(ctx.community, ctx.member.id):
            await self.posts.refresh(ctx, story.id, Message(text=ctx.render(TEXTS, story=story)["withdrawn"]))
            await self.posts.forget(ctx, story.id)
            await self.store.forget_story(ctx.community, story.id)
        await super().forget_member(ctx)

    # -- members ---------------------------------------------------------------------------------

    @command("story submit", help="Put forward a public conversation from the archive, for others to pass on",
             cooldown="30s")
    async def submit(self, ctx: Invocation, url: str = option("Its link in the archive, https://...", max_length=500),
                     why: str | None = option("A line about why it matters to you", max_length=300)) -> None:
        domains = self.config.program.archive_domains
        address = web_address(url)
        texts = ctx.render(TEXTS, value=url, domains=domains)
        if address is None:
            raise Refusal(texts["not_a_link"], show_usage=True)
        host = host_of(address)
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise Refusal(texts["not_the_archive"])
        channel = await self.posts.queue_channel(ctx, self.settings.moderators_channel)
        async with self.db.transaction() as tx:  # the story, its event and its card for the moderators
            story_id, submitted = await self.store.submit(tx, ctx.community, ctx.member, address, why,
                                                          self.clock.now())
            story = await self.store.get(ctx.community, story_id, tx=tx)
            if submitted is not None:
                await self.posts.to_queue(ctx, channel, story_id, self._card(ctx, story, queue=True), tx=tx)
        if submitted is None:
            raise Refusal(ctx.render(TEXTS, story=story)["already_submitted"])
        await self.events.publish(submitted)
        await ctx.reply_private(ctx.render(TEXTS, story=story)["thanks"])

    @command("stories", help="The public stories others put forward, to watch and pass on")
    async def browse(self, ctx: Invocation) -> None:
        approved = await self.store.in_status(ctx.community, APPROVED, newest_first=True)
        texts = ctx.render(TEXTS, stories=approved[:LISTED], more=max(0, len(approved) - LISTED))
        buttons = [Button(ctx.render(TEXTS, story=s)["button_share_one"], "stories:share", str(s.id),
                          ButtonStyle.SECONDARY) for s in approved[:5]]
        await ctx.reply_private(Message(title=texts["browse_title"], text=texts["browse"], buttons=buttons))

    @command("story share", help="Ready-to-post texts for one story, to pass it on")
    async def share(self, ctx: Invocation, id: int = option("The story's number (see /stories)")) -> None:
        await self._share_kit(ctx, id)

    @action("stories:share")
    async def share_button(self, ctx: Invocation, value: str) -> None:
        await self._share_kit(ctx, int(value))

    async def _share_kit(self, ctx: Invocation, story_id: int) -> None:
        story = await self._approved(ctx, story_id)
        fields = []
        for name in self.bot.templates.names(POSTS):
            post = ctx.render(name, story=story)
            if str(post["text"]).strip():
                fields.append(Field(post["label"], post["text"]))
        texts = ctx.render(TEXTS, story=story)
        await ctx.reply_private(Message(title=texts["share_title"], text=texts["share_intro"], fields=fields,
                                        buttons=[Button(texts["button_shared"], "stories:shared", str(story.id),
                                                        ButtonStyle.SUCCESS)]))

    @action("stories:shared")
    async def shared(self, ctx: Invocation, value: str) -> None:
        story = await self._approved(ctx, int(value))
        event = await self.store.shared(ctx.community, story.id, ctx.member, self.clock.now())
        if event is not None:
            await self.events.publish(event)
        await ctx.reply_private(ctx.render(TEXTS, story=story, again=event is None)["shared_thanks"])

    # -- moderators ------------------------------------------------------------------------------

    @command("stories queue", help="The stories waiting for a decision", moderator=True)
    async def queue(self, ctx: Invocation) -> None:
        waiting = await self.store.in_status(ctx.community, PENDING)
        await ctx.reply_private(ctx.render(TEXTS, stories=waiting)["queue"])

    @command("story approve", help="Approve a story: others can pass it on, and it takes its turn in the spotlight",
             moderator=True)
    async def approve(self, ctx: Invocation, id: int = option("The story's number")) -> None:
        await self._decide(ctx, id, APPROVED, None)

    @command("story reject", help="Reject a story, saying why", moderator=True)
    async def reject(self, ctx: Invocation, id: int = option("The story's number"),
                     reason: str = option("Why; the member will read this", max_length=1000)) -> None:
        await self._decide(ctx, id, REJECTED, reason)

    @action("stories:approve", moderator=True)
    async def approve_button(self, ctx: Invocation, value: str) -> None:
        await self._decide(ctx, int(value), APPROVED, None)

    @action("stories:reject", moderator=True)
    async def reject_button(self, ctx: Invocation, value: str) -> None:
        await self.bot.forms.start(ctx, REJECTION, context={"story": int(value)})

    @on_submit(REJECTION)
    async def rejection_written(self, ctx: Invocation, submission: Submission) -> None:
        await self._decide(ctx, submission.context["story"], REJECTED, submission.answers["note"])

    async def _decide(self, ctx: Invocation, story_id: int, status: str, note: str | None) -> None:
        if not ctx.member.is_moderator:  # a note form outlives its moderator's role: check again
            raise Refusal(ctx.render("core/errors.j2", name="story reject")["not_moderator"])
        story = await self._story(ctx, story_id)
        outcome = await self.store.decide(ctx.community, story.id, status, ctx.member, note, self.clock.now())
        if outcome is False:
            raise Refusal(ctx.render(TEXTS, story=story)["already_decided"])
        if outcome is not None:
            await self.events.publish(outcome)
        await self.bot.audit.record(ctx.community, ctx.member, f"story.{'approve' if status == APPROVED else 'reject'}",
                                    target=story.url, reason=note or "", story=story.id)
        decided = await self._story(ctx, story.id)
        await self.posts.refresh(ctx, story.id, self._card(ctx, decided, queue=False))
        author = Member(ctx.platform, story.member_id, story.member_name)
        said = ctx.render(TEXTS, story=decided, note=note or "")
        await self.bot.outbox.put(ctx.community, f"stories:{story.id}:{status}", [(author, Message(
            text=said[f"dm_{status}"]))])
        await ctx.reply_private(said[f"done_{status}"])

    # -- the spotlight ---------------------------------------------------------------------------

    @job(every="1h", at_start=True)
    async def spotlight(self, now: datetime) -> None:
        """When the last spotlight is older than `spotlight_every`, the next story takes its turn."""
        if not self.settings.spotlight_channel:
            return
        for key in await self.store.communities_with_approved():
            community = Community.from_key(key)
            adapter = self.bot.adapters.get(community.platform)
            if adapter is None:
                continue
            last = await self.store.last_spotlight(community)
            if last is not None and datetime.fromisoformat(last) + self.every > now:
                continue
            story = await self.store.next_for_spotlight(community)
            channel = await adapter.resolve_channel(community, self.settings.spotlight_channel)
            if story is None or channel is None:
                continue
            texts = self.bot.render(TEXTS, community.platform, story=story)
            await self.store.spotlighted(community, story.id, now)
            await self.bot.outbox.put(community, f"stories:spotlight:{story.id}:{now.isoformat()}", [(channel, Message(
                title=texts["spotlight_title"], text=texts["spotlight"],
                buttons=[Button(texts["button_share_this"], "stories:share", str(story.id))]))])

    # -- helpers ---------------------------------------------------------------------------------

    def _card(self, ctx: Invocation, story: Story, *, queue: bool) -> Message:
        texts = ctx.render(TEXTS, story=story)
        buttons = [Button(texts["button_approve"], "stories:approve", str(story.id), ButtonStyle.SUCCESS),
                   Button(texts["button_reject"], "stories:reject", str(story.id), ButtonStyle.DANGER)] \
            if queue and story.status == PENDING else []
        return Message(title=texts["card_title"], text=texts["card"], buttons=buttons)

    async def _story(self, ctx: Invocation, story_id: int) -> Story:
        story = await self.store.get(ctx.community, story_id)
        if story is None:
            raise Refusal(ctx.render(TEXTS, id=story_id)["not_found"])
        return story

    async def _approved(self, ctx: Invocation, story_id: int) -> Story:
        story = await self._story(ctx, story_id)
        if story.status != APPROVED:
            raise Refusal(ctx.render(TEXTS, id=story_id)["not_found"])
        return story
