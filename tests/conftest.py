"""Shared fixtures. Tests run offline against real SQLite files in a temporary folder, or, with
SMALLSTEP_TEST_DATABASE=postgresql, against a real PostgreSQL database of each test's own."""

from __future__ import annotations

import pytest
import pytest_asyncio

import databases
from conversation import Chat


def pytest_report_header() -> str:
    return f"database: {databases.KIND}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite's own file (its journal, its page limit, its"
                                       " write lock): runs in the SQLite pass")
    config.addinivalue_line("markers", "postgres_only: about PostgreSQL's own server (its locks, its sessions):"
                                       " runs in the PostgreSQL pass")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test about one database's own machinery runs in that database's pass; every other test runs in both.
    The others are deselected (and counted as such), never skipped."""
    other = "sqlite_only" if databases.ON_POSTGRES else "postgres_only"
    deselected = [item for item in items if item.get_closest_marker(other)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


@pytest.fixture(autouse=True)
def _a_database_per_test():
    """Each test's PostgreSQL database is dropped after it (SQLite's file goes with its folder)."""
    yield
    databases.forget_databases()


@pytest_asyncio.fixture
async def chat(tmp_path):
    """The whole bot on the console adapter, with the default config (the share cog on)."""
    conversation = await Chat.open(tmp_path)
    yield conversation
    await conversation.close()
