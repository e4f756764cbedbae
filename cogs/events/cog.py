"""Step 6 of the ten: members join the community's events, often with a partner organisation.

Moderators create an event (options, or a DM form for the long fields), and it is announced
in the channels they chose, through the outbox (each channel once, even across a crash),
with Going / Maybe / Can't go buttons whose counts stay current. A full event puts new
Goings on a waitlist, which moves up when a place comes free. Members list what is coming
in their own time zone and take any event into their calendar (.ics). Those going are
reminded by DM before each occurrence; a reminder whose moment passed while the bot was down
is still sent if the event has not begun, and never twice. Editing or cancelling an event
updates every announcement and tells those going.

Where the platform has its own list of events (Discord's), each event is copied there too (mirrors.py),
and a member who marks the copy as interesting is offered Going / Maybe by DM, once. With
`cogs.events.threads`, each announcement has a discussion thread, where changes, a cancellation and
"starting soon" are posted.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import ConfigError, each, setting
from bot.config import duration as a_duration
from bot.core import (Button, ButtonStyle, Channel, Community, DomainEvent, Field, File, Invocation, Member, Message,
                      Refusal, Thread, action, command, job, listener, option, parse_duration, query)
from bot.core.adapter import EVENT_MIRRORS, THREADS, EventMirror
from bot.core.cog import Cog
from bot.core.commands import closest
from bot.forms import Submission, on_submit
from bot.outbox import recipient_id
from bot.storage import Transaction
from bot.values import closest_zones, stamp, web_address, whole_number
from bot.values import zone as find_zone
from cogs.events.forms import CREATE_OPTIONS, EDIT_OPTIONS, EVENT_FORM, as_typed
from cogs.events.mirrors import EventMirrors
from cogs.events.schedule import CalendarEntry, Occurrence, TimeProblem, calendar, parse_length, parse_recurrence, \
    parse_start, recurrence_in_words
from cogs.events.store import (CANCELLED, GOING, MAYBE, NO, WAITLIST, Counts, Draft, Event, EventStore, Rsvp,
                               as_draft, with_changes)

TEXTS = "events/messages.j2"
LISTED = 20
STARTING_SOON = timedelta(hours=1)  # when an announcement's thread hears that its event is about to begin
# An event's number (`3`, `#3`), or a suggestion picked while typing (`3 · Listening session (Tue 5 Jan 2027)`).
_REF = re.compile(r"^#?(\d{1,9})(?: · .*)?$")


@dataclass(frozen=True)
class EventSettings:
    """[cogs.events] in the config."""

    reminders: list[str] = setting(["24h", "1h"], "How long before each occurrence those going are reminded by DM.",
                                   each(a_duration))
    channels: list[str] = setting([], "Where an event is announced when /event create names no channel.")
    threads: bool = setting(False, "A discussion thread under each announcement, where changes, a cancellation and"
                                   " 'starting soon' are posted.")


class Events(Cog):
    """Events with RSVPs, a waitlist, reminders and calendar files."""

    emits = ("event.created", "event.rsvp", "event.attended")
    member_rows = {"event_rsvps": "member_id", "event_attendance": "member_id", "member_timezones": "member_id"}
    member_mentions = {"events": ("created_by",), "event_attendance": ("marked_by",)}

    Settings = EventSettings

    async def cog_load(self) -> None:
        self.store = EventStore(self.db, self.events)
        self.mirrors = EventMirrors(self, self.store, self._mirror_of)
        self.offsets = sorted({parse_duration(r) for r in self.settings.reminders}, reverse=True)
        if any(o <= timedelta(0) for o in self.offsets):
            raise ConfigError("cogs.events.reminders", "a reminder must come before the event",
                              'write durations like "24h" or "1h"', self.config.source)

    def platform_needs(self) -> frozenset[str]:
        """The platform's own list of events, where it has one; threads, when they are on."""
        return frozenset({EVENT_MIRRORS, *([THREADS] if self.settings.threads else [])})

    # -- members ---------------------------------------------------------------------------

    @command("events", help="What is coming up, with the times in your time zone")
    async def coming_up(self, ctx: Invocation) -> None:
        now = self.clock.now()
        viewer = await self._zone(ctx.community, ctx.member.id)
        # Each event once, at its next occurrence: a series says how it repeats rather than listing every date.
        upcoming = sorted(((occurrence, event) for event in await self.store.scheduled(ctx.community)
                           if (occurrence := event.next(now)) is not None), key=lambda pair: pair[0].start)
        items = [{"id": e.id, "title": e.title, "start": o.start.astimezone(viewer), "end": o.end.astimezone(viewer),
                  "repeats": self._repeats(ctx.platform, e)} for o, e in upcoming[:LISTED]]
        texts = ctx.render(TEXTS, items=items, more=max(0, len(upcoming) - LISTED), zone_name=viewer.key)
        buttons = [Button(texts["button_calendar_all"], "events:ics", "all", ButtonStyle.SECONDARY)] if items else []
        await ctx.reply_private(Message(title=texts["list_title"], text=texts["list"], buttons=buttons))

    @command("event", help="One event: when and where, who is going; answer, or take it into your calendar")
    async def show(self, ctx: Invocation, event: str = option("The event's number", max_length=120, trim=False,
                                                             autocomplete="event_choices")) -> None:
        found = await self._event(ctx, event)
        viewer = await self._zone(ctx.community, ctx.member.id)
        mine = await self.store.answer_of(ctx.community, found.id, ctx.member.id)
        await ctx.reply_private(await self._card(ctx.community, found, viewer, mine=mine))

    @command("event calendar", help="A calendar file (.ics) of one event, or of everything coming up")
    async def calendar_file(self, ctx: Invocation, event: str | None = option(
            "The event's number; leave it out for all that are coming", max_length=120,
            autocomplete="event_choices", trim=False)) -> None:
        await self._send_calendar(ctx, "all" if event is None else str((await self._event(ctx, event)).id))

    @action("events:ics")
    async def calendar_button(self, ctx: Invocation, value: str) -> None:
        await self._send_calendar(ctx, value)

    @action("events:rsvp")
    async def rsvp(self, ctx: Invocation, value: str) -> None:
        event_id, _, answer = value.partition(":")
        event = await self._event(ctx, event_id)
        texts = ctx.render(TEXTS, event=event)
        if event.status == CANCELLED:
            raise Refusal(texts["is_cancelled"])
        if answer not in (GOING, MAYBE, NO):
            raise Refusal(texts["is_over"])
        occurrence = event.next(self.clock.now())
        if occurrence is None:
            raise Refusal(texts["is_over"])
        async with self.db.transaction() as tx:  # the answer, and the DM to whoever moved up because of it
            recorded, promoted, happened = await self.store.answer(tx, ctx.community, event, ctx.member, answer,
                                                                   self.clock.now())
            if promoted is not None:
                await self._tell_promoted(ctx.community, event, [promoted], tx=tx)
        for joined in happened:
            await self.events.publish(joined)
        position = (await self.store.waitlist_position(ctx.community, event.id, ctx.member.id)
                    if recorded == WAITLIST else 0)
        viewer = await self._zone(ctx.community, ctx.member.id)
        said = ctx.render(TEXTS, event=event, position=position, start=occurrence.start.astimezone(viewer),
                          reminders=[_duration_words(o) for o in self.offsets])
        buttons = [Button(said["button_calendar"], "events:ics", str(event.id), ButtonStyle.SECONDARY)] \
            if recorded in (GOING, WAITLIST) else []
        await ctx.reply_private(Message(text=said[f"answered_{recorded}"], buttons=buttons))
        await self._refresh_announcements(ctx.community, event.id)

    @command("timezone", help="Show the time zone your times are shown in")
    async def my_zone(self, ctx: Invocation) -> None:
        own = await self.store.zone_of(ctx.community, ctx.member.id)
        await ctx.reply_private(ctx.render(TEXTS, own=own or "", default=self._default_zone().key)["zone_is"])

    @command("timezone set", help="Set the time zone your times are shown in, e.g. Europe/Berlin")
    async def set_zone(self, ctx: Invocation, zone: str = option(
            "An IANA time zone, e.g. Europe/Berlin or America/Chicago", max_length=64)) -> None:
        found = self._zone_named(ctx, zone)
        await self.store.set_zone(ctx.community, ctx.member.id, found.key)
        now = self.clock.now().astimezone(found)
        await ctx.reply_private(ctx.render(TEXTS, zone_name=found.key, now=now)["zone_set"])

    # -- moderators ------------------------------------------------------------------------

    @command("event create", help="Create an event and announce it (leave out the title or start to be asked by DM)",
             moderator=True, options=CREATE_OPTIONS)
    async def create(self, ctx: Invocation, **given: Any) -> None:
        typed = as_typed(given)
        if "title" not in typed or "start" not in typed:  # the long fields are easier one at a time, in DMs
            await self.bot.forms.start(ctx, EVENT_FORM, answers=typed)
            return
        await self._create(ctx, typed)

    @on_submit(EVENT_FORM)
    async def created_by_form(self, ctx: Invocation, submission: Submission) -> None:
        try:
            await self._create(ctx, as_typed(submission.answers), submission.id)
        except Refusal as problem:  # the answers go back to the moderator, to change the one at fault
            await self.bot.forms.start(ctx, EVENT_FORM, answers=dict(submission.answers), intro=problem.text)

    @command("event edit", help="Change an event; its announcements are updated and those going are told",
             moderator=True, options=EDIT_OPTIONS)
    async def edit(self, ctx: Invocation, **given: Any) -> None:
        current = await self._event(ctx, given["event"])
        texts = ctx.render(TEXTS, event=current)
        if current.status == CANCELLED:
            raise Refusal(texts["is_cancelled"])
        draft = await self._checked(ctx, as_typed(given), base=as_draft(current))
        before = as_draft(current)
        if draft == before:
            raise Refusal(texts["nothing_to_change"])
        now = self.clock.now()
        moved = (draft.first, draft.zone, draft.length, draft.place, draft.recurrence) != (
            before.first, before.zone, before.length, before.place, before.recurrence)
        partner = await self._partner(ctx.community, draft.partner_id)  # before: another cog's query
        threads = await self._threads(ctx.community, current) if moved else []  # before: read outside it
        promoted: list[Rsvp] = []
        happened: list[DomainEvent] = []
        # The change, what it tells those going or moved up, new channels' announcements and the audit
        # entry: all of them, or none.
        async with self.db.transaction() as tx:
            await self.store.update(tx, ctx.community, current.id, draft, now)
            updated = await self.store.get(ctx.community, current.id, tx=tx)
            if draft.capacity is None or (before.capacity is not None and draft.capacity > before.capacity):
                promoted, happened = await self.store.fill_places(tx, ctx.community, updated, now)
                await self._tell_promoted(ctx.community, updated, promoted, tx=tx)
            card = self._card_of(ctx.community, updated, await self.store.counts(ctx.community, updated.id, tx=tx),
                                 partner)
            await self._announce(ctx.community, updated, card, tx=tx)  # new channels get it
            told = await self._tell_change(ctx.community, updated, tx=tx) if moved else 0
            await self._post_in_threads(ctx.community, updated, threads, f"events:thread:changed:{updated.id}:"
                                        f"{updated.revision}", "thread_changed", tx=tx)
            await self.bot.audit.record(ctx.community, ctx.member, "event.edit", target=updated.title,
                                        event=updated.id, tx=tx)
        for joined in happened:
            await self.events.publish(joined)
        await self._refresh_announcements(ctx.community, updated.id)  # the others keep theirs, updated
        await self.mirrors.sync(ctx.community, updated.id)
        # capacity:0 takes the limit away: said plainly, with who moved up from the waitlist because of it.
        await ctx.reply_private(ctx.render(TEXTS, event=updated, told=told, promoted=len(promoted),
                                           unlimited=before.capacity is not None and draft.capacity is None)["edited"])

    @command("event cancel", help="Cancel an event (asks first); those going are told", moderator=True)
    async def cancel(self, ctx: Invocation,
                     event: str = option("The event's number", max_length=120, autocomplete="event_choices", trim=False),
                     reason: str | None = option("Why, in a few words, for those going", max_length=300)) -> None:
        found = await self._event(ctx, event)
        if found.status == CANCELLED:
            raise Refusal(ctx.render(TEXTS, event=found)["is_cancelled"])
        await self.store.note_cancellation(ctx.community, found.id, reason or "")
        going = await self.store.with_answer(ctx.community, found.id, GOING, WAITLIST)
        texts = ctx.render(TEXTS, event=found, going=len(going), reason=reason or "")
        await ctx.reply_private(Message(text=texts["cancel_confirm"], buttons=[
            Button(texts["button_cancel"], "events:cancel", str(found.id), ButtonStyle.DANGER),
            Button(texts["button_keep"], "events:keep", str(found.id), ButtonStyle.SECONDARY),
        ]))

    @action("events:cancel", moderator=True)
    async def cancelled(self, ctx: Invocation, value: str) -> None:
        event = await self._event(ctx, value)
        threads = await self._threads(ctx.community, event)
        # The cancellation, its reminders withdrawn, what those going are told (and its threads) and the audit
        # entry: all of them, or none.
        async with self.db.transaction() as tx:
            reason = await self.store.cancel(tx, ctx.community, event.id, self.clock.now())
            if reason is None:
                raise Refusal(ctx.render(TEXTS, event=event)["is_cancelled"])
            await self.bot.outbox.withdraw(ctx.community, f"events:reminder:{event.id}:", prefix=True, tx=tx)
            await self.bot.audit.record(ctx.community, ctx.member, "event.cancel", target=event.title, reason=reason,
                                        event=event.id, tx=tx)
            going = await self.store.with_answer(ctx.community, event.id, GOING, WAITLIST, tx=tx)
            told = await self._tell(ctx.community, event, f"events:cancelled:{event.id}", "dm_cancelled", going,
                                    reason=reason, tx=tx)
            await self.bot.outbox.withdraw(ctx.community, f"events:thread:starting:{event.id}:", prefix=True, tx=tx)
            await self._post_in_threads(ctx.community, event, threads, f"events:thread:cancelled:{event.id}",
                                        "thread_cancelled", reason=reason, tx=tx)
        await self._refresh_announcements(ctx.community, event.id)
        await self.mirrors.sync(ctx.community, event.id)
        await ctx.reply_private(ctx.render(TEXTS, event=event, told=told)["cancel_done"])

    @action("events:keep", moderator=True)
    async def kept(self, ctx: Invocation, value: str) -> None:
        await ctx.reply_private(ctx.render(TEXTS)["kept"])

    @command("event attended", help="Mark who was at an event", moderator=True)
    async def attended(self, ctx: Invocation,
                       event: str = option("The event's number", max_length=120, autocomplete="event_choices", trim=False),
                       members: str = option("Who was there: @name @name ...", max_length=2000)) -> None:
        found = await self._event(ctx, event)
        now = self.clock.now()
        if found.first.replace(tzinfo=found.zone) > now:  # no one can have been there yet
            start = found.first.replace(tzinfo=found.zone).astimezone(await self._zone(ctx.community, ctx.member.id))
            raise Refusal(ctx.render(TEXTS, event=found, start=start)["attended_too_soon"])
        people, unknown = {}, []
        for word in members.split():
            member = await ctx.adapter.resolve_member(ctx.community, word)
            if member is None:
                unknown.append(word)
            else:
                people.setdefault(member.id, member)
        if unknown:
            raise Refusal(ctx.render(TEXTS, unknown=unknown)["unknown_members"])
        marked = await self.store.mark_attended(ctx.community, found.id, list(people.values()), ctx.member.id, now)
        for happened in marked:
            await self.events.publish(happened)
            await self.bot.audit.record(ctx.community, ctx.member, "event.attended", target=happened.member.display_name,
                                        event=found.id, title=found.title, member=happened.member.id)
        added = [happened.member for happened in marked]
        answered = {r.member_id for r in await self.store.with_answer(ctx.community, found.id, GOING, MAYBE, NO,
                                                                       WAITLIST)}
        await ctx.reply_private(ctx.render(
            TEXTS, event=found, added=[m.display_name for m in added],
            already=[m.display_name for m in people.values() if m not in added],
            unanswered=[m.display_name for m in added if m.id not in answered])["attended_done"])

    # -- suggestions while typing ------------------------------------------------------------

    async def event_choices(self, ctx: Invocation, typed: str) -> list[str]:
        now = self.clock.now()
        found = []
        for event in await self.store.scheduled(ctx.community):
            occurrence = event.next(now)
            if occurrence is None:
                continue
            label = ctx.render(TEXTS, event=event, start=occurrence.start)["choice"]
            if typed.casefold() in label.casefold():
                found.append((occurrence.start, str(label)))
        return [label for _, label in sorted(found)]

    async def partner_names(self, ctx: Invocation, typed: str) -> list[str]:
        names = await self.bot.ask("partners.names", ctx.community, default=[])
        return [n for n in names if typed.casefold() in n.casefold()]

    # -- reminders -----------------------------------------------------------------------------

    @job(every="1m", at_start=True)
    async def remind(self, now: datetime) -> None:
        """Queue each reminder that is due, once: a rerun, or a run after downtime, adds nothing twice.

        When several reminders of one occurrence fell due (the bot was down), only the nearest is
        sent; none is sent once the occurrence has begun.
        """
        horizon = now + max([*self.offsets[:1], STARTING_SOON if self.settings.threads else timedelta(0)])
        served = [e for e in await self.store.scheduled()
                  if Community.from_key(e.community).platform in self.bot.adapters]
        # Expanding every repeat rule is CPU work: on a thread, so members are answered meanwhile.
        coming = await asyncio.to_thread(lambda: [(e, e.between(now, horizon)) for e in served])
        for event, occurrences in coming:
            community = Community.from_key(event.community)
            for occurrence in occurrences:
                due = [o for o in self.offsets if occurrence.start - o <= now < occurrence.start]
                if due:
                    await self._queue_reminders(community, event, occurrence, min(due))
                if self.settings.threads and occurrence.start - STARTING_SOON <= now < occurrence.start:
                    await self._starting_soon(community, event, occurrence)

    async def _starting_soon(self, community: Community, event: Event, occurrence: Occurrence) -> None:
        """"Starting soon" in each thread under the announcements, once per occurrence, never after it began."""
        batch = f"events:thread:starting:{event.id}:{stamp(occurrence.start)}"
        done = {p.target_id for p in await self.bot.outbox.posts(community, batch)}
        threads = [t for t in await self._threads(community, event) if recipient_id(t) not in done]
        await self._post_in_threads(community, event, threads, batch, "thread_starting", expires_at=occurrence.start,
                                    left=_duration_words(occurrence.start - self.clock.now()))

    async def _queue_reminders(self, community: Community, event: Event, occurrence: Occurrence,
                               offset: timedelta) -> None:
        batch = f"events:reminder:{event.id}:{stamp(occurrence.start)}:{int(offset.total_seconds())}"
        done = {p.target_id for p in await self.bot.outbox.posts(community, batch)}
        going = [r for r in await self.store.with_answer(community, event.id, GOING) if r.member_id not in done]
        if not going:
            return
        zones = await self.store.zones(community)
        items = []
        for rsvp in going:
            viewer = ZoneInfo(zones[rsvp.member_id]) if rsvp.member_id in zones else self._default_zone()
            texts = self.bot.render(TEXTS, community.platform, event=event, start=occurrence.start.astimezone(viewer),
                                    left=_duration_words(occurrence.start - self.clock.now()))
            items.append((Member(community.platform, rsvp.member_id, rsvp.member_name),
                          Message(text=texts["dm_reminder"], buttons=[
                              Button(texts["button_details"], "events:show", str(event.id), ButtonStyle.SECONDARY)])))
        await self.bot.outbox.put(community, batch, items, expires_at=occurrence.start)

    @action("events:show")
    async def show_button(self, ctx: Invocation, value: str) -> None:
        await self.show(ctx, value)

    # -- what other cogs may ask ---------------------------------------------------------------

    @query("events.upcoming")
    async def for_partner(self, community: Community, member: Member, partner_id: int) -> list[dict[str, Any]]:
        """A partner's coming events, with their times in the member's zone (for the partner's page)."""
        now = self.clock.now()
        viewer = await self._zone(community, member.id)
        found = []
        for event in await self.store.scheduled(community):
            occurrence = event.next(now) if event.partner_id == partner_id else None
            if occurrence is not None:
                when = self.bot.render(TEXTS, community.platform, start=occurrence.start.astimezone(viewer))
                found.append((occurrence.start, {"id": event.id, "title": event.title, "when": when["when_short"]}))
        return [item for _, item in sorted(found, key=lambda pair: pair[0])]

    # -- creating --------------------------------------------------------------------------------

    async def _create(self, ctx: Invocation, given: dict[str, Any], submission: str | None = None) -> None:
        draft = await self._checked(ctx, given)
        if not draft.channels:
            defaults = " ".join(self.settings.channels)
            draft = with_changes(draft, channels=await self._channels(ctx, defaults) if defaults else [])
        partner = await self._partner(ctx.community, draft.partner_id)  # before: another cog's query
        # The event, its announcement, `event.created` and the audit entry: all of them, or none.
        async with self.db.transaction() as tx:
            event_id = await self.store.create(tx, ctx.community, draft, ctx.member.id, self.clock.now())
            event = await self.store.get(ctx.community, event_id, tx=tx)
            await self._announce(ctx.community, event, self._card_of(ctx.community, event, Counts(), partner), tx=tx)
            created = await self.events.record(tx, "event.created", ctx.community, ctx.member, event=event_id)
            await self.bot.audit.record(ctx.community, ctx.member, "event.create", target=event.title,
                                        event=event_id, tx=tx)
        await self.events.publish(created)
        await self.mirrors.sync(ctx.community, event_id)
        viewer = await self._zone(ctx.community, ctx.member.id)
        occurrence = event.next(self.clock.now())
        await ctx.reply_private(ctx.render(TEXTS, event=event, start=occurrence.start.astimezone(viewer),
                                           channels=[c.name for c in event.channels],
                                           repeats=self._repeats(ctx.platform, event))["created"])

    async def _checked(self, ctx: Invocation, typed: dict[str, str], base: Draft | None = None) -> Draft:
        """The event's fields as given (`as_typed`) over `base` (the event being edited), checked; a Refusal
        names the first thing to change."""
        now = self.clock.now()
        words = ctx.render(TEXTS)
        title = typed.get("title") or (base.title if base else None)
        if not title:
            raise Refusal(words["title_needed"])
        event_zone = self._zone_named(ctx, typed["timezone"]) if "timezone" in typed else (
            base.zone if base else await self._zone(ctx.community, ctx.member.id))
        try:
            first = parse_start(typed["start"], event_zone, now) if "start" in typed else base.first
            length = parse_length(typed["duration"], first) if "duration" in typed else (
                base.length if base else timedelta(hours=1))
            repeat = typed.get("repeat")
            recurrence = (None if repeat.lower() in ("none", "no", "once") else parse_recurrence(repeat, first)) \
                if repeat else (base.recurrence if base else None)
        except TimeProblem as problem:
            raise Refusal(ctx.render(TEXTS, **problem.details)[problem.reason], show_usage=True) from None
        if ("start" in typed or base is None) and first.replace(tzinfo=event_zone) <= now:
            raise Refusal(ctx.render(TEXTS, value=typed.get("start"), now=now.astimezone(event_zone))["in_the_past"])
        capacity = base.capacity if base else None
        if "capacity" in typed:
            try:
                capacity = whole_number(typed["capacity"])
            except (ValueError, OverflowError):  # words, or a number no hall holds: the same answer
                capacity = -1
            if capacity < 0 or (capacity == 0 and base is None):
                raise Refusal(ctx.render(TEXTS, value=typed["capacity"])["bad_capacity"])
            capacity = capacity or None
        channels = list(base.channels) if base else []
        if "channels" in typed:
            channels += [c for c in await self._channels(ctx, typed["channels"]) if c not in channels]
        partner_id = base.partner_id if base else None
        if "partner" in typed:
            partner_id = None if typed["partner"].lower() == "none" else await self._partner_id(ctx, typed["partner"])
        return Draft(title=title, first=first, zone=event_zone, length=length,
                     place=typed.get("place", base.place if base else ""),
                     description=typed.get("description", base.description if base else ""),
                     capacity=capacity, channels=channels, recurrence=recurrence, partner_id=partner_id)

    async def _channels(self, ctx: Invocation, typed: str) -> list[Channel]:
        found = []
        for word in typed.replace(",", " ").split():
            channel = await ctx.adapter.resolve_channel(ctx.community, word)
            if channel is None:
                raise Refusal(ctx.render(TEXTS, value=word)["unknown_channel"])
            problem = await ctx.adapter.check_channel(ctx.community, channel)
            if problem:
                raise Refusal(ctx.render(TEXTS, value=word, problem=problem)["cannot_post"])
            if channel not in found:
                found.append(channel)
        return found

    async def _partner_id(self, ctx: Invocation, name: str) -> int:
        if "partners.find" not in self.bot.cogs.queries:
            raise Refusal(ctx.render(TEXTS, value=name)["partners_off"])
        partner = await self.bot.ask("partners.find", ctx.community, name)
        if partner is None:
            known = await self.bot.ask("partners.names", ctx.community, default=[])
            raise Refusal(ctx.render(TEXTS, value=name, suggestion=closest(name, known))["unknown_partner"])
        return partner["id"]

    # -- what members see ------------------------------------------------------------------------

    async def _card(self, community: Community, event: Event, viewer: ZoneInfo | None = None, *,
                    mine: str | None = None) -> Message:
        """The event as a message: for an announcement (its own zone, no viewer), or for one member."""
        return self._card_of(community, event, await self.store.counts(community, event.id),
                             await self._partner(community, event.partner_id), viewer, mine=mine)

    async def _partner(self, community: Community, partner_id: int | None) -> dict[str, Any] | None:
        return await self.bot.ask("partners.get", community, partner_id) if partner_id else None

    def _card_of(self, community: Community, event: Event, counts: Counts, partner: dict[str, Any] | None,
                 viewer: ZoneInfo | None = None, *, mine: str | None = None) -> Message:
        """`_card` from what it reads: inside a transaction, where another cog's query cannot read."""
        now = self.clock.now()
        occurrence = event.next(now)
        shown_zone = viewer or event.zone
        texts = self.bot.render(
            TEXTS, community.platform, event=event, counts=counts, partner=partner, mine=mine or "",
            full=event.capacity is not None and counts.going >= event.capacity,
            start=occurrence.start.astimezone(shown_zone) if occurrence else None,
            end=occurrence.end.astimezone(shown_zone) if occurrence else None,
            own_zone=event.zone.key if shown_zone.key != event.zone.key else "",
            repeats=self._repeats(community.platform, event), link=web_address(event.place) or "")
        fields = [Field(texts["label_when"], texts["when"], inline=True)]
        if event.place:
            fields.append(Field(texts["label_where"], texts["where"], inline=True))
        if partner:
            fields.append(Field(texts["label_partner"], texts["partner"], inline=True))
        fields.append(Field(texts["label_answers"], texts["answers"]))
        buttons = []
        if event.status != CANCELLED and occurrence is not None:
            buttons = [Button(texts["button_going"], "events:rsvp", f"{event.id}:{GOING}", ButtonStyle.SUCCESS),
                       Button(texts["button_maybe"], "events:rsvp", f"{event.id}:{MAYBE}", ButtonStyle.SECONDARY),
                       Button(texts["button_no"], "events:rsvp", f"{event.id}:{NO}", ButtonStyle.SECONDARY),
                       Button(texts["button_calendar"], "events:ics", str(event.id), ButtonStyle.SECONDARY)]
        return Message(title=texts["card_title"], text=texts["card"], fields=fields, buttons=buttons)

    async def _announce(self, community: Community, event: Event, card: Message, *, tx: Transaction) -> None:
        """Post the announcement in each of the event's channels not yet holding it, through the outbox (with its
        discussion thread, where the platform opens one)."""
        if self.settings.threads:
            card = replace(card, thread=self._thread_name(event))
        await self.bot.outbox.put(community, f"events:announce:{event.id}", [(c, card) for c in event.channels],
                                  tx=tx)

    async def _refresh_announcements(self, community: Community, event_id: int) -> None:
        """Every announcement already posted shows the event as it is now (counts, changes, cancellation)."""
        event = await self.store.get(community, event_id)
        adapter = self.bot.adapters.get(community.platform)
        posted = [p for p in await self.bot.outbox.posts(community, f"events:announce:{event_id}") if p.message_id]
        if adapter is None or not posted:
            return
        card = await self._card(community, event)
        for post in posted:
            await adapter.edit(community, post.channel, post.message_id, card)

    async def _send_calendar(self, ctx: Invocation, which: str) -> None:
        now = self.clock.now()
        if which == "all":
            events = [e for e in await self.store.scheduled(ctx.community) if e.next(now)]
        else:
            events = [await self._event(ctx, which)]
        entries = [CalendarEntry(
            uid=f"event-{e.id}-{ctx.community.key.replace(':', '-')}@smallstep-bot", title=e.title,
            first=Occurrence(e.first.replace(tzinfo=e.zone), (e.first + e.length).replace(tzinfo=e.zone)),
            recurrence=e.recurrence, description=e.description, place=e.place, link=web_address(e.place) or "",
            revision=e.revision, cancelled=e.status == CANCELLED) for e in events]
        name = "events.ics" if which == "all" else f"event-{which}.ics"
        texts = ctx.render(TEXTS, count=len(entries))
        await ctx.reply_private(Message(text=texts["calendar_ready"],
                                        files=[File(name, calendar(entries, now), texts["calendar_title"])]))

    # -- threads under the announcements ---------------------------------------------------------

    def _thread_name(self, event: Event) -> str:
        return str(self.bot.render(TEXTS, "plain", event=event)["thread_name"])

    async def _threads(self, community: Community, event: Event) -> list[Thread]:
        """The discussion threads under the event's announcements that were posted (none with threads off).
        Read before the transaction that posts in them: a read waits while a transaction is open."""
        if not self.settings.threads:
            return []
        posted = await self.bot.outbox.posts(community, f"events:announce:{event.id}")
        return [Thread(p.channel, p.message_id, self._thread_name(event)) for p in posted if p.message_id]

    async def _post_in_threads(self, community: Community, event: Event, threads: list[Thread], batch: str, block: str,
                               *, tx: Transaction | None = None, expires_at: datetime | None = None,
                               **variables: Any) -> None:
        """A post in each thread, once per batch, with its times in the event's own zone (each reader's own where
        the platform shows them so); given `tx`, with the change that calls for it."""
        if not threads:
            return
        occurrence = event.next(self.clock.now())
        texts = self.bot.render(TEXTS, community.platform, event=event, **variables,
                                start=occurrence.start if occurrence else None)
        message = Message(text=texts[block])
        await self.bot.outbox.put(community, batch, [(thread, message) for thread in threads], tx=tx,
                                  expires_at=expires_at)

    # -- the platform's own list of events -------------------------------------------------------

    def _mirror_of(self, community: Community, event: Event, occurrence: Occurrence) -> EventMirror:
        """One occurrence of the event as the platform's own list shows it (mirrors.py)."""
        texts = self.bot.render(TEXTS, community.platform, event=event, repeats=self._repeats(community.platform, event),
                                channels=[c.name for c in event.channels])
        place = event.place or str(self.bot.render(TEXTS, "plain")["mirror_place_unknown"])
        return EventMirror(title=event.title, description=str(texts["mirror_description"]), start=occurrence.start,
                           end=occurrence.end, place=place)

    @job(every="1m", at_start=True)
    async def mirror(self, now: datetime) -> None:
        """Keep the copies in the platform's list in step: a series rolls on to its next occurrence when one
        ends, a voice event starts and ends, and what the platform refused is tried again."""
        await self.mirrors.sync()

    @listener("event_mirror.interested")
    async def interested(self, happened: DomainEvent) -> None:
        """Someone marked the copy of an event as interesting in the platform's list, which keeps them no place:
        they are offered Going / Maybe by DM, once per event, unless they have answered already."""
        community, member = happened.community, happened.member
        event_id = await self.mirrors.event_of(community, str(happened.data.get("mirror", "")))
        event = await self.store.get(community, event_id) if event_id is not None else None
        occurrence = event.next(self.clock.now()) if event is not None and event.status != CANCELLED else None
        if occurrence is None or await self.store.answer_of(community, event.id, member.id) is not None:
            return
        counts = await self.store.counts(community, event.id)
        start = occurrence.start.astimezone(await self._zone(community, member.id))
        texts = self.bot.render(TEXTS, community.platform, event=event, start=start,
                                full=event.capacity is not None and counts.going >= event.capacity)
        offer = Message(text=texts["dm_interested"], buttons=[
            Button(texts["button_going"], "events:rsvp", f"{event.id}:{GOING}", ButtonStyle.SUCCESS),
            Button(texts["button_maybe"], "events:rsvp", f"{event.id}:{MAYBE}", ButtonStyle.SECONDARY),
            Button(texts["button_no"], "events:rsvp", f"{event.id}:{NO}", ButtonStyle.SECONDARY)])
        await self.bot.outbox.put(community, f"events:interested:{event.id}:{member.id}", [(member, offer)])

    # -- telling members -------------------------------------------------------------------------

    async def _tell(self, community: Community, event: Event, batch: str, block: str, people: list[Rsvp], *,
                    tx: Transaction | None = None, **variables: Any) -> int:
        """A DM to each of `people` about `event`, once per batch, in their own time zones (given `tx`, with
        the change that calls for it)."""
        zones = await self.store.zones(community, tx=tx)
        occurrence = event.next(self.clock.now())
        items = []
        for rsvp in people:
            viewer = ZoneInfo(zones[rsvp.member_id]) if rsvp.member_id in zones else self._default_zone()
            texts = self.bot.render(TEXTS, community.platform, event=event, **variables,
                                    start=occurrence.start.astimezone(viewer) if occurrence else None)
            items.append((Member(community.platform, rsvp.member_id, rsvp.member_name), Message(text=texts[block])))
        return await self.bot.outbox.put(community, batch, items, tx=tx)

    async def _tell_change(self, community: Community, event: Event, *, tx: Transaction) -> int:
        people = await self.store.with_answer(community, event.id, GOING, WAITLIST, tx=tx)
        return await self._tell(community, event, f"events:changed:{event.id}:{event.revision}", "dm_changed", people,
                                tx=tx)

    async def _tell_promoted(self, community: Community, event: Event, promoted: list[Rsvp], *,
                             tx: Transaction) -> None:
        for rsvp in promoted:
            await self._tell(community, event, f"events:promoted:{event.id}:{rsvp.member_id}:{stamp(self.clock.now())}",
                             "dm_promoted", [rsvp], tx=tx)

    # -- helpers ---------------------------------------------------------------------------------

    async def _event(self, ctx: Invocation, typed: str) -> Event:
        match = _REF.match(str(typed))
        if match is None:  # `1.5` is not event 1, nor is `" 1 "`
            raise Refusal(ctx.render(TEXTS, value=typed)["not_a_number"])
        found = await self.store.get(ctx.community, int(match.group(1)))
        if found is None:
            raise Refusal(ctx.render(TEXTS, value=typed)["not_found"])
        return found

    def _repeats(self, platform: str, event: Event) -> str:
        """How the event repeats, in the words of events/messages.j2 ("every Tuesday, 6 times"); "" if it doesn't."""
        words = recurrence_in_words(event.recurrence, event.first)
        return self.bot.render(TEXTS, platform, repeat=words)["repeat"] if words else ""

    def _default_zone(self) -> ZoneInfo:
        return self.clock.tz

    async def _zone(self, community: Community, member_id: str) -> ZoneInfo:
        own = await self.store.zone_of(community, member_id)
        return ZoneInfo(own) if own else self._default_zone()

    def _zone_named(self, ctx: Invocation, typed: str) -> ZoneInfo:
        found = find_zone(typed)
        if found is None:
            raise Refusal(ctx.render(TEXTS, value=typed, near=closest_zones(typed))["unknown_zone"])
        return found


def _duration_words(length: timedelta) -> dict[str, int]:
    """A duration as days, hours and minutes (and all of it in hours), for a template to word."""
    minutes = max(0, round(length.total_seconds() / 60))
    return {"days": minutes // 1440, "hours": minutes % 1440 // 60, "minutes": minutes % 60,
            "in_hours": minutes // 60}
