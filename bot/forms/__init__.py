"""Conversational forms: declared questions, asked one at a time in direct messages.

    from bot.forms import Form, Submission, long_text, choice, consent
"""

from bot.forms.engine import FormEngine, Submission
from bot.forms.spec import (Form, Invalid, Kind, Question, SubmitSpec, choice, consent, email, long_text, on_submit,
                            several, short_text, url, yes_no)

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
