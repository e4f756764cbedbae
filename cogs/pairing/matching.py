"""Who meets whom: pairs as different as possible in their answers, among those who can meet.

Pure functions, no database: the cog loads the members who are in, calls `pair`, and stores
what it returns. Two members may be paired (`allowed`) when

- they answered at least `min_difference` statements differently: by default more than half of them
  (`most_of`, 3 of 5). Research on newspaper-run pairings across political difference ("Deutschland
  spricht"; Heuser and Stötzer's study of its conversations) found that talking with someone
  opposite-minded reduced hostility toward the other side, while talking with someone like-minded made
  views more extreme: someone with no different enough partner is left out, never paired with a near
  twin,
- they share a way to talk (video, phone; in person only in the same town),
- their free hours overlap by at least `min_overlap` hours, once both are turned into UTC
  (`free_hours`: "weekday evenings" in Chicago and in Berlin are different hours),
- they were never paired before and neither blocked the other (`never`).

Among the allowed pairs, networkx's maximum-weight matching picks as many pairs as possible and,
of those, the ones with the most difference in all. Matching on every allowed pair is exact but
grows with the square of the community, so `pair` works on a sparse candidate graph: each member
is linked to the `per_member` most different members they may meet. A large community is
matched in blocks of `block` members who are close in time zone (so most of their candidates
are in the block); those left over in each block meet in one more pass. Members who were left
out of the last round (`waiting`) are first in line: each is given their most different partner
before anyone else is matched.

networkx is imported when pairs are matched, not with this module: it is about 24 MB of memory that a
bot that never runs a round should not hold.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

# The times a member may say they are free, as local hours [start, end) on weekdays or weekends.
SLOTS: dict[str, tuple[bool, int, int]] = {
    "weekday_mornings": (False, 8, 12),
    "weekday_afternoons": (False, 12, 17),
    "weekday_evenings": (False, 17, 21),
    "weekend_mornings": (True, 8, 12),
    "weekend_afternoons": (True, 12, 17),
    "weekend_evenings": (True, 17, 21),
}
FORMATS = ("video", "phone", "in_person")
HOURS_IN_A_WEEK = 168


@dataclass(frozen=True)
class Candidate:
    """A member who is in this round, as the matcher sees them."""

    id: str
    views: tuple[int, ...]            # 1 agree, 0 disagree, one per statement
    hours: int                        # bit h: free in hour h of the week (UTC, Monday 00:00 = 0)
    formats: frozenset[str]
    town: str = ""                    # folded; only for in person
    waiting: bool = False             # left out of the last round: first in line
    offset: float = field(default=0.0, compare=False)  # hours from UTC, to place them in a block


def views_of(answers: Sequence[str]) -> tuple[int, ...]:
    return tuple(1 if answer == "agree" else 0 for answer in answers)


def fold_town(town: str) -> str:
    return " ".join(town.casefold().replace(".", " ").replace(",", " ").split())


def free_hours(zone: str, slots: Iterable[str], week_of: date) -> int:
    """The member's free hours in the week of `week_of`, as a bit mask of UTC hours of the week."""
    return _free_hours(zone, tuple(sorted(slots)), week_of - timedelta(days=week_of.weekday()))


@lru_cache(maxsize=4096)
def _free_hours(zone: str, slots: tuple[str, ...], monday: date) -> int:
    tz = ZoneInfo(zone)
    mask = 0
    for day in range(7):
        local_day = monday + timedelta(days=day)
        weekend = local_day.weekday() >= 5
        for slot in slots:
            on_weekend, start, end = SLOTS[slot]
            if on_weekend != weekend:
                continue
            for hour in range(start, end):
                moment = datetime(local_day.year, local_day.month, local_day.day, hour, tzinfo=tz)
                utc = moment.astimezone(timezone.utc)
                # Hours of the week wrap: Sunday evening in Tokyo is Sunday morning in UTC, and Monday
                # morning in Tokyo is Sunday night in UTC.
                index = ((utc.date() - monday).days * 24 + utc.hour) % HOURS_IN_A_WEEK
                mask |= 1 << index
    return mask


def utc_offset(zone: str, at: datetime) -> float:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


def difference(a: Candidate, b: Candidate) -> int:
    """How many statements they answered differently."""
    return sum(x != y for x, y in zip(a.views, b.views))


def shared_formats(a: Candidate, b: Candidate) -> set[str]:
    shared = set(a.formats & b.formats)
    if "in_person" in shared and (not a.town or a.town != b.town):
        shared.discard("in_person")
    return shared


def overlap(a: Candidate, b: Candidate) -> int:
    """Hours of the week both are free."""
    return (a.hours & b.hours).bit_count()


