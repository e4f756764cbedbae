"""The conversational form engine: one question at a time, in the member's direct messages.

State lives only in the `form_drafts` table, written after every answer; nothing about
an open form is kept in memory between two messages. So a restart in the middle of a
form continues at the same question, and reminders and expiry are rows with a time,
checked by a job (`FormsCog.deadlines`), which also catches up on what fell due while
the bot was down.

While a form is open the member may say back, skip, cancel, review, edit N, submit and
help (the words come from forms/engine.j2, so a community may translate them). When
they submit, the cog's `@on_submit(form)` handler receives a `Submission` whose `id`
stays the same if the submit is retried: handlers use it to record a submission once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
import weakref
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

from bot.config import FormsConfig
from bot.core.adapter import Dialog, DialogField
from bot.core.commands import closest
from bot.core.context import Community, Invocation, Member
from bot.core.errors import MemberUnreachable
from bot.core.message import Button, ButtonStyle, Message
from bot.forms.spec import Form, Invalid, Kind, Question
from bot.forms.store import Draft, DraftStore
from bot.render import Rendered
from bot.storage import Transaction
from bot.values import parse_duration, stamp

if TYPE_CHECKING:
    from bot.app.bot import Bot

log = logging.getLogger(__name__)

ENGINE = "forms/engine.j2"
CONTROL_WORDS = ("back", "skip", "cancel", "review", "edit", "submit", "help")


@dataclass(frozen=True)
class Submission:
    """A completed form, handed to the cog that owns it."""

    id: str
    form: Form
    community: Community
    member: Member
    answers: dict[str, Any]
    context: dict[str, Any]


SubmitHandler = Callable[[Invocation, Submission], Awaitable[None]]


@dataclass(eq=False)
class _Turn:
    """One member's turn with the engine: their messages and presses are handled one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    owner: asyncio.Task | None = None
    saved: Draft | None = None  # the draft as this turn last saved it, to mark it shown at the end


