"""The matcher on hand-built cases: every rule holds, and it finds the most different pairs."""

from __future__ import annotations

import random
from datetime import date

from cogs.pairing.matching import (FORMATS, SLOTS, Candidate, Rules, difference, exact, fold_town, free_hours,
                                   most_of, overlap, pair, too_alike)

WEEK = date(2026, 12, 7)  # a Monday in winter: New York is UTC-5, Berlin UTC+1


def person(id: str, views: str, zone: str = "America/Chicago", slots: tuple[str, ...] = ("weekday_evenings",),
           formats: tuple[str, ...] = ("video",), town: str = "", waiting: bool = False) -> Candidate:
    return Candidate(id, tuple(int(c) for c in views), free_hours(zone, slots, WEEK), frozenset(formats),
                     fold_town(town), waiting)


def as_sets(pairs) -> set[frozenset[str]]:
    return {frozenset(p) for p in pairs}


def test_free_hours_are_counted_in_utc():
    new_york = free_hours("America/New_York", ["weekday_evenings"], WEEK)
    berlin = free_hours("Europe/Berlin", ["weekday_evenings"], WEEK)
    assert new_york.bit_count() == berlin.bit_count() == 5 * 4
    assert new_york & berlin == 0, "17-21 in New York is 22-02 UTC; in Berlin it is 16-20 UTC"
    # Monday 17:00 in New York is Monday 22:00 UTC: hour 22 of the week.
    assert new_york & (1 << 22)
    # A Sunday evening in Tokyo falls on Sunday morning UTC; Monday 08:00 Tokyo is Sunday 23:00 UTC.
    tokyo = free_hours("Asia/Tokyo", ["weekday_mornings"], WEEK)
    assert tokyo & (1 << 167)


def test_time_zones_must_leave_hours_in_common():
    rules = Rules(min_overlap=2)
    evenings_ny = person("ny", "11111", "America/New_York")
    evenings_berlin = person("be", "00000", "Europe/Berlin")
    assert not rules.allowed(evenings_ny, evenings_berlin)
    # A New York weekend morning (13-17 UTC) and a Berlin weekend afternoon (11-16 UTC) share 3 hours a day.
    morning_ny = person("ny2", "11111", "America/New_York", ("weekend_mornings",))
    afternoon_berlin = person("be2", "00000", "Europe/Berlin", ("weekend_afternoons",))
    assert overlap(morning_ny, afternoon_berlin) == 6 and rules.allowed(morning_ny, afternoon_berlin)
    assert not Rules(min_overlap=7).allowed(morning_ny, afternoon_berlin)
    assert pair([evenings_ny, evenings_berlin], rules) == []


def test_a_way_to_talk_in_common_and_in_person_only_in_the_same_town():
    rules = Rules()
    video, phone = person("v", "11111", formats=("video",)), person("p", "00000", formats=("phone",))
    assert not rules.allowed(video, phone)
    wichita = person("w", "11111", formats=("in_person",), town="Wichita")
    also_wichita = person("w2", "00000", formats=("in_person", "phone"), town="  wichita ")
    st_louis = person("s", "00000", formats=("in_person",), town="St. Louis")
    st_louis_too = person("s2", "11111", formats=("in_person",), town="st louis")
    assert rules.allowed(wichita, also_wichita) and rules.allowed(st_louis, st_louis_too)
    assert not rules.allowed(wichita, st_louis)
    assert as_sets(pair([wichita, st_louis, also_wichita, st_louis_too], rules)) == {
        frozenset({"w", "w2"}), frozenset({"s", "s2"})}


def test_never_again_and_too_alike():
    a, b = person("a", "11111"), person("b", "00000")
    assert not Rules(never=frozenset({frozenset({"a", "b"})})).allowed(a, b)
    twin = person("twin", "11111")
    assert not Rules(min_difference=1).allowed(a, twin), "the same answers: nothing to learn from each other"
    assert not Rules(min_difference=3).allowed(a, person("c", "11100"))
    assert Rules(min_difference=2).allowed(a, person("c", "11100"))


def test_more_than_half_is_different_enough_and_the_near_alike_are_counted():
    assert [most_of(n) for n in (1, 2, 3, 4, 5, 6, 7, 12)] == [1, 2, 2, 3, 3, 4, 4, 7]
    rules = Rules(min_difference=most_of(5))
    members = [person("a", "11111"), person("b", "11100"), person("c", "00011"), person("far", "11111", "Europe/Berlin")]
    # b-c differ on 5, a-c on 3, a-b on 2 (too few). b and c pair; a could have met c, who was taken: left out,
    # but not for want of difference. far shares no hour with anyone: left out for that, not for difference.
    chosen = pair(members, rules)
    assert as_sets(chosen) == {frozenset({"b", "c"})}
    assert too_alike(members, chosen, rules) == 0
    alike = [person("x", "11111"), person("y", "11110"), person("z", "11101")]
    assert pair(alike, rules) == [] and too_alike(alike, [], rules) == 3


def test_the_most_different_pairs_win():
    members = [person("a", "11111"), person("b", "00000"), person("c", "11110"), person("d", "00001")]
    # a-b and c-d differ on 5 statements each (10); a-d and b-c on 4 each (8); a-c, b-d on 1.
    assert as_sets(pair(members, Rules())) == {frozenset({"a", "b"}), frozenset({"c", "d"})}


def test_the_one_left_out_is_first_in_line():
    members = [person("a", "11111"), person("b", "00000"), person("w", "11100")]
    assert as_sets(pair(members, Rules())) == {frozenset({"a", "b"})}
    members[2] = person("w", "11100", waiting=True)
    chosen = as_sets(pair(members, Rules()))
    assert chosen == {frozenset({"w", "b"})}, "w waited last round; b is the most different from w"


def test_blocks_of_a_large_community_keep_every_rule():
    rng = random.Random(3)
    zones = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Berlin"]
    members = []
    for i in range(240):
        formats = tuple(rng.sample(FORMATS, rng.randint(1, 2)))
        members.append(person(str(i), "".join(rng.choice("01") for _ in range(5)), rng.choice(zones),
                              tuple(rng.sample(list(SLOTS), 2)), formats,
                              rng.choice(["Wichita", "Dayton"]) if "in_person" in formats else ""))
    never = frozenset(frozenset((str(i), str(i + 1))) for i in range(0, 240, 2))
    rules = Rules(never=never)
    chosen = pair(members, rules, block=50)
    by_id = {m.id: m for m in members}
    seen = [i for p in chosen for i in p]
    assert len(seen) == len(set(seen)), "nobody is in two pairs"
    assert all(rules.allowed(by_id[a], by_id[b]) for a, b in chosen)
    best = exact(members, rules)
    total = sum(difference(by_id[a], by_id[b]) for a, b in chosen)
    assert total >= 0.9 * sum(difference(by_id[a], by_id[b]) for a, b in best)
