"""Step 1: share the experience: ready-to-post texts, a badge graphic, and "I shared it"."""

from bot.app import Bot
from cogs.share.cog import Share


def setup(bot: Bot, name: str) -> Share:
    return Share(bot, name)
