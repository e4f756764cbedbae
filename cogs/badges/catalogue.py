"""The badge catalogue and the ten-step journey.

A badge is earned by a rule: a domain event, a number of times (`share.completed` once,
`event.rsvp` three times), or holding other badges (`all_of`, for "all ten steps"). A step's
badge comes with any of the step's events (step 5: saying "going", or being marked there). The
built-in catalogue has a badge for each of the ten steps and a few more; a community adds
its own or changes one in the config:

    [[cogs.badges.catalogue]]
    id = "regular"
    name = "Regular"
    description = "Said you'd come to three events"
    event = "event.rsvp"
    count = 3
    art = "art/regular.png"      # optional: a picture of your own instead of the drawn medal

A catalogue naming an event no cog emits, the same id twice, or a picture that is not
there is a config error at start, naming the entry and what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PIL import Image, UnidentifiedImageError

from bot.config import ConfigError

STEPS = 10
ALL_STEPS = "all-ten"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_KEYS = {"id", "name", "description", "event", "count", "all_of", "art"}


@dataclass(frozen=True)
class Step:
    """One of the ten ways to stay involved: done once the member did any of `events`."""

    number: int
    events: tuple[str, ...]
    command: str  # the command that starts it


JOURNEY = (
    Step(1, ("share.completed",), "share"),
    Step(2, ("story.shared",), "stories"),
    Step(3, ("interview.published",), "interview"),
    Step(4, ("testimonial.submitted",), "testimonial"),
    Step(5, ("event.rsvp", "event.attended"), "events"),  # every way of joining an event
    Step(6, ("partner.viewed",), "partners"),
    Step(7, ("practice.opened", "pairing.met"), "practice"),
    Step(8, ("outreach.invited",), "invite-group"),
    Step(9, ("partner_interest.submitted",), "partner-with-us"),
    Step(10, ("support.opened",), "support"),
)


@dataclass(frozen=True)
class Badge:
    """A badge, and how it is earned: `count` times any of `events`, or holding every badge of `all_of`.
    `name` and `description` empty: from badges/catalogue.j2."""

    id: str
    events: tuple[str, ...]
    count: int = 1
    all_of: tuple[str, ...] = ()
    name: str = ""
    description: str = ""
    art: Path | None = None
    step: int | None = None  # the step of the journey it stands for, if any

    @property
    def block(self) -> str:
        """Its blocks in badges/catalogue.j2: `<block>_name`, `<block>_description`."""
        return self.id.replace("-", "_")


DEFAULT_CATALOGUE: tuple[Badge, ...] = (
    *(Badge(f"step-{s.number}", s.events, step=s.number) for s in JOURNEY),
    Badge("regular", ("event.rsvp",), count=3),
    Badge("showed-up", ("event.attended",)),
    Badge("met-across", ("pairing.met",)),
    Badge("for-the-archive", ("pairing.recording_agreed",)),
    Badge("quoted", ("testimonial.approved",)),
    Badge(ALL_STEPS, (), all_of=tuple(f"step-{s.number}" for s in JOURNEY)),
)


def build_catalogue(entries: list[Any], *, use_default: bool, known_events: set[str], resolve: Callable[[str], Path],
                    source: str) -> dict[str, Badge]:
    """The catalogue in force: the built-in badges whose events some cog emits, then the config's."""
    catalogue: dict[str, Badge] = {}
    if use_default:
        for badge in DEFAULT_CATALOGUE:
            offered = tuple(e for e in badge.events if e in known_events)  # the events of the cogs here
            if badge.all_of or offered:
                catalogue[badge.id] = Badge(badge.id, offered, badge.count, badge.all_of, step=badge.step)
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"cogs.badges.catalogue[{index}]"
        badge = _badge(entry, where, known_events, resolve, source)
        if badge.id in seen:
            raise ConfigError(f"{where}.id", f"the id {badge.id!r} is used twice", "give each badge its own id", source)
        seen.add(badge.id)
        step = catalogue[badge.id].step if badge.id in catalogue else None
        catalogue[badge.id] = Badge(badge.id, badge.events, badge.count, badge.all_of, badge.name, badge.description,
                                    badge.art, step)
    for badge in list(catalogue.values()):
        missing = [b for b in badge.all_of if b not in catalogue]
        if missing and badge.id == ALL_STEPS and badge in DEFAULT_CATALOGUE:
            del catalogue[badge.id]  # not every step is offered here: there is no "all ten" to earn
        elif missing:
            raise ConfigError(f"cogs.badges.catalogue ({badge.id}).all_of", f"names badges that are not in the"
                              f" catalogue: {', '.join(missing)}", "name badges by their id", source)
    return catalogue


def _badge(entry: Any, where: str, known_events: set[str], resolve: Callable[[str], Path], source: str) -> Badge:
    if not isinstance(entry, dict):
        raise ConfigError(where, "must be a table", "write it as [[cogs.badges.catalogue]] followed by its keys",
                          source)
    for key in entry:
        if key not in _KEYS:
            raise ConfigError(f"{where}.{key}", "is not a key a badge has", f"use {', '.join(sorted(_KEYS))}", source)
    badge_id = entry.get("id")
    if not isinstance(badge_id, str) or not _ID.match(badge_id):
        raise ConfigError(f"{where}.id", f"must be a short id of lower-case letters, digits and -, got {badge_id!r}",
                          'write e.g. id = "regular"', source)
    event, all_of = entry.get("event"), entry.get("all_of")
    if (event is None) == (all_of is None):
        raise ConfigError(where, "needs either event (earned by doing something) or all_of (by holding badges)",
                          'write e.g. event = "share.completed", or all_of = ["step-1", "step-4"]', source)
    if event is not None and (not isinstance(event, str) or event not in known_events):
        raise ConfigError(f"{where}.event", f"no cog emits an event called {event!r}",
                          f"use one of: {', '.join(sorted(known_events))}", source)
    if all_of is not None and (not isinstance(all_of, list) or not all(isinstance(b, str) for b in all_of)):
        raise ConfigError(f"{where}.all_of", "must be a list of badge ids", 'write e.g. all_of = ["step-1"]', source)
    count = entry.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"{where}.count", f"must be a whole number from 1, got {count!r}", "write e.g. count = 3",
                          source)
    for key in ("name", "description"):
        if not isinstance(entry.get(key, ""), str):
            raise ConfigError(f"{where}.{key}", "must be text", f'write e.g. {key} = "..."', source)
    art = None
    if entry.get("art"):
        art = resolve(str(entry["art"]))
        try:
            with Image.open(art) as picture:
                picture.verify()
        except (OSError, UnidentifiedImageError):
            raise ConfigError(f"{where}.art", f"{art} is not a picture the bot can open",
                              "give the path of a PNG or JPEG file (relative to the config file), or remove art",
                              source) from None
    return Badge(badge_id, (event,) if event else (), count, tuple(all_of or ()), entry.get("name", ""),
                 entry.get("description", ""), art)
