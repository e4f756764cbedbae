"""After the introduction: what a pair can do, what the bot asks them, and when it is over.

A part of the Pairing cog (cogs.pairing.cog), kept apart so that each reads on its own.

- The pair's buttons, in their room or under their introduction: "Next question" (the community's
  practice questions, one at a time), "Suggest a time" (a moment both are free, each told in their own
  time zone, with a calendar file and a reminder an hour before), "Pause" (no new partners), "End" (asks
  first) and "Report" (reaches the moderators without a word of the room: the bot never reads it).
- "Did you meet?" after `follow_up_after`, once more after "Not yet"; both yes: `pairing.met`, a private
  1 to 5 rating, and the pulse's question again for those who answered it when joining.
- Both met and both rated it 4 or 5: each is invited, privately, to record a conversation for the program's
  archive; only when both say yes does each get `program.record_url` (`pairing.recording_agreed`).
- The follow-up is over when they met, one said they won't or ended it, or the questions went unanswered.
  Then the room is archived (Discord) or left quiet (Slack), and whoever gave no sign at all (no answer, no
  button of the pair pressed: the bot's own signals, never the room's messages) has let one introduction
  pass; two in a row and they are paused, and told kindly why and how to come back.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core import Button, ButtonStyle, Community, File, Invocation, Member, Message, Refusal, action, job
from cogs.pairing.impact import FEELINGS
from cogs.pairing.matching import free_hours
from cogs.pairing.store import NOT_YET, PAUSED, WONT, YES, Pair
from cogs.pairing.times import LOOK_AHEAD, calendar_file, shared_moments

if TYPE_CHECKING:
    from cogs.pairing.store import Joined, PairingStore

TEXTS = "pairing/messages.j2"
ANSWERS = (YES, NOT_YET, WONT)
RECORD_AT_LEAST = 4  # both rated their conversation this or more: invited to record it
SILENT_IN_A_ROW = 2  # introductions let pass without a sign before a member is paused
_MOMENT = re.compile(r"[0-9]{1,12}")


class Conversation:
    """The pair's buttons, "Did you meet?", the invitation to record and the pulse (mixed into Pairing)."""

    store: PairingStore
    follow_up_after: timedelta

    # -- the pair's buttons ----------------------------------------------------------------------

    @action("pairing:next")
    async def next_question(self, ctx: Invocation, value: str) -> None:
        """The next of the community's opening questions: in the room for both to see, or privately."""
        pair_id, _, step = value.partition(":")
        found = await self._own_pair(ctx, pair_id)
        if not _MOMENT.fullmatch(step):
            raise Refusal(ctx.render(TEXTS)["old_button"])
        await self.store.heard(None, ctx.community, found, ctx.member.id, self.clock.now())
        guide = await self.bot.ask("practice.guide", ctx.community, ctx.platform, found.first_turn + int(step),
                                   default=None)
        if guide is None:
            raise Refusal(ctx.render(TEXTS)["no_questions"])
        texts = ctx.render(TEXTS, question=guide["question"])
        message = Message(text=texts["next_question"], buttons=[
            Button(texts["button_next_question"], "pairing:next", f"{found.id}:{int(step) + 1}")])
        if _in_room(ctx, found):
            await ctx.reply(message)
        else:
            await ctx.reply_private(message)

    @action("pairing:suggest")
    async def suggest_time(self, ctx: Invocation, value: str) -> None:
        """Moments in the next two weeks when both are free, shown in the presser's own time zone."""
        found, me, other = await self._both_of(ctx, value)
        await self.store.heard(None, ctx.community, found, ctx.member.id, self.clock.now())
        zone = ZoneInfo(me.timezone)
        moments = shared_moments((me.timezone, me.availability), (other.timezone, other.availability),
                                 self.clock.now(), me.timezone)
        texts = ctx.render(TEXTS, other=other.member_name, moments=[m.astimezone(zone) for m in moments])
        if not moments:
            raise Refusal(texts["no_shared_time"])
        await ctx.reply_private(Message(text=texts["pick_time"], buttons=[
            Button(str(self.bot.render(TEXTS, "plain", at=m.astimezone(zone))["moment"]), "pairing:slot",
                   f"{found.id}:{int(m.timestamp())}", ButtonStyle.SECONDARY) for m in moments]))

    @action("pairing:slot")
    async def time_picked(self, ctx: Invocation, value: str) -> None:
        """Both get the time, each in their own zone, with a calendar file; a reminder an hour before."""
        pair_id, _, moment_text = value.partition(":")
        found, me, other = await self._both_of(ctx, pair_id)
        now = self.clock.now()
        moment = datetime.fromtimestamp(int(moment_text), timezone.utc) if _MOMENT.fullmatch(moment_text) else None
        if moment is None or not now + timedelta(hours=1) < moment < now + LOOK_AHEAD or not all(
                free_hours(m.timezone, m.availability, moment.astimezone(ZoneInfo(m.timezone)).date())
                & (1 << (moment.weekday() * 24 + moment.hour)) for m in (me, other)):
            raise Refusal(ctx.render(TEXTS)["time_gone"])
        async with self.db.transaction() as tx:  # the time, what both are told and their reminders, or none
            await self.store.meet_at(tx, found, moment)
            await self.store.heard(tx, ctx.community, found, ctx.member.id, now)
            # A time picked before is replaced: its reminders are not sent.
            await self.bot.outbox.withdraw(ctx.community, f"pairing:reminder:{found.id}:", prefix=True, tx=tx)
            told, reminders = [], []
            for person, partner in ((me, other), (other, me)):
                local = moment.astimezone(ZoneInfo(person.timezone))
                texts = self.bot.render(TEXTS, ctx.platform, other=partner.member_name, at=local,
                                        picked_by=me.member_name, mine=person is me)
                plain = self.bot.render(TEXTS, "plain", other=partner.member_name, at=local)
                ics = calendar_file(f"pairing-{found.id}-{int(moment.timestamp())}@smallstep", str(plain["ics_title"]),
                                    moment, person.timezone, str(plain["ics_description"]), now)
                to = Member(ctx.platform, person.member_id, person.member_name)
                told.append((to, Message(text=texts["time_set"], files=[File("conversation.ics", ics,
                                                                             str(plain["ics_alt"]))])))
                reminders.append((to, Message(text=texts["time_reminder"])))
            batch = f"{found.id}:{int(moment.timestamp())}"
            await self.bot.outbox.put(ctx.community, f"pairing:time:{batch}", told, tx=tx)
            await self.bot.outbox.put(ctx.community, f"pairing:reminder:{batch}", reminders, tx=tx,
                                      not_before=moment - timedelta(hours=1), expires_at=moment)
        await ctx.reply_private(ctx.render(TEXTS, other=other.member_name)["time_done"])

    @action("pairing:rest")
    async def pause_pressed(self, ctx: Invocation, value: str) -> None:
        """No new partners for the presser; the pairing they are in goes on."""
        found = await self._own_pair(ctx, value)
        await self.store.heard(None, ctx.community, found, ctx.member.id, self.clock.now())
        changed = await self.store.set_status(ctx.community, ctx.member.id, PAUSED)
        texts = ctx.render(TEXTS, other=found.other(ctx.member.id)[1])
        await ctx.reply_private(texts["paused_from_room" if changed else "already_paused"])

    @action("pairing:end")
    async def end_pressed(self, ctx: Invocation, value: str) -> None:
        found = await self._own_pair(ctx, value)
        texts = ctx.render(TEXTS, other=found.other(ctx.member.id)[1])
        if found.closed:
            raise Refusal(texts["already_over"])
        await ctx.reply_private(Message(text=texts["end_confirm"], buttons=[
            Button(texts["button_end_yes"], "pairing:ended", str(found.id), ButtonStyle.DANGER),
            Button(texts["button_keep_talking"], "pairing:stay", "", ButtonStyle.SECONDARY)]))

    @action("pairing:ended")
    async def end_confirmed(self, ctx: Invocation, value: str) -> None:
        found = await self._own_pair(ctx, value)
        other_id, other_name = found.other(ctx.member.id)
        now = self.clock.now()
        async with self.db.transaction() as tx:  # ended, and the other told, or neither
            ended = await self.store.end(tx, found, now)
            if ended:
                await self.store.heard(tx, ctx.community, found, ctx.member.id, now)
                await self.bot.outbox.withdraw(ctx.community, f"pairing:reminder:{found.id}:", prefix=True, tx=tx)
                if other_id:
                    texts = self.bot.render(TEXTS, ctx.platform, other=ctx.member.display_name)
                    await self.bot.outbox.put(ctx.community, f"pairing:ended:{found.id}", [
                        (Member(ctx.platform, other_id, other_name), Message(text=texts["ended_other"]))], tx=tx)
        if not ended:
            raise Refusal(ctx.render(TEXTS, other=other_name)["already_over"])
        await ctx.reply_private(ctx.render(TEXTS, other=other_name)["ended"])
        await self._conclude_due(now)  # the room closes now, not at the next hourly run

    @action("pairing:flag")
    async def report_pressed(self, ctx: Invocation, value: str) -> None:
        """One press: the moderators hear which pair, from whom; nothing of what was written in the room."""
        found = await self._own_pair(ctx, value)
        await self.store.heard(None, ctx.community, found, ctx.member.id, self.clock.now())
        await self._file_report(ctx, str(self.bot.render(TEXTS, "plain", pair=found, partner=found.other(
            ctx.member.id)[1], in_room=bool(found.room))["room_report_text"]))
        await ctx.reply_private(ctx.render(TEXTS)["reported"])

    async def _both_of(self, ctx: Invocation, pair_id: str) -> tuple[Pair, Joined, Joined]:
        """The presser's pair, still going, and both members' answers (for their times)."""
        found = await self._own_pair(ctx, pair_id)
        texts = ctx.render(TEXTS, other=found.other(ctx.member.id)[1])
        if found.closed:
            raise Refusal(texts["already_over"])
        me = await self.store.member(ctx.community, ctx.member.id)
        other = await self.store.member(ctx.community, found.other(ctx.member.id)[0])
        if me is None or other is None:
            raise Refusal(texts["times_unknown"])
        return found, me, other

    # -- did you meet? ---------------------------------------------------------------------------

    @job(every="1h", at_start=True)
    async def follow_up(self, now: datetime) -> None:
        """Ask "Did you meet?" where it is due; then conclude the pairs whose follow-up is over."""
        for key, due in await self.store.due_follow_ups(now):
            community = Community.from_key(key)
            platform = community.platform
            if platform not in self.bot.adapters:
                continue
            items = []
            for member_id, name in ((due.member_a, due.name_a), (due.member_b, due.name_b)):
                if due.answer_of(member_id) == YES:
                    continue  # asked only who has not said yes yet
                texts = self.bot.render(TEXTS, community.platform, other=due.other(member_id)[1], again=due.asked > 0)
                items.append((Member(platform, member_id, name), Message(text=texts["did_you_meet"], buttons=[
                    Button(texts[f"button_{answer}"], "pairing:met", f"{due.id}:{answer}",
                           ButtonStyle.SUCCESS if answer == YES else ButtonStyle.SECONDARY) for answer in ANSWERS])))
            async with self.db.transaction() as tx:  # counted and queued together, or neither
                if await self.store.mark_asked(tx, key, due, now + self.follow_up_after):
                    await self.bot.outbox.put(community, f"pairing:follow-up:{due.id}:{due.asked + 1}", items, tx=tx)
        await self._conclude_due(now)

    async def _conclude_due(self, now: datetime) -> None:
        """Each pair whose follow-up is over: silence counted (and a member paused after two in a row, told
        why), then its room closed."""
        for key, found, ran_out in await self.store.to_conclude(now):
            community = Community.from_key(key)
            platform = community.platform
            if platform not in self.bot.adapters:
                continue
            silent = (await self.store.silent_sides(found))[0] if ran_out else []
            async with self.db.transaction() as tx:  # counted, and whoever is paused told so, or neither
                for member in await self.store.conclude(tx, key, found, silent, now, SILENT_IN_A_ROW):
                    texts = self.bot.render(TEXTS, platform, times=SILENT_IN_A_ROW)
                    await self.bot.outbox.put(community, f"pairing:silent:{found.id}:{member.member_id}", [
                        (Member(platform, member.member_id, member.member_name), Message(text=texts["paused_silent"]))
                    ], tx=tx)
        for key, found in await self.store.rooms_to_close():
            community = Community.from_key(key)
            adapter = self.bot.adapters.get(community.platform)
            if adapter is None:
                continue
            await adapter.close_room(community, found.room_channel)  # Slack's group DMs are left quiet
            await self.store.room_closed(found)

    @action("pairing:met")
    async def met(self, ctx: Invocation, value: str) -> None:
        pair_id, _, answer = value.partition(":")
        found = await self._own_pair(ctx, pair_id)
        if answer not in ANSWERS:
            raise Refusal(ctx.render(TEXTS)["old_button"])
        if found.met_at is not None:
            await ctx.reply_private(ctx.render(TEXTS, other=found.other(ctx.member.id)[1])["already_met"])
            return
        at = self.clock.now()
        async with self.db.transaction() as tx:  # the answer, and what it makes happen
            now, events = await self.store.answer(tx, ctx.community, found, ctx.member, answer, at)
            await self.store.heard(tx, ctx.community, found, ctx.member.id, at)
            if events:  # they both said they met: the pulse again, to whoever rated it already (the others next)
                await self._ask_feeling(tx, ctx.community, now, [person for person in now.people(ctx.platform)
                                                                 if now.rating_of(person.id) is not None])
        for event in events:
            await self.events.publish(event)
        texts = ctx.render(TEXTS, other=now.other(ctx.member.id)[1], met=now.met_at is not None)
        buttons = [Button(str(n), "pairing:rate", f"{found.id}:{n}", ButtonStyle.SECONDARY) for n in range(1, 6)] \
            if answer == YES else []
        await ctx.reply_private(Message(text=texts[f"answered_{answer}"], buttons=buttons))

    @action("pairing:rate")
    async def rated(self, ctx: Invocation, value: str) -> None:
        pair_id, _, rating = value.partition(":")
        found = await self._own_pair(ctx, pair_id)
        if rating not in ("1", "2", "3", "4", "5") or found.answer_of(ctx.member.id) != YES:
            raise Refusal(ctx.render(TEXTS)["old_button"])
        now = self.clock.now()
        async with self.db.transaction() as tx:  # the rating, and the invitations it completes, or neither
            await self.store.rate(tx, ctx.community, found, ctx.member.id, int(rating))
            await self.store.heard(tx, ctx.community, found, ctx.member.id, now)
            if found.met_at is not None and found.rating_of(ctx.member.id) is None:  # one question at a time
                await self._ask_feeling(tx, ctx.community, found, [ctx.member])
            if await self.store.invite_to_record(tx, found, now, RECORD_AT_LEAST):
                await self._invite_to_record(tx, ctx.community, found)
        await ctx.reply_private(ctx.render(TEXTS)["rated"])

    # -- from a conversation to a recording ------------------------------------------------------

    async def _invite_to_record(self, tx: Any, community: Community, found: Pair) -> None:
        items = []
        for person in found.people(community.platform):
            texts = self.bot.render(TEXTS, community.platform, other=found.other(person.id)[1])
            items.append((person, Message(title=texts["record_title"], text=texts["record_invite"], buttons=[
                Button(texts["button_record_yes"], "pairing:record", f"{found.id}:yes", ButtonStyle.SUCCESS),
                Button(texts["button_record_no"], "pairing:record", f"{found.id}:no", ButtonStyle.SECONDARY)])))
        await self.bot.outbox.put(community, f"pairing:record:{found.id}", items, tx=tx)

    @action("pairing:record")
    async def record_answer(self, ctx: Invocation, value: str) -> None:
        """Each answers privately; both yes: each gets the recording link. One no: the other hears only that it
        won't happen this time."""
        pair_id, _, answer = value.partition(":")
        found = await self._own_pair(ctx, pair_id)
        if answer not in ("yes", "no"):
            raise Refusal(ctx.render(TEXTS)["old_button"])
        other_id, other_name = found.other(ctx.member.id)
        now = self.clock.now()
        events = []
        async with self.db.transaction() as tx:  # the answer, and what it makes happen, or neither
            settled = await self.store.recording_answer(tx, found, ctx.member.id, answer, now)
            await self.store.heard(tx, ctx.community, found, ctx.member.id, now)
            if settled is None:
                said = "record_settled"
            elif answer == "no":
                said = "record_declined"
                if other_id:
                    texts = self.bot.render(TEXTS, ctx.platform, other=ctx.member.display_name)
                    await self.bot.outbox.put(ctx.community, f"pairing:record-no:{found.id}", [
                        (Member(ctx.platform, other_id, other_name), Message(text=texts["record_not_this_time"]))],
                        tx=tx)
            elif settled.recording_agreed_at is not None:
                said = "record_both_yes"
                items = []
                for person in settled.people(ctx.platform):
                    texts = self.bot.render(TEXTS, ctx.platform, other=settled.other(person.id)[1])
                    items.append((person, Message(title=texts["record_agreed_title"], text=texts["record_agreed"])))
                    events.append(await self.events.record(tx, "pairing.recording_agreed", ctx.community, person,
                                                           pair=found.id))
                await self.bot.outbox.put(ctx.community, f"pairing:record-yes:{found.id}", items, tx=tx)
            else:
                said = "record_waiting"
        for event in events:
            await self.events.publish(event)
        await ctx.reply_private(ctx.render(TEXTS, other=other_name, pair=settled or found)[said])

    # -- did it help? the pulse ------------------------------------------------------------------

    async def _ask_feeling(self, tx: Any, community: Community, found: Pair, people: list[Member]) -> None:
        """After a conversation both said happened, once they rated it: the thermometer again, privately, for those
        who answered it when joining (the change is all that is ever counted)."""
        for person in people:
            if await tx.fetchone("SELECT 1 FROM pairing_pulse WHERE community = ? AND member_id = ? AND"
                                 " moment = 'before'", (community.key, person.id)) is None:
                continue
            texts = self.bot.render(TEXTS, community.platform)
            await self.bot.outbox.put(community, f"pairing:pulse:{found.id}", [(person, Message(
                text=texts["feeling_after"], buttons=[
                    Button(str(texts[f"feeling_{n}"]) if texts.has(f"feeling_{n}") else n, "pairing:feeling",
                           f"{found.id}:{n}", ButtonStyle.SECONDARY) for n in FEELINGS]))], tx=tx)

    @action("pairing:feeling")
    async def feeling(self, ctx: Invocation, value: str) -> None:
        pair_id, _, feeling = value.partition(":")
        found = await self._own_pair(ctx, pair_id)
        if feeling not in FEELINGS or found.met_at is None:
            raise Refusal(ctx.render(TEXTS)["old_button"])
        async with self.db.transaction() as tx:
            await self.store.feeling_after(tx, ctx.community, found, ctx.member.id, int(feeling), self.clock.now())
        await ctx.reply_private(ctx.render(TEXTS)["feeling_thanks"])


def _in_room(ctx: Invocation, found: Pair) -> bool:
    """Pressed in the pair's own room (where both see the answer), not in a DM."""
    return bool(found.room) and ctx.channel is not None and ctx.channel.id == found.room
