"""What the bot keeps about a member (/my-data), forgetting a member, and forgetting a community that
removed the bot. A service of its own, with its migration and its words (core/privacy.j2) beside it."""

from bot.privacy.cog import PrivacyCog
from bot.privacy.privacy import community_left, community_returned, community_rows, purge_community

__all__ = ["PrivacyCog", "community_left", "community_returned", "community_rows", "purge_community"]
