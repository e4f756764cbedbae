"""Pictures the badges cog draws with Pillow: a badge's medal and a member's profile card.

Texts arrive already rendered (from templates); names are fitted to their boxes (bot.render.images),
so long and non-Latin names are drawn whole, less any character no font has. Every badge is drawn in
a strong colour (a step's own, or one of OTHER_COLOURS for the rest) that stands out from the card
and carries white on it; the pale grey is kept for steps not yet taken.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageDraw, ImageOps

from bot.render.images import FontChain, draw_text, fit_text
from bot.render.mark import program_mark
from cogs.badges.catalogue import Badge

Colour = tuple[int, int, int]

INK = "#1f2a44"
SOFT_INK = "#4d566b"
PAPER = (255, 250, 242)
FAINT = (224, 219, 211)  # a step not yet taken
RULE = (230, 224, 214)
# One colour per step of the journey, then colours for badges that are no step, given in catalogue order.
# Each has a contrast of at least 4.5 with the card and with white, so a badge and its number stand out.
STEP_COLOURS = ((196, 69, 44), (37, 102, 168), (107, 76, 154), (29, 122, 86), (154, 98, 0), (168, 51, 106),
                (27, 111, 130), (122, 90, 46), (68, 83, 184), (176, 42, 55))
OTHER_COLOURS = ((15, 118, 110), (180, 83, 9), (126, 34, 206), (190, 24, 93), (21, 128, 61), (29, 78, 216))
MEDAL = 512
CARD = (1200, 630)
SMOOTH = 4  # small round shapes are drawn this many times larger and scaled down, for smooth edges

# The card: the program's mark and name across the top; the member's name and their ten steps on the
# left; their badges in a grid on the right, under its heading, each with its name beneath it.
MARGIN = 48
MARK_BOX = (MARGIN, 20, 150, 64)  # left, top, width, height
BAND_BOTTOM = 104
LEFT = (MARGIN, 124, 420, 486)  # the member's column
RIGHT = (548, 118, 604, 496)  # the badges' column
NAME_HEIGHT = 190
STEP = 60  # a step's circle
STEP_GAP = 30
STEPS_PER_ROW = 5
HEADING_HEIGHT, HEADING_GAP = 40, 12
LABEL_MIN = 18  # pixels: a badge's name must be readable in a post's preview


@dataclass(frozen=True)
class Grid:
    """How the badges are laid out: cells of one size, each a seal with its label beneath."""

    columns: int
    rows: int
    cell: tuple[int, int]
    seal: int
    label_max: int

    LABEL_GAP = 6

    @property
    def label_box(self) -> tuple[int, int]:
        return self.cell[0] - 8, self.cell[1] - self.seal - self.LABEL_GAP - 8


GRID_LARGE = (150, 200, 110, 22)  # cell width, cell height, seal, label size: up to eight badges
GRID_SMALL = (120, 146, 72, 20)  # up to fifteen
GRID_FOUR_ROWS = (120, 111, 56, 20)  # up to twenty, in four rows: smaller seals, names on two lines
CARD_BADGES = 20  # the most the card shows (every built-in badge); past it, the last place says how many more


def grid_for(count: int) -> Grid:
    """Rows as few and as even as fit: 1-4 badges in a row, 5-8 in two, 9-15 in three, 16-20 in four."""
    rows = 1 if count <= 4 else 2 if count <= 8 else 3 if count <= 15 else 4
    width, height, seal, label = GRID_LARGE if count <= 8 else GRID_SMALL if count <= 15 else GRID_FOUR_ROWS
    return Grid(math.ceil(count / rows), rows, (width, height), seal, label)


def badge_colours(badges: Iterable[Badge]) -> dict[str, Colour]:
    """Each badge's colour: a step's own, and for the others the next of OTHER_COLOURS in turn."""
    colours, others = {}, 0
    for badge in badges:
        if badge.step:
            colours[badge.id] = STEP_COLOURS[(badge.step - 1) % len(STEP_COLOURS)]
        else:
            colours[badge.id] = OTHER_COLOURS[others % len(OTHER_COLOURS)]
            others += 1
    return colours


@dataclass(frozen=True)
class BadgeFace:
    """How a badge looks: its step's number (a star for a badge that is no step) on its colour, or its
    own picture."""

    step: int | None
    colour: Colour
    art: Path | None = None


def seal(face: BadgeFace, fonts: FontChain, ribbon: bool = False) -> Image.Image:
    """A badge's round face (RGBA, MEDAL x MEDAL); with `ribbon`, its number or star sits higher, above
    where the medal's ribbon goes. Not kept: the medal and the card's small faces made from it are."""
    image = Image.new("RGBA", (MEDAL, MEDAL), (0, 0, 0, 0))
    disc = Image.new("L", (MEDAL, MEDAL), 0)
    ImageDraw.Draw(disc).ellipse((8, 8, MEDAL - 8, MEDAL - 8), fill=255)
    if face.art is not None:
        with Image.open(face.art) as source:
            image.paste(ImageOps.fit(source.convert("RGB"), (MEDAL, MEDAL)), mask=disc)
        return image
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, MEDAL - 8, MEDAL - 8), fill=face.colour, outline=INK, width=10)
    draw.ellipse((48, 48, MEDAL - 48, MEDAL - 48), outline=PAPER, width=6)
    middle = 190 if ribbon else MEDAL // 2
    if face.step:
        draw_text(draw, fit_text(str(face.step), fonts, 260, 200, max_size=190, bold=True),
                  (126, middle - 100, 260, 200), "white")
    else:
        draw.polygon(_star(MEDAL / 2, middle + 10, 105), fill="white")
    return image


@functools.lru_cache(maxsize=64)
def _small_seal(face: BadgeFace, fonts: FontChain, size: int) -> Image.Image:
    """A badge's face at the size the card shows it (scaling it down is most of a card's drawing)."""
    return seal(face, fonts).resize((size, size), Image.Resampling.LANCZOS)


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    """A five-pointed star's corners, point up (drawn, so no font is needed for it)."""
    inner = outer * 0.45
    return [(cx + r * math.sin(i * math.pi / 5), cy - r * math.cos(i * math.pi / 5))
            for i, r in enumerate([outer, inner] * 5)]


