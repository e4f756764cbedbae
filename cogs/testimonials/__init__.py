"""Step 4: testimonials, from a conversational form to the program's outreach, with moderators between."""

from bot.app import Bot
from cogs.testimonials.cog import Testimonials


def setup(bot: Bot, name: str) -> Testimonials:
    return Testimonials(bot, name)
