"""Step 7: a guide for talking with someone in your life who believes differently."""

from bot.app import Bot
from cogs.practice.cog import Practice


def setup(bot: Bot, name: str) -> Practice:
    return Practice(bot, name)
