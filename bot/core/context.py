"""Who did what, where: the Invocation a handler receives, and the people and places in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from bot.core.errors import ChannelUnavailable, UsageError
from bot.core.message import Message
from bot.render import Rendered

if TYPE_CHECKING:
    from bot.core.adapter import Adapter


@dataclass(frozen=True)
class Community:
    """A Discord guild, a Slack team, or the console's pretend community."""

    platform: str
    id: str
    name: str = ""

    @property
    def key(self) -> str:
        """The value stored in every row's `community` column."""
        return f"{self.platform}:{self.id}"

    @classmethod
    def from_key(cls, key: str, name: str = "") -> Community:
        """The community a `community` column names: `discord:1234` is guild 1234 on Discord."""
        platform, _, community_id = key.partition(":")
        return cls(platform, community_id, name)


@dataclass(frozen=True)
class Member:
    """A person in a community: identified by (platform, id); the name is for display only."""

    platform: str
    id: str
    display_name: str
    is_moderator: bool = False


@dataclass(frozen=True)
class Channel:
    """A place in the community where messages are posted."""

    id: str
    name: str


@dataclass(frozen=True)
class Thread:
    """The conversation under one message the bot posted (an event's announcement): a Discord thread made
    from that message, Slack's thread of replies to it. `root` is the message's id; `name` is what a
    platform that names threads shows (Discord)."""

    channel: Channel
    root: str
    name: str


@dataclass
class Invocation:
    """A member's command or button press, and the ways to answer it.

    `channel` is None when the member wrote to the bot in a direct message.
    Adapters keep what they need to answer (an interaction, a response URL) in
    `platform_data`; cogs never look at it.
    """

    bot: Any  # the running bot (bot.app.Bot)
    adapter: Adapter
    community: Community
    member: Member
    channel: Channel | None
    platform_data: Any = None
    command: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    # The button pressed (its action id), for a handler of several buttons.
    action: str = ""
    # False for an invocation made on a member's behalf (`toward`): they said nothing to answer.
    from_member: bool = True
    # The cog handling it, once known (for the log line).
    cog: str = ""

    @property
    def platform(self) -> str:
        return self.community.platform

    @property
    def in_dm(self) -> bool:
        return self.channel is None

    async def reply(self, content: Message | str) -> None:
        """Answer where the member asked (the channel, or the DM)."""
        message = Message.of(content)
        await self.adapter.respond(self, message, private=message.ephemeral)

    async def reply_private(self, content: Message | str) -> None:
        """Answer so that only this member sees it (ephemeral)."""
        await self.adapter.respond(self, Message.of(content), private=True)

    async def dm(self, content: Message | str, member: Member | None = None) -> None:
        """Send a direct message to this member (or to `member`).

        Already in this member's DMs, it is a reply there (which, on Discord, also answers the
        command the member typed in the DM).
        """
        if self.from_member and self.channel is None and (member is None or member == self.member):
            await self.adapter.respond(self, Message.of(content), private=False)
            return
        await self.adapter.send(self.community, member or self.member, Message.of(content))

    async def send_to(self, channel: Channel, content: Message | str) -> str:
        """Post in a channel of this community now, as the member asked; returns the message's id (to edit it
        later). A channel the bot cannot post in is refused (UsageError) saying what is wrong and how to fix it."""
        await self.check_postable(channel)
        try:
            return await self.adapter.send(self.community, channel, Message.of(content))
        except ChannelUnavailable as exc:  # closed to the bot since the check
            self._refuse(channel, str(exc))

    async def check_postable(self, channel: Channel) -> None:
        """Refuse (UsageError) a channel the bot cannot post in, saying what is wrong and how to fix it."""
        problem = await self.adapter.check_channel(self.community, channel)
        if problem is not None:
            self._refuse(channel, problem)

    @staticmethod
    def _refuse(channel: Channel, problem: str) -> NoReturn:
        raise UsageError("channel_unavailable", channel=channel.name, problem=problem)

    def toward(self, member: Member) -> Invocation:
        """The same community, seen from another member's DMs: to start a form for them."""
        return Invocation(bot=self.bot, adapter=self.adapter, community=self.community, member=member, channel=None,
                          from_member=False)

    def render(self, template: str, /, **variables: Any) -> Rendered:
        """Render a template for this member's platform, with the usual variables filled in."""
        return self.bot.render(template, self.platform, member=self.member, community=self.community, **variables)