class FormEngine:
    def __init__(self, bot: Bot, settings: FormsConfig) -> None:
        self._bot = bot
        self.store = DraftStore(bot.db)
        self._forms: dict[str, tuple[Form, SubmitHandler]] = {}
        self.remind_after = parse_duration(settings.remind_after)
        self.expire_after = parse_duration(settings.expire_after)
        self.submit_cooldown = parse_duration(settings.submit_cooldown)
        # Only while a member is being answered; an entry vanishes when nobody holds it.
        self._turns: weakref.WeakValueDictionary[tuple[str, str], _Turn] = weakref.WeakValueDictionary()

    # -- forms that cogs declare -----------------------------------------------------

    def register(self, form: Form, handler: SubmitHandler) -> None:
        self._forms[form.name] = (form, handler)

    def unregister(self, name: str) -> None:
        self._forms.pop(name, None)

    def is_registered(self, name: str) -> bool:
        return name in self._forms

    async def discard(self, community: Community, member_id: str, form: Form, **context: Any) -> bool:
        """Delete a member's open `form` if its context matches (e.g. a revision that no longer applies)."""
        async with self._member_turn(community.key, member_id):
            draft = await self.store.get(community.key, member_id)
            if draft is None or draft.form != form.name or any(draft.context.get(k) != v for k, v in context.items()):
                return False
            await self.store.delete(draft)
            return True

    async def finish(self, tx: Transaction, submission: Submission) -> None:
        """A submit handler's record is in `tx`: the draft goes in the same transaction, so a crash leaves
        either the draft, ready to submit again, or the record, never both."""
        await tx.execute("DELETE FROM form_drafts WHERE community = ? AND member_id = ? AND submission_id = ?",
                         (submission.community.key, submission.member.id, submission.id))

    # -- starting --------------------------------------------------------------------

    async def start(self, ctx: Invocation, form: Form, *, answers: dict[str, Any] | None = None,
                    context: dict[str, Any] | None = None, intro: str = "") -> bool:
        """Open `form` for the member in their DMs; False if it could not be delivered there. A short
        form (`Form.fits_dialog`) started by a press opens as one dialog where the platform has them.

        Answers may be filled in beforehand, and `intro` is said before the first question.
        A member with another form open is asked first whether to abandon it.
        """
        async with self._member_turn(ctx.community.key, ctx.member.id):
            existing = await self.store.get(ctx.community.key, ctx.member.id)
            if existing is not None and existing.context.get("_submitting"):
                existing = None  # the form being submitted right now makes way for this one
            # The same form for the same purpose (the same revision, say): carry on where they were,
            # with the newest note if there is one.
            same = (existing is not None and existing.form == form.name
                    and _cogs_own(existing.context) == (context or {}))
            if same and form.fits_dialog and await self._open_dialog(ctx, existing, form, intro):
                return True  # a dialog closed before it was sent opens again, with what was written
            if (existing is not None and not same and form.fits_dialog and not existing.answers
                    and not existing.context.get("_typed") and (old := self._form_of(existing)) and old.fits_dialog):
                await self.store.delete(existing)  # another dialog, closed with nothing written: make way
                existing = None
            if same:
                if intro and intro != existing.context.get("_intro"):
                    existing.context["_intro"] = intro
                    await self._save(existing)
                title = self._title(ctx.platform, form)
                note = self._engine(ctx.platform, title=title)["already_open_same"]
                return await self._deliver(ctx, existing, form, _joined(note, existing.context.get("_intro", "")),
                                           resumed=True)
            if existing is not None:
                existing.context["_switch_to"] = {"form": form.name, "answers": answers or {},
                                                  "context": context or {}, "intro": intro}
                await self._save(existing)
                return await self._send_dm(ctx, existing, form, self._switch_prompt(ctx.platform, existing))
            now = self._bot.clock.now()
            draft = Draft(
                community=ctx.community.key, member_id=ctx.member.id, member_name=ctx.member.display_name,
                form=form.name, submission_id=uuid.uuid4().hex, answers=dict(answers or {}),
                origin_channel=ctx.channel.id if ctx.channel else None,
                context={**(context or {}), **({"_intro": intro} if intro else {})}, started_at=stamp(now),
            )
            upcoming = form.next_unanswered(draft.answers)
            draft.current = upcoming.key if upcoming else None
            await self._save(draft)  # first: what the dialog sends back finds its draft, even after a restart
            if form.fits_dialog and await self._open_dialog(ctx, draft, form, intro):
                return True
            return await self._deliver(ctx, draft, form, intro)

    # -- a short form as one dialog ----------------------------------------------------

    async def _open_dialog(self, ctx: Invocation, draft: Draft, form: Form, intro: str) -> bool:
        """Show the form as one dialog where the platform can (in answer to a press); False to ask by DM."""
        texts, ui = self._texts("plain", form), self._engine("plain")
        typed = draft.context.get("_typed", {})  # what they wrote in a dialog that was refused
        fields = tuple(DialogField(
            q.key, str(texts[q.key]), str(texts[f"{q.key}_help"]) if texts.has(f"{q.key}_help") else "",
            multiline=q.kind is Kind.LONG_TEXT, optional=q.optional, min_length=q.min_length,
            max_length=q.max_length, value=str(typed.get(q.key) or draft.answers.get(q.key) or ""))
            for q in form.questions)
        return await ctx.adapter.open_dialog(ctx, Dialog(draft.submission_id, str(texts["title"]), str(ui["button_submit"]), fields,
                                        intro=str(intro)))

    async def dialog_answers(self, ctx: Invocation, dialog_id: str, values: dict[str, str]) -> dict[str, str]:
        """Check what was written in a dialog, and keep it in the draft when all is well. Returns what is
        wrong, by question key, in plain words (the platform shows each beside its box); {} when nothing is."""
        async with self._member_turn(ctx.community.key, ctx.member.id):
            draft = await self.store.get(ctx.community.key, ctx.member.id)
            form = self._form_of(draft) if draft else None
            if draft is None or form is None or draft.submission_id != dialog_id or not form.fits_dialog:
                return {}  # sent already, or gone: submit_dialog says so
            problems, answers = {}, {}
            for question in form.questions:
                text = values.get(question.key) or ""
                if not text.strip() and question.optional:
                    answers[question.key] = None
                    continue
                try:
                    answers[question.key] = question.check(text)
                except Invalid as problem:
                    problems[question.key] = str(self._explain("plain", form, question, problem, text))
            if problems:  # what they wrote waits in the draft, for a dialog opened again (Discord's)
                draft.context["_typed"] = {q.key: values[q.key][:4000] for q in form.questions if q.key in values}
            else:
                draft.answers.update(answers)
                draft.current = None
                draft.context.pop("_typed", None)
            await self._save(draft)
            return problems

    async def dialog_refused(self, ctx: Invocation, dialog_id: str, problems: dict[str, str]) -> None:
        """For a platform whose dialogs close when sent (Discord): what is wrong, privately, and a button
        that opens the dialog again with what they wrote."""
        async with self._member_turn(ctx.community.key, ctx.member.id):
            draft = await self.store.get(ctx.community.key, ctx.member.id)
            form = self._form_of(draft) if draft else None
            if draft is None or form is None or draft.submission_id != dialog_id:
                return
            texts = self._texts(ctx.platform, form)
            items = [{"question": texts[key], "problem": text} for key, text in problems.items()]
            ui = self._engine(ctx.platform, title=texts["title"], items=items)
            await ctx.reply_private(Message(text=ui["dialog_problems"], buttons=[
                self._button(ui["button_write_again"], "forms:dialog", draft, style=ButtonStyle.PRIMARY)]))

    async def dialog_echo(self, ctx: Invocation, dialog_id: str, values: dict[str, str]) -> None:
        """What was written in a dialog that could not be kept (the database refused), sent back to them."""
        draft = await self.store.get(ctx.community.key, ctx.member.id)
        form = self._form_of(draft) if draft else None
        if form is None or draft.submission_id != dialog_id:
            return
        texts = self._texts(ctx.platform, form)
        items = [{"question": texts[q.key], "text": values[q.key]} for q in form.questions if values.get(q.key)]
        if items:
            await ctx.reply_private(self._engine(ctx.platform, items=items)["dialog_echo"])

    async def submit_dialog(self, ctx: Invocation, dialog_id: str) -> None:
        """Submit a dialog's form, once its answers were kept (`dialog_answers`)."""
        async with self._member_turn(ctx.community.key, ctx.member.id):
            draft = await self.store.get(ctx.community.key, ctx.member.id)
            form = self._form_of(draft) if draft else None
            if draft is None or form is None or draft.submission_id != dialog_id:
                await ctx.reply_private(self._engine(ctx.platform)["no_open_form"])
                return
            await self._submit(ctx, draft, form)

    # -- what the member says --------------------------------------------------------

    async def handle_text(self, ctx: Invocation, text: str) -> bool:
        """Take a DM as an answer or a control word; False when the member has no open form."""
        async with self._member_turn(ctx.community.key, ctx.member.id):
            draft = await self.store.get(ctx.community.key, ctx.member.id)
            if draft is None:
                return False
            word, number = self._control_word(ctx.platform, text)
            form = self._form_of(draft)
            if form is None:  # its cog is switched off: the member may still drop it
                if word == "cancel":
                    await self.store.delete(draft)
                    await ctx.reply(self._engine(ctx.platform, title=draft.form)["cancelled"])
                else:
                    await ctx.reply(self._engine(ctx.platform)["form_switched_off"])
                return True
            confirming_cancel = draft.context.pop("_confirm_cancel", False)
            if word == "cancel":
                if confirming_cancel:
                    await self._cancel(ctx, draft, form)
                else:
                    draft.context["_confirm_cancel"] = True
                    await self._save(draft)
                    ui = self._engine(ctx.platform, title=self._title(ctx.platform, form))
                    await ctx.reply(Message(text=ui["confirm_cancel"], buttons=[
                        self._button(ui["button_cancel"], "forms:cancel", draft, style=ButtonStyle.DANGER),
                        self._button(ui["button_continue"], "forms:continue", draft),
                    ]))
            elif word == "help":
                await self._save(draft)
                await ctx.reply(self._engine(ctx.platform)["help"])
            elif word == "review":
                await self._save(draft)
                await ctx.reply(self._review(ctx.platform, draft, form))
            elif word == "back":
                await self._back(ctx, draft, form)
            elif word == "skip":
                await self._skip(ctx, draft, form)
            elif word == "edit":
                await self._edit(ctx, draft, form, number)
            elif word == "submit":
                await self._submit(ctx, draft, form)
            else:
                await self._answer(ctx, draft, form, text)
            return True

    async def press(self, ctx: Invocation, what: str, value: str) -> None:
        """A form button: an answer, switching forms, carrying on, cancelling or submitting.

        Every button carries its form's submission id: one left on screen from a form that
        has since ended, or from an earlier question, does nothing but show where things are.
        """
        async with self._member_turn(ctx.community.key, ctx.member.id):
            draft = await self.store.get(ctx.community.key, ctx.member.id)
            form = self._form_of(draft) if draft else None
            key, _, payload = value.partition(":")
            if draft is None or form is None or key != _button_key(draft):
                if draft is None or form is None:
                    await ctx.reply(self._engine(ctx.platform)["no_open_form"])
                else:
                    await self._ask(ctx, draft, form, self._engine(ctx.platform)["old_button"])
                return
            draft.context.pop("_confirm_cancel", None)
            if what == "answer":
                key, _, answer = payload.partition("=")
                if key != draft.current:  # a button of an earlier question, still on screen
                    await self._save(draft)
                    await self._ask(ctx, draft, form, self._engine(ctx.platform)["old_button"])
                    return
                await self._answer(ctx, draft, form, answer)
            elif what == "switch" and draft.context.get("_switch_to"):
                switch = draft.context["_switch_to"]
                target = self._forms.get(switch["form"])
                await self.store.delete(draft)
                if target is not None:
                    await self.start(ctx, target[0], answers=switch["answers"], context=switch["context"],
                                     intro=switch.get("intro", ""))
            elif what in ("continue", "switch"):
                draft.context.pop("_switch_to", None)
                await self._save(draft)
                await self._ask(ctx, draft, form)
            elif what == "retry":
                await self._redeliver(ctx, draft, form)
            elif what == "dialog":  # open the dialog again, with what they wrote; else carry on in DMs
                if not (form.fits_dialog and await self._open_dialog(ctx, draft, form, "")):
                    await self._ask(ctx, draft, form)
            elif what == "cancel":
                await self._cancel(ctx, draft, form)
            elif what == "submit":
                await self._submit(ctx, draft, form)

    # -- reminders and expiry ----------------------------------------------------------

    async def run_deadlines(self, now: datetime) -> None:
        """Remind silent members once, and delete drafts left too long, even if overdue at start-up."""
        moment = stamp(now)
        for draft in await self.store.due(now):
            community = Community.from_key(draft.community)
            platform = community.platform
            adapter = self._bot.adapters.get(platform)
            form = self._form_of(draft)
            if adapter is None or form is None:
                continue  # another platform's draft, or its cog is off: it waits, untouched
            member = Member(platform, draft.member_id, draft.member_name)
            title = self._title(platform, form)
            if draft.expire_at <= moment:
                if not await self.store.expire(draft, now):
                    continue  # answered in the meantime
                message = Message(text=self._engine(platform, title=title)["expired"])
            else:
                if not await self.store.mark_reminded(draft):
                    continue  # answered in the meantime: its deadlines moved
                expires = datetime.fromisoformat(draft.expire_at).astimezone(self._bot.clock.tz).date()
                message = self._question_message(platform, draft, form)  # with its buttons, to answer at once
                message.text = _joined(self._engine(platform, title=title, expires=expires)["reminder"], message.text)
            try:
                await adapter.send(community, member, message)
            except MemberUnreachable:
                log.info("could not reach a member about their %s form in %s", draft.form, draft.community)

    # -- the steps ---------------------------------------------------------------------

    async def _answer(self, ctx: Invocation, draft: Draft, form: Form, text: str) -> None:
        if draft.current is None:
            await self._save(draft)
            await ctx.reply(self._engine(ctx.platform)["at_review"])
            return
        question = form.question(draft.current)
        labels = self._labels(form, question) if question.has_buttons or question.kind is Kind.SEVERAL else {}
        try:
            if question.kind is Kind.SEVERAL:
                value = question.check_several([_as_choice(part, labels, numbered=True) for part in _several(text)])
            else:
                value = question.check(_as_choice(text, labels, numbered=question.kind is Kind.CHOICE))
        except Invalid as problem:
            await self._save(draft)
            await self._ask(ctx, draft, form, self._explain(ctx.platform, form, question, problem, text))
            return
        if question.kind is Kind.CONSENT:
            # The wording as the member read it, without any platform's markup escaping.
            value = {"agreed": value, "wording": str(self._texts("plain", form)[question.key]),
                     "at": stamp(self._bot.clock.now())}
        draft.answers[question.key] = value
        await self._advance(ctx, draft, form)

    def _explain(self, platform: str, form: Form, question: Question, problem: Invalid, text: str) -> str:
        """Why an answer cannot be taken, in the words of the engine's template or the form's own."""
        words, texts = self._engine(platform), self._texts(platform, form)
        if problem.details.get("own"):  # the form's own rule, explained by its own template
            return texts[problem.reason]
        choices = [self._choice_label(words, texts, question, c) for c in question.choices]
        details = dict(problem.details)
        if "suggestion" in details:  # suggest what the member sees, not the stored key
            labels = self._labels(form, question)
            # For several choices, the part that matched none, not the whole answer.
            details["suggestion"] = closest(details.pop("typed", text).strip(), list(labels.values()))
        return self._engine(platform, choices=choices, **details)[problem.reason]

    async def _advance(self, ctx: Invocation, draft: Draft, form: Form) -> None:
        upcoming = form.next_unanswered(draft.answers)
        draft.current = upcoming.key if upcoming else None
        await self._save(draft)
        await self._ask(ctx, draft, form)

    async def _back(self, ctx: Invocation, draft: Draft, form: Form) -> None:
        previous = form.previous(draft.current, draft.answers)
        if previous is None:
            await self._save(draft)
            await self._ask(ctx, draft, form, self._engine(ctx.platform)["nothing_before"])
            return
        draft.current = previous.key
        await self._save(draft)
        await self._ask(ctx, draft, form)

    async def _skip(self, ctx: Invocation, draft: Draft, form: Form) -> None:
        question = form.question(draft.current) if draft.current else None
        if question is None or not question.optional:
            await self._save(draft)
            note = "at_review" if question is None else "cannot_skip"
            await self._ask(ctx, draft, form, self._engine(ctx.platform)[note])
            return
        draft.answers[question.key] = None
        await self._advance(ctx, draft, form)

    async def _edit(self, ctx: Invocation, draft: Draft, form: Form, number: int | None) -> None:
        asked = form.applicable(draft.answers)
        if number is None or not 1 <= number <= len(asked):
            await self._save(draft)
            await ctx.reply(self._engine(ctx.platform, total=len(asked))["edit_which"])
            return
        draft.current = asked[number - 1].key
        await self._save(draft)
        await self._ask(ctx, draft, form)

    async def _submit(self, ctx: Invocation, draft: Draft, form: Form) -> None:
        remaining = [q for q in form.applicable(draft.answers) if q.key not in draft.answers]
        if remaining:
            draft.current = remaining[0].key
            await self._save(draft)
            await self._ask(ctx, draft, form, self._engine(ctx.platform, remaining=len(remaining))["not_all_answered"])
            return
        # One member cannot flood the moderators' queue with new submissions; a form opened for a
        # purpose (a revision the moderators asked for) never waits. The answers wait with the draft.
        pace = (ctx.community.key, ctx.member.id, f"form:{form.name}")
        fresh = not ctx.member.is_moderator and not _cogs_own(draft.context)
        wait = self._bot.cooldowns.left(pace, self.submit_cooldown) if fresh else 0
        if wait:
            await self._save(draft)
            await ctx.reply(self._engine(ctx.platform, seconds=wait)["submit_cooldown"])
            return
        submission = Submission(
            id=draft.submission_id, form=form, community=ctx.community, member=ctx.member,
            answers={q.key: draft.answers.get(q.key) for q in form.applicable(draft.answers)},
            context=_cogs_own(draft.context),
        )
        _, handler = self._forms[form.name]
        draft.context["_submitting"] = True  # a form the handler opens for this member may replace it
        await self._save(draft)
        try:
            await handler(ctx, submission)
        except BaseException:
            # Nothing the member typed is lost: the draft stays, ready to submit again.
            still = await self.store.get(draft.community, draft.member_id)
            if still is not None and still.submission_id == draft.submission_id:
                draft.context.pop("_submitting")
                await self._save(draft)
            raise
        await self.store.delete(draft)  # by submission id: a form the handler opened stays
        if fresh:
            self._bot.cooldowns.mark(pace)

    async def _cancel(self, ctx: Invocation, draft: Draft, form: Form) -> None:
        await self.store.delete(draft)
        await ctx.reply(self._engine(ctx.platform, title=self._title(ctx.platform, form))["cancelled"])

    # -- messages ----------------------------------------------------------------------

    async def _ask(self, ctx: Invocation, draft: Draft, form: Form, note: str = "") -> None:
        """Send the current question (or the review), after an optional note."""
        message = self._question_message(ctx.platform, draft, form)
        message.text = _joined(note, message.text)
        await ctx.reply(message)

    async def _deliver(self, ctx: Invocation, draft: Draft, form: Form, note: str = "", *,
                       resumed: bool = False) -> bool:
        """The first message of a form goes to the member's DMs, wherever they started it."""
        message = self._question_message(ctx.platform, draft, form)
        message.text = _joined(note, message.text)
        delivered = await self._send_dm(ctx, draft, form, message)
        if delivered and ctx.channel is not None:
            said = self._engine(ctx.platform, title=self._title(ctx.platform, form))
            await ctx.reply_private(said["sent_to_dm_resumed" if resumed else "sent_to_dm"])
        return delivered

    async def _send_dm(self, ctx: Invocation, draft: Draft, form: Form, message: Message) -> bool:
        """DM the member. If their DMs are closed, tell them where they are (when that is a channel),
        with a button that tries again once they have opened them: the draft waits meanwhile."""
        try:
            await ctx.dm(message)
            return True
        except MemberUnreachable:
            if ctx.channel is not None:
                ui = self._engine(ctx.platform, title=self._title(ctx.platform, form))
                await ctx.reply_private(Message(text=ui["dm_closed"], buttons=[
                    self._button(ui["button_try_again"], "forms:retry", draft, style=ButtonStyle.PRIMARY)]))
            return False

    async def _redeliver(self, ctx: Invocation, draft: Draft, form: Form) -> None:
        """Send again what could not reach the member's DMs: where they were in the form."""
        if draft.context.get("_switch_to"):
            await self._send_dm(ctx, draft, form, self._switch_prompt(ctx.platform, draft))
        else:
            await self._deliver(ctx, draft, form, "" if draft.answers else draft.context.get("_intro", ""),
                                resumed=bool(draft.answers))

    def _switch_prompt(self, platform: str, draft: Draft) -> Message:
        """Asked when a member starts a form while another is open: which one to keep."""
        switch = draft.context["_switch_to"]
        old, new = self._form_of(draft), self._forms.get(switch["form"])
        ui = self._engine(platform, old=self._title(platform, old) if old else draft.form,
                          new=self._title(platform, new[0]) if new else switch["form"])
        return Message(text=_joined(switch.get("intro", ""), ui["already_open_other"]), buttons=[
            self._button(ui["button_switch"], "forms:switch", draft, style=ButtonStyle.PRIMARY),
            self._button(ui["button_continue"], "forms:continue", draft),
        ])

    def _question_message(self, platform: str, draft: Draft, form: Form) -> Message:
        if draft.current is None:
            return self._review(platform, draft, form)
        question = form.question(draft.current)
        texts, words = self._texts(platform, form), self._engine(platform)
        asked = form.applicable(draft.answers)
        number = [q.key for q in asked].index(question.key) + 1 if question in asked else len(asked)
        ui = self._engine(platform, title=texts["title"], number=number, total=len(asked),
                          answer=self._shown(words, texts, question, draft.answers.get(question.key)))
        parts = [texts[question.key]]
        if texts.has(f"{question.key}_help") and texts[f"{question.key}_help"]:
            parts.append(texts[f"{question.key}_help"])
        if question.kind is Kind.SEVERAL:
            parts.append(self._engine(platform, choices=[self._choice_label(words, texts, question, c)
                                                         for c in question.choices])["several_choices"])
        if question.optional:
            parts.append(ui["optional_hint"])
        if draft.answers.get(question.key) is not None:
            parts.append(ui["answer_so_far"])
        return Message(title=ui["progress"], text="\n\n".join(parts),
                       buttons=self._answer_buttons(words, texts, draft, question))

    def _answer_buttons(self, words: Rendered, texts: Rendered, draft: Draft, question: Question) -> list[Button]:
        if question.kind is Kind.CHOICE:
            values = question.choices
        elif question.kind in (Kind.YES_NO, Kind.CONSENT):
            values = ("yes", "no")
        else:
            return []
        return [self._button(self._choice_label(words, texts, question, v), "forms:answer", draft,
                             f"{question.key}={v}") for v in values]

    @staticmethod
    def _button(label: str, action: str, draft: Draft, payload: str = "",
                style: ButtonStyle = ButtonStyle.SECONDARY) -> Button:
        return Button(label, action, f"{_button_key(draft)}:{payload}", style=style)

    def _review(self, platform: str, draft: Draft, form: Form) -> Message:
        texts, words = self._texts(platform, form), self._engine(platform)
        items = [
            {"number": n, "question": texts[q.key], "answer": self._shown(words, texts, q, draft.answers.get(q.key))}
            for n, q in enumerate(form.applicable(draft.answers), 1) if q.key in draft.answers
        ]
        ui = self._engine(platform, title=texts["title"], items=items)
        buttons = [] if form.next_unanswered(draft.answers) else [
            self._button(ui["button_submit"], "forms:submit", draft, style=ButtonStyle.SUCCESS)]
        return Message(title=ui["review_title"], text=ui["review"], buttons=buttons)

    def _shown(self, words: Rendered, texts: Rendered, question: Question, value: Any) -> str:
        """An answer as the review shows it (member text is escaped later, by the template)."""
        if value is None:
            return words["skipped"]
        if question.kind is Kind.CONSENT:
            return words["agreed" if value.get("agreed") else "declined"]
        if question.kind is Kind.YES_NO:
            return words["yes" if value else "no"]
        if question.kind is Kind.CHOICE:
            return self._choice_label(words, texts, question, value)
        if question.kind is Kind.SEVERAL:
            return ", ".join(str(self._choice_label(words, texts, question, v)) for v in value)
        return str(value)  # whole: the member rereads their story before they send it

    def _labels(self, form: Form, question: Question) -> dict[str, str]:
        """The value each of a question's buttons gives, and its label as the member reads it."""
        words, texts = self._engine("plain"), self._texts("plain", form)
        values = question.choices if question.kind in (Kind.CHOICE, Kind.SEVERAL) else ("yes", "no")
        return {value: str(self._choice_label(words, texts, question, value)) for value in values}

    @staticmethod
    def _choice_label(words: Rendered, texts: Rendered, question: Question, value: str) -> str:
        """A choice's label from the form's template (`<key>_<value>`), or the engine's yes/no words."""
        if question.kind is Kind.CONSENT:
            return words["agreed" if value == "yes" else "declined"]
        if question.kind is Kind.YES_NO:
            return words["yes" if value == "yes" else "no"]
        for block in (f"{question.key}_{value}", f"choice_{value}"):  # its own label, or one the form shares
            if texts.has(block):
                return texts[block]
        return value

    # -- small helpers -----------------------------------------------------------------

    def _form_of(self, draft: Draft) -> Form | None:
        entry = self._forms.get(draft.form)
        return entry[0] if entry else None

    def _engine(self, platform: str, **variables: Any) -> Rendered:
        return self._bot.render(ENGINE, platform, **variables)

    def _texts(self, platform: str, form: Form) -> Rendered:
        return self._bot.render(form.template, platform)

    def _title(self, platform: str, form: Form) -> str:
        return self._texts(platform, form)["title"]

    def _control_word(self, platform: str, text: str) -> tuple[str | None, int | None]:
        """Which control word (if any) the member said; `edit 2` also gives the number."""
        words = text.strip().lower().split()
        if not words or len(words) > 2:
            return None, None
        ui = self._engine(platform)
        for command in CONTROL_WORDS:
            spellings = {w.strip().lower() for w in ui[f"words_{command}"].split(",")}
            if words[0] not in spellings:
                continue
            if command == "edit":
                number = int(words[1]) if len(words) == 2 and words[1].isascii() and words[1].isdigit() else None
                return command, number
            return (command, None) if len(words) == 1 else (None, None)
        return None, None

    @asynccontextmanager
    async def _member_turn(self, community_key: str, member_id: str) -> AsyncIterator[None]:
        """One member at a time: a double press or two quick messages are handled in order.
        Re-entrant, for a submit handler that opens another form for the same member."""
        turn = self._turns.get((community_key, member_id))
        if turn is not None and turn.owner is asyncio.current_task():
            yield
            return
        if turn is None:
            turn = self._turns[(community_key, member_id)] = _Turn()
        async with turn.lock:
            turn.owner = asyncio.current_task()
            try:
                yield
                if turn.saved is not None:  # the turn answered the member: what they were shown is on record
                    await self.store.mark_asked(turn.saved)
            finally:
                turn.owner = None
                turn.saved = None

    async def _save(self, draft: Draft) -> None:
        """Every interaction writes the draft and pushes its reminder and expiry back."""
        now = self._bot.clock.now()
        draft.updated_at = stamp(now)
        draft.remind_at = stamp(now + self.remind_after)
        draft.expire_at = stamp(now + self.expire_after)
        await self.store.save(draft)
        turn = self._turns.get((draft.community, draft.member_id))
        if turn is not None and turn.owner is asyncio.current_task():
            turn.saved = draft

    async def ask_again(self) -> int:
        """At start: each member whose answer was kept but who was not shown what came next (the bot
        stopped in between) is sent their current question, through the outbox, once; returns how many."""
        asked = 0
        for draft in await self.store.unasked():
            form = self._form_of(draft)
            if form is None:
                continue  # its cog is off: it waits, untouched
            community = Community.from_key(draft.community)
            message = self._question_message(community.platform, draft, form)
            member = Member(community.platform, draft.member_id, draft.member_name)
            async with self._bot.db.transaction() as tx:
                await self._bot.outbox.put(community,
                                           f"forms:asked-again:{draft.submission_id}:{draft.updated_at}",
                                           [(member, message)], tx=tx)
                await self.store.mark_asked(draft, tx=tx)
            asked += 1
        return asked


