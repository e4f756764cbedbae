"""The core API that every cog uses, and nothing platform-specific.

    from bot.core import Cog, Invocation, Message, Button, command, action, option
"""

from bot.core.clock import Clock
from bot.core.cog import Cog, action, command, job, listener, option, query
from bot.core.context import Channel, Community, Invocation, Member, Thread
from bot.core.errors import Refusal, UsageError
from bot.core.events import DomainEvent
from bot.core.message import Button, ButtonStyle, Field, File, Image, Message
from bot.values import parse_duration

__all__ = [
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
    "option",
    "parse_duration",
    "query",
]
