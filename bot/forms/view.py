"""What a member sees of a form, on one platform: its questions, the review, the engine's own words
and buttons, in the words of the form's template and of forms/engine.j2 (which a community may
translate, its control words included).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable

from bot.core.adapter import Dialog, DialogField
from bot.core.commands import closest
from bot.core.message import Button, ButtonStyle, Message
from bot.forms.spec import Form, Invalid, Kind, Question
from bot.forms.store import Draft
from bot.render import Rendered

ENGINE = "forms/engine.j2"
CONTROL_WORDS = ("back", "skip", "cancel", "review", "edit", "submit", "help")

Render = Callable[..., Rendered]  # Bot.render_unvarying: (template, platform)
# The words of questions before they are answered, by the version of the form's template, then of the engine's.
Questions = weakref.WeakKeyDictionary[Any, weakref.WeakKeyDictionary[Any, dict[tuple[str, int, int], tuple[str, str]]]]


@dataclass(frozen=True)
class FormButton:
    """One of the engine's own buttons: the action it carries, its label (a block of forms/engine.j2; an
    answer's button is labelled with its choice) and its style."""

    action: str
    label: str
    style: ButtonStyle


# The engine's own buttons. Each carries the start of its form's submission id, so one left on screen from a
# form that has since ended does nothing but say so (see FormEngine.press).
ANSWER = FormButton("forms:answer", "", ButtonStyle.SECONDARY)
SUBMIT = FormButton("forms:submit", "button_submit", ButtonStyle.SUCCESS)
CANCEL = FormButton("forms:cancel", "button_cancel", ButtonStyle.DANGER)
CONTINUE = FormButton("forms:continue", "button_continue", ButtonStyle.SECONDARY)
SWITCH = FormButton("forms:switch", "button_switch", ButtonStyle.PRIMARY)
RETRY = FormButton("forms:retry", "button_try_again", ButtonStyle.PRIMARY)
WRITE_AGAIN = FormButton("forms:dialog", "button_write_again", ButtonStyle.PRIMARY)
BUTTONS = (ANSWER, SUBMIT, CANCEL, CONTINUE, SWITCH, RETRY, WRITE_AGAIN)


def button_key(draft: Draft) -> str:
    """Which form a button belongs to: the start of its submission id (enough among one member's
    forms, and short enough to leave room for the answer in a platform's button id)."""
    return draft.submission_id[:12]


