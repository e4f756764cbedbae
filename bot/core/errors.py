"""What goes wrong, as the core tells it: a member's mistake, a cog's refusal, a member or a channel
the bot cannot reach. Each carries what the member (or a moderator) is told."""

from __future__ import annotations

from typing import Any


class Explained(Exception):
    """Something that cannot be done, named by the template block that explains it (`reason`),
    with the values that block shows (`details`)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class UsageError(Explained):
    """The member's command could not be understood; `reason` is a block of core/errors.j2.

    `show_usage` adds the command's usage line to the answer (for mistakes in its options).
    """

    def __init__(self, reason: str, *, show_usage: bool = False, **details: Any) -> None:
        super().__init__(reason, **details)
        self.show_usage = show_usage


class Refusal(Exception):
    """A cog cannot do what was asked, and says why in its own words (already rendered):
    `raise Refusal(texts["bad_website"])`. The member gets the text privately; nothing else happens."""

    def __init__(self, text: str, *, show_usage: bool = False) -> None:
        super().__init__(text)
        self.text = text
        self.show_usage = show_usage


class MemberUnreachable(Exception):
    """A direct message could not be delivered (the member closed their DMs, or left)."""


class ChannelUnavailable(Exception):
    """The bot may not post in that channel (it does not exist, or the bot lacks permission);
    `str()` says which, in words a moderator can act on."""


class UnknownName(Exception):
    """A cog names what does not exist (the method its suggestions come from, a query, a button's action):
    a mistake in its code, found when it loads. It stops the start, rather than failing quietly while
    members use the bot; `/cogs load` and `reload` say it and keep what runs."""
