"""The program's mark on the pictures members post: the community's own picture (`program.mark` in
the config), or the bot's: two overlapping circles, two people's views meeting in common ground."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

VIEW_A = (233, 110, 80)  # one perspective
VIEW_B = (62, 132, 190)  # the other
COMMON = (124, 98, 160)  # where they overlap
SUPERSAMPLE = 4  # drawn larger and scaled down, for smooth edges


@functools.lru_cache(maxsize=8)
def built_in_mark(height: int) -> Image.Image:
    """The bot's mark (RGBA, transparent around it): two circles of `height`, overlapping by a third,
    so 1.5 times as wide as high."""
    r = height * SUPERSAMPLE // 2
    size = (3 * r, 2 * r)

    def disc(cx: int) -> Image.Image:
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).ellipse((cx - r, 0, cx + r, 2 * r - 1), fill=255)
        return mask

    one_view, other_view = disc(r), disc(2 * r)
    mark = Image.new("RGBA", size, (*VIEW_A, 0))
    mark.paste(VIEW_A, mask=one_view)
    mark.paste(VIEW_B, mask=other_view)
    mark.paste(COMMON, mask=ImageChops.multiply(one_view, other_view))  # the common ground
    return mark.resize((round(1.5 * height), height), Image.Resampling.LANCZOS)


def program_mark(picture: Path | None, box: tuple[int, int]) -> Image.Image:
    """The mark to draw, as large as fits in box = (width, height) without changing its shape (RGBA)."""
    if picture is not None:
        try:
            return _own_mark(picture, picture.stat().st_mtime, box)
        except (OSError, UnidentifiedImageError) as exc:  # checked at start, but moved or broken since
            log.warning("cannot draw the program's mark %s (%s); drawing the bot's own", picture, exc)
    mark = built_in_mark(box[1])
    return mark if mark.width <= box[0] else ImageOps.contain(mark, box, Image.Resampling.LANCZOS)


@functools.lru_cache(maxsize=4)
def _own_mark(picture: Path, mtime: float, box: tuple[int, int]) -> Image.Image:
    """A community's mark, cached by path and modification time, so an edited file is picked up."""
    with Image.open(picture) as source:
        return ImageOps.contain(source.convert("RGBA"), box, Image.Resampling.LANCZOS)
