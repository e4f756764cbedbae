"""The badge graphic a member downloads and posts: drawn with Pillow, 1080 x 1080 PNG.

The built-in art is the bot's mark (bot.render.mark: two overlapping circles, two people's
views meeting in common ground) on a warm gradient. A community can supply its own background
image instead; the texts are drawn on a translucent panel over it. The member's name is fitted to its
box (see bot.render.images): long names wrap or shrink, and no script is cut off.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from bot.render.images import FontChain, draw_text, fit_text
from bot.render.mark import built_in_mark

SIZE = 1080
SUPERSAMPLE = 2  # shapes are drawn at twice the size and scaled down, for smooth edges

INK = "#1f2a44"
SOFT_INK = "#44506b"
PAPER = "#fffaf2"
FAINT_INK = "#c9c3bb"
MARK_TOP_LEFT, MARK_HEIGHT = (285, 160), 340

# Boxes for the texts: (left, top, width, height).
HEADLINE_BOX = (140, 560, 800, 70)
NAME_BOX = (140, 640, 800, 170)
CAPTION_BOX = (140, 815, 800, 60)
DATE_BOX = (140, 880, 800, 50)


@dataclass(frozen=True)
class BadgeTexts:
    """What the badge says, already rendered from the share/badge.j2 template."""

    headline: str
    name: str
    caption: str
    date: str


def render_badge(texts: BadgeTexts, fonts: FontChain, background: Path | None = None) -> bytes:
    """Draw the badge and return PNG bytes."""
    image = (_background(background, background.stat().st_mtime) if background else _built_in_art()).copy()
    draw = ImageDraw.Draw(image)
    draw_text(draw, fit_text(texts.headline, fonts, *HEADLINE_BOX[2:], max_size=44, bold=True), HEADLINE_BOX, INK)
    draw_text(draw, fit_text(texts.name, fonts, *NAME_BOX[2:], max_size=96, bold=True), NAME_BOX, INK)
    draw_text(draw, fit_text(texts.caption, fonts, *CAPTION_BOX[2:], max_size=38), CAPTION_BOX, SOFT_INK)
    draw_text(draw, fit_text(texts.date, fonts, *DATE_BOX[2:], max_size=30), DATE_BOX, SOFT_INK)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")  # zlib's usual level: `optimize` took 2.5 times as long
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def _built_in_art() -> Image.Image:
    image = _gradient(SIZE * SUPERSAMPLE, (255, 241, 224), (255, 226, 214))
    draw = ImageDraw.Draw(image)
    draw.ellipse(_box(540, 540, 500), fill=PAPER, outline=INK, width=6 * SUPERSAMPLE)  # the badge
    draw.ellipse(_box(540, 540, 470), outline=FAINT_INK, width=2 * SUPERSAMPLE)
    mark = built_in_mark(MARK_HEIGHT * SUPERSAMPLE)
    image.paste(mark, tuple(c * SUPERSAMPLE for c in MARK_TOP_LEFT), mark)
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def _box(cx: int, cy: int, r: int) -> tuple[int, int, int, int]:
    """A circle's bounding box, in supersampled pixels."""
    s = SUPERSAMPLE
    return ((cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s)


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    column = Image.linear_gradient("L").resize((1, size))
    return Image.composite(Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top),
                           column.resize((size, size)))


@functools.lru_cache(maxsize=4)
def _background(path: Path, mtime: float) -> Image.Image:
    """A community's own image, cropped to a square, with a panel that keeps the text readable.

    Cached by path and modification time, so an edited file is picked up.
    """
    with Image.open(path) as source:
        image = ImageOps.fit(source.convert("RGB"), (SIZE, SIZE), Image.Resampling.LANCZOS)
    panel = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    ImageDraw.Draw(panel).rounded_rectangle((100, 540, 980, 950), radius=40, fill=(255, 250, 242, 225))
    return Image.alpha_composite(image.convert("RGBA"), panel).convert("RGB")
