"""The core API that every cog uses, and nothing platform-specific.

    from bot.core import Cog, Invocation, Message, Button, command, action, option
"""

from bot.core.bot import Bot
from bot.core.clock import Clock, parse_duration
from bot.core.cog import Cog, action, command, job, listener, on_submit, option, query
from bot.core.commands import Refusal, UsageError
from bot.core.context import Channel, Community, Invocation, Member, Thread
from bot.core.events import DomainEvent
from bot.core.message import Button, ButtonStyle, Field, File, Image, Message

__all__ = [
    "Bot",
    "Button",
    "ButtonStyle",
    "Channel",
    "Clock",
    "Cog",
    "Community",
    "DomainEvent",
    "Field",
    "File",
    "Image",
    "Invocation",
    "Member",
    "Message",
    "Refusal",
    "Thread",
    "UsageError",
    "action",
    "command",
    "job",
    "listener",
    "on_submit",
    "option",
    "parse_duration",
    "query",
]
