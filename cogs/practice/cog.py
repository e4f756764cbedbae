"""Step 7 of the ten: engage someone in your own life who believes differently.

/practice gives a short guide to listening across a divide, then opening questions one at a
time ("Another question" brings the next). The questions are the community's own list when
moderators have edited it (/practice add, /practice remove), else the built-in ones from the
template. Other cogs ask for the guide by name (`practice.guide`), e.g. to introduce a pair.
"""

from __future__ import annotations

from typing import Any

from bot.core import Button, ButtonStyle, Community, Invocation, Message, Refusal, action, command, option, query
from bot.core.cog import Cog

TEXTS = "practice/guide.j2"


class Practice(Cog):
    """The conversation guide and its opening questions."""

    emits = ("practice.opened",)

    @command("practice", help="A guide for talking with someone in your life who believes differently")
    async def practice(self, ctx: Invocation) -> None:
        await self.events.emit("practice.opened", ctx.community, ctx.member)
        questions = await self.questions(ctx.community)
        texts = ctx.render(TEXTS, question=questions[0], number=1, total=len(questions))
        await ctx.reply_private(Message(title=texts["guide_title"], text=f"{texts['guide']}\n\n{texts['question']}",
                                        buttons=self._next(texts, 1, len(questions))))

    @action("practice:next")
    async def another(self, ctx: Invocation, value: str) -> None:
        questions = await self.questions(ctx.community)
        number = int(value) % len(questions) + 1 if value.isdigit() else 1
        texts = ctx.render(TEXTS, question=questions[number - 1], number=number, total=len(questions))
        await ctx.reply_private(Message(text=texts["question"], buttons=self._next(texts, number, len(questions))))

    @staticmethod
    def _next(texts: Any, number: int, total: int) -> list[Button]:
        return [Button(texts["button_another"], "practice:next", str(number), ButtonStyle.SECONDARY)] if total > 1 else []

    # -- moderators ----------------------------------------------------------------------------

    @command("practice questions", help="The opening questions /practice offers, numbered", moderator=True)
    async def list_questions(self, ctx: Invocation) -> None:
        own = await self._own(ctx.community)
        texts = ctx.render(TEXTS, questions=own or await self.questions(ctx.community), own=bool(own))
        await ctx.reply_private(texts["questions_list"])

    @command("practice add", help="Add an opening question to /practice", moderator=True)
    async def add(self, ctx: Invocation, question: str = option("The question", max_length=300)) -> None:
        await self._copy_builtin(ctx.community)
        position = await self.db.fetchval("SELECT COALESCE(MAX(position), 0) + 1 FROM practice_questions"
                                          " WHERE community = ?", (ctx.community.key,))
        await self.db.execute("INSERT INTO practice_questions (community, position, text) VALUES (?, ?, ?)",
                              (ctx.community.key, position, question.strip()))
        await self.bot.audit.record(ctx.community, ctx.member, "practice.add", target=question.strip())
        await ctx.reply_private(ctx.render(TEXTS, question=question.strip(), number=position)["question_added"])

    @command("practice remove", help="Take an opening question out of /practice (see /practice questions)",
             moderator=True)
    async def remove(self, ctx: Invocation, number: int = option("Its number in /practice questions")) -> None:
        await self._copy_builtin(ctx.community)
        own = await self._own(ctx.community)
        if not 1 <= number <= len(own):
            raise Refusal(ctx.render(TEXTS, number=number, total=len(own))["no_such_question"])
        if len(own) == 1:
            raise Refusal(ctx.render(TEXTS)["keep_one"])
        removed = own[number - 1]
        await self.db.execute("DELETE FROM practice_questions WHERE community = ? AND position = ?",
                              (ctx.community.key, await self._position(ctx.community, number)))
        await self.bot.audit.record(ctx.community, ctx.member, "practice.remove", target=removed)
        await ctx.reply_private(ctx.render(TEXTS, question=removed)["question_removed"])

    # -- what other cogs may ask -----------------------------------------------------------------

    @query("practice.guide")
    async def guide(self, community: Community, platform: str, turn: int = 0) -> dict[str, str]:
        """The guide and an opening question, rendered for a platform: the first, or the one whose `turn`
        it is (the community's questions taken in order, round after round)."""
        questions = await self.questions(community)
        texts = self.bot.render(TEXTS, platform, question=questions[0], number=1, total=len(questions))
        return {"guide": str(texts["guide"]), "question": str(questions[turn % len(questions)])}

    # -- the list ----------------------------------------------------------------------------------

    async def questions(self, community: Community) -> list[str]:
        """The community's own questions, else the built-in ones."""
        return await self._own(community) or self._builtin(community.platform)

    def _builtin(self, platform: str) -> list[str]:
        return [line.strip() for line in str(self.bot.render(TEXTS, platform)["builtin_questions"]).splitlines()
                if line.strip()]

    async def _own(self, community: Community) -> list[str]:
        rows = await self.db.fetchall("SELECT text FROM practice_questions WHERE community = ? ORDER BY position",
                                      (community.key,))
        return [row["text"] for row in rows]

    async def _position(self, community: Community, number: int) -> int:
        rows = await self.db.fetchall("SELECT position FROM practice_questions WHERE community = ? ORDER BY position",
                                      (community.key,))
        return rows[number - 1]["position"]

    async def _copy_builtin(self, community: Community) -> None:
        """The first edit starts from the built-in list, so moderators change it rather than replace it."""
        if await self._own(community):
            return
        plain = [line.strip() for line in str(self.bot.render(TEXTS, "plain")["builtin_questions"]).splitlines()
                 if line.strip()]
        await self.db.executemany("INSERT INTO practice_questions (community, position, text) VALUES (?, ?, ?)",
                                  [(community.key, n, q) for n, q in enumerate(plain, 1)])
