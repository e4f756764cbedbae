"""Badges and the ten-step journey: how the program thanks members for each step they take.

Badges are earned from domain events (see catalogue.py), automatically and once: an award is a
row unique per member and badge, written in one transaction with its `badge.awarded` event and
its congratulations queued in the outbox (a DM with the badge, and a post in the celebration
channel unless the member keeps their badges private): all of it, or none. Moderators grant and revoke badges by hand, each written to the audit log, and can
give a new badge to everyone whose history already earns it (backfill). /steps shows a member's
journey through the ten steps and what to do next; /badges card draws their profile card.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.config import ConfigError, setting
from bot.core import (Channel, Community, DomainEvent, Field, Image, Invocation, Member, Message, Refusal, command,
                      job, option, query)
from bot.core.cog import Cog
from bot.core.commands import closest
from bot.render.charts import bar_chart
from bot.render.images import LEFT_OUT_NOTE, LEFT_OUT_TEMPLATE, FontChain
from bot.values import stamp
from cogs.badges.art import BadgeFace, CardBadge, CardTexts, badge_colours, medal, profile_card
from cogs.badges.catalogue import JOURNEY, Badge, build_catalogue
from cogs.badges.store import BACKFILL, EARNED, GRANTED, BadgeStore

log = logging.getLogger(__name__)

TEXTS = "badges/messages.j2"
NAMES = "badges/catalogue.j2"
STEP_TEXTS = "badges/steps.j2"
STATS_WEEKS = 8
STATS_EVENTS = ("share.completed", "testimonial.submitted", "event.rsvp")
AWARDS_AT_ONCE = 10  # a backfill writes this many awards a transaction, a few milliseconds


@dataclass(frozen=True)
class BadgeSettings:
    """[cogs.badges] in the config."""

    catalogue: list[dict] = setting(
        [], "Badges of your own, or changes to the built-in ones: [[cogs.badges.catalogue]] tables.")
    default_catalogue: bool = setting(True, "Offer the built-in badges (one for each of the ten steps, and more).")
    celebrate_in: str = setting("", "A channel where new badges are celebrated (members may opt out). Empty: none.")
    fonts: list[str] = setting([], "Font files tried first for names on badges and cards, e.g. a CJK font.")


class Badges(Cog):
    """Badges for the steps members take, and their journey through the ten."""

    Settings = BadgeSettings
    emits = ("badge.awarded",)
    member_rows = {"badge_awards": "member_id", "badge_privacy": "member_id"}

    async def cog_load(self) -> None:
        self.store = BadgeStore(self.db, self.events)
        self.catalogue = build_catalogue(
            self.settings.catalogue, use_default=self.settings.default_catalogue,
            known_events=self.bot.cogs.known_events(), resolve=self.config.path, source=self.config.source)
        fonts = [self.config.path(f) for f in self.settings.fonts]
        for index, path in enumerate(fonts):
            if not path.is_file():
                raise ConfigError(f"cogs.badges.fonts[{index}]", f"the font file {path} does not exist",
                                  "give the path of a .ttf, .otf or .ttc file, or remove it", self.config.source)
        self.fonts = FontChain.default(fonts)
        self.colours = badge_colours(self.catalogue.values())
        self.mark = self.config.path(self.config.program.mark) if self.config.program.mark else None
        self._channels: dict[str, Channel | None] = {}

    def listens_to(self) -> list[tuple[str, Any]]:
        events = {e for b in self.catalogue.values() for e in b.events}
        if any(b.all_of for b in self.catalogue.values()):
            events.add("badge.awarded")
        return [(name, self._heard) for name in sorted(events)]

    # -- earning -------------------------------------------------------------------------------

    async def _heard(self, event: DomainEvent) -> None:
        """Something happened: award every badge it completes, once."""
        if event.member is None:
            return
        held = await self.store.held(event.community, event.member.id)
        for badge in self.catalogue.values():
            if badge.id in held:
                continue
            if event.name in badge.events:
                enough = badge.count == 1 or sum([await self.events.count(event.community, name, event.member.id)
                                                  for name in badge.events]) >= badge.count
                if enough:
                    await self._award(event.community, [event.member], badge, EARNED)
            elif badge.all_of and event.name == "badge.awarded" and event.data.get("badge") in badge.all_of:
                if all(b in held or b == event.data.get("badge") for b in badge.all_of):
                    await self._award(event.community, [event.member], badge, EARNED)

    async def _award(self, community: Community, members: list[Member], badge: Badge, how: str,
                     reason: str = "") -> int:
        """Give the badge to each of `members` with its congratulations: their DM with the medal, and the
        celebration post unless they keep their badges private. Returns how many got it (not those who
        hold it already). `reason`: why a moderator gave it by hand (said instead of how the badge is
        earned). `AWARDS_AT_ONCE` a transaction: a backfill of thousands lets members' commands through
        between them."""
        channel = await self._celebration_channel(community)
        medal_png = await self._drawn(medal, self._face(badge), str(self._named("image", badge)["name"]), self.fonts)
        picture = Image(f"badge-{badge.id}.png", medal_png, self._texts(community.platform, badge)["badge_name"])
        given = 0
        for start in range(0, len(members), AWARDS_AT_ONCE):
            some = members[start:start + AWARDS_AT_ONCE]
            private = await self.store.private_among(community, [m.id for m in some]) if channel else set()
            now = self.clock.now()
            congratulations = []
            for member in some:  # rendered before the transaction, which then only writes
                texts = self._texts(community.platform, badge, member=member, how=how, reason=reason)
                batch = f"badges:{badge.id}:{member.id}:{stamp(now)}"
                queued = [(batch, [(member, Message(title=texts["congrats_title"], text=texts["congrats"],
                                                    images=[picture]))])]
                if channel is not None and member.id not in private:
                    queued.append((f"{batch}:celebrate", [(channel, Message(text=texts["celebrate"],
                                                                            images=[picture]))]))
                congratulations.append(queued)
            awarded = []
            async with self.db.transaction() as tx:  # each award with its congratulations, or neither
                for member, queued in zip(some, congratulations):
                    event = await self.store.award(tx, community, member, badge.id, how, now)
                    if event is not None:
                        awarded.append(event)
                        for batch, items in queued:
                            await self.bot.outbox.put(community, batch, items, tx=tx)
            for event in awarded:
                await self.events.publish(event)
            given += len(awarded)
        return given

    @query("badges.communities")
    async def communities(self) -> list[str]:
        return await self.store.communities()

    @query("badges.backfill")
    async def backfill(self, community: Community) -> int:
        """Give every badge to each member whose recorded history already earns it; returns how many."""
        given = 0
        for badge in [b for b in self.catalogue.values() if b.events]:
            already = await self.store.ever_held(community, badge.id)
            earned = [Member(community.platform, member_id, member_id) for member_id in
                      await self.store.counts_from_history(community, badge.events, badge.count)
                      if member_id not in already]
            given += await self._award(community, earned, badge, BACKFILL)
        for badge in [b for b in self.catalogue.values() if b.all_of]:  # after the badges they are made of
            held = await self.store.every_held(community)
            earned = [Member(community.platform, member_id, member_id) for member_id, badges in held.items()
                      if badge.id not in badges and all(b in badges for b in badge.all_of)]
            given += await self._award(community, earned, badge, BACKFILL)
        return given

    # -- members ---------------------------------------------------------------------------------

    @command("badges", help="The badges you hold and those still open (or another member's)")
    async def show(self, ctx: Invocation, member: Member | None = option("Whose badges; leave out for yours")) -> None:
        whose = member or ctx.member
        if whose.id != ctx.member.id and not await self.store.is_public(ctx.community, whose.id):
            raise Refusal(ctx.render(TEXTS, whose=whose)["private_badges"])
        held = await self.store.held(ctx.community, whose.id)
        earned = [self._named(ctx.platform, self.catalogue[b]) for b in held if b in self.catalogue]
        still = [self._named(ctx.platform, b) for b in self.catalogue.values() if b.id not in held]
        texts = ctx.render(TEXTS, whose=whose, mine=whose.id == ctx.member.id)
        fields = [Field(texts["label_earned"], ctx.render(TEXTS, badges=earned)["earned_list"])]
        if whose.id == ctx.member.id:
            fields.append(Field(texts["label_open"], ctx.render(TEXTS, badges=still)["open_list"]))
        await ctx.reply_private(Message(title=texts["badges_title"], fields=fields))

    @command("badges privacy", help="Whether new badges of yours are celebrated in public, and shown to others")
    async def privacy(self, ctx: Invocation, choice: Literal["public", "private"] | None = option(
            "public or private; leave out to see how it is")) -> None:
        if choice is not None:
            await self.store.set_public(ctx.community, ctx.member.id, choice == "public")
        public = await self.store.is_public(ctx.community, ctx.member.id)
        await ctx.reply_private(ctx.render(TEXTS, public=public, changed=choice is not None)["privacy"])

    @command("badges card", help="Your profile card: your name, your badges and your ten steps, as a picture")
    async def card(self, ctx: Invocation) -> None:
        held = await self.store.held(ctx.community, ctx.member.id)
        done = await self._steps_done(ctx.community, ctx.member.id)
        counts = {"done": sum(done), "total": len(done), "count": len(held)}
        texts = ctx.render(TEXTS, **counts)
        drawn = self.bot.render(TEXTS, "image", member=ctx.member, **counts)
        card = CardTexts(*(str(drawn[f"card_{part}"]) for part in ("program", "name", "progress", "badges",
                                                                    "no_badges")))
        badges = [CardBadge(self._face(self.catalogue[b]), str(self._named("image", self.catalogue[b])["name"]))
                  for b in held if b in self.catalogue]
        png, left_out = await self._drawn(self._card, card, badges, done)
        await ctx.reply_private(Message(text=texts["card_ready"], images=[Image("profile-card.png", png,
                                                                                 texts["card_alt"])]))
        if left_out:
            note = ctx.render(LEFT_OUT_TEMPLATE, left_out="".join(left_out), left_out_count=len(left_out))
            await self.bot.outbox.put(ctx.community, LEFT_OUT_NOTE.format(member=ctx.member.id),
                                      [(ctx.member, Message(text=note["left_out"]))])

    @command("steps", help="Your ten steps: which you have taken, and a good next one")
    async def steps(self, ctx: Invocation) -> None:
        journey = await self.journey(ctx.community, ctx.member)
        texts = ctx.render(STEP_TEXTS, steps=journey["steps"], next=journey["next"],
                           done=sum(s["done"] for s in journey["steps"]))
        await ctx.reply_private(Message(title=texts["checklist_title"], text=texts["checklist"]))

    # -- moderators ------------------------------------------------------------------------------

    @command("badge grant", help="Give a member a badge by hand, saying why (in the audit log)", moderator=True)
    async def grant(self, ctx: Invocation, member: Member = option("Who gets it"),
                    badge: str = option("Which badge", max_length=60, autocomplete="badge_names"),
                    reason: str = option("Why: the member is told, and it goes in the audit log",
                                         max_length=300)) -> None:
        found = self._badge(ctx, badge)
        given = await self._award(ctx.community, [member], found, GRANTED, reason)
        texts = self._texts(ctx.platform, found, member=member)
        if not given:
            raise Refusal(texts["already_held"])
        await self.bot.audit.record(ctx.community, ctx.member, "badge.grant", target=member.display_name,
                                    reason=reason, badge=found.id, badge_name=str(texts["badge_name"]),
                                    member=member.id)
        await ctx.reply_private(texts["granted"])

    @command("badge revoke", help="Take a badge back from a member, saying why (in the audit log)", moderator=True)
    async def revoke(self, ctx: Invocation, member: Member = option("Whose badge"),
                     badge: str = option("Which badge", max_length=60, autocomplete="badge_names"),
                     reason: str = option("Why, for the audit log", max_length=300)) -> None:
        found = self._badge(ctx, badge)
        texts = self._texts(ctx.platform, found, member=member)
        if not await self.store.revoke(ctx.community, member.id, found.id):
            raise Refusal(texts["not_held"])
        await self.bot.audit.record(ctx.community, ctx.member, "badge.revoke", target=member.display_name,
                                    reason=reason, badge=found.id, badge_name=str(texts["badge_name"]),
                                    member=member.id)
        await ctx.reply_private(texts["revoked"])

    @command("badges backfill", help="Give every badge to those whose history already earns it", moderator=True)
    async def backfill_command(self, ctx: Invocation) -> None:
        given = await self.backfill(ctx.community)
        await self.bot.audit.record(ctx.community, ctx.member, "badges.backfill", given=given)
        await ctx.reply_private(ctx.render(TEXTS, given=given)["backfilled"])

    @command("community stats", help="Members with each badge, and steps taken week by week, with a chart",
             moderator=True)
    async def stats(self, ctx: Invocation) -> None:
        holders = await self.store.holders(ctx.community)
        now = self.clock.now()
        monday = (now - timedelta(days=now.weekday() + 7 * (STATS_WEEKS - 1))).date()
        rows = await self.store.weekly(ctx.community, list(STATS_EVENTS), monday.isoformat())
        weeks = [(monday + timedelta(weeks=i)).isoformat() for i in range(STATS_WEEKS)]
        counts = {(r["week"], r["name"]): r["n"] for r in rows}
        texts = ctx.render(TEXTS, badges=[{**self._named(ctx.platform, b), "holders": holders.get(b.id, 0)}
                                          for b in self.catalogue.values()],
                           weeks=[{"week": w, **{e.replace(".", "_"): counts.get((w, e), 0) for e in STATS_EVENTS}}
                                  for w in weeks])
        plain = self.bot.render(TEXTS, "image")
        series = {str(plain[f"series_{e.replace('.', '_')}"]): [counts.get((w, e), 0) for w in weeks]
                  for e in STATS_EVENTS}
        chart = await self._drawn(bar_chart, [monday + timedelta(weeks=i) for i in range(STATS_WEEKS)], series,
                                  str(plain["chart_title"]))
        await ctx.reply_private(Message(title=texts["stats_title"], fields=[
            Field(texts["label_holders"], texts["holders"]), Field(texts["label_weeks"], texts["weeks"])],
            images=[Image("community-stats.png", chart, texts["chart_alt"])]))

    async def badge_names(self, ctx: Invocation, typed: str) -> list[str]:
        return [b.id for b in self.catalogue.values()
                if typed.casefold() in f"{b.id} {self._named(ctx.platform, b)['name']}".casefold()]

    # -- what other parts may ask ----------------------------------------------------------------

    @query("badges.journey")
    async def journey(self, community: Community, member: Member) -> dict[str, Any]:
        """A member's ten steps (each with its title, as the community words it, whether it is done, and the
        command that starts it, where that command exists here), the suggested next step, and the names of
        the badges they hold: all the welcome DM and Slack's Home tab show of the journey."""
        taken = await self.store.steps_taken(community, member.id, {e for s in JOURNEY for e in s.events})
        titles = self.bot.render(STEP_TEXTS, community.platform)
        steps = [{"number": s.number, "title": titles[f"step_{s.number}"], "done": bool(taken & set(s.events)),
                  "command": s.command, "available": s.command in self.bot.cogs.commands} for s in JOURNEY]
        upcoming = next((s for s in steps if not s["done"] and s["available"]), None)
        held = await self.store.held(community, member.id)
        names = [self._named(community.platform, self.catalogue[b])["name"] for b in held if b in self.catalogue]
        return {"steps": steps, "next": upcoming, "badges": names}

    # -- helpers ---------------------------------------------------------------------------------

    async def _steps_done(self, community: Community, member_id: str) -> list[bool]:
        taken = await self.store.steps_taken(community, member_id, {e for s in JOURNEY for e in s.events})
        return [bool(taken & set(s.events)) for s in JOURNEY]

    def _badge(self, ctx: Invocation, typed: str) -> Badge:
        wanted = typed.strip().casefold()
        for badge in self.catalogue.values():
            if wanted in (badge.id, str(self._named(ctx.platform, badge)["name"]).casefold()):
                return badge
        raise Refusal(ctx.render(TEXTS, value=typed, suggestion=closest(typed, list(self.catalogue)))["unknown_badge"])

    def _named(self, platform: str, badge: Badge) -> dict[str, str]:
        """A badge's name and description: the catalogue's own words, else badges/catalogue.j2's."""
        names = self.bot.render(NAMES, platform)
        block = badge.block
        return {"id": badge.id,
                "name": badge.name or (names[f"{block}_name"] if names.has(f"{block}_name") else badge.id),
                "description": badge.description or (names[f"{block}_description"]
                                                     if names.has(f"{block}_description") else "")}

    def _texts(self, platform: str, badge: Badge, **variables: Any):
        named = self._named(platform, badge)
        return self.bot.render(TEXTS, platform, badge=named, **variables)

    def _face(self, badge: Badge) -> BadgeFace:
        return BadgeFace(badge.step, self.colours[badge.id], badge.art)

    def _card(self, texts: CardTexts, badges: list[CardBadge], done: list[bool]) -> tuple[bytes, list[str]]:
        """The profile card, and the characters of the name that no font has, which it leaves out."""
        left_out = self.fonts.missing(texts.name)
        if left_out:  # how many, never which: the log names no member and quotes nothing of theirs
            log.warning("%d character(s) of a name have no font and are left out of a profile card;"
                        " cogs.badges.fonts adds fonts", len(left_out))
        return profile_card(texts, badges, done, self.fonts, self.mark), left_out

    async def _drawn(self, draw: Any, *args: Any) -> Any:
        """Drawing takes a moment: off the event loop, so other members are answered meanwhile."""
        return await asyncio.to_thread(draw, *args)

    async def _celebration_channel(self, community: Community) -> Channel | None:
        """The channel where badges are celebrated, looked up once per community (a lookup may be
        a call to the platform)."""
        adapter = self.bot.adapters.get(community.platform)
        if not self.settings.celebrate_in or adapter is None:
            return None
        if community.key not in self._channels:
            self._channels[community.key] = await adapter.resolve_channel(community, self.settings.celebrate_in)
        return self._channels[community.key]

