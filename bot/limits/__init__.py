"""Per-member limits: commands a minute, and the cooldowns of commands and forms, counted in the database so
that every process of the bot shares them. A service of its own, with its migration beside it.

    wait = await bot.limits.rate(community.key, member.id, per_minute)     # 0: go ahead
"""

from bot.limits.cog import LimitsCog
from bot.limits.limits import Cooldown, Limits

__all__ = ["Cooldown", "Limits", "LimitsCog"]