class FormView:
    """One form's words on one platform (`plain` for what is stored or shown as plain text). Each template
    is rendered once per view, when first needed: a view lives for one answer."""

    def __init__(self, unvarying: Render, platform: str, form: Form, words: Rendered | None = None, *,
                 questions: Questions | None = None) -> None:
        """`unvarying` renders a template without variables (the form's texts, the engine's words), perhaps kept
        from an earlier view; the engine's words with variables are rendered from the same version of the file.
        `questions` keeps the words of questions between views (see `_worded`); without it, none are kept."""
        self._unvarying = unvarying
        self._questions = questions
        self.platform = platform
        self.form = form
        self._texts: Rendered | None = None
        self._words = words  # forms/engine.j2 for this platform, when the caller rendered it already

    @property
    def texts(self) -> Rendered:
        """The form's own template: its title, a block per question and per choice label."""
        if self._texts is None:
            self._texts = self._unvarying(self.form.template, self.platform)
        return self._texts

    @property
    def words(self) -> Rendered:
        """forms/engine.j2 without variables: the engine's words that say the same to everyone."""
        if self._words is None:
            self._words = self._unvarying(ENGINE, self.platform)
        return self._words

    @property
    def title(self) -> str:
        return self.texts["title"]

    def engine(self, **variables: Any) -> Rendered:
        """forms/engine.j2 with these values (a title, a number...)."""
        return self.words.with_values(**variables)

    # -- where the member is ------------------------------------------------------------------------

    def where(self, draft: Draft, note: str = "") -> Message:
        """The current question, or the review once every question is answered, after `note`."""
        message = self.review(draft) if draft.current is None else self._question(draft)
        message.text = joined(note, message.text)
        return message

    def _question(self, draft: Draft) -> Message:
        question = self.form.question(draft.current)
        asked = [q.key for q in self.form.applicable(draft.answers)]
        number = asked.index(question.key) + 1 if question.key in asked else len(asked)
        title, text = self._worded(question, number, len(asked), draft.answers.get(question.key))
        if question.kind is Kind.CHOICE:
            values: tuple[str, ...] = question.choices
        elif question.kind in (Kind.YES_NO, Kind.CONSENT):
            values = ("yes", "no")
        else:
            values = ()
        buttons = [self.button(ANSWER, draft, f"{question.key}={v}", label=self.choice_label(question, v))
                   for v in values]
        return Message(title=title, text=text, buttons=buttons)

    def _worded(self, question: Question, number: int, total: int, answer: Any) -> tuple[str, str]:
        """A question's title (where it is in the form) and its text. Before it is answered, both are the same
        for every member at that point of the form: kept in `questions`, by the version of each template's file
        (wording them again for each member was a fifth of the engine's work in an answer)."""
        kept = None
        if answer is None and self._questions is not None:
            by_words = self._questions.get(self.texts.compiled)
            if by_words is None:
                by_words = self._questions[self.texts.compiled] = weakref.WeakKeyDictionary()
            kept = by_words.get(self.words.compiled)
            if kept is None:
                kept = by_words[self.words.compiled] = {}
            if (said := kept.get((question.key, number, total))) is not None:
                return said
        texts = self.texts
        ui = self.engine(title=texts["title"], number=number, total=total, answer=self.shown(question, answer))
        parts = [texts[question.key]]
        if texts.has(f"{question.key}_help") and texts[f"{question.key}_help"]:
            parts.append(texts[f"{question.key}_help"])
        if question.kind is Kind.SEVERAL:
            parts.append(self.engine(choices=[self.choice_label(question, c)
                                              for c in question.choices])["several_choices"])
        if question.optional:
            parts.append(ui["optional_hint"])
        if answer is not None:
            parts.append(ui["answer_so_far"])
        said = (ui["progress"], "\n\n".join(parts))
        if kept is not None:
            kept[(question.key, number, total)] = said
        return said

    def review(self, draft: Draft) -> Message:
        """Every answer so far; with the submit button once all are there."""
        items = [{"number": n, "question": self.texts[q.key], "answer": self.shown(q, draft.answers.get(q.key))}
                 for n, q in enumerate(self.form.applicable(draft.answers), 1) if q.key in draft.answers]
        ui = self.engine(title=self.title, items=items)
        buttons = [] if self.form.next_unanswered(draft.answers) else [self.button(SUBMIT, draft)]
        return Message(title=ui["review_title"], text=ui["review"], buttons=buttons)

    def confirm_cancel(self, draft: Draft) -> Message:
        return Message(text=self.engine(title=self.title)["confirm_cancel"],
                       buttons=[self.button(CANCEL, draft), self.button(CONTINUE, draft)])

    def switch_prompt(self, draft: Draft, old_title: str, new_title: str) -> Message:
        """Asked when a member starts a form while another (`draft`) is open: which one to keep."""
        ui = self.engine(old=old_title, new=new_title)
        return Message(text=joined(draft.switch_to.intro if draft.switch_to else "", ui["already_open_other"]),
                       buttons=[self.button(SWITCH, draft), self.button(CONTINUE, draft)])

    def dialog(self, draft: Draft, intro: str) -> Dialog:
        """The form as one dialog, filled with what was written before (a refused dialog, or answers)."""
        texts, typed = self.texts, draft.typed or {}
        fields = tuple(DialogField(
            q.key, str(texts[q.key]), str(texts[f"{q.key}_help"]) if texts.has(f"{q.key}_help") else "",
            multiline=q.kind is Kind.LONG_TEXT, optional=q.optional, min_length=q.min_length,
            max_length=q.max_length, value=str(typed.get(q.key) or draft.answers.get(q.key) or ""))
            for q in self.form.questions)
        return Dialog(draft.submission_id, str(texts["title"]), str(self.words[SUBMIT.label]), fields, intro=str(intro))

    def button(self, kind: FormButton, draft: Draft, payload: str = "", *, label: str = "") -> Button:
        return Button(label or self.words[kind.label], kind.action, f"{button_key(draft)}:{payload}", kind.style)

    # -- answers ---------------------------------------------------------------------------------------

    def shown(self, question: Question, value: Any) -> str:
        """An answer as the review shows it (member text is escaped later, by the template)."""
        words = self.words
        if value is None:
            return words["skipped"]
        if question.kind is Kind.CONSENT:
            return words["agreed" if value.get("agreed") else "declined"]
        if question.kind is Kind.YES_NO:
            return words["yes" if value else "no"]
        if question.kind is Kind.CHOICE:
            return self.choice_label(question, value)
        if question.kind is Kind.SEVERAL:
            return ", ".join(str(self.choice_label(question, v)) for v in value)
        return str(value)  # whole: the member rereads their story before they send it

    def choice_label(self, question: Question, value: str) -> str:
        """A choice's label from the form's template (`<key>_<value>`), or the engine's yes/no words."""
        if question.kind is Kind.CONSENT:
            return self.words["agreed" if value == "yes" else "declined"]
        if question.kind is Kind.YES_NO:
            return self.words["yes" if value == "yes" else "no"]
        for block in (f"{question.key}_{value}", f"choice_{value}"):  # its own label, or one the form shares
            if self.texts.has(block):
                return self.texts[block]
        return value

    def labels(self, question: Question) -> dict[str, str]:
        """The value each of a question's buttons gives, and its label as the member reads it."""
        values = question.choices if question.kind in (Kind.CHOICE, Kind.SEVERAL) else ("yes", "no")
        return {value: str(self.choice_label(question, value)) for value in values}

    def wording(self, question: Question) -> str:
        return str(self.texts[question.key])

    def explain(self, question: Question, problem: Invalid, typed: str, plain: FormView) -> str:
        """Why an answer cannot be taken, in the words of the engine's template or the form's own; a
        suggestion is one of the labels as `plain` (the plain-text view) has them."""
        if problem.details.get("own"):  # the form's own rule, explained by its own template
            return self.texts[problem.reason]
        choices = [self.choice_label(question, c) for c in question.choices]
        details = dict(problem.details)
        if "suggestion" in details:  # suggest what the member sees, not the stored key
            # For several choices, the part that matched none, not the whole answer.
            details["suggestion"] = closest(details.pop("typed", typed).strip(),
                                            list(plain.labels(question).values()))
        return self.engine(choices=choices, **details)[problem.reason]


def control_words(words: Rendered) -> dict[str, str]:
    """Each spelling of a control word, and the word it means (`previous` → back), from forms/engine.j2."""
    meaning: dict[str, str] = {}
    for command in CONTROL_WORDS:
        for spelling in words[f"words_{command}"].split(","):
            meaning.setdefault(spelling.strip().lower(), command)  # a spelling given twice means the first
    return meaning


def control_word(text: str, meaning: dict[str, str]) -> tuple[str | None, int | None]:
    """Which control word (if any) the member said; `edit 2` also gives the number."""
    words = text.strip().lower().split()
    if not words or len(words) > 2 or words[0] not in meaning:
        return None, None
    command = meaning[words[0]]
    if command == "edit":
        return command, int(words[1]) if len(words) == 2 and words[1].isascii() and words[1].isdigit() else None
    return (command, None) if len(words) == 1 else (None, None)


def joined(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
