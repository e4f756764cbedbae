"""Step 6: the community's events, with RSVPs, a waitlist, reminders and calendar files."""

from bot.app import Bot
from cogs.events.cog import Events


def setup(bot: Bot, name: str) -> Events:
    return Events(bot, name)
