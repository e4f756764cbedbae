"""Pairing across difference (step 7, and beyond): members who join are paired, round by round,
with someone who answered most statements differently and can meet them.

/pairing join asks, by DM, the community's statements (agree or disagree), a time zone, when
they are free, how they would like to talk, what they would rather not discuss, and (optionally)
the pulse's feeling thermometer. Those answers are private: another member never sees them,
moderators see totals only. A round (on the schedule, `cogs.pairing.every`, or /pairing round) pairs
everyone it can (cogs.pairing.matching) and introduces each pair: in a room of their own where the
platform allows (a private thread on Discord, a group DM on Slack; `open_room` of the adapter), else by
DM, with what they have in common, the conversation guide and a first question. What follows the
introduction (the room's buttons, "Did you meet?", the invitation to record, the pulse) is in
cogs.pairing.conversation.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

from bot.config import duration, setting
from bot.core import (Button, ButtonStyle, Channel, Community, Image, Invocation, Member, Message, Refusal, action,
                      command, job, option, parse_duration)
from bot.core.adapter import ROOMS
from bot.core.cog import Cog
from bot.forms import Submission, SubmitSpec
from bot.render.charts import bar_chart
from cogs.pairing.conversation import TEXTS, Conversation
from cogs.pairing.forms import MAX_STATEMENTS, TEMPLATE, joining_form, zone_name
from cogs.pairing.impact import pulse_of
from cogs.pairing.matching import (FORMATS, Candidate, Rules, difference, fold_town, free_hours, most_of, pair,
                                   shared_formats, too_alike, utc_offset, views_of)
from cogs.pairing.store import IN, PAUSED, Joined, Pair, PairingStore

_NUMBER = re.compile(r"[0-9]{1,9}")  # a pair's number in a button's value
log = logging.getLogger(__name__)

# A round's pairs are written this many at a time, each with its introductions: one transaction for
# thousands would hold the database, and every member's command, for seconds.
PAIRS_AT_ONCE = 20
LEFT_OUT_AT_ONCE = 500
LONGEST_PAUSE = timedelta(days=3653)  # `pause until`: ten years at most, as any duration here


def _statements(value: int) -> tuple[str, str] | None:
    if 1 <= value <= MAX_STATEMENTS:
        return None
    return f"must be between 1 and {MAX_STATEMENTS}, got {value}", "ask a handful: five is the default"


def _optional_duration(value: str) -> tuple[str, str] | None:
    return None if value == "" else duration(value)


def _min_difference(value: int) -> tuple[str, str] | None:
    if 0 <= value <= MAX_STATEMENTS:
        return None
    return f"must be between 0 and {MAX_STATEMENTS}, got {value}", "0 (more than half of the statements) is the default"


@dataclass(frozen=True)
class PairingSettings:
    """[cogs.pairing] in the config."""

    statements: int = setting(5, "How many statements the joining form asks (blocks view_1 ... view_N of"
                                 " templates/pairing/form.j2).", _statements)
    every: str = setting("14d", 'How often a round pairs those who are in. "": only when a moderator runs'
                                " /pairing round.", _optional_duration)
    follow_up_after: str = setting("7d", 'How long after pairing both are asked "Did you meet?".', duration)
    min_difference: int = setting(0, "The fewest statements two members must have answered differently to be"
                                     " paired. 0: more than half of them (3 of 5). Talking with someone"
                                     " opposite-minded softens hostility; with someone like-minded, it hardens"
                                     " views: no one is paired with a near twin.", _min_difference)
    min_overlap_hours: int = setting(2, "The fewest hours a week two members must both be free.")
    moderators_channel: str = setting("moderators", "Where /pairing report reaches the moderators when the"
                                                    " reports cog is off.")
    rooms: bool = setting(True, "Give each pair a room of their own where the platform allows it: a private"
                                " thread on Discord (in room_channel), a group DM on Slack. false, or where the"
                                " bot cannot make one: introductions by DM.")
    room_channel: str = setting("pairing", "Discord: the text channel (name or id) whose private threads are the"
                                           " pairs' rooms. The bot needs Create Private Threads and Send Messages in"
                                           " Threads there (and Manage Threads to lock a room it archives).")


class Pairing(Conversation, Cog):
    """Rounds of pairs across difference, their introductions, rooms and follow-ups."""

    Settings = PairingSettings
    emits = ("pairing.joined", "pairing.met", "pairing.recording_agreed")
    member_rows = {"pairing_members": "member_id", "pairing_blocks": "member_id", "pairing_pulse": "member_id"}
    member_mentions = {"pairing_exclusions": ("excluded_by",), "pairing_rounds": ("started_by",)}

    def __init__(self, bot: Any, name: str) -> None:
        super().__init__(bot, name)
        # The form has as many statements as the community asks, so it is built here, not in the class.
        self.form = joining_form(self.settings.statements)
        self.declared = (*self.declared, SubmitSpec(self.form, "joined"))

    async def cog_load(self) -> None:
        self.store = PairingStore(self.db, self.events)
        self._rounds: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._introducing: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._background: set[asyncio.Task] = set()
        self.every = parse_duration(self.settings.every) if self.settings.every else None
        self.follow_up_after = parse_duration(self.settings.follow_up_after)
        self.min_difference = self.settings.min_difference or most_of(self.settings.statements)
        if self.min_difference > self.settings.statements:
            raise ValueError(f"cogs.pairing.min_difference is {self.settings.min_difference}, but only"
                             f" {self.settings.statements} statements are asked: no two members could be paired;"
                             " ask for fewer, or 0 for more than half")
        texts = self.bot.render(TEMPLATE, "plain")
        missing = [f"view_{n}" for n in range(1, self.settings.statements + 1) if not texts.has(f"view_{n}")]
        if missing:
            raise ValueError(f"cogs.pairing.statements is {self.settings.statements}, but {TEMPLATE} has no block"
                             f" {', '.join(missing)}: add the statements, or ask fewer")

    def platform_needs(self) -> frozenset[str]:
        """Rooms for the pairs, when they are on (on Discord: private threads, asked for in the invite link)."""
        return frozenset({ROOMS}) if self.settings.rooms else frozenset()

    async def cog_unload(self) -> None:
        for task in list(self._background):  # rooms still to open wait in the database for the next start
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- joining ---------------------------------------------------------------------------------

    @command("pairing join", help="Be paired with someone who sees things differently (a few private questions by DM)")
    async def join(self, ctx: Invocation) -> None:
        known = await self.store.member(ctx.community, ctx.member.id)
        answers = None
        if known:
            answers = self._as_answers(known, await self.store.feeling_before(ctx.community, ctx.member.id))
        intro = ctx.render(TEXTS, again=known is not None)["form_intro"]
        await self.bot.forms.start(ctx, self.form, answers=answers, intro=intro)

    async def joined(self, ctx: Invocation, submission: Submission) -> None:
        answers = submission.answers
        kept = {"views": [answers[f"view_{n}"] for n in range(1, self.settings.statements + 1)],
                "timezone": zone_name(answers["timezone"]), "availability": answers["availability"],
                "formats": answers["formats"],
                "town": (answers.get("town") or "").strip() if "in_person" in answers["formats"] else "",
                "avoid": (answers.get("avoid") or "").strip(),
                "feeling": int(answers["feeling"]) if answers.get("feeling") is not None else None}
        event = await self.store.join(ctx.community, ctx.member, submission.id, kept, self.clock.now())
        if event is not None:
            await self.events.publish(event)
        await ctx.reply(ctx.render(TEXTS, every=_in_words(self.every) if self.every else None)["joined"])

    def _as_answers(self, known: Joined, feeling: int | None) -> dict[str, Any]:
        """A member's answers as the form holds them, to change some when they join again."""
        answers: dict[str, Any] = {f"view_{n}": v for n, v in enumerate(known.views, 1)
                                   if n <= self.settings.statements}
        answers.update(timezone=known.timezone, availability=known.availability, formats=known.formats)
        if known.town:
            answers["town"] = known.town
        answers["avoid"] = known.avoid or None
        answers["feeling"] = str(feeling) if feeling is not None else None
        return answers

    @command("pairing pause", help="Skip the coming rounds until you resume, or until a day (your answers are kept)")
    async def pause(self, ctx: Invocation, until: str | None = option(
            "The day you'd like to be paired again, like 2027-01-10 (your own time zone)", max_length=40)) -> None:
        known = await self._joined_member(ctx)
        if until is None:
            await self._set_status(ctx, PAUSED, "paused", "already_paused")
            return
        day = self._pause_day(ctx, known, until)
        changed = await self.store.set_status(ctx.community, ctx.member.id, PAUSED, day.isoformat())
        await ctx.reply_private(ctx.render(TEXTS, day=day)["paused_until" if changed else "already_paused_until"])

    def _pause_day(self, ctx: Invocation, known: Joined, typed: str) -> date:
        """The day `pause until` names: a date after today in the member's zone, within ten years."""
        try:
            day = date.fromisoformat(typed.strip())
        except ValueError:
            raise Refusal(ctx.render(TEXTS, typed=typed.strip())["pause_until_unreadable"], show_usage=True) from None
        today = self.clock.now().astimezone(ZoneInfo(known.timezone)).date()
        if day <= today:
            raise Refusal(ctx.render(TEXTS, day=day)["pause_until_past"])
        if day - today > LONGEST_PAUSE:
            raise Refusal(ctx.render(TEXTS, day=day)["pause_until_too_far"])
        return day

    @command("pairing resume", help="Be paired again in the coming rounds")
    async def resume(self, ctx: Invocation) -> None:
        await self._set_status(ctx, IN, "resumed", "already_in")

    async def _set_status(self, ctx: Invocation, status: str, done: str, already: str) -> None:
        await self._joined_member(ctx)
        changed = await self.store.set_status(ctx.community, ctx.member.id, status)
        await ctx.reply_private(ctx.render(TEXTS)[done if changed else already])

    @command("pairing leave", help="Stop being paired and delete your answers (asks first)")
    async def leave(self, ctx: Invocation) -> None:
        await self._joined_member(ctx)
        texts = ctx.render(TEXTS)
        await ctx.reply_private(Message(text=texts["leave_confirm"], buttons=[
            Button(texts["button_leave"], "pairing:leave", "yes", ButtonStyle.DANGER),
            Button(texts["button_stay"], "pairing:stay", "", ButtonStyle.SECONDARY)]))

    @action("pairing:leave")
    async def left(self, ctx: Invocation, value: str) -> None:
        gone = await self.store.leave(ctx.community, ctx.member.id)
        await ctx.reply_private(ctx.render(TEXTS)["left" if gone else "not_in"])

    @action("pairing:stay")
    async def stayed(self, ctx: Invocation, value: str) -> None:
        await ctx.reply_private(ctx.render(TEXTS)["stayed"])

    async def _joined_member(self, ctx: Invocation) -> Joined:
        known = await self.store.member(ctx.community, ctx.member.id)
        if known is None:
            raise Refusal(ctx.render(TEXTS)["not_in"])
        return known

    # -- safety ----------------------------------------------------------------------------------

    @command("pairing block", help="Never be paired with this member (they are not told)")
    async def block(self, ctx: Invocation, member: Member = option("Who")) -> None:
        if member.id == ctx.member.id:
            raise Refusal(ctx.render(TEXTS)["block_self"])
        await self.store.block(ctx.community, ctx.member.id, member.id, self.clock.now())
        await ctx.reply_private(ctx.render(TEXTS, name=member.display_name)["blocked"])

    @command("pairing report", help="Tell the moderators about something that happened with your pairing partner",
             cooldown="1m")
    async def report(self, ctx: Invocation, what: str = option("What happened, in a few words", max_length=900)) -> None:
        latest = await self.store.latest_pair(ctx.community, ctx.member.id)
        partner = latest.other(ctx.member.id)[1] if latest else ""
        # Plain words: the reports cog escapes them where it shows them.
        await self._file_report(ctx, str(self.bot.render(TEXTS, "plain", partner=partner, what=what.strip(),
                                                         pair=latest)["report_text"]))
        await ctx.reply_private(ctx.render(TEXTS)["reported"])

    async def _file_report(self, ctx: Invocation, text: str) -> None:
        """To the reports cog's queue, or straight to the moderators' channel without it."""
        filed = await self.bot.ask("reports.file", ctx, text, "", default=None)
        if filed is None:
            channel = await ctx.adapter.resolve_channel(ctx.community, self.settings.moderators_channel)
            if channel is None:
                raise Refusal(ctx.render(TEXTS)["report_nowhere"])
            await self.bot.outbox.put(ctx.community, f"pairing:report:{ctx.member.id}:{self.clock.now().timestamp()}",
                                      [(channel, Message(text=ctx.render(TEXTS, member=ctx.member.display_name,
                                                                         text=text)["report_card"]))])

    @command("pairing exclude", help="Leave a member out of the rounds (they are not told)", moderator=True)
    async def exclude(self, ctx: Invocation, member: Member = option("Who"),
                      reason: str = option("Why, for the audit log", max_length=300)) -> None:
        if not await self.store.exclude(ctx.community, member.id, ctx.member, self.clock.now()):
            raise Refusal(ctx.render(TEXTS, name=member.display_name)["already_excluded"])
        await self.bot.audit.record(ctx.community, ctx.member, "pairing.exclude", target=member.display_name,
                                    reason=reason, member=member.id)
        await ctx.reply_private(ctx.render(TEXTS, name=member.display_name)["excluded"])

    @command("pairing include", help="Let an excluded member be paired again", moderator=True)
    async def include(self, ctx: Invocation, member: Member = option("Who")) -> None:
        if not await self.store.include(ctx.community, member.id):
            raise Refusal(ctx.render(TEXTS, name=member.display_name)["not_excluded"])
        await self.bot.audit.record(ctx.community, ctx.member, "pairing.include", target=member.display_name,
                                    member=member.id)
        await ctx.reply_private(ctx.render(TEXTS, name=member.display_name)["included"])

    # -- rounds ----------------------------------------------------------------------------------

    @command("pairing round", help="Pair those who are in now, outside the schedule (asks first)", moderator=True)
    async def round_now(self, ctx: Invocation) -> None:
        waiting = len(await self.store.in_round(ctx.community))
        texts = ctx.render(TEXTS, members=waiting)
        if waiting < 2:
            raise Refusal(texts["too_few"])
        # The button names the last round: pressed twice, or after another round, it makes no second one.
        last = str(await self.store.last_round(ctx.community))
        await ctx.reply_private(Message(text=texts["round_confirm"], buttons=[
            Button(texts["button_round"], "pairing:round", last, ButtonStyle.PRIMARY),
            Button(texts["button_not_now"], "pairing:stay", "", ButtonStyle.SECONDARY)]))

    @action("pairing:round", moderator=True)
    async def round_pressed(self, ctx: Invocation, value: str) -> None:
        made_since = lambda last: str(last) != value  # noqa: E731
        result = await self.run_round(ctx.community, self.clock.now(), ctx.member.id, unless=made_since)
        if result is None:
            raise Refusal(ctx.render(TEXTS)["round_made_since"])
        made, members = result
        await self.bot.audit.record(ctx.community, ctx.member, "pairing.round", target=f"{made} pairs")
        await ctx.reply_private(ctx.render(TEXTS, pairs=made, members=members)["round_done"])

    @job(every="1h", at_start=True)
    async def on_schedule(self, now: datetime) -> None:
        """Those whose `pause until` day has come are back; then each community's round, when its last one
        (or its first member's joining) is `every` ago."""
        await self._back_from_pauses(now)
        if self.every is None:
            return
        for key, last, first in await self.store.communities_in():
            community = Community.from_key(key)
            if community.platform not in self.bot.adapters or datetime.fromisoformat(last or first) + self.every > now:
                continue
            try:
                before = await self.store.last_round(community)  # a round by hand meanwhile: this one waits
                await self.run_round(community, now, unless=lambda newest: newest != before)
            except Exception:  # one community's trouble does not keep the others waiting
                log.exception("the scheduled pairing round of %s failed; it is tried again in an hour", key)

    async def _back_from_pauses(self, now: datetime) -> None:
        for key, member in await self.store.paused_until():
            community = Community.from_key(key)
            platform = community.platform
            back_at = datetime.combine(date.fromisoformat(member.paused_until), time(), ZoneInfo(member.timezone))
            if platform not in self.bot.adapters or back_at > now:
                continue
            texts = self.bot.render(TEXTS, platform, every=_in_words(self.every) if self.every else None)
            async with self.db.transaction() as tx:  # back in, and told so, or neither
                if await self.store.back(tx, key, member):
                    await self.bot.outbox.put(community, f"pairing:back:{member.member_id}:{member.paused_until}", [
                        (Member(platform, member.member_id, member.member_name), Message(text=texts["back"]))], tx=tx)

    async def run_round(self, community: Community, now: datetime, started_by: str = "",
                        unless: Callable[[int], bool] | None = None) -> tuple[int, int] | None:
        """Pair those who are in; returns (pairs made, members who were in). One round at a time per
        community; `unless(last round's id)`, checked once it is this round's turn, can call it off (None), as
        does a round another process made meanwhile."""
        async with self._rounds[community.key]:
            last = await self.store.last_round(community)
            if unless is not None and unless(last):
                return None
            return await self._round(community, now, started_by, last)

    async def _round(self, community: Community, now: datetime, started_by: str, last: int) -> tuple[int, int] | None:
        members = await self.store.in_round(community)
        if len(members) < 2 and not started_by:
            return 0, len(members)  # the schedule does not record a round with no one to pair
        by_id = {m.member_id: m for m in members}
        rules = Rules(self.min_difference, self.settings.min_overlap_hours,
                      frozenset(await self.store.never(community, list(by_id))))
        # Seconds of CPU for thousands of members: in a worker process, while members are answered.
        seen, found, alike = await self.bot.workers.run(match, members, self.settings.statements, now, rules,
                                                        int(now.timestamp()))
        chosen = [(by_id[a], by_id[b], difference(seen[a], seen[b]) / self.settings.statements) for a, b in found]
        # Asked before the transactions: another cog's query reads the database, which waits for them to end.
        # Each round suggests the next of the community's opening questions.
        turn = await self.store.round_count(community)
        guide = await self.bot.ask("practice.guide", community, community.platform, turn, default=None)
        in_rooms = self._room_opener(community) is not None
        round_id = await self.store.start_round(community, now, started_by, len(members), alike, after=last)
        if round_id is None:
            return None
        for start in range(0, len(chosen), PAIRS_AT_ONCE):
            some = chosen[start:start + PAIRS_AT_ONCE]
            async with self.db.transaction() as tx:  # each pair with its introductions, or neither
                pair_ids = await self.store.record_pairs(tx, community, round_id, some, now + self.follow_up_after,
                                                         turn=turn, introduced=not in_rooms)
                if in_rooms:
                    continue  # introduced once their rooms are open (`introduce_waiting`)
                for pair_id, (a, b, _) in zip(pair_ids, some):
                    await self.bot.outbox.put(community, f"pairing:intro:{pair_id}",
                                              self._introductions(community, pair_id, a, b, guide, now, None), tx=tx)
        if in_rooms:
            self._in_background(self.introduce_waiting(community))
        paired = {m.member_id for a, b, _ in chosen for m in (a, b)}
        left_out = [m for m in members if m.member_id not in paired]
        texts = self.bot.render(TEXTS, community.platform, every=_in_words(self.every) if self.every else None)
        for start in range(0, len(left_out), LEFT_OUT_AT_ONCE):
            some = left_out[start:start + LEFT_OUT_AT_ONCE]
            async with self.db.transaction() as tx:  # first in line next time, and told so, or neither
                await self.store.left_out(tx, community, some, now)
                await self.bot.outbox.put(community, f"pairing:left-out:{round_id}", [
                    (Member(community.platform, m.member_id, m.member_name), Message(text=texts["left_out"]))
                    for m in some], tx=tx)
        return len(chosen), len(members)

    # -- introductions and rooms -----------------------------------------------------------------

    def _room_opener(self, community: Community) -> Callable[..., Awaitable[Channel | None]] | None:
        """The platform's way to open a room for a pair, when rooms are wanted and the platform has them."""
        adapter = self.bot.adapters.get(community.platform)
        return adapter.open_room if self.settings.rooms and adapter is not None and adapter.offers_rooms else None

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @job(every="1m", at_start=True)
    async def introductions(self, now: datetime) -> None:
        """Pairs whose room was still to open when the bot stopped: opened now, in the background."""
        for key in await self.store.communities_waiting_for_rooms():
            community = Community.from_key(key)
            if community.platform in self.bot.adapters and not self._introducing[key].locked():
                self._in_background(self.introduce_waiting(community))

    async def introduce_waiting(self, community: Community) -> None:
        """Open each waiting pair's room (one at a time: each is a few requests to the platform) and queue its
        introduction there, or by DM where the bot cannot make a room. One run per community at a time."""
        lock = self._introducing[community.key]
        if lock.locked():
            return
        async with lock:
            try:
                while waiting := await self.store.waiting_for_rooms(community):
                    for found in waiting:
                        await self._introduce(community, found)
            except Exception:  # the rest wait for the next run (a minute), in the database
                log.exception("opening pairing rooms in %s failed; tried again in a minute", community.key)

    async def _introduce(self, community: Community, found: Pair) -> None:
        a = await self.store.member(community, found.member_a)
        b = await self.store.member(community, found.member_b)
        now = self.clock.now()
        if a is None or b is None:  # one of them left pairing since the round: nothing to introduce
            async with self.db.transaction() as tx:
                if await self.store.introduced(tx, found, "", ""):
                    await self.store.end(tx, found, now)
            return
        opener = self._room_opener(community)
        name = str(self.bot.render(TEXTS, "plain", pair=found.id)["room_name"])
        # The room's name says which pair it is, never who: the log and the platform's lists show it.
        room = await opener(community, found.people(community.platform), name, self.settings.room_channel) \
            if opener else None
        guide = await self.bot.ask("practice.guide", community, community.platform, found.first_turn, default=None)
        items = self._introductions(community, found.id, a, b, guide, now, room)
        async with self.db.transaction() as tx:  # introduced, and the introduction queued, or neither
            if await self.store.introduced(tx, found, room.id if room else "", room.name if room else ""):
                await self.bot.outbox.put(community, f"pairing:intro:{found.id}", items, tx=tx)

    def _introductions(self, community: Community, pair_id: int, a: Joined, b: Joined, guide: dict[str, str] | None,
                       now: datetime, room: Channel | None) -> list[tuple[Channel | Member, Message]]:
        """Each gets the other's name, what they share in time and format, the guide and a first question, never
        the other's answers: in their room (the guide and the question, for both) with a word to each by DM
        (their own times and what they would rather avoid), or all of it by DM."""
        one, two = candidate(a, self.settings.statements, now), candidate(b, self.settings.statements, now)
        shared = shared_formats(one, two)
        formats = [f for f in FORMATS if f in shared]  # worded by the template
        # The practice cog's guide and first question; without it, this template's own question.
        question = guide["question"] if guide else self.bot.render(TEXTS, community.platform)["first_question"]
        common = dict(formats=formats, guide=guide["guide"] if guide else None, question=question,
                      follow_up=_in_words(self.follow_up_after), apart=self.min_difference,
                      statements=self.settings.statements, room=room.name if room else "")
        items: list[tuple[Channel | Member, Message]] = []
        if room is not None:
            texts = self.bot.render(TEXTS, community.platform, names=[a.member_name, b.member_name], **common)
            items.append((room, Message(title=texts["room_title"], text=texts["room_intro"],
                                        buttons=self._pair_buttons(texts, pair_id, guide is not None))))
        for me, other in ((a, b), (b, a)):
            today = now.astimezone(ZoneInfo(me.timezone)).date()
            times = [slot for slot in me.availability if free_hours(me.timezone, [slot], today) & one.hours & two.hours]
            texts = self.bot.render(TEXTS, community.platform, other=other.member_name, times=times,
                                    town=me.town if "in_person" in shared else "", avoid=me.avoid, **common)
            person = Member(community.platform, me.member_id, me.member_name)
            if room is not None:
                items.append((person, Message(title=texts["intro_title"], text=texts["room_note"])))
            else:
                items.append((person, Message(title=texts["intro_title"], text=texts["intro"],
                                              buttons=self._pair_buttons(texts, pair_id, guide is not None))))
        return items

    @staticmethod
    def _pair_buttons(texts: Any, pair_id: int, questions: bool) -> list[Button]:
        """What a pair can do with one press, in their room or under their introduction."""
        buttons = [Button(texts["button_next_question"], "pairing:next", f"{pair_id}:1")] if questions else []
        return buttons + [
            Button(texts["button_suggest_time"], "pairing:suggest", str(pair_id), ButtonStyle.SECONDARY),
            Button(texts["button_pause"], "pairing:rest", str(pair_id), ButtonStyle.SECONDARY),
            Button(texts["button_end"], "pairing:end", str(pair_id), ButtonStyle.SECONDARY),
            Button(texts["button_report"], "pairing:flag", str(pair_id), ButtonStyle.DANGER)]

    async def _own_pair(self, ctx: Invocation, pair_id: str) -> Pair:
        found = await self.store.pair(ctx.community, int(pair_id)) if _NUMBER.fullmatch(pair_id) else None
        if found is None or found.side(ctx.member.id) is None:
            raise Refusal(ctx.render(TEXTS)["not_your_pair"])
        return found

    # -- moderators' totals ----------------------------------------------------------------------

    @command("pairing stats", help="Members in, pairs made, how many met and agreed to record, round by round"
                                   " (totals only)", moderator=True)
    async def stats(self, ctx: Invocation) -> None:
        counts = await self.store.counts(ctx.community)
        rounds = await self.store.rounds(ctx.community)
        pulse = pulse_of(await self.store.pulse(ctx.community), ctx.community.key)
        texts = ctx.render(TEXTS, counts=counts, rounds=rounds, pulse=pulse)
        images = []
        if rounds:
            plain = self.bot.render(TEXTS, "plain", counts=counts, rounds=rounds, pulse=pulse)
            chart = await asyncio.to_thread(bar_chart, [f"#{r['id']}" for r in rounds], {
                str(plain["chart_pairs"]): [r["pairs"] for r in rounds],
                str(plain["chart_met"]): [r["met"] for r in rounds]}, str(plain["chart_title"]))
            images.append(Image("pairing-stats.png", chart, texts["chart_alt"]))
        await ctx.reply_private(Message(title=texts["stats_title"], text=texts["stats"], images=images))

    # -- a member's data -------------------------------------------------------------------------

    async def personal_data(self, community: Any, member_id: str) -> dict[str, list[dict[str, Any]]]:
        found = await super().personal_data(community, member_id)
        own = await self.store.own_pairs(community, member_id)
        if own:
            found["pairing_pairs"] = own
        return found

    async def forget_member(self, ctx: Invocation) -> None:
        await super().forget_member(ctx)
        async with self.db.transaction() as tx:
            await self.store.forget_in_pairs(tx, ctx.community, ctx.member.id)


def _in_words(length: timedelta) -> str:
    """A period as the templates say it: "14 days", "12 hours"."""
    days, hours = length.days, length.seconds // 3600
    if days:
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{max(hours, 1)} hour{'s' if hours != 1 else ''}"


def match(members: list[Joined], statements: int, now: datetime, rules: Rules,
          seed: int) -> tuple[dict[str, Candidate], list[tuple[str, str]], int]:
    """In a worker process: each member as the matcher sees them, by id, the round's pairs, and how many were
    left out for want of a different enough partner."""
    seen = {m.member_id: candidate(m, statements, now) for m in members}
    everyone = list(seen.values())
    found = pair(everyone, rules, seed=seed)
    return seen, found, too_alike(everyone, found, rules)


def candidate(member: Joined, statements: int, now: datetime) -> Candidate:
    local = now.astimezone(ZoneInfo(member.timezone)).date()
    return Candidate(member.member_id, views_of(member.views[:statements]),
                     free_hours(member.timezone, member.availability, local), frozenset(member.formats),
                     fold_town(member.town), member.waiting, utc_offset(member.timezone, now))
