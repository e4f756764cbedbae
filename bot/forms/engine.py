"""The conversational form engine: one question at a time in the member's direct messages, or a short
form as one dialog.

State lives only in the `form_drafts` table, written after every answer; nothing about an open form
is kept in memory between two messages. So a restart in the middle of a form continues at the same
question, and reminders and expiry are times in the row (deadlines.py).

The engine is in parts along its seams: the session moves a member through the form (session.py, a
pure state machine over the draft), the view words it (view.py), delivery reaches the member by DM or
dialog (delivery.py), deadlines remind and expire (deadlines.py). This module puts them together: one
member at a time, the draft read, the step taken, the draft saved, the member answered.

One member at a time, across processes too: in a process, a member's steps take turns (a lock, which keeps
their order and costs nothing); on a database several processes share, a step writes the draft only if it
is still as the step read it, and is taken again from what another process wrote meanwhile (see `_turn`).

When a member submits, the cog's `@on_submit(form)` handler receives a `Submission` whose `id` stays
the same if the submit is retried: handlers use it to record a submission once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

from bot.config import FormsConfig
from bot.core.clock import Clock
from bot.core.context import Community, Invocation
from bot.core.message import Message
from bot.forms import deadlines, delivery
from bot.forms.session import Session, Shows, Step
from bot.forms.spec import Form, Submission
from bot.forms.store import Draft, DraftChanged, DraftStore, WaitingForm
from bot.forms.view import (ANSWER, CANCEL, CONTINUE, ENGINE, RETRY, SUBMIT, SWITCH, WRITE_AGAIN, FormView, Questions,
                            Render, button_key, control_word, control_words, joined)
from bot.render import Rendered
from bot.storage import Database, DatabaseBusy, StorageError, Transaction
from bot.values import parse_duration, stamp

if TYPE_CHECKING:
    from bot.core.adapter import Adapter
    from bot.limits import Limits
    from bot.outbox import Outbox

SubmitHandler = Callable[[Invocation, Submission], Awaitable[None]]
T = TypeVar("T")

log = logging.getLogger(__name__)

# Drafts whose member was shown where they are are marked so together, this often: one statement for
# all of them rather than a third round trip to the database in each answer.
MARK_EVERY = 0.05  # seconds

# A step whose draft other processes keep writing meanwhile is taken again, at most this many times in all.
ATTEMPTS = 10
# A draft being submitted in another process (its cog's handler running there) is read again this often
# until it is sent or back, for as long as such a claim holds: one older was left by a process that stopped.
CLAIM_READ_EVERY = 0.05  # seconds
CLAIM_HOLDS = timedelta(seconds=10)
# At start beside other processes: drafts written this recently may be theirs to answer (see `ask_again`).
ASKED_WITHIN = timedelta(seconds=30)


@dataclass(eq=False)
class _Turn:
    """One member's turn with the engine: their messages and presses are handled one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    owner: asyncio.Task | None = None
    saved: Draft | None = None  # the draft as this turn last saved it, to mark it shown at the end
    submitting: str | None = None  # the submission whose handler this turn runs now


