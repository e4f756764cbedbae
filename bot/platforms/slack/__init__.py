"""The Slack adapter: `smallstep run --platform slack`."""

from bot.platforms.slack.adapter import SlackAdapter

__all__ = ["SlackAdapter"]
