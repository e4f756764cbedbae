"""Numbered SQL migrations, applied once each, in order, per component.

A component is the core, an adapter or a cog. Each ships a `migrations/` folder of
files named `NNNN_what_it_does.sql`. The runner records every applied file in
`schema_migrations`; running it again applies nothing. A migration and its record
are committed together, so a crash never leaves one without the other.

Migrations are written in SQLite's words, types in capitals (`INTEGER`, `TEXT`, `REAL`, `BLOB`);
`Database.schema` says them in the database's own (on PostgreSQL, its types). Where SQLite's words have no
match there (its JSON functions, a two-argument MIN), a migration ships PostgreSQL's own beside it,
`NNNN_what_it_does.postgresql.sql`, run in its place on PostgreSQL and recorded under the same name. Processes that start together take turns (`Database.migrating`): each
migration runs once, in the first of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.resources.abc import Traversable

from bot.storage.db import Database, StorageError

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_VARIANT = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(postgresql)\.sql$")  # another database's words for a migration
_COMPONENT = re.compile(r"^[a-z0-9_.:-]+$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def read_migrations(folder: Traversable, component: str, dialect: str = "sqlite") -> list[Migration]:
    """The migrations in a folder, in order, each in `dialect`'s words where it has its own. Misnamed or
    duplicate files are errors, and so is another database's wording of no migration."""
    if not folder.is_dir():
        return []
    found: dict[int, Migration] = {}
    variants: dict[str, str] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        variant = _VARIANT.match(entry.name)
        if variant:
            if variant.group(3) == dialect:
                variants[f"{variant.group(1)}_{variant.group(2)}.sql"] = entry.read_text(encoding="utf-8")
            else:
                variants.setdefault(f"{variant.group(1)}_{variant.group(2)}.sql", "")
            continue
        match = _FILE.match(entry.name)
        if not match:
            raise StorageError(
                f"{component}: migration file {entry.name!r} must be named NNNN_description.sql "
                "(four digits, then lower-case words joined by _)"
            )
        version = int(match.group(1))
        if version in found:
            raise StorageError(f"{component}: two migrations are numbered {version:04d}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    names = {m.name for m in found.values()}
    for name in variants:
        if name not in names:
            raise StorageError(f"{component}: there is no migration {name} for its other wording")
    return [Migration(found[v].version, found[v].name, variants.get(found[v].name) or found[v].sql)
            for v in sorted(found)]


async def apply_migrations(db: Database, component: str, folder: Traversable) -> list[str]:
    """Apply the component's migrations that are not yet recorded; return their file names."""
    if not _COMPONENT.match(component):
        raise StorageError(f"invalid component name for migrations: {component!r}")
    migrations = read_migrations(folder, component, db.dialect)
    async with db.migrating():
        await db.execute(db.schema(_CREATE_LEDGER))
        done = {row[0] for row in await db.fetchall(
            "SELECT version FROM schema_migrations WHERE component = ?", (component,))}
        applied = []
        for migration in migrations:
            if migration.version in done:
                continue
            # The names are checked by the regexes above, so quoting them into the script is safe.
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            record = (
                "INSERT INTO schema_migrations (component, version, name, applied_at) "
                f"VALUES ('{component}', {migration.version}, '{migration.name}', '{now}');"
            )
            try:
                await db.executescript(f"{db.schema(migration.sql)}\n;\n{record}")
            except StorageError as exc:
                raise StorageError(f"migration {component}/{migration.name} failed: {exc}") from exc
            applied.append(migration.name)
    return applied