class FormEngine:
    """The forms the cogs declare, asked of members; their drafts in the database."""

    def __init__(self, db: Database, clock: Clock, render: Render, render_unvarying: Render, limits: Limits,
                 adapters: dict[str, Adapter], outbox: Outbox, settings: FormsConfig) -> None:
        """`render` renders a template with variables; `render_unvarying` one without, kept while unchanged."""
        self.db = db
        self.clock = clock
        self.adapters = adapters  # the bot's own dict: the platforms serving it now
        self.outbox = outbox
        self.store = DraftStore(db)
        self._render = render
        self._unvarying = render_unvarying
        self._limits = limits
        self._forms: dict[str, tuple[Form, SubmitHandler]] = {}
        self.remind_after = parse_duration(settings.remind_after)
        self.expire_after = parse_duration(settings.expire_after)
        self.submit_cooldown = parse_duration(settings.submit_cooldown)
        # Only while a member is being answered; an entry vanishes when nobody holds it.
        self._turns: weakref.WeakValueDictionary[tuple[str, str], _Turn] = weakref.WeakValueDictionary()
        # Drafts whose member was shown where they are, not yet marked so (see `_shown`), and the task marking them.
        self._unmarked: list[Draft] = []
        self._marking: asyncio.Task | None = None
        self._asking_later: asyncio.Task | None = None  # see ask_again
        # The control words of forms/engine.j2, read once per version of the file on each platform.
        self._spellings: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
        # The words of questions not yet answered, the same for every member (see FormView._worded).
        self._questions: Questions = weakref.WeakKeyDictionary()
        # What pressing each of the engine's own buttons (view.BUTTONS) does.
        self._pressed: dict[str, Callable[[Invocation, FormView, Session, str], Awaitable[None]]] = {
            ANSWER.action: self._answered, SUBMIT.action: self._submit_pressed, CANCEL.action: self._cancel_pressed,
            CONTINUE.action: self._carried_on, SWITCH.action: self._switched, RETRY.action: self._retried,
            WRITE_AGAIN.action: self._write_again}

    # -- forms that cogs declare -----------------------------------------------------

    def register(self, form: Form, handler: SubmitHandler) -> None:
        self._forms[form.name] = (form, handler)

    def unregister(self, name: str) -> None:
        self._forms.pop(name, None)

    def is_registered(self, name: str) -> bool:
        return name in self._forms

    def form_of(self, draft: Draft) -> Form | None:
        """The form a draft belongs to; None while its cog is switched off."""
        entry = self._forms.get(draft.form)
        return entry[0] if entry else None

    def view(self, platform: str, form: Form, words: Rendered | None = None) -> FormView:
        return FormView(self._unvarying, platform, form, words, questions=self._questions)

    async def discard(self, community: Community, member_id: str, form: Form, **context: Any) -> bool:
        """Delete a member's open `form` if its context matches (e.g. a revision that no longer applies)."""
        async def step(draft: Draft | None) -> bool:
            if draft is None or draft.form != form.name or any(draft.context.get(k) != v for k, v in context.items()):
                return False
            await self.store.delete(draft)
            return True

        return await self._turn(community.key, member_id, step)

    async def finish(self, tx: Transaction, submission: Submission) -> None:
        """A submit handler's record is in `tx`: the draft goes in the same transaction, so a crash leaves
        either the draft, ready to submit again, or the record, never both."""
        await self.store.delete_submission(submission.community.key, submission.member.id, submission.id, tx=tx)

    # -- starting --------------------------------------------------------------------

    async def start(self, ctx: Invocation, form: Form, *, answers: dict[str, Any] | None = None,
                    context: dict[str, Any] | None = None, intro: str = "") -> bool:
        """Open `form` for the member in their DMs; False if it could not be delivered there. A short
        form (`Form.fits_dialog`) started by a press opens as one dialog where the platform has them.

        Answers may be filled in beforehand, and `intro` is said before the first question.
        A member with another form open is asked first whether to abandon it.
        """
        return await self._turn(ctx.community.key, ctx.member.id,
                                lambda found: self._open(ctx, found, form, answers or {}, context or {}, intro))

    async def _open(self, ctx: Invocation, found: Draft | None, form: Form, answers: dict[str, Any],
                    context: dict[str, Any], intro: str) -> bool:
        # The form being submitted right now (its handler opens this one) makes way for this one.
        existing = None if found is not None and found.submitting else found
        plain = self.view("plain", form)
        # The same form for the same purpose (the same revision, say): carry on where they were,
        # with the newest note if there is one.
        if existing is not None and existing.form == form.name and existing.context == context:
            if await delivery.open_dialog(ctx, plain, existing, intro):
                return True  # a dialog closed before it was sent opens again, with what was written
            if intro and intro != existing.intro:
                existing.intro = intro
                await self._save(existing)
            view = self.view(ctx.platform, form)
            note = view.engine(title=view.title)["already_open_same"]
            return await delivery.first_question(ctx, view, existing, joined(note, existing.intro), resumed=True)
        if (existing is not None and form.fits_dialog and not existing.answers and not existing.typed
                and (old := self.form_of(existing)) and old.fits_dialog):
            existing = None  # another dialog, closed with nothing written: it makes way
        if existing is not None:
            existing.switch_to = WaitingForm(form.name, answers, context, intro)
            await self._save(existing)
            view = self.view(ctx.platform, form)
            return await delivery.to_dms(ctx, view, existing, self._switch_prompt(view, existing))
        draft = Draft(
            community=ctx.community.key, member_id=ctx.member.id, member_name=ctx.member.display_name,
            form=form.name, submission_id=uuid.uuid4().hex, answers=dict(answers),
            origin_channel=ctx.channel.id if ctx.channel else None, context=dict(context), intro=intro,
            started_at=stamp(self.clock.now()))
        Session(form, draft).begin()
        await self._save(draft, over=found)  # first: what the dialog sends back finds its draft, even after a restart
        if await delivery.open_dialog(ctx, plain, draft, intro):
            return True
        return await delivery.first_question(ctx, self.view(ctx.platform, form), draft, intro)

    # -- what the member says and presses ----------------------------------------------

    async def handle_text(self, ctx: Invocation, text: str) -> bool:
        """Take a DM as an answer or a control word; False when the member has no open form."""
        return await self._turn(ctx.community.key, ctx.member.id, lambda draft: self._said(ctx, draft, text))

    async def _said(self, ctx: Invocation, draft: Draft | None, text: str) -> bool:
        if draft is None:
            return False
        words = self._unvarying(ENGINE, ctx.platform)
        word, number = control_word(text, self._control_words(words))
        form = self.form_of(draft)
        if form is None:  # its cog is switched off: the member may still drop it
            if word == "cancel":
                await self.store.delete(draft)
                await ctx.reply(self._render(ENGINE, ctx.platform, title=draft.form)["cancelled"])
            else:
                await ctx.reply(words["form_switched_off"])
            return True
        session = Session(form, draft)
        step = session.said(word, number, text, self.view("plain", form), self.clock.now())
        await self._take(ctx, self.view(ctx.platform, form, words), session, step)
        return True

    async def press(self, ctx: Invocation, value: str) -> None:
        """One of the engine's own buttons (`ctx.action`): an answer, submitting, cancelling, carrying on,
        switching to another form, trying a DM again, writing a dialog again.

        Every button carries its form's submission id: one left on screen from a form that has since
        ended, or from an earlier question, does nothing but show where things are.
        """
        await self._turn(ctx.community.key, ctx.member.id, lambda draft: self._pressed_in_turn(ctx, draft, value))

    async def _pressed_in_turn(self, ctx: Invocation, draft: Draft | None, value: str) -> None:
        form = self.form_of(draft) if draft else None
        key, _, payload = value.partition(":")
        if draft is None or form is None:
            await ctx.reply(self._render(ENGINE, ctx.platform)["no_open_form"])
            return
        view = self.view(ctx.platform, form)
        if key != button_key(draft):
            await ctx.reply(view.where(draft, view.words["old_button"]))
            return
        draft.confirm_cancel = False  # pressing anything carries on
        await self._pressed[ctx.action](ctx, view, Session(form, draft), payload)

    async def _answered(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        key, _, answer = payload.partition("=")
        step = session.pressed_answer(key, answer, self.view("plain", session.form), self.clock.now())
        await self._take(ctx, view, session, step)

    async def _submit_pressed(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        await self._take(ctx, view, session, session.submit())

    async def _cancel_pressed(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        await self._take(ctx, view, session, Step(Shows.CANCELLED))

    async def _carried_on(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        await self._take(ctx, view, session, session.carry_on())

    async def _switched(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        waiting = session.draft.switch_to
        if waiting is None:  # answered already, from another screen
            await self._carried_on(ctx, view, session, payload)
            return
        await self.store.delete(session.draft)
        target = self._forms.get(waiting.form)
        if target is not None:
            await self.start(ctx, target[0], answers=waiting.answers, context=waiting.context, intro=waiting.intro)

    async def _retried(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        """Send again what could not reach the member's DMs: where they were in the form."""
        draft = session.draft
        if draft.switch_to is not None:
            await delivery.to_dms(ctx, view, draft, self._switch_prompt(view, draft))
        else:
            await delivery.first_question(ctx, view, draft, "" if draft.answers else draft.intro,
                                          resumed=bool(draft.answers))

    async def _write_again(self, ctx: Invocation, view: FormView, session: Session, payload: str) -> None:
        """Open the dialog again, with what they wrote; else carry on in DMs."""
        if not await delivery.open_dialog(ctx, self.view("plain", session.form), session.draft, ""):
            await ctx.reply(view.where(session.draft))

    # -- a short form as one dialog ----------------------------------------------------

    async def dialog_answers(self, ctx: Invocation, dialog_id: str, values: dict[str, str]) -> dict[str, str]:
        """Check what was written in a dialog, and keep it in the draft when all is well. Returns what is
        wrong, by question key, in plain words (a platform that can shows each beside its box); {} when
        nothing is."""
        async def step(draft: Draft | None) -> dict[str, str]:
            form = self.form_of(draft) if draft else None
            if draft is None or form is None or draft.submission_id != dialog_id or not form.fits_dialog:
                return {}  # sent already, or gone: submit_dialog says so
            plain = self.view("plain", form)
            problems = {key: str(plain.explain(form.question(key), problem, typed, plain))
                        for key, (problem, typed) in Session(form, draft).dialog(values).items()}
            await self._save(draft)
            return problems

        return await self._turn(ctx.community.key, ctx.member.id, step)

    async def submit_dialog(self, ctx: Invocation, dialog_id: str) -> None:
        """Submit a dialog's form, once its answers were kept (`dialog_answers`)."""
        async def step(draft: Draft | None) -> None:
            form = self.form_of(draft) if draft else None
            if draft is None or form is None or draft.submission_id != dialog_id:
                await ctx.reply_private(self._render(ENGINE, ctx.platform)["no_open_form"])
                return
            session = Session(form, draft)
            await self._take(ctx, self.view(ctx.platform, form), session, session.submit())

        await self._turn(ctx.community.key, ctx.member.id, step)

    async def dialog_sent(self, ctx: Invocation, dialog_id: str, values: dict[str, str]) -> None:
        """A dialog sent on a platform whose dialogs close when sent (Discord's modals): its answers
        checked, kept and submitted; or what is wrong said privately, with a way to write it again."""
        try:
            problems = await self.dialog_answers(ctx, dialog_id, values)
        except StorageError:  # the dialog is gone: what they wrote comes back to them, then the apology
            draft = await self.store.get(ctx.community.key, ctx.member.id)
            form = self.form_of(draft) if draft else None
            if form is not None and draft.submission_id == dialog_id:
                await delivery.dialog_echo(ctx, self.view(ctx.platform, form), values)
            raise
        if not problems:
            await self.submit_dialog(ctx, dialog_id)
            return

        async def step(draft: Draft | None) -> None:
            form = self.form_of(draft) if draft else None
            if form is not None and draft.submission_id == dialog_id:
                await delivery.dialog_refused(ctx, self.view(ctx.platform, form), draft, problems)

        await self._turn(ctx.community.key, ctx.member.id, step)

    # -- deadlines -----------------------------------------------------------------------

    async def run_deadlines(self, now: datetime) -> None:
        """Remind silent members once, and delete drafts left too long (see deadlines.py)."""
        await deadlines.remind_or_expire(self, now)

    async def ask_again(self) -> int:
        """At start: ask again whom the bot stopped before answering (see deadlines.py). Beside other processes
        of the bot on one database (a rolling restart, a worker joining), a draft written in the last
        `ASKED_WITHIN` may be one a live process is answering right now (it marks it shown just after its reply,
        or is handling its submit): those are looked at again once that time has passed, and asked only if
        nobody has answered them meanwhile."""
        if not self.db.shared or not await self.db.other_processes():
            return await deadlines.ask_again(self)
        started = self.clock.now()
        asked = await deadlines.ask_again(self, before=started - ASKED_WITHIN)

        async def the_rest() -> None:
            await asyncio.sleep(ASKED_WITHIN.total_seconds())
            with contextlib.suppress(StorageError):  # the next start asks them
                await deadlines.ask_again(self, before=started)

        self._asking_later = asyncio.get_running_loop().create_task(the_rest())
        return asked

    # -- the steps ---------------------------------------------------------------------

    async def _take(self, ctx: Invocation, view: FormView, session: Session, step: Step) -> None:
        """Save the draft and show the member what the step calls for; or end the form, or submit it."""
        draft = session.draft
        if step.shows is Shows.CANCELLED:
            await self.store.delete(draft)
            await ctx.reply(view.engine(title=view.title)["cancelled"])
            return
        if step.shows is Shows.SUBMIT:
            await self._submit(ctx, view, session)
            return
        await self._save(draft)
        if step.shows is Shows.QUESTION:
            if step.problem is not None:
                plain = self.view("plain", session.form)
                note = view.explain(session.form.question(draft.current), step.problem, step.typed, plain)
            else:
                note = view.engine(**step.details)[step.note] if step.note else ""
            await ctx.reply(view.where(draft, note))
        elif step.shows is Shows.NOTE:
            await ctx.reply(view.engine(**step.details)[step.note])
        elif step.shows is Shows.REVIEW:
            await ctx.reply(view.review(draft))
        elif step.shows is Shows.HELP:
            await ctx.reply(view.words["help"])
        elif step.shows is Shows.CONFIRM_CANCEL:
            await ctx.reply(view.confirm_cancel(draft))

    async def _submit(self, ctx: Invocation, view: FormView, session: Session) -> None:
        """Hand every answer to the form's cog. One member cannot flood the moderators' queue with new
        submissions; a form opened for a purpose (a revision the moderators asked for) never waits. The
        answers wait with the draft."""
        draft, form = session.draft, session.form
        fresh = not ctx.member.is_moderator and not draft.context
        # Only a submit that went through starts the wait: one cut short (a crash in its handler, an error) leaves
        # the draft ready to send again at once, in this process or the next. The draft's turn keeps two processes
        # from sending it twice, so the wait is looked at here and marked once the submit is done.
        wait = await self._limits.left(ctx.community.key, ctx.member.id, f"form:{form.name}",
                                       self.submit_cooldown) if fresh else 0
        if wait:
            await self._save(draft)
            await ctx.reply(view.engine(seconds=wait)["submit_cooldown"])
            return
        submission = Submission(id=draft.submission_id, form=form, community=ctx.community, member=ctx.member,
                                answers=session.answers(), context=dict(draft.context))
        _, handler = self._forms[form.name]
        # Claimed: a step of this member in another process waits until the handler is done (see `_read`), and a
        # form the handler opens for this member may replace it.
        draft.submitting = True
        await self._save(draft)
        turn = self._turns[(draft.community, draft.member_id)]
        turn.submitting = draft.submission_id
        keeping = asyncio.get_running_loop().create_task(self._keep_claim(draft))
        try:
            await handler(ctx, submission)
        except BaseException:
            # Nothing the member typed is lost: the draft stays, ready to submit again.
            still = await self.store.get(draft.community, draft.member_id)
            if still is not None and still.submission_id == draft.submission_id:
                still.submitting = False
                with contextlib.suppress(DraftChanged):  # a process that found the claim too old took it on
                    await self._save(still)
            raise
        finally:
            keeping.cancel()
            turn.submitting = None
        if fresh:
            await self._limits.started(ctx.community.key, ctx.member.id, f"form:{form.name}", self.submit_cooldown)
        # By submission id, whatever its version: a form the handler opened stays.
        await self.store.delete_submission(draft.community, draft.member_id, draft.submission_id)

    async def _keep_claim(self, draft: Draft) -> None:
        """While a submit's handler runs (a slow platform, a busy database), its claim is renewed well within
        `CLAIM_HOLDS`, so another process never takes it for one left by a process that stopped."""
        while True:
            await asyncio.sleep(CLAIM_HOLDS.total_seconds() / 3)
            try:
                await self.store.keep_claim(draft, self.clock.now())
            except StorageError as exc:  # tried again at the next beat; the claim holds meanwhile
                log.warning("could not renew a submit's claim on its form (%s)", exc)

    def _switch_prompt(self, view: FormView, draft: Draft) -> Message:
        """Asked when a member starts a form while `draft` is open: which one to keep (in `view`'s words)."""
        waiting = draft.switch_to
        old, new = self.form_of(draft), self._forms.get(waiting.form)
        return view.switch_prompt(draft, self.view(view.platform, old).title if old else draft.form,
                                  self.view(view.platform, new[0]).title if new else waiting.form)

    def _control_words(self, words: Rendered) -> dict[str, str]:
        spellings = self._spellings.get(words.compiled)
        if spellings is None:
            spellings = self._spellings[words.compiled] = control_words(words)
        return spellings

    # -- one member at a time ----------------------------------------------------------

    async def _turn(self, community_key: str, member_id: str, step: Callable[[Draft | None], Awaitable[T]]) -> T:
        """Take one step of a member's form (`step`, given their draft as read, or None) in their turn.

        In this process, one member's steps take turns (a lock per member, only while one is being answered):
        a double press or two quick messages are handled in order. Re-entrant, for a submit handler that opens
        another form for the same member. Another process on the same database may take one of their steps at
        the same moment (a double press, two quick messages, a retried request, each sent to another process):
        every write of the draft is conditional on the version the step read, so of two steps that read the
        same draft, the second to write finds it changed (DraftChanged) and is taken again from the draft as
        the first left it. A step writes before it answers the member, so one taken again has said nothing
        yet. What SQLite's single writer gave for free in one process, the same on every database: each
        answer applied once, in one order, to the question it answers."""
        key = (community_key, member_id)
        turn = self._turns.get(key)
        if turn is not None and turn.owner is asyncio.current_task():
            return await self._attempts(turn, community_key, member_id, step)
        if turn is None:
            turn = self._turns[key] = _Turn()
        async with turn.lock:
            turn.owner = asyncio.current_task()
            try:
                done = await self._attempts(turn, community_key, member_id, step)
                if turn.saved is not None:  # the turn answered the member: what they were shown goes on record
                    self._shown(turn.saved)
                return done
            finally:
                turn.owner = None
                turn.saved = None

    async def _attempts(self, turn: _Turn, community_key: str, member_id: str,
                        step: Callable[[Draft | None], Awaitable[T]]) -> T:
        """The step, taken again from a fresh read for as long as another process writes the draft first."""
        for _ in range(ATTEMPTS):
            draft = await self._read(turn, community_key, member_id)
            try:
                return await step(draft)
            except DraftChanged:
                continue
        raise DatabaseBusy(f"a form in {community_key} was written by other processes {ATTEMPTS} times while one"
                           " step was taken")

    async def _read(self, turn: _Turn, community_key: str, member_id: str) -> Draft | None:
        """The member's draft, at the start of a step. One whose submit another process is handling (its cog's
        handler runs there) is waited for, as a step in that process waits its turn: then it is gone, ready to
        submit again, or replaced by the form the handler opened. Unless the claim is older than
        `CLAIM_HOLDS`: the process that made it stopped, and the draft is as before the submit (which the
        member may send again, as a retry)."""
        while True:
            draft = await self.store.get(community_key, member_id)
            if draft is None or not draft.submitting or draft.submission_id == turn.submitting:
                return draft
            if datetime.fromisoformat(draft.updated_at) + CLAIM_HOLDS <= self.clock.now():
                draft.submitting = False  # written so with the step's change
                return draft
            await asyncio.sleep(CLAIM_READ_EVERY)

    def _shown(self, draft: Draft) -> None:
        """The member was shown where `draft` is: marked so in the database with the others of the next
        `MARK_EVERY` seconds, in one statement. A crash before that asks them that question again at the next
        start, as one between the answer and the reply always did."""
        self._unmarked.append(draft)
        if self._marking is None:
            self._marking = asyncio.get_running_loop().create_task(self._mark_shown())

    async def _mark_shown(self) -> None:
        while self._unmarked:
            await asyncio.sleep(MARK_EVERY)
            await self.record_shown()
        self._marking = None

    async def record_shown(self) -> None:
        """Mark now the drafts whose member was shown where they are, without waiting for the end of the
        `MARK_EVERY` under way (the background marking calls it each time; bench_forms at the end of a turn)."""
        drafts, self._unmarked = self._unmarked, []
        if not drafts:
            return
        try:
            await self.store.mark_all_asked(drafts)
        except StorageError as exc:
            log.warning("could not record that %d members were shown their question (%s); they are asked it"
                        " again at the next start", len(drafts), exc)

    async def close(self) -> None:
        """Record who was shown what before the database closes (within `MARK_EVERY` and one write)."""
        if self._asking_later is not None:
            self._asking_later.cancel()
        if self._marking is not None:
            await self._marking

    async def _save(self, draft: Draft, *, over: Draft | None = None) -> None:
        """Every interaction writes the draft (a new one `over` the one the member had) and pushes its reminder and
        expiry back."""
        now = self.clock.now()
        draft.updated_at = stamp(now)
        draft.remind_at = stamp(now + self.remind_after)
        draft.expire_at = stamp(now + self.expire_after)
        await self.store.save(draft, over=over)
        turn = self._turns.get((draft.community, draft.member_id))
        if turn is not None and turn.owner is asyncio.current_task():
            turn.saved = draft
