"""Checks on what people type that more than one part of the bot needs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

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
