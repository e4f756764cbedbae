"""What moderators review, posted where they see it (queue cards, featured posts), shared by every cog with
a review queue. A service of its own, with its migrations beside it."""

from bot.moderation.posts import FEATURED, QUEUE, ModerationPosts, Post

__all__ = ["FEATURED", "QUEUE", "ModerationPosts", "Post"]
