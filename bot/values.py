"""Values as people type them and as the database keeps them: durations, time zones, moments, web
addresses and numbers.

Below everything else in `bot/` (it imports none of it), so that the config, the core, the services and
the cogs all read a "90m" or a "Europe/Berlin" the same way.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, available_timezones

# -- durations ----------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d{1,7})\s*(w|d|h|m|s)")
LONGEST = timedelta(days=3650)
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """'25h', '7d', '1d12h', '90m', '2w' → a timedelta, up to ten years. Raises ValueError saying what fits."""
    cleaned = text.strip().lstrip("+").replace(" ", "").lower()
    parts = _DURATION.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90m, 25h, 7d or 1d12h")
    # Counted in whole seconds, which have no upper limit, before a timedelta (which has) is made.
    seconds = sum(int(number) * _SECONDS[unit] for number, unit in parts)
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{text!r} is longer than ten years, the longest duration the bot takes")
    return timedelta(seconds=seconds)


# -- time zones and moments ---------------------------------------------------------------------


def zone(name: str) -> ZoneInfo | None:
    """The IANA time zone of that name (`Europe/Berlin`, any case), or None if there is none."""
    real = _zone_names().get(name.strip().casefold())
    return ZoneInfo(real) if real else None


def closest_zones(name: str, n: int = 3) -> list[str]:
    """IANA names near what was typed, for a 'did you mean': `Europe/Berln` → Europe/Berlin.
    A city alone (`berlin`) finds its zone too."""
    typed = name.strip().casefold().replace(" ", "_")
    names = _zone_names()
    by_city = [real for key, real in names.items() if key.rsplit("/", 1)[-1] == typed]
    near = difflib.get_close_matches(typed, list(names), n=n, cutoff=0.6)
    return list(dict.fromkeys([*by_city, *(names[key] for key in near)]))[:n]


@functools.cache
def _zone_names() -> dict[str, str]:
    return {z.casefold(): z for z in sorted(available_timezones()) if "/" in z or z == "UTC"}


def stamp(moment: datetime) -> str:
    """A moment as stored in the database: UTC, fixed width, so text order is time order."""
    if moment.tzinfo is not timezone.utc:  # the clock's moments are already (three in every form answer)
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="microseconds")


# -- web addresses ------------------------------------------------------------------------------

_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", re.IGNORECASE)


def web_address(text: str, *, https_only: bool = True) -> str | None:
    """The address, trimmed, if it is a full web address (https://host.tld/...); else None."""
    text = text.strip()
    if any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    schemes = ("https",) if https_only else ("https", "http")
    if parts.scheme.lower() not in schemes or not parts.hostname or not _HOST.match(parts.hostname):
        return None
    return text


def host_of(address: str) -> str:
    """The lower-case host of a web address checked by `web_address`."""
    return (urlsplit(address).hostname or "").lower()


def link_key(url: str) -> str:
    """The same page however its address is written: host in lower case, no trailing slash, no
    fragment, no tracking parameters. Two links with one key are one story, one recording."""
    parts = urlsplit(url.strip())
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith(("utm_", "fbclid")))
    return urlunsplit(("https", (parts.hostname or "").lower(), parts.path.rstrip("/"), query, ""))


# -- which bare words can fill an option (`option(fits=...)`) -----------------------------------


def looks_like_link(word: str) -> bool:
    """Whether a word is meant as a web address (`https://...`, `www.kqed.org`, `kqed.org/events`), right
    or not yet: which bare words fill a link option (`fits=`), before the link itself is checked."""
    word = word.strip()
    host = word.split("://", 1)[1] if "://" in word else word
    host = host.split("/", 1)[0]
    return "://" in word or (bool(_HOST.match(host)) and host.rsplit(".", 1)[-1].isalpha())


def with_digits(word: str) -> bool:
    """Whether a word has a digit in it, as a date, a time or a length has: which bare words fill such
    an option (`fits=`), so that `/webinar add Listening across 2026-09-14 ...` keeps its title whole."""
    return any(c.isdigit() for c in word)


def looks_like_channel(word: str) -> bool:
    """Whether a word names a channel (`#events`, or Slack's `<#C0123|events>`)."""
    return word.strip().startswith(("#", "<#"))


# -- numbers ------------------------------------------------------------------------------------

# Discord documents its INTEGER and NUMBER options as lying within ±(2^53 - 1) and sends nothing
# beyond; the console and Slack send text, so every number is held to the same range here. It also
# keeps every number inside SQLite's 64-bit integers.
LARGEST_NUMBER = 2**53 - 1
_WHOLE = re.compile(r"[+-]?[0-9]+")


def whole_number(value: Any) -> int:
    """A whole number as typed (`42`, `-7`) or as a platform sent it. Raises ValueError for anything
    else, OverflowError beyond ±LARGEST_NUMBER (never a number SQLite or Discord cannot hold)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(value)
    if isinstance(value, str):
        text = value.strip()
        if not _WHOLE.fullmatch(text):  # ASCII digits only: int() would also read "²" or "٣"
            raise ValueError(value)
        if len(text.lstrip("+-").lstrip("0")) > len(str(LARGEST_NUMBER)):  # int() never reads 5,000 digits
            raise OverflowError(value)
        value = int(text)
    if abs(value) > LARGEST_NUMBER:
        raise OverflowError(value)
    return value


def number(value: Any) -> float:
    """A number as typed (`2.5`) or sent, finite and within ±LARGEST_NUMBER; raises like `whole_number`."""
    if isinstance(value, bool):
        raise ValueError(value)
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise ValueError(value) from None
    if math.isnan(found):
        raise ValueError(value)
    if abs(found) > LARGEST_NUMBER:  # infinity too ("1e999")
        raise OverflowError(value)
    return found