@functools.lru_cache(maxsize=64)
def medal(face: BadgeFace, name: str, fonts: FontChain) -> bytes:
    """A badge as a round medal (PNG, 512 x 512) for its congratulations: its face, with the badge's
    name on a ribbon."""
    image = seal(face, fonts, ribbon=True).copy()
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((40, 330, MEDAL - 40, 430), radius=24, fill=PAPER, outline=INK, width=5)
    draw_text(draw, fit_text(name, fonts, 400, 80, max_size=48, bold=True), (56, 340, 400, 80), INK)
    return _png(image)


@dataclass(frozen=True)
class CardTexts:
    """What the profile card says, already rendered (badges/messages.j2)."""

    program: str
    name: str
    progress: str
    badges_title: str
    no_badges: str


@dataclass(frozen=True)
class CardBadge:
    """A badge on the card: its face and its name."""

    face: BadgeFace
    name: str


def profile_card(texts: CardTexts, badges: list[CardBadge], steps_done: list[bool], fonts: FontChain,
                 mark: Path | None = None) -> bytes:
    """A member's card (PNG, 1200 x 630, the size social sites preview): the program's mark and name,
    the member's name and their ten steps, and their badges, each named."""
    card = Image.new("RGB", CARD, PAPER)
    draw = ImageDraw.Draw(card)
    _band(card, draw, texts.program, fonts, mark)
    _member(card, draw, texts, steps_done, fonts)
    draw.line((RIGHT[0] - 40, LEFT[1] + 10, RIGHT[0] - 40, LEFT[1] + LEFT[3] - 10), fill=RULE, width=2)
    _badges(card, draw, texts, badges, fonts)
    return _png(card)


