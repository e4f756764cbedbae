"""The console adapter, the embedded default: `smallstep console`."""

from bot.platforms.console.adapter import ConsoleAdapter, Delivery, format_message
from bot.platforms.console.runner import run_console

__all__ = ["ConsoleAdapter", "Delivery", "format_message", "run_console"]
