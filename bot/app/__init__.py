"""The bot put together: the core, the services and the cogs (the composition root).

    from bot.app import Bot
    bot = await Bot.open(config)
"""

from bot.app.bot import Bot

__all__ = ["Bot"]
