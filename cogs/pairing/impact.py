"""Did it help? The pulse's totals, for /pairing stats and `smallstep export pairing-impact`.

The pulse is one optional question, the "feeling thermometer" of election studies (0 cold to 100 warm,
toward people who vote differently), asked when joining and after each conversation both said happened.
Only the change in the average of those who answered both is ever shown, with how many they are, and
only from `FEWEST` of them: fewer could let someone work out one member's answers.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

FEWEST = 5
FEELINGS = tuple(str(n) for n in range(0, 101, 10))  # the thermometer's steps, as buttons
COLUMNS = ("community", "answered_both", "change_in_average")


@dataclass(frozen=True)
class Pulse:
    """What may be shown of one community's pulse: nothing per member, and nothing below FEWEST."""

    answered: int
    change: float

    @property
    def shown(self) -> bool:
        return self.answered >= FEWEST


def pulse_of(totals: dict[str, tuple[int, float]], community_key: str) -> Pulse:
    answered, change = totals.get(community_key, (0, 0.0))
    return Pulse(answered, round(change or 0.0, 1))


def export(totals: dict[str, tuple[int, float]], fmt: str) -> str:
    """Each community's totals as CSV or JSON; a community with fewer than FEWEST answers says only that."""
    records = []
    for key in sorted(totals):
        pulse = pulse_of(totals, key)
        records.append({"community": key, "answered_both": pulse.answered if pulse.shown else f"fewer than {FEWEST}",
                        "change_in_average": pulse.change if pulse.shown else ""})
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue()
