"""Charts for moderators' statistics, drawn with matplotlib on its Agg backend: bars per period for
a few series. Used by the badges cog (steps per week) and the pairing cog (pairs per round).

The value axis starts at zero, with whole-number ticks and gridlines; each bar carries its number;
the legend sets each label beside its colour; a period that is a date is labelled with its year; a
single period is drawn as one group of bars of the usual width, not stretched across the chart.

Each chart is a `Figure` of its own (never pyplot's shared state). matplotlib's font cache and text
layout are not thread-safe, and charts are drawn on worker threads, so one is drawn at a time.

matplotlib is imported by the first chart, not with this module: with numpy it is about 55 MB of
memory, which a bot that never draws a chart should not hold. That first chart pays the import (half a
second to a second) on its worker thread, then keeps what it made out of the collector's full passes.
"""

from __future__ import annotations

import functools
import gc
import io
import sys
import threading
from datetime import date
from typing import TYPE_CHECKING, Sequence

from bot.render.images import bundled_faces
from bot.render.times import MONTHS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INK = "#1f2a44"
SOFT_INK = "#5a647a"
GRID = "#ddd6cb"
PAPER = "#fffaf2"
COLOURS = ("#c8553d", "#2f6fa8", "#6d4f9c", "#23845f", "#9a6a00", "#b0406f")
SIZE = (900, 420)  # pixels: wide enough for eight labelled weeks, small enough for a chat preview
DPI = 100
FEWEST_PERIODS = 4  # the x axis is never narrower than this many periods: one bar stays a bar, not a wall
BAR_GROUP = 0.8  # of each period's width, the rest is the gap between periods
# Room around the axes, as parts of the figure: numbers on the left, the title above, dated labels and
# the legend below.
MARGINS = {"left": 0.07, "right": 0.98, "top": 0.87, "bottom": 0.25}

_drawing = threading.Lock()


@functools.cache
def _fonts() -> list[str]:
    """The bundled Noto families (the pictures' fonts), then matplotlib's own DejaVu Sans for the rest."""
    from matplotlib import font_manager  # late: see the module's docstring

    families = []
    for face in bundled_faces():
        font_manager.fontManager.addfont(str(face.path))
        families.append(font_manager.FontProperties(fname=str(face.path)).get_name())
    return [*families, "DejaVu Sans"]


def period_label(period: str | date) -> str:
    """A period as the axis shows it: a date with its month and year, the same on every machine."""
    if isinstance(period, date):
        return f"{period.day} {MONTHS[period.month - 1][:3]}\n{period.year}"
    return period


def chart_figure(periods: Sequence[str | date], series: dict[str, list[int]], title: str) -> Figure:
    """The chart as a matplotlib Figure, before it is drawn: `series` maps a label to one number per
    period; `periods` are dates (labelled with their year) or labels of their own ("#3")."""
    # Late: the first chart imports the plotting library (about 55 MB), see the module's docstring.
    first = "matplotlib.figure" not in sys.modules
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if first:  # what the import made lives as long as the process: kept out of the collector's full passes,
        gc.freeze()  # as Bot.start does for what was made at start (else each full pass walks 54,000 more objects)

    fonts = _fonts()
    figure = Figure(figsize=(SIZE[0] / DPI, SIZE[1] / DPI), dpi=DPI, facecolor=PAPER)
    figure.subplots_adjust(**MARGINS)  # fixed: matplotlib's automatic layouts cost most of a chart's time
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(facecolor=PAPER)
    count = len(periods)
    width = BAR_GROUP / max(1, len(series))
    for index, (label, values) in enumerate(series.items()):
        left = [p - BAR_GROUP / 2 + width * (index + 0.5) for p in range(count)]
        bars = axes.bar(left, values, width=width * 0.9, color=COLOURS[index % len(COLOURS)], label=label, zorder=2)
        axes.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=2, color=INK,
                       fontsize=10, family=fonts)
    axes.set_xticks(range(count), [period_label(p) for p in periods], color=SOFT_INK, fontsize=10, family=fonts)
    middle, half = (count - 1) / 2, max(count, FEWEST_PERIODS) / 2
    axes.set_xlim(middle - half, middle + half)
    highest = max([1, *(v for values in series.values() for v in values)])
    axes.set_ylim(0, highest * 1.15)  # room above the tallest bar for its number
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(axis="y", colors=SOFT_INK, labelsize=10)
    for tick in axes.get_yticklabels():
        tick.set_family(fonts)
    axes.grid(axis="y", color=GRID, linewidth=1)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(SOFT_INK)
    axes.set_title(title, color=INK, fontsize=17, family=fonts, loc="left", pad=12)
    figure.legend(loc="lower center", ncols=max(1, len(series)), frameon=False,
                  prop=font_manager.FontProperties(family=fonts, size=11), labelcolor=INK)
    return figure


def bar_chart(periods: Sequence[str | date], series: dict[str, list[int]], title: str) -> bytes:
    """The chart as a PNG, 900 x 420 (see `chart_figure`)."""
    with _drawing:
        out = io.BytesIO()
        chart_figure(periods, series, title).savefig(out, format="png", dpi=DPI)
    return out.getvalue()
