"""Forms are declared, not hand-coded: an ordered tuple of questions.

```python
TESTIMONIAL = Form("testimonial", template="testimonials/form.j2", questions=(
    long_text("story", min_length=50, max_length=2000),
    yes_no("has_partner"),
    short_text("partner_name", optional=True, ask_if=lambda answers: answers.get("has_partner") is True),
    choice("credit", "full_name", "first_name", "anonymous"),
    consent("may_quote"),
))
```

The words come from the form's template: block `<key>` is the question, `<key>_help`
its help, `<key>_<choice>` a choice's label (or `choice_<choice>`, for a label several
questions share), `title` the form's name. For a consent
question, block `<key>` is the exact wording the member agrees to; it is stored with
the answer and the moment it was given.

`check(answer)` turns what the member typed into the stored value, or raises
`Invalid(reason, **details)`, whose reason names the block of forms/engine.j2 that
explains the problem to the member. A question's own `validate(value)` rule returns the
name of a block in the form's template instead (e.g. `validate=lambda name: "name_taken"
if name in taken else None`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Awaitable, Callable, Mapping

from bot.core.cog import declare
from bot.core.commands import closest
from bot.core.context import Community, Member
from bot.core.errors import Explained
from bot.values import web_address

Answers = Mapping[str, Any]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_YES = {"yes", "y", "yeah", "yep", "sure", "ok", "okay", "true", "1"}
_NO = {"no", "n", "nope", "false", "0"}


class Kind(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    SEVERAL = "several"  # one or more of the choices, typed as their numbers or names
    YES_NO = "yes_no"
    URL = "url"
    EMAIL = "email"
    CONSENT = "consent"


class Invalid(Explained):
    """An answer that cannot be taken; `reason` is a block of forms/engine.j2."""


@dataclass(frozen=True)
class Question:
    key: str
    kind: Kind
    optional: bool = False
    min_length: int = 1
    max_length: int = 200
    choices: tuple[str, ...] = ()
    # Ask this question only when the answers so far say so.
    ask_if: Callable[[Answers], bool] | None = None
    # A consent the member must give to submit (they may still cancel).
    required: bool = True
    # The cog's own rule: given the checked value, the name of a block in the form's template
    # that explains what is wrong, or None when the value is fine.
    validate: Callable[[Any], str | None] | None = None

    @property
    def has_buttons(self) -> bool:
        return self.kind in (Kind.CHOICE, Kind.YES_NO, Kind.CONSENT)

    def check(self, answer: str) -> Any:
        """The value to store for what the member typed, or Invalid."""
        text = answer.strip()
        if self.kind in (Kind.YES_NO, Kind.CONSENT):
            word = text.lower().rstrip(".!")
            if word in _YES:
                return self._validated(True)
            if word in _NO:
                if self.kind is Kind.CONSENT and self.required:
                    raise Invalid("consent_needed")
                return self._validated(False)
            raise Invalid("not_yes_no")
        if self.kind is Kind.SEVERAL:
            return self.check_several([text])
        if self.kind is Kind.CHOICE:
            for value in self.choices:
                if text.lower() == value.lower():
                    return self._validated(value)
            raise Invalid("not_a_choice", suggestion=closest(text, self.choices))
        if len(text) < self.min_length:
            raise Invalid("too_short", short_by=self.min_length - len(text), minimum=self.min_length)
        if len(text) > self.max_length:
            raise Invalid("too_long", over_by=len(text) - self.max_length, maximum=self.max_length)
        if self.kind is Kind.URL and web_address(text, https_only=False) is None:
            raise Invalid("not_url")
        if self.kind is Kind.EMAIL and not _EMAIL.match(text):
            raise Invalid("not_email")
        value = answer.strip("\n") if self.kind is Kind.LONG_TEXT else text
        return self._validated(value)

    def check_several(self, parts: list[str]) -> list[str]:
        """The choices named in `parts` (each already a choice's value where the member's words
        matched one), in the order of the choices, each once."""
        chosen = set()
        for part in parts:
            match = next((value for value in self.choices if part.strip().lower() == value.lower()), None)
            if match is None:
                raise Invalid("not_a_choice", suggestion=closest(part.strip(), self.choices), typed=part.strip())
            chosen.add(match)
        if not chosen:
            raise Invalid("none_chosen")
        return self._validated([value for value in self.choices if value in chosen])

    def _validated(self, value: Any) -> Any:
        problem = self.validate(value) if self.validate else None
        if problem:
            raise Invalid(problem, own=True)
        return value


@dataclass(frozen=True)
class Form:
    """A named form: its template and its questions, in the order they are asked."""

    name: str
    template: str
    questions: tuple[Question, ...]
    _by_key: dict[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [q.key for q in self.questions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"form {self.name}: two questions share a key")
        if not self.questions:
            raise ValueError(f"form {self.name} has no questions")
        object.__setattr__(self, "_by_key", {q.key: q for q in self.questions})

    @property
    def fits_dialog(self) -> bool:
        """A few text questions, none depending on another: the form can be one dialog."""
        return len(self.questions) <= 5 and all(
            q.kind in (Kind.SHORT_TEXT, Kind.LONG_TEXT, Kind.URL, Kind.EMAIL) and q.ask_if is None
            for q in self.questions)

    def question(self, key: str) -> Question:
        return self._by_key[key]

    def applicable(self, answers: Answers) -> list[Question]:
        """The questions this member is asked, given their answers so far.

        Each condition sees only the answers to questions that are themselves asked, so an
        answer kept from a question that no longer applies cannot switch a later one on.
        """
        asked: list[Question] = []
        visible: dict[str, Any] = {}
        for question in self.questions:
            if question.ask_if is None or question.ask_if(visible):
                asked.append(question)
                if question.key in answers:
                    visible[question.key] = answers[question.key]
        return asked

    def next_unanswered(self, answers: Answers) -> Question | None:
        """The first question still to be answered (a skipped one counts as answered)."""
        return next((q for q in self.applicable(answers) if q.key not in answers), None)

    def previous(self, key: str | None, answers: Answers) -> Question | None:
        asked = self.applicable(answers)
        if key is None:  # at the review: back goes to the last question
            return asked[-1] if asked else None
        keys = [q.key for q in asked]
        index = keys.index(key) if key in keys else len(keys)
        return asked[index - 1] if index > 0 else None


def short_text(key: str, *, optional: bool = False, min_length: int = 1, max_length: int = 200,
               ask_if: Callable[[Answers], bool] | None = None,
               validate: Callable[[Any], str | None] | None = None) -> Question:
    """A line of text. Every kind of question takes `optional`, `ask_if` (a condition on the answers
    so far) and `validate` (the cog's own rule on the checked value)."""
    return Question(key, Kind.SHORT_TEXT, optional, min_length, max_length, ask_if=ask_if, validate=validate)


def long_text(key: str, *, optional: bool = False, min_length: int = 1, max_length: int = 4000,
              ask_if: Callable[[Answers], bool] | None = None,
              validate: Callable[[Any], str | None] | None = None) -> Question:
    return Question(key, Kind.LONG_TEXT, optional, min_length, max_length, ask_if=ask_if, validate=validate)


Validator = Callable[[Any], str | None]
Condition = Callable[[Answers], bool]


def choice(key: str, *choices: str, optional: bool = False, ask_if: Condition | None = None,
           validate: Validator | None = None) -> Question:
    if not choices:
        raise ValueError(f"choice question {key} needs choices")
    return Question(key, Kind.CHOICE, optional, choices=choices, ask_if=ask_if, validate=validate)


def several(key: str, *choices: str, optional: bool = False, ask_if: Condition | None = None,
            validate: Validator | None = None) -> Question:
    """One or more of the choices (stored as a list): the member answers with their numbers or
    names, "1, 3" or "weekends and evenings"."""
    if not choices:
        raise ValueError(f"several question {key} needs choices")
    return Question(key, Kind.SEVERAL, optional, choices=choices, ask_if=ask_if, validate=validate)


def yes_no(key: str, *, optional: bool = False, ask_if: Condition | None = None,
           validate: Validator | None = None) -> Question:
    return Question(key, Kind.YES_NO, optional, ask_if=ask_if, validate=validate)


def url(key: str, *, optional: bool = False, max_length: int = 2000, ask_if: Condition | None = None,
        validate: Validator | None = None) -> Question:
    return Question(key, Kind.URL, optional, max_length=max_length, ask_if=ask_if, validate=validate)


def email(key: str, *, optional: bool = False, max_length: int = 320, ask_if: Condition | None = None,
          validate: Validator | None = None) -> Question:
    return Question(key, Kind.EMAIL, optional, max_length=max_length, ask_if=ask_if, validate=validate)


def consent(key: str, *, required: bool = True, ask_if: Condition | None = None,
            validate: Validator | None = None) -> Question:
    """Agreement to exact wording (the form template's block `<key>`), stored with the time it was given."""
    return Question(key, Kind.CONSENT, optional=False, ask_if=ask_if, required=required, validate=validate)


@dataclass(frozen=True)
class Submission:
    """A completed form, handed to the cog that owns it."""

    id: str
    form: Form
    community: Community
    member: Member
    answers: dict[str, Any]
    context: dict[str, Any]


@dataclass(frozen=True)
class SubmitSpec:
    """A cog's handler of a completed form (`@on_submit`)."""

    form: Form
    attribute: str


def on_submit(form: Form) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """Declare the handler of a completed form: `async def f(self, ctx, submission: Submission)`.

    `submission.id` stays the same if a submit is retried: record the submission under it, once.
    A form built when the cog is made (from its settings) is declared on the instance instead:
    `self.declared = (*self.declared, SubmitSpec(form, "method_name"))`.
    """
    return declare(lambda attr: SubmitSpec(form, attr))
