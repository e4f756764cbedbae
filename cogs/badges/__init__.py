"""Badges for each of the ten steps, and each member's journey through them."""

from bot.app import Bot
from cogs.badges.cog import Badges


def setup(bot: Bot, name: str) -> Badges:
    return Badges(bot, name)