def _band(card: Image.Image, draw: ImageDraw.ImageDraw, program: str, fonts: FontChain, mark: Path | None) -> None:
    """Across the top: the program's mark and its name, so a post of the card says whose it is."""
    left, top, width, height = MARK_BOX
    picture = program_mark(mark, (width, height))
    card.paste(picture, (left, top + (height - picture.height) // 2), picture)
    name_left = left + picture.width + 20
    block = fit_text(program, fonts, CARD[0] - MARGIN - name_left, height, max_size=38, bold=True)
    draw_text(draw, block, (name_left, top, round(block.width), height), INK)  # left-aligned beside the mark
    draw.line((MARGIN, BAND_BOTTOM, CARD[0] - MARGIN, BAND_BOTTOM), fill=RULE, width=2)


def _member(card: Image.Image, draw: ImageDraw.ImageDraw, texts: CardTexts, steps_done: list[bool],
            fonts: FontChain) -> None:
    """The left column: the member's name, their ten steps (in two rows of five) and how far they are."""
    left, top, width, height = LEFT
    name = fit_text(texts.name, fonts, width, NAME_HEIGHT, max_size=72, bold=True)
    progress = fit_text(texts.progress, fonts, width, 44, max_size=30)
    rows = math.ceil(len(steps_done) / STEPS_PER_ROW)
    steps_height = rows * STEP + max(0, rows - 1) * STEP_GAP // 2
    y = top + (height - NAME_HEIGHT - 24 - steps_height - 24 - 44) // 2
    draw_text(draw, name, (left, y, width, NAME_HEIGHT), INK)
    y += NAME_HEIGHT + 24
    row_width = STEPS_PER_ROW * STEP + (STEPS_PER_ROW - 1) * STEP_GAP
    for index, done in enumerate(steps_done):
        x = left + (width - row_width) // 2 + (index % STEPS_PER_ROW) * (STEP + STEP_GAP)
        step_top = y + (index // STEPS_PER_ROW) * (STEP + STEP_GAP // 2)
        colour = STEP_COLOURS[index % len(STEP_COLOURS)] if done else PAPER
        circle = _circle(colour, None if done else FAINT, STEP)
        card.paste(circle, (x, step_top), circle)
        number = fit_text(str(index + 1), fonts, STEP - 16, STEP - 20, max_size=26, bold=True)
        draw_text(draw, number, (x + 8, step_top + 10, STEP - 16, STEP - 20), "white" if done else SOFT_INK)
    y += steps_height + 24
    draw_text(draw, progress, (left, y, width, 44), SOFT_INK)


def _badges(card: Image.Image, draw: ImageDraw.ImageDraw, texts: CardTexts, badges: list[CardBadge],
            fonts: FontChain) -> None:
    """The right column: the badges in a grid centred under their heading, each named beneath."""
    left, top, width, height = RIGHT
    heading = fit_text(texts.badges_title, fonts, width, HEADING_HEIGHT, max_size=30, bold=True)
    if not badges:
        empty = fit_text(texts.no_badges, fonts, width - 40, 120, max_size=28)
        y = top + (height - HEADING_HEIGHT - HEADING_GAP - 120) // 2
        draw_text(draw, heading, (left, y, width, HEADING_HEIGHT), INK)
        draw_text(draw, empty, (left + 20, y + HEADING_HEIGHT + HEADING_GAP, width - 40, 120), SOFT_INK)
        return
    # Past CARD_BADGES, the last place says how many more there are.
    shown = badges if len(badges) <= CARD_BADGES else badges[:CARD_BADGES - 1]
    more = len(badges) - len(shown)
    grid = grid_for(len(shown) + (1 if more else 0))
    block_height = HEADING_HEIGHT + HEADING_GAP + grid.rows * grid.cell[1]
    y = top + (height - block_height) // 2
    draw_text(draw, heading, (left, y, width, HEADING_HEIGHT), INK)
    y += HEADING_HEIGHT + HEADING_GAP
    cells = [(badge.face, badge.name) for badge in shown] + ([(None, f"+{more}")] if more else [])
    for row in range(grid.rows):
        in_row = cells[row * grid.columns:(row + 1) * grid.columns]
        x = left + (width - len(in_row) * grid.cell[0]) // 2  # a shorter last row is centred too
        for face, name in in_row:
            _cell(card, draw, grid, (x, y + row * grid.cell[1]), face, name, fonts)
            x += grid.cell[0]


def _cell(card: Image.Image, draw: ImageDraw.ImageDraw, grid: Grid, at: tuple[int, int], face: BadgeFace | None,
          name: str, fonts: FontChain) -> None:
    """One badge: its seal, and its name beneath in at least LABEL_MIN pixels; no face: how many more."""
    x, y = at
    seal_left = x + (grid.cell[0] - grid.seal) // 2
    label_width, label_height = grid.label_box
    if face is None:
        circle = _circle(PAPER, FAINT, grid.seal)
        card.paste(circle, (seal_left, y), circle)
        draw_text(draw, fit_text(name, fonts, grid.seal - 16, grid.seal // 2, max_size=32, bold=True),
                  (seal_left + 8, y + grid.seal // 4, grid.seal - 16, grid.seal // 2), SOFT_INK)
        return
    small = _small_seal(face, fonts, grid.seal)
    card.paste(small, (seal_left, y), small)
    # As large as fits, never under LABEL_MIN: a name too long even then runs a little past its box.
    label = fit_text(name, fonts, label_width, label_height, max_size=grid.label_max, min_size=LABEL_MIN, bold=True)
    # Drawn from the top of its box, so that the names of a row start on one line however many lines they take.
    draw_text(draw, label, (x + 4, y + grid.seal + grid.LABEL_GAP, label_width, label.height), INK)


@functools.lru_cache(maxsize=16)
def _circle(fill: Colour, outline: Colour | None, size: int) -> Image.Image:
    """A smooth round shape (RGBA), drawn larger and scaled down."""
    big = size * SMOOTH
    image = Image.new("RGBA", (big, big), (*fill, 0))
    ImageDraw.Draw(image).ellipse((0, 0, big - 1, big - 1), fill=fill, outline=outline,
                                  width=3 * SMOOTH if outline else 0)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")  # zlib's usual level: `optimize` took four times as long for 2% less
    return out.getvalue()
