"""The form a member fills in to join pairing. Its statements are the template's blocks
`view_1` ... `view_N` (N is `cogs.pairing.statements`), each answered agree or disagree; its last
question, optional, is the impact pulse (cogs.pairing.impact)."""

from __future__ import annotations

from bot.forms import Form, choice, long_text, several, short_text
from bot.values import closest_zones, zone
from cogs.pairing.impact import FEELINGS
from cogs.pairing.matching import FORMATS, SLOTS

TEMPLATE = "pairing/form.j2"
MAX_STATEMENTS = 12


def zone_name(text: str) -> str | None:
    """The IANA name for what a member wrote: `Europe/Berlin` in any case, or a city alone (`Berlin`)."""
    found = zone(text)
    if found is not None:
        return found.key
    by_city = [name for name in closest_zones(text, n=5)
               if name.rsplit("/", 1)[-1].casefold() == text.strip().casefold().replace(" ", "_")]
    return by_city[0] if len(by_city) == 1 else None


def joining_form(statements: int) -> Form:
    return Form("pairing", template=TEMPLATE, questions=(
        *(choice(f"view_{n}", "agree", "disagree") for n in range(1, statements + 1)),
        short_text("timezone", max_length=64, validate=lambda text: None if zone_name(text) else "timezone_unknown"),
        several("availability", *SLOTS),
        several("formats", *FORMATS),
        short_text("town", max_length=100, ask_if=lambda answers: "in_person" in (answers.get("formats") or ())),
        long_text("avoid", optional=True, max_length=300),
        # The impact pulse: optional, never shown to anyone, counted only as a change in the average.
        choice("feeling", *FEELINGS, optional=True),
    ))
