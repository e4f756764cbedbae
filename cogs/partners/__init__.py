"""Step 6: the partner organisations a community works with, in a directory members can search."""

from bot.app import Bot
from cogs.partners.cog import Partners


def setup(bot: Bot, name: str) -> Partners:
    return Partners(bot, name)
