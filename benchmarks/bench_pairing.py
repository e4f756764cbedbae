"""Pairing: how good the pairs are, and how long a round takes for a large community.

    python benchmarks/bench_pairing.py [--quality-members 1000] [--members 10000] [--all-cores]

Both use the bot's default threshold: two members are paired only when they answered more than half of
the statements differently (3 of 5).

Quality: on 1,000 members, the total difference of the bot's pairs (its sparse candidate graph,
matched in blocks) as a ratio to the exact maximum-weight matching over every allowed pair,
computed in the same run; beside it, the floor a random pairing of allowed members gets (as a
Donut-style shuffle would, keeping the rules). Both the bot and the exact matching pair as many
members as possible first, then maximise the difference.

Speed: on 10,000 members who joined through the store, one whole round through the cog: the
members read from SQLite, the rules (past pairs, blocks), the matching, the pairs and their
introductions written to the outbox (20 pairs a transaction); and the matcher alone. Peak memory
is the process's peak resident set, before and after the round.
"""

from __future__ import annotations

import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import command_line  # noqa: E402

from bot.app import Bot
from bot.config import parse_config  # noqa: E402
from bot.core import Community, Member  # noqa: E402
from cogs.pairing.matching import (FORMATS, SLOTS, Candidate, Rules, difference, exact, fold_town,  # noqa: E402
                                   free_hours, most_of, pair, too_alike, utc_offset)

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix",
         "Europe/London", "Europe/Berlin")
TOWNS = ("Wichita", "Dayton", "Fresno", "Tulsa", "Boise", "Akron", "Macon", "Provo", "Erie", "Yuma")
NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
RULES = Rules(min_difference=most_of(5))


def answers(rng: random.Random) -> dict:
    formats = rng.sample(FORMATS, rng.choice((1, 1, 2, 3)))
    return {"views": [rng.choice(("agree", "disagree")) for _ in range(5)], "timezone": rng.choice(ZONES),
            "availability": rng.sample(list(SLOTS), rng.randint(1, 3)), "formats": formats,
            "town": rng.choice(TOWNS) if "in_person" in formats else "", "avoid": ""}


def candidate(i: int, a: dict) -> Candidate:
    return Candidate(str(i), tuple(1 if v == "agree" else 0 for v in a["views"]),
                     free_hours(a["timezone"], a["availability"], NOW.date()), frozenset(a["formats"]),
                     fold_town(a["town"]), False, utc_offset(a["timezone"], NOW))


def total(pairs, by_id) -> int:
    return sum(difference(by_id[a], by_id[b]) for a, b in pairs)


def random_pairs(members: list[Candidate], rules: Rules, rng: random.Random) -> list[tuple[str, str]]:
    """The floor: shuffle, then pair each with the first allowed member still free."""
    pool = members[:]
    rng.shuffle(pool)
    free = {m.id for m in pool}
    pairs = []
    for m in pool:
        if m.id not in free:
            continue
        other = next((o for o in pool if o.id in free and rules.allowed(m, o)), None)
        if other is not None:
            free -= {m.id, other.id}
            pairs.append((m.id, other.id))
    return pairs


def quality(n: int) -> None:
    rng = random.Random(7)
    members = [candidate(i, answers(rng)) for i in range(n)]
    by_id = {m.id: m for m in members}
    rules = RULES
    t0 = time.perf_counter()
    ours = pair(members, rules)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    best = exact(members, rules)
    best_s = time.perf_counter() - t0
    floor = random_pairs(members, rules, rng)
    allowed = sum(rules.allowed(a, b) for i, a in enumerate(members) for b in members[i + 1:])
    print(f"quality, {n:,} members ({allowed:,} allowed pairs)")
    print(f"  exact, every allowed pair   {len(best):>5} pairs  difference {total(best, by_id):>6}   {best_s:6.2f} s")
    print(f"  the bot (sparse, blocks)    {len(ours):>5} pairs  difference {total(ours, by_id):>6}   {ours_s:6.2f} s")
    print(f"  random allowed (floor)      {len(floor):>5} pairs  difference {total(floor, by_id):>6}")
    print(f"  left out for want of a different enough partner: {too_alike(members, ours, rules)} (the bot),"
          f" {too_alike(members, best, rules)} (exact)")
    print(f"  ratio bot / exact: {total(ours, by_id) / total(best, by_id):.3f} (target >= 0.95)"
          f"   floor / exact: {total(floor, by_id) / total(best, by_id):.3f}")


async def speed(folder: Path, n: int) -> None:
    bot = await Bot.open(parse_config('[cogs]\nenabled = ["pairing"]\n[cogs.pairing]\nevery = ""\n',
                                      base_dir=folder), database=folder / "pairing.db")
    await bot.start()
    cog = bot.cogs.loaded["pairing"]
    community = Community("console", "local")
    rng = random.Random(11)
    t0 = time.perf_counter()
    people = [answers(rng) for _ in range(n)]
    for i, a in enumerate(people):
        await cog.store.join(community, Member("console", str(i), f"Member {i}"), f"s{i}", a, NOW)
    joined_s = time.perf_counter() - t0
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    made, members = await cog.run_round(community, NOW)
    round_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queued = await bot.db.fetchval("SELECT COUNT(*) FROM outbox WHERE batch LIKE 'pairing:intro:%'")
    alike = await bot.db.fetchval("SELECT too_alike FROM pairing_rounds")
    assert queued == 2 * made, (queued, made)
    await bot.close()
    candidates = [candidate(i, a) for i, a in enumerate(people)]
    t0 = time.perf_counter()
    alone = pair(candidates, RULES)
    alone_s = time.perf_counter() - t0
    print(f"speed, {members:,} members (joined through the store in {joined_s:.1f} s)")
    print(f"  one round, whole: {made:,} pairs, {queued:,} introductions queued, {alike} left out for want of a"
          f" different enough partner   {round_s:6.2f} s (target < 60 s)")
    print(f"  the matcher alone: {len(alone):,} pairs   {alone_s:6.2f} s   ratio round / matcher {round_s / alone_s:.2f}")
    print(f"  peak memory: {before:,.0f} MB before the round, {after:,.0f} MB after")


async def main() -> None:
    args, cores = command_line(__doc__, quality_members=1_000, members=10_000)
    print(f"pairing benchmark ({cores})")
    quality(args.quality_members)
    with tempfile.TemporaryDirectory() as tmp:
        await speed(Path(tmp), args.members)


if __name__ == "__main__":
    asyncio.run(main())
