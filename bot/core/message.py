"""The platform-neutral message a cog sends.

A cog fills in a `Message`; each adapter turns it into what its platform shows:
a Discord embed with a view of buttons and attached files, Slack Block Kit, or
lines of text in the console. Every string in a Message is already formatted
for the target platform (it came out of a template, where member text was escaped).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable


MAX_BUTTON_ID = 100


class ButtonStyle(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """A button that runs the cog's `@action(action)` handler with `value` when pressed.

    The action id is stable (it may be pressed days later, after restarts);
    `value` carries what the handler needs to know, e.g. a story id.
    """

    label: str
    action: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.PRIMARY

    def __post_init__(self) -> None:
        # Platforms carry "action|value" in a button id of at most 100 characters (Discord).
        if len(self.action) + 1 + len(self.value) > MAX_BUTTON_ID:
            raise ValueError(f"button {self.label!r}: action and value together exceed {MAX_BUTTON_ID - 1} characters;"
                             " keep the value short (an id), not the data itself")


@dataclass(frozen=True)
class Image:
    """An image sent with the message (PNG bytes and the file name members will download)."""

    filename: str
    data: bytes
    description: str = ""


@dataclass(frozen=True)
class File:
    """A file to download (an export, a calendar), sent with the message."""

    filename: str
    data: bytes
    description: str = ""


@dataclass(frozen=True)
class Field:
    """A labelled block of text (an embed field on Discord, a section on Slack)."""

    name: str
    value: str
    inline: bool = False


@dataclass
class Message:
    """What to say. `ephemeral` means only the member who asked sees it."""

    text: str = ""
    title: str = ""
    fields: list[Field] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    ephemeral: bool = False
    #: A small picture on the web shown beside the text (a partner's logo): an https address.
    thumbnail_url: str = ""
    #: Posted in a channel: open a discussion thread under it, with this name, where a platform opens
    #: threads itself (Discord); on Slack the replies to a message are its thread.
    thread: str = ""

    @classmethod
    def of(cls, content: Message | str) -> Message:
        return content if isinstance(content, Message) else cls(text=content)

    def to_json(self, keep: Callable[[bytes], str] = lambda data: base64.b64encode(data).decode()) -> dict[str, Any]:
        """The message as JSON-ready data, to keep it in the database until it is delivered.

        `keep` turns an image's or file's bytes into what is written for them (base64 by default;
        the outbox keeps the bytes apart and writes their hash).
        """
        return {
            "text": self.text, "title": self.title, "ephemeral": self.ephemeral, "thumbnail_url": self.thumbnail_url,
            "thread": self.thread,
            "fields": [[f.name, f.value, f.inline] for f in self.fields],
            "buttons": [[b.label, b.action, b.value, str(b.style)] for b in self.buttons],
            "images": [[i.filename, keep(i.data), i.description] for i in self.images],
            "files": [[f.filename, keep(f.data), f.description] for f in self.files],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], fetch: Callable[[str], bytes] = base64.b64decode) -> Message:
        """The message again, from `to_json`'s data; `fetch` undoes its `keep`."""
        return cls(
            text=data["text"], title=data["title"], ephemeral=data["ephemeral"], thumbnail_url=data["thumbnail_url"],
            thread=data.get("thread", ""),  # messages queued before threads were kept without it
            fields=[Field(name, value, inline) for name, value, inline in data["fields"]],
            buttons=[Button(label, action, value, ButtonStyle(style)) for label, action, value, style in data["buttons"]],
            images=[Image(name, fetch(kept), about) for name, kept, about in data["images"]],
            files=[File(name, fetch(kept), about) for name, kept, about in data["files"]],
        )
