"""Steps 8, 9 and 10: bring your group in, partner as an organisation, support the program."""

from bot.app import Bot
from cogs.outreach.cog import Outreach


def setup(bot: Bot, name: str) -> Outreach:
    return Outreach(bot, name)
