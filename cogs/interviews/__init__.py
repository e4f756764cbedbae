"""Step 3: your interview is ready; publish it when both partners agree; share it."""

from bot.app import Bot
from cogs.interviews.cog import Interviews


def setup(bot: Bot, name: str) -> Interviews:
    return Interviews(bot, name)
