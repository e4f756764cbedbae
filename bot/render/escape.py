"""Escaping member text for each platform: one function per platform.

Anything a member typed is shown only after passing through `escape(text, dialect)`:
its markup is made literal and its mentions cannot ping anyone (`@everyone`, `@here`,
`<@&role>`, Slack's `<!channel>` / `<!here>`). Templates do this automatically for
every `{{ value }}` (see bot.render.templates).
"""

from __future__ import annotations

import re
from typing import Callable

ZERO_WIDTH_SPACE = "\u200b"

# @everyone / @here (Discord), @channel / @here / @everyone (Slack, when names are linked).
# No word boundary: "@everyones" is broken too, since a platform may still read a mention in it.
_BROADCAST = re.compile(r"@(?=everyone|here|channel)", re.IGNORECASE)
# <@123>, <@!123>, <@&123> (role), <#123> (channel), </cmd:1>, Slack <!channel>, <!subteam^S1>, <@U1>.
_ANGLE_MENTION = re.compile(r"<(?=[@#!/])")
# Control characters, including ESC (terminal escape sequences), except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Discord markdown: characters that format anywhere, and ones that format at a line start.
_DISCORD_INLINE = re.compile(r"([\\*_~|`\[\]])")
_DISCORD_LINE_START = re.compile(r"^(\s*)([#>-])", re.MULTILINE)
_DISCORD_ORDERED_LIST = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
_URL = re.compile(r"https?://[^\s<>]+")


def neutralise_mentions(text: str) -> str:
    """Make every mention in `text` inert by breaking it with a zero-width space."""
    text = _BROADCAST.sub("@" + ZERO_WIDTH_SPACE, text)
    return _ANGLE_MENTION.sub("<" + ZERO_WIDTH_SPACE, text)


def strip_control(text: str) -> str:
    """Drop control characters (terminal escapes, bidi overrides); keep newlines and tabs."""
    return _CONTROL.sub("", text)


def escape_discord(text: str) -> str:
    """Discord markdown: backslash every formatting character; links stay clickable."""
    text = neutralise_mentions(strip_control(text))
    pieces = []
    last = 0
    for url in _URL.finditer(text):
        pieces.append(_escape_discord_markup(text[last:url.start()]))
        pieces.append(url.group(0))
        last = url.end()
    pieces.append(_escape_discord_markup(text[last:]))
    return "".join(pieces)


def _escape_discord_markup(text: str) -> str:
    text = _DISCORD_INLINE.sub(r"\\\1", text)
    text = _DISCORD_ORDERED_LIST.sub(r"\1\\.", text)
    return _DISCORD_LINE_START.sub(r"\1\\\2", text)


def escape_slack(text: str) -> str:
    """Slack mrkdwn: &, < and > become entities, which is what stops <!channel> and <@U…>."""
    text = strip_control(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@" + ZERO_WIDTH_SPACE, text)


def escape_console(text: str) -> str:
    """The terminal has no markup, but it must not receive escape sequences or live mentions."""
    return neutralise_mentions(strip_control(text))


def escape_plain(text: str) -> str:
    """Text drawn into an image or written to an export file: only control characters need to go."""
    return strip_control(text)


ESCAPERS: dict[str, Callable[[str], str]] = {
    "discord": escape_discord,
    "slack": escape_slack,
    "console": escape_console,
    "image": escape_plain,
    "plain": escape_plain,
}


def escape(text: str, dialect: str) -> str:
    """Escape member text for a platform ('discord', 'slack', 'console'), or for 'image' and 'plain' files."""
    return ESCAPERS[dialect](text)
