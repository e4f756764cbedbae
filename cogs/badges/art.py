"""Pictures the badges cog draws with Pillow: a badge's medal and a member's profile card. Texts arrive already rendered (from templates); names are fitted to
their boxes (bot.render.images), so long and non-Latin names are drawn whole."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from bot.render.images import FontChain, draw_text, fit_text

INK = "#1f2a44"
SOFT_INK = "#5a647a"
PAPER = (255, 250, 242)
FAINT = (224, 219, 211)
# One colour per step of the journey; badges that are not a step take the last.
COLOURS = ((233, 110, 80), (62, 132, 190), (124, 98, 160), (46, 160, 120), (230, 170, 60), (200, 90, 140),
           (70, 170, 190), (150, 120, 80), (90, 110, 200), (210, 80, 80), (110, 120, 130))
MEDAL = 512
CARD = (1200, 630)


def colour_of(step: int | None) -> tuple[int, int, int]:
    return COLOURS[(step - 1) % 10] if step else COLOURS[-1]


@functools.lru_cache(maxsize=64)
def medal(label: str, name: str, colour: tuple[int, int, int], art: Path | None, fonts: FontChain) -> bytes:
    """A badge as a round medal (PNG, 512 x 512): its own picture, or a coloured disc with a label
    (the step's number, or a star) and the badge's name on a ribbon."""
    image = Image.new("RGBA", (MEDAL, MEDAL), (0, 0, 0, 0))
    disc = Image.new("L", (MEDAL, MEDAL), 0)
    ImageDraw.Draw(disc).ellipse((8, 8, MEDAL - 8, MEDAL - 8), fill=255)
    if art is not None:
        with Image.open(art) as source:
            face = ImageOps.fit(source.convert("RGB"), (MEDAL, MEDAL))
        image.paste(face, mask=disc)
    else:
        draw = ImageDraw.Draw(image)
        draw.ellipse((8, 8, MEDAL - 8, MEDAL - 8), fill=colour, outline=INK, width=10)
        draw.ellipse((48, 48, MEDAL - 48, MEDAL - 48), outline=PAPER, width=6)
        draw_text(draw, fit_text(label, fonts, 260, 200, max_size=190, bold=True), (126, 90, 260, 200), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((40, 330, MEDAL - 40, 430), radius=24, fill=PAPER, outline=INK, width=5)
    draw_text(draw, fit_text(name, fonts, 400, 80, max_size=48, bold=True), (56, 340, 400, 80), INK)
    return _png(image)


@dataclass(frozen=True)
class CardTexts:
    """What the profile card says, already rendered (badges/messages.j2)."""

    name: str
    progress: str
    badges_title: str
    no_badges: str


def profile_card(texts: CardTexts, medals: list[bytes], steps_done: list[bool], fonts: FontChain) -> bytes:
    """A member's card (PNG, 1200 x 630, the size social sites preview): their name, the ten steps
    with those done filled in, and their badges in a grid."""
    card = Image.new("RGB", CARD, PAPER)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, CARD[0], 18), fill=COLOURS[1])
    draw_text(draw, fit_text(texts.name, fonts, 1080, 110, max_size=80, bold=True), (60, 50, 1080, 110), INK)
    for index, done in enumerate(steps_done):  # the journey: ten circles, numbered
        x = 60 + index * 110
        draw.ellipse((x, 190, x + 90, 280), fill=colour_of(index + 1) if done else FAINT, outline=INK, width=4)
        draw_text(draw, fit_text(str(index + 1), fonts, 60, 50, max_size=44, bold=True), (x + 15, 210, 60, 50),
                  "white" if done else SOFT_INK)
    draw_text(draw, fit_text(texts.progress, fonts, 1080, 50, max_size=36), (60, 295, 1080, 50), SOFT_INK)
    draw_text(draw, fit_text(texts.badges_title, fonts, 1080, 40, max_size=30, bold=True), (60, 360, 1080, 40), INK)
    if not medals:
        draw_text(draw, fit_text(texts.no_badges, fonts, 1080, 60, max_size=32), (60, 430, 1080, 60), SOFT_INK)
    for index, data in enumerate(medals[:18]):  # two rows of nine
        with Image.open(io.BytesIO(data)) as picture:
            small = picture.convert("RGBA").resize((104, 104), Image.Resampling.LANCZOS)
        x, y = 60 + (index % 9) * 120, 410 + (index // 9) * 110
        card.paste(small, (x, y), small)
    return _png(card)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
