"""A member's way through a form: answer, back, skip, edit, review, cancel, submit.

A pure state machine over their draft: no database, no platform, no templates. Each step changes
the draft and says what the member is shown next (a `Step`); the engine then saves the draft and
the view words what is shown. What a step needs of the form's words (a choice's label, a consent's
exact wording) it asks of `Words`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Mapping, Protocol

from bot.forms.spec import Form, Invalid, Kind, Question
from bot.forms.store import Draft
from bot.values import stamp


class Shows(Enum):
    """What the member is shown after a step."""

    QUESTION = "question"  # where they are now (the current question, or the review), after `note` if any
    NOTE = "note"  # `note` alone
    REVIEW = "review"
    HELP = "help"
    CONFIRM_CANCEL = "confirm_cancel"  # "stop and delete your answers?", with buttons
    CANCELLED = "cancelled"  # the form is over: the draft goes
    SUBMIT = "submit"  # every answer is there: the answers go to the form's cog


@dataclass(frozen=True)
class Step:
    """What a step calls for. `note` is a block of forms/engine.j2 and `details` the values it shows;
    `problem` is an answer that could not be taken (`typed`), explained before the question again."""

    shows: Shows
    note: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    problem: Invalid | None = None
    typed: str = ""


class Words(Protocol):
    """What a step needs of the form's words (the view has them)."""

    def labels(self, question: Question) -> dict[str, str]:
        """A question's choices as the member reads them, by value: what a typed label stands for."""

    def wording(self, question: Question) -> str:
        """A consent's exact wording, stored with the answer."""


class Session:
    """One member's open form (`draft` of `form`), and what each thing they say or press does to it."""

    def __init__(self, form: Form, draft: Draft) -> None:
        self.form = form
        self.draft = draft

    def begin(self) -> None:
        """A new draft (its answers perhaps filled in beforehand) starts at its first open question."""
        self._to_next()

    def said(self, word: str | None, number: int | None, text: str, words: Words, now: datetime) -> Step:
        """A direct message: one of the control words (`word`: back, skip, edit `number`, review, submit,
        cancel, help), or else an answer to the current question."""
        confirming = self.draft.confirm_cancel
        self.draft.confirm_cancel = False  # anything but a second "cancel" carries on
        if word == "cancel":
            if confirming:
                return Step(Shows.CANCELLED)
            self.draft.confirm_cancel = True
            return Step(Shows.CONFIRM_CANCEL)
        if word == "help":
            return Step(Shows.HELP)
        if word == "review":
            return Step(Shows.REVIEW)
        if word == "back":
            return self.back()
        if word == "skip":
            return self.skip()
        if word == "edit":
            return self.edit(number)
        if word == "submit":
            return self.submit()
        return self.answer(text, words, now)

    def answer(self, text: str, words: Words, now: datetime) -> Step:
        """An answer to the current question: taken, and on to the next; or explained, and asked again."""
        if self.draft.current is None:
            return Step(Shows.NOTE, "at_review")
        question = self.form.question(self.draft.current)
        labels = words.labels(question) if question.has_buttons or question.kind is Kind.SEVERAL else {}
        try:
            if question.kind is Kind.SEVERAL:
                value = question.check_several([_as_choice(part, labels, numbered=True) for part in _several(text)])
            else:
                value = question.check(_as_choice(text, labels, numbered=question.kind is Kind.CHOICE))
        except Invalid as problem:
            return Step(Shows.QUESTION, problem=problem, typed=text)
        if question.kind is Kind.CONSENT:  # the exact wording the member read, and when they agreed
            value = {"agreed": value, "wording": words.wording(question), "at": stamp(now)}
        self.draft.answers[question.key] = value
        self._to_next()
        return Step(Shows.QUESTION)

    def pressed_answer(self, key: str, value: str, words: Words, now: datetime) -> Step:
        """An answer's button; one left on screen from an earlier question only shows the current one."""
        if key != self.draft.current:
            return Step(Shows.QUESTION, "old_button")
        return self.answer(value, words, now)

    def back(self) -> Step:
        previous = self.form.previous(self.draft.current, self.draft.answers)
        if previous is None:
            return Step(Shows.QUESTION, "nothing_before")
        self.draft.current = previous.key
        return Step(Shows.QUESTION)

    def skip(self) -> Step:
        question = self.form.question(self.draft.current) if self.draft.current else None
        if question is None or not question.optional:
            return Step(Shows.QUESTION, "at_review" if question is None else "cannot_skip")
        self.draft.answers[question.key] = None
        self._to_next()
        return Step(Shows.QUESTION)

    def edit(self, number: int | None) -> Step:
        asked = self.form.applicable(self.draft.answers)
        if number is None or not 1 <= number <= len(asked):
            return Step(Shows.NOTE, "edit_which", {"total": len(asked)})
        self.draft.current = asked[number - 1].key
        return Step(Shows.QUESTION)

    def submit(self) -> Step:
        """To the cog, once every question asked of this member is answered; else to the first that is not."""
        remaining = [q for q in self.form.applicable(self.draft.answers) if q.key not in self.draft.answers]
        if remaining:
            self.draft.current = remaining[0].key
            return Step(Shows.QUESTION, "not_all_answered", {"remaining": len(remaining)})
        return Step(Shows.SUBMIT)

    def carry_on(self) -> Step:
        """Keep this form rather than the one started meanwhile."""
        self.draft.switch_to = None
        return Step(Shows.QUESTION)

    def dialog(self, values: Mapping[str, str]) -> dict[str, tuple[Invalid, str]]:
        """A dialog's answers, all at once: kept when every one is fine ({} is returned, and the form is at
        its review), else what is wrong with each, by question, with what was written (kept in `typed`, for
        a dialog opened again)."""
        problems, answers = {}, {}
        for question in self.form.questions:
            text = values.get(question.key) or ""
            if not text.strip() and question.optional:
                answers[question.key] = None
                continue
            try:
                answers[question.key] = question.check(text)
            except Invalid as problem:
                problems[question.key] = (problem, text)
        if problems:
            self.draft.typed = {q.key: values[q.key][:4000] for q in self.form.questions if q.key in values}
        else:
            self.draft.answers.update(answers)
            self.draft.current = None
            self.draft.typed = None
        return problems

    def answers(self) -> dict[str, Any]:
        """What is submitted: the answer to every question asked of this member (None where skipped)."""
        return {q.key: self.draft.answers.get(q.key) for q in self.form.applicable(self.draft.answers)}

    def _to_next(self) -> None:
        upcoming = self.form.next_unanswered(self.draft.answers)
        self.draft.current = upcoming.key if upcoming else None


def _as_choice(text: str, labels: dict[str, str], *, numbered: bool) -> str:
    """What a member typed for a question with buttons, as the value of the button they meant:
    its label ("My full name"), its value with spaces ("full name"), or its number ("2")."""
    if not labels:
        return text
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
