"""Step 3 of the ten: your interview is ready; agree with your partner; share it.

A recording that is ready in the archive arrives by a moderator's command, an import of a CSV
file (`smallstep import interviews`), or the archive's webhook (webhook.py). Each partner who is
a member here is asked privately whether it may be public, and it becomes public only when both
said yes. Either may say no: the other is told only that it stays private. An answer can be
changed until it is published; a silent partner is reminded once, then left alone. When it is
published, both hear so with its link and texts to share it, and `interview.published` counts
the step. A partner who is not a member here has their side recorded by a moderator, and the
member gets a text to send them.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import ConfigError, duration, setting
from bot.core import (Button, ButtonStyle, Community, Field, Invocation, Member, Message, Refusal, action, command,
                      job, option, parse_duration, query)
from bot.core.cog import Cog
from bot.core.events import DomainEvent
from bot.storage import Transaction
from bot.values import host_of, looks_like_link, stamp, web_address
from cogs.interviews.store import NO, PUBLIC, YES, Interview, InterviewStore
from cogs.interviews.webhook import NotServed, NotTaken, Webhook

log = logging.getLogger(__name__)

TEXTS = "interviews/messages.j2"
POSTS = "interviews/posts/"
SECRET_ENV = "INTERVIEWS_WEBHOOK_SECRET"


def _port(value: int) -> tuple[str, str] | None:
    return None if 0 <= value <= 65535 else ("must be a port number, or 0 for no webhook", "write e.g. 8081")


@dataclass(frozen=True)
class InterviewSettings:
    """[cogs.interviews] in the config (the webhook's secret comes from INTERVIEWS_WEBHOOK_SECRET)."""

    remind_after: str = setting("3d", "How long a partner's silence lasts before the one reminder.", duration)
    webhook_port: int = setting(0, "The port the archive's webhook is served on while the bot runs. 0: none.", _port)
    webhook_host: str = setting("127.0.0.1", "The address the webhook listens on.")
    webhook_community: str = setting("", "The community a webhook request belongs to when it names none, e.g."
                                         " discord:1234.")


class Interviews(Cog):
    """Recordings that are ready, two partners' consent, and publishing."""

    Settings = InterviewSettings
    emits = ("interview.published",)
    member_rows = {"interview_consents": "member_id"}

    async def cog_load(self) -> None:
        self.store = InterviewStore(self.db, self.events)
        self.remind_after = parse_duration(self.settings.remind_after)
        self.webhook: Webhook | None = None
        self._port_taken_said = False
        self.secret = os.environ.get(SECRET_ENV, "").strip()
        if self.settings.webhook_port and not self.secret:
            raise ConfigError("cogs.interviews.webhook_port", f"the webhook needs its shared secret in {SECRET_ENV}",
                              f"export {SECRET_ENV}=... (the same secret the archive signs with), or set"
                              " webhook_port = 0", self.config.source)

    async def personal_data(self, community: Community, member_id: str) -> dict[str, list[dict[str, Any]]]:
        found = await super().personal_data(community, member_id)
        rows = await self.db.fetchall("SELECT * FROM interviews WHERE community = ? AND (member_id = ? OR partner_id = ?)",
                                      (community.key, member_id, member_id))
        if rows:
            found["interviews"] = [dict(row) for row in rows]
        return found

    async def forget_member(self, ctx: Invocation) -> None:
        """A recording belongs to both partners: when one deletes their data, it goes with every answer to it."""
        await self.store.forget_member(ctx.community, ctx.member.id)
        await super().forget_member(ctx)

    async def cog_unload(self) -> None:
        if self.webhook is not None:
            await self.webhook.close()

    # -- arriving --------------------------------------------------------------------------------

    @command("interview ready", help="Tell a member their interview is ready, and ask both partners about publishing",
             moderator=True)
    async def ready(self, ctx: Invocation, member: Member = option("Whose interview"),
                    url: str = option("Its link in the archive, https://...", max_length=500, fits=looks_like_link),
                    partner: Member | None = option("The partner, if they are a member here"),
                    partner_name: str | None = option("The partner's name, if they are not", max_length=100)) -> None:
        problem = self._url_problem(url)
        if problem:
            raise Refusal(ctx.render(TEXTS, value=url, domains=self.config.program.archive_domains)[problem],
                          show_usage=True)
        interview_id, new = await self.add(ctx.community, {"url": url}, member, partner, partner_name or "", "command",
                                           moderator=ctx.member)
        interview = await self.store.get(ctx.community, interview_id)
        await ctx.reply_private(ctx.render(TEXTS, interview=interview, new=new)["ready_done"])

    async def add(self, community: Community, data: dict[str, Any], member: Member, partner: Member | None,
                  partner_name: str, source: str, *, moderator: Member | None = None) -> tuple[int, bool]:
        """Keep a recording, ask its partners and audit the moderator who said it is ready, in one transaction
        (a crash leaves all of it, or none); the same recording again changes nothing."""
        async with self.db.transaction() as tx:
            interview_id, new = await self.store.add(tx, community, url=web_address(data["url"]) or data["url"],
                                                     member=member, partner=partner, partner_name=partner_name,
                                                     external_id=data.get("id") or None, source=source,
                                                     at=self.clock.now())
            if new:
                interview = await self.store.get(community, interview_id, tx=tx)
                for consent in await self.store.consents(community, interview_id, tx=tx):
                    person = Member(community.platform, consent.member_id, consent.member_name)
                    await self.bot.outbox.put(community, f"interviews:{interview_id}:ready", [
                        (person, self._question(community, interview, person, "dm_ready"))], tx=tx)
                if moderator is not None:
                    await self.bot.audit.record(community, moderator, "interview.ready", target=interview.url,
                                                interview=interview_id, tx=tx)
        return interview_id, new

    @query("interviews.add")
    async def add_record(self, community: Community, record: dict[str, Any], source: str) -> dict[str, Any]:
        """Take one recording from an import or the webhook: {"member", "url", "partner"?, "partner_name"?,
        "member_name"?, "id"?}. Returns {"interview", "new"}, or {"problem"} saying what is wrong with it."""
        member_id = str(record.get("member") or "").strip()
        url = str(record.get("url") or "").strip()
        if not member_id:
            return {"problem": "member is empty: give the member's user id"}
        if self._url_problem(url):
            return {"problem": f"url {url!r} is not a link to the archive"
                               f" ({', '.join(self.config.program.archive_domains)})"}
        member = await self._person(community, member_id, str(record.get("member_name") or ""))
        partner_id = str(record.get("partner") or "").strip()
        partner = await self._person(community, partner_id, "") if partner_id else None
        interview_id, new = await self.add(community, {"url": url, "id": str(record.get("id") or "").strip()},
                                           member, partner, str(record.get("partner_name") or "").strip(), source)
        return {"interview": interview_id, "new": new}

    # -- answering -------------------------------------------------------------------------------

    @action("interviews:answer")
    async def answer(self, ctx: Invocation, value: str) -> None:
        interview_id, _, answer = value.partition(":")
        interview = await self._interview(ctx, int(interview_id))
        texts = ctx.render(TEXTS, interview=interview)
        if ctx.member.id not in {c.member_id for c in await self.store.consents(ctx.community, interview.id)}:
            raise Refusal(texts["not_yours"])
        if interview.status == PUBLIC:
            raise Refusal(texts["already_public"])
        given = YES if answer == YES else NO
        async with self.db.transaction() as tx:  # the answer, and what it makes happen
            await self.store.answer(tx, ctx.community, interview.id, ctx.member.id, given, self.clock.now())
            said, published = await self._settle(tx, ctx, interview, ctx.member, given)
        await self._said(ctx, interview, ctx.member, said, published)

    @command("interview partner-agrees", help="Record that a partner who is not a member here agreed to publish",
             moderator=True)
    async def partner_agrees(self, ctx: Invocation, id: int = option("The interview's number")) -> None:
        interview = await self._interview(ctx, id)
        async with self.db.transaction() as tx:  # the answer, the audit entry, and what it makes happen
            if not await self.store.outside_agrees(tx, ctx.community, interview.id):
                raise Refusal(ctx.render(TEXTS, interview=interview)["no_outside_partner"])
            await self.bot.audit.record(ctx.community, ctx.member, "interview.partner_agrees", target=interview.url,
                                        interview=interview.id, tx=tx)
            interview = await self.store.get(ctx.community, id, tx=tx)
            said, published = await self._settle(tx, ctx, interview, None, YES)
        await self._said(ctx, interview, None, said, published)

    async def _settle(self, tx: Transaction, ctx: Invocation, interview: Interview, who: Member | None,
                      answer: str) -> tuple[str, list[DomainEvent]]:
        """Publish when every side said yes; when someone says no, the others hear only that it stays private.
        Inside the answer's transaction; returns what to tell whoever answered, and the events to publish."""
        consents = await self.store.consents(ctx.community, interview.id, tx=tx)
        sides = [c.answer for c in consents] + ([interview.outside_answer] if interview.outside_partner else [])
        if all(side == YES for side in sides):
            return "published", await self._publish(tx, ctx.community, interview)
        if answer == NO:
            others = [c for c in consents if who is None or c.member_id != who.id]
            moment = stamp(self.clock.now())
            for other in others:
                person = Member(ctx.platform, other.member_id, other.member_name)
                await self.bot.outbox.put(ctx.community, f"interviews:{interview.id}:private:{moment}", [
                    (person, Message(text=ctx.render(TEXTS, interview=interview)["dm_stays_private"]))], tx=tx)
            return "answered_no", []
        return "answered_yes", []

    async def _said(self, ctx: Invocation, interview: Interview, who: Member | None, said: str,
                    published: list[DomainEvent]) -> None:
        """Once the answer is kept: `interview.published` to the listeners, and a word to whoever answered."""
        for event in published:
            await self.events.publish(event)
        if who is None:
            await ctx.reply_private(ctx.render(TEXTS, interview=interview, published=said == "published")[
                "partner_agrees_done"])
            return
        texts = ctx.render(TEXTS, interview=interview)
        buttons = [] if said == "published" else self._buttons(texts, interview)
        await ctx.reply_private(Message(text=texts[said], buttons=buttons))

    async def _publish(self, tx: Transaction, community: Community, interview: Interview) -> list[DomainEvent]:
        published = await self.store.publish(tx, community, interview, self.clock.now())
        for event in published:
            fields = []
            for name in self.bot.templates.names(POSTS):
                post = self.bot.render(name, community.platform, interview=interview)
                if str(post["text"]).strip():
                    fields.append(Field(post["label"], post["text"]))
            texts = self.bot.render(TEXTS, community.platform, interview=interview, member=event.member)
            await self.bot.outbox.put(community, f"interviews:{interview.id}:published", [(event.member, Message(
                title=texts["public_title"], text=texts["dm_public"], fields=fields))], tx=tx)
        return published

    # -- the one reminder --------------------------------------------------------------------------

    @job(every="1h", at_start=True)
    async def remind(self, now: datetime) -> None:
        for key, interview_id, consent in await self.store.to_remind(now - self.remind_after):
            community = Community.from_key(key)
            if community.platform not in self.bot.adapters:
                continue
            if not await self.store.mark_reminded(key, interview_id, consent.member_id, now):
                continue
            interview = await self.store.get(community, interview_id)
            person = Member(community.platform, consent.member_id, consent.member_name)
            await self.bot.outbox.put(community, f"interviews:{interview_id}:reminder", [
                (person, self._question(community, interview, person, "dm_reminder"))])

    # -- the webhook -------------------------------------------------------------------------------

    @job(every="1m", at_start=True)
    async def serve_webhook(self, now: datetime) -> None:
        """The webhook opens when the bot serves (its first scheduled run), not when a config is checked.
        A process of the bot without it tries each minute it takes this job's turn: of several processes on one
        machine, the first holds the port, the others find it taken (said once) and take over should it go."""
        if not self.settings.webhook_port or self.webhook is not None:
            return
        webhook = Webhook(self.secret, self.clock, self._from_webhook, self._first_seen)
        try:
            await webhook.start(self.settings.webhook_host, self.settings.webhook_port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            if not self._port_taken_said:
                log.warning("the interviews webhook's port %d is taken (by another process of the bot on this"
                            " machine, or another program); this process tries again each minute it runs the job",
                            self.settings.webhook_port)
                self._port_taken_said = True
            return
        self.webhook = webhook

    async def _from_webhook(self, data: dict[str, Any]) -> dict[str, Any]:
        result = await self.add_record(self._webhook_community(data), data, "webhook")
        if "problem" in result:
            raise NotTaken(result["problem"])
        return result

    async def _first_seen(self, signature: str) -> bool:
        key = self.settings.webhook_community or "webhook"
        return await self.store.first_seen(Community.from_key(key), signature, self.clock.now())

    def _webhook_community(self, data: dict[str, Any]) -> Community:
        community = Community.from_key(str(data.get("community") or self.settings.webhook_community))
        if community.platform not in ("console", "discord", "slack") or not community.id:
            raise NotTaken("community is missing: give it as e.g. \"discord:1234\", or set"
                           " cogs.interviews.webhook_community")
        adapter = self.bot.adapters.get(community.platform)
        if adapter is None or not adapter.serves(community):
            raise NotServed(f"community {community.key} is not one this bot serves")
        return community

    # -- moderators' list --------------------------------------------------------------------------

    @command("interviews", help="The recordings that are ready, and where each partner's answer stands",
             moderator=True)
    async def listing(self, ctx: Invocation) -> None:
        items = []
        for interview in await self.store.all(ctx.community):
            answers = {c.member_name: c.answer for c in await self.store.consents(ctx.community, interview.id)}
            if interview.outside_partner:
                answers[interview.partner_name] = interview.outside_answer
            items.append({"interview": interview, "answers": answers})
        await ctx.reply_private(ctx.render(TEXTS, items=items)["listing"])

    # -- helpers -----------------------------------------------------------------------------------

    def _question(self, community: Community, interview: Interview, person: Member, block: str) -> Message:
        texts = self.bot.render(TEXTS, community.platform, interview=interview, member=person,
                                outside=interview.outside_partner and person.id == interview.member_id)
        return Message(title=texts["ready_title"], text=texts[block], buttons=self._buttons(texts, interview))

    @staticmethod
    def _buttons(texts: Any, interview: Interview) -> list[Button]:
        return [Button(texts["button_yes"], "interviews:answer", f"{interview.id}:{YES}", ButtonStyle.SUCCESS),
                Button(texts["button_no"], "interviews:answer", f"{interview.id}:{NO}", ButtonStyle.SECONDARY)]

    def _url_problem(self, url: str) -> str | None:
        address = web_address(url)
        if address is None:
            return "not_a_link"
        host = host_of(address)
        domains = self.config.program.archive_domains
        return None if any(host == d or host.endswith("." + d) for d in domains) else "not_the_archive"

    async def _person(self, community: Community, member_id: str, name: str) -> Member:
        """A member named by their id (in an import or a webhook), with their name where the platform knows it."""
        adapter = self.bot.adapters.get(community.platform)
        if adapter is not None and not name:
            for written in (member_id, f"@{member_id}"):
                found = await adapter.resolve_member(community, written)
                if found is not None and found.id == member_id:
                    return found
        return Member(community.platform, member_id, name or member_id)

    async def _interview(self, ctx: Invocation, interview_id: int) -> Interview:
        interview = await self.store.get(ctx.community, interview_id)
        if interview is None:
            raise Refusal(ctx.render(TEXTS, id=interview_id)["not_found"])
        return interview
