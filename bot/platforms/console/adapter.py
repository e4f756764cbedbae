"""The console adapter: the whole bot in a terminal, with no token and no network.

You act as any member, type slash commands, press buttons and move the clock:

    /share                      a command in the current channel (#general at start)
    /share-prompt #general      options: bare values in order, or name:value / name:"a b"
    :as alice                   act as alice (created on first use)
    :mod alice                  make alice a moderator (:unmod alice undoes it)
    :dm hello                   send the bot a direct message (":dm /share" runs a command there)
    :press I shared it          press a button you can see, the newest with that label (or :press 1)
    :press 5.2                  press the second button of message 5 (an earlier one)
    :join bob                   bob joins the community (and gets the welcome DM)
    :channel events             move to #events
    :clock +25h                 move the bot's clock forward for this run; scheduled work runs
    :clock reset                back to the real time
    :dms off                    close your direct messages (as a member with DMs closed); :dms on opens them
    :quit

What the bot says is printed with where it went: `[#general]`, `[DM alice]`, or
`[private alice]` (seen only by alice). Buttons show as `[1] Label`, under the message's number
(`message 5`); images and files are saved to a folder and their path printed. The console is also what tests and demos drive:
given a script on standard input, it runs it line by line.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import textwrap
import uuid
from collections import deque
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Callable

from bot.app import Bot
from bot.core import Button, Channel, Community, Invocation, Member, Message, Thread, parse_duration
from bot.core.adapter import Adapter
from bot.core.adapter import Delivery as OutboxDelivery
from bot.core.errors import ChannelUnavailable, MemberUnreachable
from bot.platforms.text import readable
from bot.render.escape import escape_console
from bot.storage import apply_migrations

log = logging.getLogger(__name__)

COMMUNITY_ID = "local"
KEPT_PER_VIEWER = 20  # the messages with buttons each viewer can still press, newest last
_CONSOLE_HELP = """\
Console commands:
  /command [options]   run a slash command in the current channel (try /help)
  :as NAME             act as member NAME
  :mod NAME            make NAME a moderator (:unmod NAME undoes it)
  :dm TEXT             send the bot a direct message (:dm /command runs a command in your DMs)
  :press LABEL | N     press a button: the newest you can see with that label, or button N of the
                       newest message with buttons; :press M.N presses button N of message M
  :join NAME           NAME joins the community (they get the welcome DM)
  :channel NAME        move to #NAME
  :clock +DURATION     move the bot's clock forward for this run (e.g. +25h, +7d); due work runs
  :clock reset         back to the real time
  :dms off | on        close or open your direct messages, to see what members with closed DMs see
  :quit                leave"""


@dataclass
class Delivery:
    """One message as the console showed it: where it went, what it said, files saved."""

    where: str
    message: Message
    printed: str
    saved: list[Path] = field(default_factory=list)  # images and files, where the console saved them
    message_id: str = ""

    @property
    def text(self) -> str:
        """The message's text, without the console's decoration."""
        return self.message.text


@dataclass
class Pressable:
    """A message whose buttons a viewer can still press: its number, where it was, its first line."""

    seq: int
    channel: str | None
    buttons: list[Button]
    title: str = ""


class ConsoleAdapter(Adapter):
    """A chat platform simulated in a terminal. See the module docstring for the commands."""

    platform = "console"

    def __init__(self, bot: Bot, *, images_dir: Path, write: Callable[[str], None] = print,
                 observe: Callable[[Delivery], None] | None = None) -> None:
        self.bot = bot
        self.write = write
        self.observe = observe
        self.images_dir = images_dir
        settings = bot.config.console
        self.community = Community(self.platform, COMMUNITY_ID, settings.community_name)
        self.acting = settings.member
        self.channel = settings.channel.lstrip("#")
        self.moderators = {name.lower() for name in settings.moderators}
        self.read_only_channels = {name.lstrip("#").lower() for name in settings.read_only_channels}
        self._pressable: dict[str, deque[Pressable]] = {}  # by viewer: @member or #channel
        self._seq = 0
        # Message ids: a random prefix for this run, then a count. Cheaper than a random id for each message
        # (every answer in a form is one); nothing stores them as unique, and within a run none repeats.
        run = uuid.uuid4().hex[:8]
        self._message_ids = (f"{run}{n:04x}" for n in itertools.count(1))
        self._names: dict[str, str] = {}
        self._started = False
        self._images_saved: int | None = None
        self.closed_dms: set[str] = set()
        self._console_commands = {
            "as": self._as, "mod": self._mod, "unmod": self._unmod, "dm": self._dm, "press": self._press,
            "channel": self._channel, "clock": self._clock, "help": self._help, "dms": self._dms, "join": self._join,
        }

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Restore what the console remembers: moderators, and buttons on screen. The clock is not
        restored: a run's `:clock` lasts for that run."""
        self.bot.attach(self)
        db = self.bot.db
        await apply_migrations(db, "console", files("bot.platforms.console") / "migrations")
        key = self.community.key
        for row in await db.fetchall("SELECT member_id FROM console_moderators WHERE community = ?", (key,)):
            self.moderators.add(row["member_id"])
        for row in await db.fetchall("SELECT * FROM console_messages WHERE community = ? ORDER BY seq", (key,)):
            buttons = [Button(b["label"], b["action"], b["value"], b["style"]) for b in json.loads(row["buttons"])]
            self._remember(row["viewer"], Pressable(row["seq"], row["channel"], buttons, row["title"]))
            self._seq = max(self._seq, row["seq"])
        self._started = True
        self.bot.outbox.kick()  # what was queued before the last stop

    async def close(self) -> None:
        """Keep the buttons on screen for next time (they are screen state, saved once at exit)."""
        if not self._started:
            return
        rows = [
            (self.community.key, p.seq, viewer, p.channel, p.title,
             json.dumps([{"label": b.label, "action": b.action, "value": b.value, "style": b.style}
                         for b in p.buttons]))
            for viewer, kept in self._pressable.items() for p in kept
        ]
        async with self.bot.db.transaction() as tx:
            await tx.execute("DELETE FROM console_messages WHERE community = ?", (self.community.key,))
            await tx.executemany("INSERT INTO console_messages VALUES (?, ?, ?, ?, ?, ?)", rows)

    def _remember(self, viewer: str, pressable: Pressable) -> None:
        self._pressable.setdefault(viewer, deque(maxlen=KEPT_PER_VIEWER)).append(pressable)

    # -- one line of input -------------------------------------------------------------

    async def handle_line(self, line: str) -> bool:
        """Carry out one line; returns False when the console should stop."""
        line = readable(line.strip())  # bytes that were not UTF-8 arrive from standard input as lone surrogates
        if not line or line.startswith("#"):
            return True
        if line.startswith("/"):
            await self.bot.run_line(self.invocation(self.channel), line)
            await self.bot.outbox.idle()  # what the command queued is shown before the next line
            return True
        if not line.startswith(":"):
            self.note("commands start with / (try /help); console commands start with : (try :help)")
            return True
        word, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        handler = self._console_commands.get(word.lower())
        if word.lower() in ("quit", "exit", "q"):
            return False
        if handler is None:
            self.note(f"unknown console command :{word} (try :help)")
        else:
            await handler(rest)
            await self.bot.outbox.idle()
        return True

    def invocation(self, channel: str | None) -> Invocation:
        return Invocation(
            bot=self.bot, adapter=self, community=self.community, member=self.member(self.acting),
            channel=Channel(channel, channel) if channel else None,
        )

    def member(self, name: str) -> Member:
        name = name.strip().lstrip("@")
        member_id = name.lower()
        display = self._names.setdefault(member_id, name)
        return Member(self.platform, member_id, display, is_moderator=member_id in self.moderators)

    def note(self, text: str) -> None:
        """A line from the console itself, not from the bot."""
        self.write(f"(console) {escape_console(text)}")

    async def _as(self, name: str) -> None:
        if not name.strip().lstrip("@"):
            self.note(f"you are {self.acting}; write :as NAME to act as someone else")
            return
        self.acting = self.member(name).display_name
        self.note(f"you are now {self.acting}")

    async def _mod(self, name: str) -> None:
        if not name.strip().lstrip("@"):
            self.note("write :mod NAME")
            return
        member = self.member(name)
        self.moderators.add(member.id)
        await self.bot.db.execute("INSERT INTO console_moderators VALUES (?, ?) ON CONFLICT DO NOTHING",
                                  (self.community.key, member.id))
        self.note(f"{member.display_name} is now a moderator")

    async def _unmod(self, name: str) -> None:
        if not name.strip().lstrip("@"):
            self.note("write :unmod NAME")
            return
        member = self.member(name)
        self.moderators.discard(member.id)
        await self.bot.db.execute("DELETE FROM console_moderators WHERE community = ? AND member_id = ?",
                                  (self.community.key, member.id))
        self.note(f"{member.display_name} is no longer a moderator")

    async def _dm(self, text: str) -> None:
        ctx = self.invocation(None)
        if text.startswith("/"):
            await self.bot.run_line(ctx, text)
        else:
            await self.bot.receive_dm(ctx, text)

    async def _press(self, which: str) -> None:
        """`:press LABEL`: the newest button with that label you can see here; `:press N`: button N of
        the newest message with buttons; `:press M.N`: button N of message M, wherever you can see it."""
        own = f"@{self.member(self.acting).id}"
        which = which.strip()
        numbered = re.fullmatch(r"(\d{1,9})\.(\d{1,3})", which) if which.isascii() else None
        if numbered:
            seq, which = int(numbered.group(1)), numbered.group(2)
            # Their own private messages and DMs, and any channel's (a member may scroll any channel).
            found = [p for key, kept in self._pressable.items() if key == own or key.startswith("#")
                     for p in kept if p.seq == seq]
            if not found:
                self.note(f"there is no message {seq} with buttons that you can see")
                return
        else:
            found = sorted((p for key in (own, f"#{self.channel}") for p in self._pressable.get(key, ())),
                           key=lambda p: p.seq, reverse=True)
            if not found:
                self.note("there is no message with buttons here")
                return
            if not (which.isascii() and which.isdigit()):  # a label: the newest message that has it
                found = [p for p in found if _pick(p.buttons, which)] or found
        pressable = found[0]
        button = _pick(pressable.buttons, which)
        if button is None:
            labels = ", ".join(f"[{i}] {b.label}" for i, b in enumerate(pressable.buttons, 1))
            self.note(f"no button {which!r}; the buttons of message {pressable.seq} are {labels}")
            return
        where = f"#{pressable.channel}" if pressable.channel else "your DMs"
        self.note(f"pressed {button.label!r} on message {pressable.seq} ({where}: {pressable.title})")
        await self.bot.press(self.invocation(pressable.channel), button.action, button.value)

    async def _join(self, name: str) -> None:
        if not name.strip().lstrip("@"):
            self.note("write :join NAME")
            return
        member = self.member(name)
        self.note(f"{member.display_name} joined the community")
        await self.bot.events.emit("member.joined", self.community, member)

    async def _channel(self, name: str) -> None:
        name = name.strip().lstrip("#").lower()
        if not name or " " in name:
            self.note(f"you are in #{self.channel}; write :channel NAME (one word) to move")
            return
        self.channel = name
        self.note(f"you are now in #{self.channel}")

    async def _clock(self, text: str) -> None:
        if text.strip().lower() == "reset":
            self.bot.clock.reset()
            await self.bot.scheduler.clock_went_back()
            self.note(f"the clock is back to the real time: {self.bot.clock.now():%a %d %b %Y %H:%M} UTC")
            return
        try:
            self.bot.clock.advance(parse_duration(text))
        except ValueError as exc:
            self.note(f"{exc} (or :clock reset for the real time)")
            return
        self.note(f"the clock is now {self.bot.clock.now():%a %d %b %Y %H:%M} UTC, for this run"
                  " (:clock reset goes back)")
        await self.bot.scheduler.run_due()

    async def _dms(self, setting: str) -> None:
        member = self.member(self.acting)
        if setting.lower() not in ("on", "off"):
            self.note("write :dms off or :dms on")
            return
        (self.closed_dms.discard if setting.lower() == "on" else self.closed_dms.add)(member.id)
        self.note(f"{member.display_name}'s direct messages are {setting.lower()}")

    async def _help(self, _: str) -> None:
        self.write(_CONSOLE_HELP)

    async def forget_member(self, community: Community, member: Member) -> None:
        """What the console remembers of a member who erased their data: their buttons on screen, their role."""
        self._pressable.pop(f"@{member.id}", None)
        self.moderators.discard(member.id)
        await self.bot.db.execute("DELETE FROM console_messages WHERE community = ? AND viewer = ?",
                                  (community.key, f"@{member.id}"))
        await self.bot.db.execute("DELETE FROM console_moderators WHERE community = ? AND member_id = ?",
                                  (community.key, member.id))

    # -- the Adapter protocol ----------------------------------------------------------

    async def respond(self, ctx: Invocation, message: Message, *, private: bool) -> None:
        if private and ctx.channel is not None:
            self._show(f"private {ctx.member.display_name}", f"@{ctx.member.id}", ctx.channel.id, message)
        elif ctx.channel is None:
            self._show(f"DM {ctx.member.display_name}", f"@{ctx.member.id}", None, message)
        else:
            self._show(f"#{ctx.channel.id}", f"#{ctx.channel.id}", ctx.channel.id, message)

    async def send(self, community: Community, to: Channel | Member | Thread, message: Message, *,
                   delivery: OutboxDelivery | None = None) -> str:
        """Printed as it is sent: a terminal has nothing to repeat after a restart, so `delivery` is not needed.
        A post in a thread is shown under its channel with the message it hangs from."""
        if isinstance(to, Member):
            if to.id in self.closed_dms:
                raise MemberUnreachable(f"{to.display_name} does not accept direct messages")
            return self._show(f"DM {to.display_name}", f"@{to.id}", None, message)
        if isinstance(to, Thread):
            channel = to.channel.id
            return self._show(f"#{channel}, thread of message {to.root}", f"#{channel}", channel, message)
        problem = await self.check_channel(community, to)
        if problem:
            raise ChannelUnavailable(problem)
        return self._show(f"#{to.id}", f"#{to.id}", to.id, message)

    def serves(self, community: Community) -> bool:
        return community.key == self.community.key

    async def check_channel(self, community: Community, channel: Channel) -> str | None:
        if channel.id in self.read_only_channels:
            return f"#{channel.name} is read-only for the bot (console.read_only_channels)"
        return None

    async def edit(self, community: Community, channel: Channel, message_id: str, message: Message) -> None:
        self._show(f"#{channel.id}, message {message_id} edited", f"#{channel.id}", channel.id, message,
                   message_id=message_id)

    def command_text(self, name: str) -> str:
        return f"/{name}"

    async def resolve_channel(self, community: Community, text: str) -> Channel | None:
        name = text.strip().lstrip("#").lower()
        return Channel(name, name) if name and " " not in name else None

    async def resolve_member(self, community: Community, text: str) -> Member | None:
        name = text.strip()
        return self.member(name) if name.startswith("@") and len(name) > 1 else None

    # -- output ------------------------------------------------------------------------

    def _show(self, where: str, viewer: str, channel: str | None, message: Message, message_id: str = "") -> str:
        message_id = message_id or next(self._message_ids)
        paths = [self._save_file(item.filename, item.data) for item in [*message.images, *message.files]]
        seq = None
        if message.buttons:
            self._seq = seq = self._seq + 1
            first_line = (message.title or message.text).strip().split("\n", 1)[0]
            title = textwrap.shorten(first_line, 60, placeholder="…")
            self._remember(viewer, Pressable(seq, channel, list(message.buttons), title))
        text = format_message(escape_console(where), message, paths, seq)
        if self.observe is not None:
            self.observe(Delivery(where, message, text, paths, message_id))
        self.write(text)
        return message_id

    def _save_file(self, filename: str, data: bytes) -> Path:
        if self._images_saved is None:  # continue the numbering of an earlier session
            self.images_dir.mkdir(parents=True, exist_ok=True)
            numbers = [int(m.group(1)) for p in self.images_dir.iterdir() if (m := re.match(r"(\d+)-", p.name))]
            self._images_saved = max(numbers, default=0)
        self._images_saved += 1
        path = self.images_dir / f"{self._images_saved:04d}-{Path(filename).name}"
        path.write_bytes(data)
        return path.resolve()


