"""A cog with one form of every kind of question, used by the form engine's tests."""

from __future__ import annotations

import json

from bot.core import Cog, Invocation, command
from bot.forms import Form, Submission, choice, consent, email, long_text, on_submit, short_text, url, yes_no

SURVEY = Form("survey", template="survey/form.j2", questions=(
    short_text("name", max_length=40, validate=lambda name: "name_reserved" if name.lower() == "admin" else None),
    long_text("story", min_length=20, max_length=500),
    choice("colour", "red", "green", "blue"),
    yes_no("has_partner"),
    short_text("partner", ask_if=lambda answers: answers.get("has_partner") is True),
    url("link", optional=True),
    email("email", optional=True, validate=lambda address: "email_example" if address.endswith("@example.com")
          else None),
    consent("may_quote"),
))

QUICK = Form("quick", template="survey/quick.j2", questions=(short_text("word"),))

# Each question depends on the one before: switching the first off must switch off both.
CHAIN = Form("chain", template="survey/chain.j2", questions=(
    yes_no("pets"),
    short_text("pet_name", ask_if=lambda answers: answers.get("pets") is True),
    short_text("pet_kind", ask_if=lambda answers: bool(answers.get("pet_name"))),
))


class Survey(Cog):
    """Asks the survey and keeps what was submitted."""

    @command("survey", help="Answer the survey")
    async def survey(self, ctx: Invocation) -> None:
        await self.bot.forms.start(ctx, SURVEY)

    @command("quick", help="Answer one quick question")
    async def quick(self, ctx: Invocation) -> None:
        await self.bot.forms.start(ctx, QUICK, context={"asked_by": "test"})

    @command("chain", help="Answer questions that depend on each other")
    async def chain(self, ctx: Invocation) -> None:
        await self.bot.forms.start(ctx, CHAIN)

    @on_submit(CHAIN)
    async def chain_submitted(self, ctx: Invocation, submission: Submission) -> None:
        await self._keep(submission)
        await ctx.reply("Thanks for the chain.")

    @on_submit(SURVEY)
    async def survey_submitted(self, ctx: Invocation, submission: Submission) -> None:
        await self._keep(submission)
        await ctx.reply("Thanks, your survey is in.")

    @on_submit(QUICK)
    async def quick_submitted(self, ctx: Invocation, submission: Submission) -> None:
        await self._keep(submission)
        await ctx.reply("Thanks for the quick answer.")

    async def _keep(self, submission: Submission) -> None:
        await self.db.execute(
            "INSERT INTO survey_answers (community, submission_id, member_id, form, answers, context)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (submission.community.key, submission.id, submission.member.id, submission.form.name,
             json.dumps(submission.answers), json.dumps(submission.context)))


def setup(bot, name):
    return Survey(bot, name)
