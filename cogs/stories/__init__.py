"""Step 2: public stories from the archive, put forward, reviewed, spotlighted and passed on."""

from bot.app import Bot
from cogs.stories.cog import Stories


def setup(bot: Bot, name: str) -> Stories:
    return Stories(bot, name)
