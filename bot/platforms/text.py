"""Fitting text into a platform's limits, the same way on every platform."""

from __future__ import annotations


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
