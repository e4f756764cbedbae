"""Step 5: a welcome DM for each new member, with the ten steps and how to begin."""

from bot.app import Bot
from cogs.welcome.cog import Welcome


def setup(bot: Bot, name: str) -> Welcome:
    return Welcome(bot, name)
