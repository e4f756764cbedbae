"""What the core needs from a platform adapter (console, Discord, Slack), and what it may offer.

Adapters live in bot.platforms and subclass `Adapter`; the core and the cogs only ever talk to
it, which is how a cog runs unchanged on every platform.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.core.context import Channel, Community, Member, Thread
from bot.core.message import Message

if TYPE_CHECKING:
    from bot.core.context import Invocation


@dataclass(frozen=True)
class Delivery:
    """One message of the outbox on its way. `key` is the same on every attempt to deliver it, so a
    platform that can recognise a repeat (Discord's message nonce, a Slack message's metadata) keeps it
    from arriving twice. `tried_at`: an earlier attempt began then and its outcome is unknown (the
    process stopped, or the connection broke, before the platform's answer was recorded)."""

    key: str
    tried_at: datetime | None = None


@dataclass(frozen=True)
class DialogField:
    """One text box of a dialog: a form's question."""

    key: str
    label: str
    hint: str = ""
    multiline: bool = False
    optional: bool = False
    min_length: int = 0
    max_length: int = 4000
    value: str = ""


@dataclass(frozen=True)
class Dialog:
    """A short form shown as one dialog (a Slack modal) where the platform has them. `id` comes back
    with the answers (`FormEngine.dialog_answers`). The words are plain text, but for `intro`, which is
    rendered for the platform already."""

    id: str
    title: str
    submit: str
    fields: tuple[DialogField, ...]
    intro: str = ""


# What a cog may need of a platform beyond posting messages (`Cog.platform_needs`), for an adapter to ask for
# (Discord's permissions in the invite link) and to check (the log and `config check` say what is missing).
EVENT_MIRRORS = "event_mirrors"  # the platform's own list of events (Discord's scheduled events)
THREADS = "threads"  # discussion threads under the bot's posts
ROOMS = "rooms"  # a room of their own for a few members (bot.platforms.rooms): pairing's rooms


@dataclass(frozen=True)
class EventMirror:
    """One occurrence of an event as a platform's own event list shows it (Discord's scheduled events). The
    bot's event stays the source of truth (answers, places, the waitlist); this is a copy for the list.

    Plain text, not rendered for a platform: a platform cuts what is too long for it. `place` is where it
    happens as the organiser wrote it (an address, a link, or a voice channel the platform can host it in)."""

    title: str
    description: str
    start: datetime
    end: datetime
    place: str


@runtime_checkable
class MirrorsEvents(Protocol):
    """An adapter whose platform has its own list of events, which the bot's events are copied into.

    None of these raises for what the platform refuses (a missing permission, a full list, a gone event):
    the adapter logs it, and the bot's event works on without its copy."""

    async def mirror_event(self, community: Community, mirror: EventMirror, *, unsure: bool = False) -> str | None:
        """List it; its id on the platform, or None if the platform refused. `unsure`: an earlier attempt's
        outcome is unknown (the bot stopped before the answer): the copy it may have made is looked for first."""

    async def update_mirror(self, community: Community, mirror_id: str, mirror: EventMirror) -> bool:
        """Bring the copy in step with a changed event; False if the platform no longer has it."""

    async def start_mirror(self, community: Community, mirror_id: str) -> None:
        """The occurrence has begun: marked as happening, where the platform does not do so itself."""

    async def end_mirror(self, community: Community, mirror_id: str) -> None:
        """The occurrence is over: marked as ended (one that never began, as cancelled)."""

    async def cancel_mirror(self, community: Community, mirror_id: str) -> None:
        """The event was cancelled."""


class Adapter(ABC):
    """A chat platform, as the core and the cogs see it. Each adapter (bot.platforms: console, Discord,
    Slack) subclasses this: it must do what every platform can (the abstract methods), and may offer the
    abilities below, whose defaults say what the bot does on a platform without them:

    - `open_dialog`: a short form as one dialog (a modal). Without it, every form is asked in DMs.
    - `personal_data` and `forget_member`: what the adapter itself keeps about a member (the id of their
      DM channel), which /my-data shows and /my-data delete erases. Without them, it keeps nothing.
    - `send_rate`: the pace the outbox keeps when it fans out. None: no pace (the platform's library
      waits out rate limits on its own).
    - `offers_rooms`, `open_room` and `close_room`: a room for a few members (a private thread on Discord,
      a group DM on Slack; see bot.platforms.rooms). Without them, the pairing cog introduces each pair by DM.

    A platform with its own list of events also implements `MirrorsEvents`; without it, events are the
    bot's posts only.
    """

    #: The platform's name, the first part of its communities' keys: `console`, `discord`, `slack`.
    platform: str
    #: Messages per second the outbox paces itself to when it fans out; None: no pacing.
    send_rate: float | None = None

    @abstractmethod
    async def respond(self, ctx: Invocation, message: Message, *, private: bool) -> None:
        """Answer an invocation in place (or privately, seen only by the member)."""

    @abstractmethod
    async def send(self, community: Community, to: Channel | Member | Thread, message: Message, *,
                   delivery: Delivery | None = None) -> str:
        """Post in a channel or in the thread under one of the bot's messages, or send a direct message to
        a member; returns the message's id, for a later `edit`. May raise MemberUnreachable or
        ChannelUnavailable. The outbox passes `delivery`: where the platform allows, a repeated attempt
        must not post the message again."""

    @abstractmethod
    def serves(self, community: Community) -> bool:
        """Whether this bot serves that community here (a webhook may name any)."""

    @abstractmethod
    async def check_channel(self, community: Community, channel: Channel) -> str | None:
        """Why the bot could not post in `channel` (missing, no permission), or None if it can."""

    @abstractmethod
    async def edit(self, community: Community, channel: Channel, message_id: str, message: Message) -> None:
        """Replace a message the bot posted earlier (e.g. a featured testimonial that was withdrawn)."""

    @abstractmethod
    def command_text(self, name: str) -> str:
        """How a member types the command `name` here: `/share`, or `/smallstep share` on Slack."""

    @abstractmethod
    async def resolve_channel(self, community: Community, text: str) -> Channel | None:
        """Find a channel from what a member typed (`#general`, an id); None if there is none."""

    @abstractmethod
    async def resolve_member(self, community: Community, text: str) -> Member | None:
        """Find a member from what was typed (`@alice`, an id); None if there is none."""

    # -- abilities some platforms have ------------------------------------------------------------

    async def open_dialog(self, ctx: Invocation, dialog: Dialog) -> bool:
        """Show a short form as one dialog in answer to the member's press; True if it opened. The answers
        come back with the dialog's id (see `Dialog`). By default there are no dialogs: False,
        and the form is asked in direct messages."""
        return False

    #: Whether `open_room` can make rooms here at all (where it can, it may still refuse one: a permission).
    offers_rooms: bool = False

    async def open_room(self, community: Community, members: list[Member], name: str, within: str) -> Channel | None:
        """A room of their own for `members`, named `name` (a private thread in the channel `within` on
        Discord, a group DM on Slack); None, with the reason in the log, where it cannot make one. By
        default there are no rooms: None."""
        return None

    async def close_room(self, community: Community, room: Channel) -> None:
        """Close a room that served its purpose. By default (and on Slack, whose group DMs are left quiet)
        there is nothing to do."""

    async def personal_data(self, community: Community, member_id: str) -> dict[str, list[dict[str, Any]]]:
        """What this adapter keeps about a member, by kind, for /my-data. By default nothing."""
        return {}

    async def forget_member(self, community: Community, member: Member) -> None:
        """Erase what this adapter keeps about a member who deletes their data (/my-data delete). By
        default there is nothing to erase."""
