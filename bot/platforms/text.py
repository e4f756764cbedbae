"""Text from and to a platform: made safe to keep as it arrives, fitted into a platform's limits as
it leaves, the same way on every platform."""

from __future__ import annotations

import re
from typing import Any

# Half of a UTF-16 pair on its own: JSON may carry one ("\ud800"), but UTF-8 cannot encode it, so SQLite,
# the platforms' APIs and the log would all fail on the text that holds it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(value: Any) -> Any:
    """What a platform sent, with every lone surrogate in its text replaced by U+FFFD, the character that
    stands for one that could not be read; dicts and lists are cleaned throughout, anything else is kept."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {readable(key): readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value


def pieces(text: str, size: int) -> list[str]:
    """Text in pieces of at most `size` characters, cut at a line or word end where one is near.
    No text gives no pieces."""
    text = text.strip()
    parts = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        cut = cut if cut > size // 2 else size
        entity = text.rfind("&", max(0, cut - 8), cut)  # never between & and ; of an entity (&amp;)
        if entity > 0 and ";" not in text[entity:cut]:
            cut = entity
        parts.append(text[:cut])
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts


def cut(text: str, size: int) -> str:
    """At most `size` characters, with an ellipsis where something was left out."""
    return text if len(text) <= size else text[:size - 1] + "…"
