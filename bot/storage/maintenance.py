"""Looking after the database from the command line: a backup while the bot runs, a check of the
file and of its migrations, and the bot's state at a glance. Plain sqlite3, read-only on the file."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.storage.migrations import read_migrations


def _read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    return conn


def backup(source: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup API: a consistent copy even while the bot
    writes. Returns the number of pages copied."""
    with _read_only(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        return dst.execute("PRAGMA page_count").fetchone()[0]


@dataclass
class Check:
    integrity: list[str]
    applied: dict[str, list[str]] = field(default_factory=dict)
    pending: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"]


def check(path: Path, components: dict[str, Traversable]) -> Check:
    """SQLite's integrity check, and each component's migrations: applied, and still to apply
    (`components` names each migrations folder, e.g. {"core": ..., "cog:share": ...})."""
    with _read_only(path) as conn:
        result = Check([row[0] for row in conn.execute("PRAGMA integrity_check")])
        known = conn.execute("SELECT name FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()
        rows = conn.execute("SELECT component, name FROM schema_migrations ORDER BY component, version").fetchall() \
            if known else []
    for row in rows:
        result.applied.setdefault(row["component"], []).append(row["name"])
    for component, folder in components.items():
        missing = [m.name for m in read_migrations(folder, component) if m.name not in result.applied.get(component, [])]
        if missing:
            result.pending[component] = missing
    return result


def status(path: Path) -> dict[str, object]:
    """What the bot has on its hands: how its loops are doing, messages waiting, scheduled jobs, open forms,
    communities."""
    with _read_only(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

        def rows(sql: str, table: str) -> list[sqlite3.Row]:
            return conn.execute(sql).fetchall() if table in tables else []

        return {
            "loops": [(r["name"], r["last_ok_at"], r["last_error_at"], r["last_error"], r["failures"]) for r in rows(
                "SELECT name, last_ok_at, last_error_at, last_error, failures FROM loop_health ORDER BY name",
                "loop_health")],
            "outbox": {r["status"]: r["n"] for r in rows("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status",
                                                         "outbox")},
            "jobs": [(r["component"], r["name"], r["next_run_at"]) for r in rows(
                "SELECT component, name, next_run_at FROM scheduled_jobs ORDER BY next_run_at", "scheduled_jobs")],
            "open_forms": {r["form"]: r["n"] for r in rows(
                "SELECT form, COUNT(*) AS n FROM form_drafts GROUP BY form", "form_drafts")},
            "communities": [r["community"] for r in rows(
                "SELECT DISTINCT community FROM domain_events ORDER BY community", "domain_events")],
            "channel_problems": channel_problems(conn, tables),
            "missing_permissions": missing_permissions(conn, tables),
        }


def left_waiting(path: Path) -> dict[str, int]:
    """What waits for the bot's next start: messages in the outbox, open forms (read beside a bot that
    may be stuck; WAL lets a reader through whatever a writer holds)."""
    with _read_only(path) as conn:
        conn.execute("PRAGMA busy_timeout = 1000")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        count = lambda sql, table: conn.execute(sql).fetchone()[0] if table in tables else 0  # noqa: E731
        return {"outbox": count("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'unreachable')", "outbox"),
                "forms": count("SELECT COUNT(*) FROM form_drafts", "form_drafts")}
def unusable_channels(path: Path) -> list[str]:
    """The channels the running bot found missing or closed to it, and what the platform does not allow it (a
    permission its role lacks), as warnings to print (none without a database yet)."""
    if not path.exists():
        return []
    with _read_only(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        return channel_problems(conn, tables) + missing_permissions(conn, tables)


def missing_permissions(conn: sqlite3.Connection, tables: set[str]) -> list[str]:
    """What the cogs need of Discord that the bot's role lacked when the bot last looked (the Discord adapter
    keeps it, and forgets it once granted)."""
    if "discord_missing_permissions" not in tables:
        return []
    rows = conn.execute("SELECT community, permission, lost, seen_at FROM discord_missing_permissions"
                        " ORDER BY community, permission")
    return [f"{r['community']}: the bot lacks {r['permission']}, so {r['lost']} (seen {r['seen_at'][:16].replace('T', ' ')}"
            f" UTC); give its role {r['permission']}, or invite it again with the link `smallstep invite-url` prints"
            for r in rows]


def channel_problems(conn: sqlite3.Connection, tables: set[str]) -> list[str]:
    if "channel_problems" not in tables:
        return []
    rows = conn.execute("SELECT community, channel, problem, seen_at FROM channel_problems ORDER BY community, channel")
    return [f"{r['community']}: the moderators' channel {r['channel']!r}: {r['problem']}"
            f" (seen {r['seen_at'][:16].replace('T', ' ')} UTC); submissions wait in the queue commands" for r in rows]
