"""Pairing across difference: rounds of pairs of members who see the world differently."""

from bot.app import Bot
from cogs.pairing.cog import Pairing


def setup(bot: Bot, name: str) -> Pairing:
    return Pairing(bot, name)
