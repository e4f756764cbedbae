"""Exporting approved testimonials, credited as each member chose, as CSV or JSON."""

from __future__ import annotations

import asyncio
import csv
import io
import json

from bot.storage import Database
from cogs.testimonials.store import Testimonial, quotable

FORMATS = ("csv", "json")
COLUMNS = ("id", "credited_as", "story", "surprise", "advice", "consent_wording", "consent_given_at", "approved_at")


def credited_name(testimonial: Testimonial, anonymous: str) -> str:
    """The name a testimonial may be quoted under: full name, first name only, or none."""
    words = testimonial.member_name.split()
    if testimonial.credit == "anonymous" or not words:
        return anonymous
    return words[0] if testimonial.credit == "first_name" else " ".join(words)


def rows(testimonials: list[Testimonial], anonymous: str) -> list[dict[str, str | int]]:
    return [{
        "id": t.id,
        "credited_as": credited_name(t, anonymous),
        "story": t.story,
        "surprise": t.surprise,
        "advice": t.advice or "",
        "consent_wording": t.consent_wording,
        "consent_given_at": t.consent_at,
        "approved_at": t.decided_at or "",
    } for t in testimonials]


def render(records: list[dict[str, str | int]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    # A cell starting with = + - @ (or a tab or return before one) would run as a formula in a
    # spreadsheet: make it plain text.
    writer.writerows({k: _no_formula(v) for k, v in record.items()} for record in records)
    return out.getvalue()


def _no_formula(value: str | int) -> str | int:
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def export(db: Database, fmt: str, community_key: str | None = None, anonymous: str = "Anonymous") -> str:
    """The approved, quotable testimonials of one community (or all), as CSV or JSON text."""
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}")
    testimonials = await quotable(db, community_key)
    # Thousands of rows to write out: on a thread, so that members are answered meanwhile.
    return await asyncio.to_thread(lambda: render(rows(testimonials, anonymous), fmt))
