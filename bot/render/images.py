"""Text in images: fonts that really have a name's characters, and text that always fits.

Names come in every script and length. `FontChain` picks, for each character, the first
font that has it: the community's own fonts (config), then the fonts installed with the
bot (Noto Sans for Latin, Greek and Cyrillic; Noto Sans Arabic and Devanagari), then
common system fonts (Noto CJK, DejaVu) if the machine has them. `fit_text` then finds the largest size
at which the text fits its box, wrapping at spaces and, for a word too long for a line,
between whole characters (grapheme clusters), never inside one. Nothing is cut off.
"""

from __future__ import annotations

import functools
import glob
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import regex
from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageDraw, ImageFont

log = logging.getLogger(__name__)

BUNDLED_FAMILIES = ("Noto Sans", "Noto Sans Arabic", "Noto Sans Devanagari")
SYSTEM_FONT_PATTERNS = (
    "/usr/share/fonts/**/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*-Regular.otf",
    "/usr/share/fonts/**/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
_CLUSTER = regex.compile(r"\X")


def clusters(text: str) -> list[str]:
    """Split text into user-perceived characters (a letter with its accents, an emoji sequence)."""
    return _CLUSTER.findall(text)


@dataclass(frozen=True)
class FontFace:
    """One font file (and the face inside a collection)."""

    path: Path
    index: int = 0

    @functools.cached_property
    def codepoints(self) -> frozenset[int]:
        try:
            with TTFont(self.path, fontNumber=self.index, lazy=True) as font:
                return frozenset(font.getBestCmap() or {})
        except (OSError, TTLibError) as exc:
            log.warning("cannot read the font %s: %s", self.path, exc)
            return frozenset()

    def covers(self, cluster: str) -> bool:
        needed = [ord(c) for c in cluster if not _ignorable(c)]
        return all(cp in self.codepoints for cp in needed)


def _ignorable(char: str) -> bool:
    # Joiners, variation selectors and other format characters draw nothing of their own.
    return char.isspace() or unicodedata.category(char) == "Cf" or 0xFE00 <= ord(char) <= 0xFE0F


def bundled_faces() -> list[FontFace]:
    import fontpkg

    faces = []
    for family in BUNDLED_FAMILIES:
        try:
            faces.append(FontFace(Path(fontpkg.path(family))))
        except Exception as exc:  # a missing font package must not stop the bot
            log.warning("the font %s is not installed (%s); names in that script may not show", family, exc)
    return faces


def system_faces() -> list[FontFace]:
    found = []
    for pattern in SYSTEM_FONT_PATTERNS:
        found += [FontFace(Path(p)) for p in sorted(glob.glob(pattern, recursive=True))[:1]]
    return found


class FontChain:
    """Fonts tried in order for each character of a text."""

    def __init__(self, faces: Sequence[FontFace]) -> None:
        if not faces:
            raise ValueError("a FontChain needs at least one font")
        self.faces = list(faces)

    @classmethod
    def default(cls, extra: Iterable[Path] = ()) -> FontChain:
        """The community's fonts first, then the bundled ones, then what the system has."""
        return cls([FontFace(Path(p)) for p in extra] + bundled_faces() + system_faces())

    def face_for(self, cluster: str) -> FontFace | None:
        for face in self.faces:
            if face.covers(cluster):
                return face
        return None

    def missing(self, text: str) -> list[str]:
        """The characters of `text` that no font in the chain can draw."""
        return [c for c in clusters(text) if self.face_for(c) is None]

    def runs(self, text: str) -> list[tuple[str, FontFace]]:
        """Split text into stretches that one font draws; spaces go with their neighbours."""
        runs: list[tuple[str, FontFace]] = []
        for cluster in clusters(text):
            face = self.face_for(cluster) or self.faces[0]
            if runs and (runs[-1][1] == face or cluster.isspace()):
                runs[-1] = (runs[-1][0] + cluster, runs[-1][1])
            else:
                runs.append((cluster, face))
        return runs


@functools.lru_cache(maxsize=256)
def load_font(face: FontFace, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(face.path), size, index=face.index)
    if bold:
        try:
            font.set_variation_by_name("Bold")
        except (OSError, ValueError):
            pass  # not a variable font; the regular weight will do
    return font


@dataclass(frozen=True)
class Line:
    runs: tuple[tuple[str, ImageFont.FreeTypeFont], ...]
    width: float
    ascent: int
    descent: int

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.runs)


@dataclass(frozen=True)
class TextBlock:
    """Text laid out to fit a box: its lines, at one size."""

    lines: tuple[Line, ...]
    size: int
    spacing: int

    @property
    def height(self) -> int:
        return sum(line.ascent + line.descent for line in self.lines) + self.spacing * (len(self.lines) - 1)

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0)


def fit_text(text: str, chain: FontChain, width: int, height: int, *,
             max_size: int, min_size: int = 6, bold: bool = False) -> TextBlock:
    """The largest layout of `text` that fits in width x height, wrapping as needed."""
    text = " ".join(text.split())
    block = None
    for size in range(max_size, min_size - 1, -1):
        block = _layout(text, chain, size, width, bold)
        if block is not None and block.height <= height:
            return block
    if block is None:  # even the smallest size could not fit one character on a line
        block = _layout(text, chain, min_size, 10**6, bold)
    return block


def _layout(text: str, chain: FontChain, size: int, width: int, bold: bool) -> TextBlock | None:
    def measure(s: str) -> float:
        return sum(load_font(face, size, bold).getlength(run) for run, face in chain.runs(s))

    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for cluster in clusters(word):  # a word longer than a line breaks between characters
            if measure(current + cluster) <= width:
                current += cluster
            elif not current:
                return None
            else:
                lines.append(current)
                current = cluster
    if current:
        lines.append(current)
    return TextBlock(tuple(_line(s, chain, size, bold) for s in lines), size, spacing=size // 5)


def _line(text: str, chain: FontChain, size: int, bold: bool) -> Line:
    runs = tuple((run, load_font(face, size, bold)) for run, face in chain.runs(text))
    metrics = [font.getmetrics() for _, font in runs]
    return Line(runs, sum(font.getlength(run) for run, font in runs),
                max(a for a, _ in metrics), max(d for _, d in metrics))


def draw_text(draw: ImageDraw.ImageDraw, block: TextBlock, box: tuple[int, int, int, int], fill: str) -> None:
    """Draw a laid-out block centred in box = (left, top, width, height)."""
    left, top, width, height = box
    y = top + (height - block.height) / 2
    for line in block.lines:
        x = left + (width - line.width) / 2
        baseline = y + line.ascent
        for run, font in line.runs:
            draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
            x += font.getlength(run)
        y = baseline + line.descent + block.spacing
