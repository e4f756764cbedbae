"""A form's session on its own: the state machine over a draft, with no database and no platform.
Its words come from the real templates, rendered as plain text."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sample_cogs.survey import CHAIN, SURVEY

from bot.config import ProgramConfig
from bot.forms.session import Session, Shows
from bot.forms.store import Draft
from bot.forms.view import FormView
from bot.render import Templates

NOW = datetime(2030, 1, 14, 18, 0, tzinfo=timezone.utc)
FORMS = Path(__file__).resolve().parents[1] / "bot" / "forms" / "templates"
SURVEYS = Path(__file__).resolve().parent / "sample_cogs" / "survey" / "templates"


def session_of(form) -> tuple[Session, FormView]:
    templates = Templates(None, [FORMS, SURVEYS])
    view = FormView(lambda name, dialect, **values: templates.render(name, dialect, program=ProgramConfig(), **values),
                    "plain", form)
    session = Session(form, Draft("console:local", "ann", "Ann", form.name, "s1"))
    session.begin()
    return session, view


def test_answers_move_through_the_form_and_back():
    session, words = session_of(SURVEY)
    assert session.draft.current == "name"
    assert session.said(None, None, "Ann", words, NOW).shows is Shows.QUESTION
    assert session.draft.current == "story"
    too_short = session.said(None, None, "Short", words, NOW)
    assert too_short.problem.reason == "too_short" and session.draft.current == "story", "asked again"
    assert session.said("back", None, "back", words, NOW).shows is Shows.QUESTION
    assert session.draft.current == "name" and session.draft.answers == {"name": "Ann"}
    assert session.said("skip", None, "skip", words, NOW).note == "cannot_skip"


def test_a_choice_by_its_label_or_number_and_a_consent_with_its_wording():
    session, words = session_of(SURVEY)
    session.draft.answers.update(name="Ann", story="We talked about where we grew up.")
    session.begin()
    session.said(None, None, "2", words, NOW)  # a choice's number
    assert session.draft.answers["colour"] == "green"
    session.said(None, None, "yes", words, NOW)
    assert session.draft.current == "partner", "a question asked because of the answer before"
    session.said(None, None, "Bo", words, NOW)
    session.said("skip", None, "skip", words, NOW)
    session.said("skip", None, "skip", words, NOW)
    session.said(None, None, "I agree", words, NOW)
    assert session.draft.answers["may_quote"] == {
        "agreed": True, "wording": "I agree that the program may quote my story in its outreach.",
        "at": "2030-01-14T18:00:00.000000+00:00"}
    assert session.draft.current is None
    assert session.said(None, None, "more", words, NOW).note == "at_review"
    assert session.said("submit", None, "submit", words, NOW).shows is Shows.SUBMIT


def test_cancel_is_confirmed_and_edit_and_submit_say_what_is_missing():
    session, words = session_of(CHAIN)
    assert session.said("cancel", None, "cancel", words, NOW).shows is Shows.CONFIRM_CANCEL
    session.said(None, None, "no", words, NOW)  # anything else carries on
    assert not session.draft.confirm_cancel and session.draft.current is None
    assert session.said("edit", 5, "edit 5", words, NOW).details == {"total": 1}
    session.said("edit", 1, "edit 1", words, NOW)
    session.said(None, None, "yes", words, NOW)
    step = session.said("submit", None, "submit", words, NOW)
    assert (step.note, dict(step.details), session.draft.current) == ("not_all_answered", {"remaining": 1}, "pet_name")
    assert session.said("cancel", None, "cancel", words, NOW).shows is Shows.CONFIRM_CANCEL
    assert session.said("cancel", None, "cancel", words, NOW).shows is Shows.CANCELLED