def format_message(where: str, message: Message, saved: list[Path], seq: int | None = None) -> str:
    """A message as console lines: `[where] title`, then the rest indented; its buttons last, under its
    number (`seq`), which `:press 5.1` names."""
    body = message.text.splitlines()
    head = message.title or (body.pop(0) if body else "")
    lines = [f"[{where}] {head}"]
    lines += [f"  {line}".rstrip() for line in body]
    for f in message.fields:
        lines.append(f"  {f.name}")
        lines += [f"    {line}".rstrip() for line in f.value.splitlines()]
    kinds = ["image"] * len(message.images) + ["file"] * len(message.files)
    lines += [f"  {kind}: {path}" for kind, path in zip(kinds, saved)]
    if message.thumbnail_url:
        lines.append(f"  picture: {message.thumbnail_url}")
    if message.thread:
        lines.append(f"  thread: {message.thread}")
    if message.buttons and seq is not None:
        lines.append(f"  message {seq}:")
    lines += [f"  [{i}] {b.label}" for i, b in enumerate(message.buttons, 1)]
    return "\n".join(lines)


def _pick(buttons: list[Button], which: str) -> Button | None:
    which = which.strip()
    if which.isascii() and which.isdigit():
        index = int(which) - 1
        return buttons[index] if 0 <= index < len(buttons) else None
    for button in buttons:
        if button.label.lower() == which.lower():
            return button
    return None

