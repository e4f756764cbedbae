"""Shared fixtures. Tests run offline against real SQLite files in a temporary folder."""

from __future__ import annotations

import pytest_asyncio

from conversation import Chat


@pytest_asyncio.fixture
async def chat(tmp_path):
    """The whole bot on the console adapter, with the default config (the share cog on)."""
    conversation = await Chat.open(tmp_path)
    yield conversation
    await conversation.close()