def _button_key(draft: Draft) -> str:
    """Which form a button belongs to: the start of its submission id (enough among one member's
    forms, and short enough to leave room for the answer in a platform's button id)."""
    return draft.submission_id[:12]


def _cogs_own(context: dict[str, Any]) -> dict[str, Any]:
    """A draft's context without the engine's own entries (which start with _)."""
    return {k: v for k, v in context.items() if not k.startswith("_")}


def _as_choice(text: str, labels: dict[str, str], *, numbered: bool) -> str:
    """What a member typed for a question with buttons, as the value of the button they meant:
    its label ("My full name"), its value with spaces ("full name"), or its number ("2")."""
    typed = _loose(text)
    for number, (value, label) in enumerate(labels.items(), 1):
        if typed in (_loose(label), _loose(value.replace("_", " "))) or (numbered and typed == str(number)):
            return value
    return text


def _several(text: str) -> list[str]:
    """The parts of an answer naming several choices: "1, 3", "1 3", "weekends and evenings"."""
    parts = [part for part in re.split(r"\s*(?:[,;\n]|\band\b)\s*", text.strip(), flags=re.IGNORECASE)
             if part.strip()]
    return [piece for part in parts for piece in (part.split() if re.fullmatch(r"[\d\s]+", part) else [part])]


def _loose(text: str) -> str:
    return " ".join(text.casefold().replace("\u2019", "'").strip(" .!\"'").split())


def _joined(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
