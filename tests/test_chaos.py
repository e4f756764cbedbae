"""Chaos: the real `smallstep console` killed with SIGKILL at random moments, at least 20 times, and
started again on the same database each time. Nothing is lost, nothing is done twice.

Each kill lands while the bot is working on what it was just sent, measured from the process's own
progress: half of them a random delay after the line, up to one and a half times how long the bot
took to answer the lines before it (so the kills spread over the whole of the work), the other half
as soon as the change is seen in the database (the moment between a commit and what follows it,
where a crash used to lose the rest). The people
in these tests act on what they see, as members do: they answer the question on their screen, and
after a restart they look before they repeat anything.

One message may be shown twice after a kill: the one that was on its way when the process died
(shown, not yet marked as sent). That is the outbox's documented limit (a platform's nonce removes
it on Discord); each check below allows exactly that and nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from databases import Rows, database_for, reading
from real_process import ConsoleProcess

KILLS = 20


@dataclass
class Run:
    """One life of the process: what it printed, and whether it was killed."""

    lines: list[str]
    killed: bool

    def last_message(self) -> str:
        """The header of the last message it showed (`[#a] Session 1`), or ""."""
        return next((line for line in reversed(self.lines) if line.startswith("[")), "")


@dataclass
class Chaos:
    """Starts the console again and again on one folder, and kills it while it works."""

    folder: object
    config: str
    rng: random.Random
    runs: list[Run] = field(default_factory=list)
    turnarounds: list[float] = field(default_factory=list)
    bot: ConsoleProcess | None = None

    @property
    def kills(self) -> int:
        return sum(run.killed for run in self.runs)

    async def start(self, acting: str) -> None:
        self.bot = await ConsoleProcess.start(self.folder, self.config)
        # Twice: the second answer comes after whatever the start queued was shown (the console empties
        # the outbox after each line), so what was asked again at start is on screen before anyone acts.
        await self.bot.send(f":as {acting}", f":as {acting}")
        first = await self.bot.wait_for(f"you are now {acting}")
        await self.bot.wait_for(f"you are now {acting}", after=first + 1)

    async def act(self, line: str, answer: str, *, kill: bool, kept: Callable[[Rows], bool]) -> bool:
        """Send a line and wait for `answer` on screen; or, with `kill`, kill the process while it works
        on it: after a random delay, or as soon as `kept(database)` says its change was committed.
        Returns whether the process is still alive."""
        before = len(self.bot.lines)
        started = time.monotonic()
        if kill and self.rng.random() < 0.5:
            with reading(self.bot.database) as rows:
                await self.bot.send(line)
                deadline = time.monotonic() + 3
                while not kept(rows) and time.monotonic() < deadline:
                    await asyncio.sleep(0)  # a read of the database, as often as it goes
            await self.end(killed=True)
            return False
        await self.bot.send(line)
        if kill:
            typical = sorted(self.turnarounds)[len(self.turnarounds) // 2] if self.turnarounds else 0.02
            await asyncio.sleep(self.rng.uniform(0, 1.5 * typical))
            await self.end(killed=True)
            return False
        await self.bot.wait_for(answer, after=before)
        self.turnarounds.append(time.monotonic() - started)
        return True

    async def end(self, *, killed: bool) -> None:
        if killed:
            await self.bot.kill()
        else:
            code, log = await self.bot.stop()
            assert code == 0, log
        self.runs.append(Run(list(self.bot.lines), killed))
        self.bot = None

    def shown(self, header: str) -> int:
        """How many times a message with this header was shown, over every run."""
        return sum(line == header for run in self.runs for line in run.lines)

    def on_its_way(self, header: str) -> int:
        """How many killed runs died just after showing this message (it may be shown once more)."""
        return sum(run.killed and run.last_message() == header for run in self.runs)


# -- a form in progress -----------------------------------------------------------------------

STEPS = {  # what a member answers to each question of the testimonial form, as they would type it
    1: "We talked for an hour about our towns, our parents and what each of us fears most ({who}).",
    2: "That we agreed about the schools ({who}).",
    3: "Just go, and listen first ({who}).",
    4: "My full name",
    5: "I agree",
}
QUESTION = re.compile(r"^\[DM (\w+)\] Your testimonial: (question (\d) of 5|your answers)$")


def where_they_are(chaos: Chaos, who: str) -> str | None:
    """What a member sees last from the testimonial, over every run: a question's number, "review",
    "thanked", or None if nothing yet."""
    seen = None
    for run in chaos.runs + ([Run(chaos.bot.lines, False)] if chaos.bot else []):
        for line in run.lines:
            if line.startswith(f"[DM {who}] Thank you for your testimonial"):
                seen = "thanked"
            elif (match := QUESTION.match(line)) and match.group(1) == who:
                seen = match.group(3) or "review"
    return seen


def form_progress_in(rows: Rows, who: str) -> tuple:
    """Where a member's testimonial is in the database: their draft's answers, and whether it was kept."""
    draft = rows("SELECT answers, current FROM form_drafts WHERE member_id = ?", (who,))
    kept = rows("SELECT COUNT(*) FROM testimonials WHERE member_id = ?", (who,))[0][0]
    return (draft[0]["answers"], draft[0]["current"]) if draft else None, kept


def form_progress(chaos: Chaos, who: str) -> tuple:
    with reading(database_for(chaos.folder)) as rows:
        return form_progress_in(rows, who)


async def test_a_form_in_progress_survives_20_kills(tmp_path):
    chaos = Chaos(tmp_path, '[cogs]\nenabled = ["testimonials"]\n', random.Random(15))
    members = ["member1"]
    waiting = list(members)  # one after the other, as many as it takes to be killed 20 times
    while waiting:
        await chaos.start(waiting[0])
        alive = True
        budget = chaos.rng.randint(0, 3) if chaos.kills < KILLS else 10_000  # lines before this run's kill
        while alive and waiting:
            who = waiting[0]
            seen = where_they_are(chaos, who)
            if seen == "thanked":
                waiting.pop(0)
                if chaos.kills < KILLS:
                    members.append(f"member{len(members) + 1}")
                    waiting.append(members[-1])
                if waiting:
                    alive = await chaos.act(f":as {waiting[0]}", f"you are now {waiting[0]}", kill=False,
                                            kept=lambda rows: True)
                continue
            progress = form_progress(chaos, who)
            if seen is None:
                line, answer = "/testimonial", "Your testimonial: question 1 of 5"
            elif seen == "review":
                line, answer = ":dm submit", "Thank you for your testimonial"
            else:  # the question on their screen
                line, answer = f":dm {STEPS[int(seen)].format(who=who)}", f"[DM {who}] "
            alive = await chaos.act(line, answer, kill=budget == 0,
                                    kept=lambda rows: form_progress_in(rows, who) != progress)
            budget -= 1
        if alive:
            await chaos.end(killed=False)
    assert chaos.kills >= KILLS

    with reading(database_for(chaos.folder)) as read:
        rows = read("SELECT * FROM testimonials ORDER BY id")
        assert sorted(row["member_id"] for row in rows) == members, "one testimonial each: none lost, none twice"
        for row in rows:
            who = row["member_id"]
            assert (row["story"], row["surprise"], row["advice"]) == tuple(STEPS[n].format(who=who) for n in (1, 2, 3))
            assert row["credit"] == "full_name" and row["consent_given"] == 1
        assert read("SELECT COUNT(*) FROM form_drafts")[0][0] == 0
        submitted = read("SELECT COUNT(*) FROM domain_events WHERE name = 'testimonial.submitted'")
        assert submitted[0][0] == len(members)
    for row in rows:
        card = f"[#moderators] Testimonial #{row['id']} from {row['member_id']}"
        assert 1 <= chaos.shown(card) <= 1 + chaos.on_its_way(card), card


# -- creating events ----------------------------------------------------------------------------

EVENTS = 12


async def test_event_creation_survives_20_kills(tmp_path):
    chaos = Chaos(tmp_path, '[cogs]\nenabled = ["events"]\n', random.Random(16))
    planned = [f"Session {n}" for n in range(1, EVENTS + 1)]
    extra = itertools.count(1)  # more, until it was killed 20 times
    while planned or chaos.kills < KILLS:
        await chaos.start("admin")
        alive = True
        while alive and (planned or chaos.kills < KILLS):
            title = planned.pop(0) if planned else f"Extra {next(extra)}"
            command = f'/event create title:"{title}" start:"2030-01-14 18:00" channels:"#a #b #c"'
            kill = chaos.kills < KILLS and chaos.rng.random() < 0.7
            alive = await chaos.act(command, f"[#c] {title}", kill=kill, kept=lambda rows, title=title: rows(
                "SELECT COUNT(*) FROM events WHERE title = ?", (title,))[0][0] > 0)
        if alive:
            await chaos.end(killed=False)
    # One last start: whatever the last kill left in the outbox goes out.
    await chaos.start("admin")
    await chaos.end(killed=False)
    assert chaos.kills >= KILLS

    with reading(database_for(chaos.folder)) as read:
        events = read("SELECT id, title FROM events ORDER BY id")
        assert len({e["title"] for e in events}) == len(events), "no event created twice"
        assert len(events) >= EVENTS - KILLS // 2, "most creations were not interrupted"
        for event in events:
            data = json.dumps({"event": event["id"]})
            created = read("SELECT COUNT(*) FROM domain_events WHERE name = 'event.created' AND data = ?",
                           (data,))[0][0]
            audited = read("SELECT COUNT(*) FROM audit_log WHERE action = 'event.create' AND target = ?",
                           (event["title"],))[0][0]
            sent = read("SELECT target_id FROM outbox WHERE batch = ? AND status = 'sent' ORDER BY target_id",
                        (f"events:announce:{event['id']}",))
            assert (created, audited, [r[0] for r in sent]) == (1, 1, ["a", "b", "c"]), event["title"]
        orphans = read("SELECT COUNT(*) FROM outbox WHERE batch LIKE 'events:announce:%' AND"
                       " CAST(substr(batch, 17) AS INTEGER) NOT IN (SELECT id FROM events)")[0][0]
        assert orphans == 0
    for event in events:
        for channel in "abc":
            announcement = f"[#{channel}] {event['title']}"
            assert 1 <= chaos.shown(announcement) <= 1 + chaos.on_its_way(announcement), announcement
