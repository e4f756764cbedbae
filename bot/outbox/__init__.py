"""The outbox: messages delivered once each (announcements, reminders, DMs that must wait), kept in the
database until they are. A service of its own, with its migrations beside it.

    await bot.outbox.put(community, "mycog:what:1", [(channel_or_member, message), ...], tx=tx)
"""

from bot.outbox.cog import OutboxCog
from bot.outbox.outbox import FAILED, PENDING, SENT, UNREACHABLE, Outbox, Posted, recipient_id

__all__ = ["FAILED", "PENDING", "SENT", "UNREACHABLE", "Outbox", "OutboxCog", "Posted", "recipient_id"]