def key(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


def most_of(statements: int) -> int:
    """More than half of the statements: the fewest two members must answer differently by default."""
    return statements // 2 + 1


@dataclass(frozen=True)
class Rules:
    min_difference: int = 1
    min_overlap: int = 2
    never: frozenset[frozenset[str]] = frozenset()  # pairs that must not meet (met before, blocked)

    def allowed(self, a: Candidate, b: Candidate) -> bool:
        return (a.id != b.id and difference(a, b) >= self.min_difference and overlap(a, b) >= self.min_overlap
                and bool(shared_formats(a, b)) and key(a.id, b.id) not in self.never)


def pair(members: Sequence[Candidate], rules: Rules, *, per_member: int = 8, block: int = 1000,
         seed: int = 0) -> list[tuple[str, str]]:
    """The round's pairs (ids), as different as possible while every rule holds."""
    rng = random.Random(seed)
    pool = list(members)
    rng.shuffle(pool)  # no advantage to whoever joined first
    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    # First in line: those left out last time, each with their most different allowed partner.
    for first in [m for m in pool if m.waiting]:
        if first.id in taken:
            continue
        options = [m for m in pool if m.id not in taken and m.id != first.id and rules.allowed(first, m)]
        if options:
            best = max(options, key=lambda m: (difference(first, m), overlap(first, m)))
            pairs.append((first.id, best.id))
            taken.update((first.id, best.id))
    rest = sorted((m for m in pool if m.id not in taken), key=_place)
    left: list[Candidate] = []
    for start in range(0, len(rest), block):
        chunk = rest[start:start + block]
        found = _matched(chunk, rules, per_member, rng)
        pairs.extend(found)
        done = {i for p in found for i in p}
        left.extend(m for m in chunk if m.id not in done)
    if len(left) > 1:  # the few left over: every allowed pair among them, or candidates if they are many
        pairs.extend(exact(left, rules) if len(left) <= block // 4 else _matched(left, rules, per_member, rng))
    return pairs


def too_alike(members: Sequence[Candidate], pairs: Iterable[tuple[str, str]], rules: Rules) -> int:
    """How many of those `pairs` left out had someone to meet (free at the same time, a way to talk in
    common, never paired before, no block) but only someone who answered too few statements differently.
    Whoever had a different enough partner, taken by someone else, was left out for another reason."""
    paired = {i for pair in pairs for i in pair}
    alike_allowed = replace(rules, min_difference=0)
    return sum(1 for member in members if member.id not in paired
               and not any(rules.allowed(member, other) for other in members)
               and any(alike_allowed.allowed(member, other) for other in members))


def exact(members: Sequence[Candidate], rules: Rules) -> list[tuple[str, str]]:
    """The best possible pairs, on every allowed pair: for checking `pair` (slow on a large community)."""
    import networkx as nx  # late: see the module's docstring

    graph = nx.Graph()
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            if rules.allowed(a, b):
                graph.add_edge(a.id, b.id, weight=difference(a, b))
    return [tuple(p) for p in nx.max_weight_matching(graph, maxcardinality=True)]


def _place(member: Candidate) -> tuple:
    """Where a member sits in the order blocks are cut from: those who meet only in person by town,
    then everyone by time zone, so that a block holds people who can meet."""
    only_in_person = member.formats == {"in_person"}
    return (0 if only_in_person else 1, member.town if only_in_person else "", member.offset)


def _matched(members: Sequence[Candidate], rules: Rules, per_member: int, rng: random.Random) -> list[tuple[str, str]]:
    import networkx as nx  # late: see the module's docstring

    graph = nx.Graph()
    graph.add_nodes_from(m.id for m in members)
    by_views: dict[tuple[int, ...], list[Candidate]] = defaultdict(list)
    for member in members:
        by_views[member.views].append(member)
    patterns = list(by_views)
    for member in members:
        found, budget = 0, per_member * 50  # looked at: so that rare fits cannot make it quadratic
        # The most different answers first; within one pattern, from a random place.
        for views in sorted(patterns, key=lambda v: -sum(x != y for x, y in zip(v, member.views))):
            gap = sum(x != y for x, y in zip(views, member.views))
            if gap < rules.min_difference or found >= per_member or budget < 0:
                break
            group = by_views[views]
            start = rng.randrange(len(group))
            for other in group[start:] + group[:start]:
                budget -= 1
                if budget < 0:
                    break
                if rules.allowed(member, other):
                    graph.add_edge(member.id, other.id, weight=gap)
                    found += 1
                    if found >= per_member:
                        break
    return [tuple(p) for p in nx.max_weight_matching(graph, maxcardinality=True)]
