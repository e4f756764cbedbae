"""Conversational forms: declared questions, asked one at a time in direct messages (or, for a short
form, as one dialog). A service of its own, with its migrations and its words (forms/engine.j2) beside it.

    from bot.forms import Form, Submission, long_text, choice, consent, on_submit
"""

from bot.forms.engine import FormEngine
from bot.forms.spec import (Form, Invalid, Kind, Question, Submission, SubmitSpec, choice, consent, email, long_text,
                            on_submit, several, short_text, url, yes_no)

__all__ = [
    "Form",
    "FormEngine",
    "Invalid",
    "Kind",
    "Question",
    "SubmitSpec",
    "Submission",
    "choice",
    "consent",
    "email",
    "long_text",
    "on_submit",
    "several",
    "short_text",
    "url",
    "yes_no",
]
