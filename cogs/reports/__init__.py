"""Members report a message or a submission to the moderators."""

from bot.app import Bot
from cogs.reports.cog import Reports


def setup(bot: Bot, name: str) -> Reports:
    return Reports(bot, name)
