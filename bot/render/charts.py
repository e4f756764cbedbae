"""Charts for moderators' statistics, drawn with Pillow: bars per period for a few series.
Used by the badges cog (steps per week) and the pairing cog (pairs per round)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.render.images import FontChain, draw_text, fit_text

INK = "#1f2a44"
SOFT_INK = "#5a647a"
PAPER = (255, 250, 242)
COLOURS = ((233, 110, 80), (62, 132, 190), (124, 98, 160), (46, 160, 120), (230, 170, 60), (200, 90, 140))


def bar_chart(weeks: list[str], series: dict[str, list[int]], title: str) -> bytes:
    """Bars for a few series over periods (weeks, rounds) as a PNG, 900 x 420, with a legend;
    `series` maps its label to one number per period, `weeks` labels the periods."""
    width, height, left, bottom = 900, 420, 70, 350
    chart = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(chart)
    fonts = FontChain.default()
    draw_text(draw, fit_text(title, fonts, 800, 36, max_size=28, bold=True), (50, 10, 800, 36), INK)
    top = max([1, *(n for values in series.values() for n in values)])
    draw.line((left, 70, left, bottom), fill=INK, width=2)
    draw.line((left, bottom, width - 30, bottom), fill=INK, width=2)
    draw_text(draw, fit_text(str(top), fonts, 50, 24, max_size=18), (10, 60, 50, 24), SOFT_INK)
    group = (width - 30 - left) / max(1, len(weeks))
    bar = group * 0.8 / max(1, len(series))
    for w, week in enumerate(weeks):
        for s, (label, values) in enumerate(series.items()):
            x = left + w * group + group * 0.1 + s * bar
            h = (bottom - 80) * values[w] / top
            draw.rectangle((x, bottom - h, x + bar - 2, bottom), fill=COLOURS[s])
        draw_text(draw, fit_text(week, fonts, int(group), 22, max_size=16), (int(left + w * group), bottom + 8,
                                                                            int(group), 22), SOFT_INK)
    for s, label in enumerate(series):  # the legend
        x = left + s * 250
        draw.rectangle((x, 392, x + 18, 410), fill=COLOURS[s])
        draw_text(draw, fit_text(label, fonts, 220, 24, max_size=18), (x + 26, 389, 220, 24), INK)
    return _png(chart)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
