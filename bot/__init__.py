"""Small Step Bot: helps One Small Step participants stay involved, on Discord, Slack or a console."""

__version__ = "0.1.0"
