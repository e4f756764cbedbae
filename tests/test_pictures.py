"""Pictures a member wants to post: names drawn without a single empty box (and the member told,
once, what was left out), the profile card, and the moderators' charts. Each is checked by what
can be measured in what is drawn: the glyphs a font picks, pixels, heights, contrast."""

from __future__ import annotations

import io
from datetime import date

import uharfbuzz as hb
from PIL import Image, ImageDraw

from bot.render.charts import bar_chart, chart_figure
from bot.render.images import FontChain, Run, draw_text, fit_text
from conversation import Chat

# Egyptian hieroglyphs: no font the bot ships (nor a usual system) has them.
UNDRAWABLE = "𓀀𓁐"
ASTRONAUT = "👩🏽‍🚀"
NAME = f"Ada {ASTRONAUT} Lovelace {UNDRAWABLE} 🇺🇦"


def glyphs(run: Run) -> list[int]:
    """The glyphs HarfBuzz (which Pillow shapes text with) picks to draw a run in its font; 0 is .notdef,
    the empty box a font draws for a character it does not have."""
    font = hb.Font(hb.Face(hb.Blob.from_file_path(run.font.path), run.font.index))
    buffer = hb.Buffer()
    buffer.add_str(run.text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer)
    return [info.codepoint for info in buffer.glyph_infos]


# -- names: what can be drawn is, what cannot is left out ----------------------------------------

def test_a_name_draws_what_some_font_has_and_never_a_box():
    fonts = FontChain.default()
    assert fonts.missing(NAME) == list(UNDRAWABLE)
    block = fit_text(NAME, fonts, 800, 170, max_size=96, bold=True)
    runs = [run for line in block.lines for run in line.runs]
    assert all(0 not in glyphs(run) for run in runs), [(r.text, glyphs(r)) for r in runs]
    drawn = "".join(run.text for run in runs)
    assert all(part in drawn for part in ("Ada", ASTRONAUT, "Lovelace", "🇺🇦"))
    assert not any(c in drawn for c in UNDRAWABLE)


def test_an_emoji_is_drawn_in_its_own_colours():
    fonts = FontChain.default()
    block = fit_text(ASTRONAUT, fonts, 200, 200, max_size=96)
    picture = Image.new("RGB", (200, 200), "white")
    draw_text(ImageDraw.Draw(picture), block, (0, 0, 200, 200), fill="black")
    colours = {c for _, c in picture.getcolors(200 * 200) if max(c) - min(c) > 60}
    assert colours, "the astronaut is drawn in colour, not as a black shape or a box"


def test_the_spaces_around_an_emoji_are_the_names_own_spaces():
    fonts = FontChain.default()
    block = fit_text(f"Ada {ASTRONAUT} Lovelace", fonts, 1000, 200, max_size=96, bold=True)
    picture = Image.new("RGB", (1000, 200), "white")
    draw_text(ImageDraw.Draw(picture), block, (0, 0, 1000, 200), fill="black")
    inked = "".join("x" if picture.crop((x, 0, x + 1, 200)).getextrema() != ((255, 255),) * 3 else " "
                    for x in range(1000)).strip()
    gaps = [len(gap) for gap in inked.split("x") if gap]
    before, after = sorted(gaps)[-2:]
    assert after < 1.5 * before, f"the gaps either side of the emoji are {sorted(gaps)[-2:]} pixels"


async def pictures_of(chat: Chat, name: str) -> tuple[bytes, bytes]:
    """The badge graphic and the profile card a member with this name gets."""
    await chat.as_member(name).run("/share", ":press Get my badge graphic")
    badge = chat.last_private(name).message.images[0].data
    await chat.run("/badges card")
    card = chat.last_private(name).message.images[0].data
    return badge, card


def pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as picture:
        return picture.convert("RGB").tobytes()


async def test_characters_no_font_has_leave_no_trace_on_the_badge_or_the_card(tmp_path):
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["share", "badges"]\n')
    try:
        with_them = await pictures_of(chat, f"Ada {UNDRAWABLE} Lovelace")
        without = await pictures_of(chat, "Ada Lovelace")
        for mixed, plain in zip(with_them, without):
            assert pixels(mixed) == pixels(plain), "not even an empty box where the hieroglyphs were"
        with_emoji = await pictures_of(chat, f"Ada {ASTRONAUT} Lovelace")
        for emoji, plain in zip(with_emoji, without):
            assert pixels(emoji) != pixels(plain), "an emoji some font has is drawn"
    finally:
        await chat.close()


def left_out_notes(chat: Chat, name: str) -> list[str]:
    return [d.text for d in chat.said(f"DM {name}") if "can't be drawn" in d.text]


async def test_the_member_is_told_once_what_was_left_out_of_their_name(tmp_path):
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["share", "badges"]\n')
    try:
        await pictures_of(chat, NAME)
        await chat.bot.outbox.idle()
        (note,) = left_out_notes(chat, NAME)
        assert UNDRAWABLE in note and ASTRONAUT not in note
        await chat.restart()
        await pictures_of(chat, NAME)
        await chat.as_member(NAME).run("/share", ":press Get my badge graphic")
        await chat.bot.outbox.idle()
        assert len(left_out_notes(chat, NAME)) == 1, "once, across pictures and restarts"

        await pictures_of(chat, f"Bea {ASTRONAUT}")
        await chat.bot.outbox.idle()
        assert left_out_notes(chat, f"Bea {ASTRONAUT}") == [], "nothing left out: nothing to say"
    finally:
        await chat.close()


async def test_the_log_says_how_many_were_left_out_but_not_which_nor_whose(tmp_path, caplog):
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["share", "badges"]\n')
    try:
        with caplog.at_level("INFO"):
            await pictures_of(chat, f"Zed {UNDRAWABLE}")
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "2 character(s)" in logged
        assert "Zed" not in logged and not any(c in logged for c in UNDRAWABLE)
    finally:
        await chat.close()


# -- charts ---------------------------------------------------------------------------------------

def drawn(figure):
    """Lay the figure out as saving it would, and return what measures its parts in pixels."""
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def test_a_chart_with_one_period_starts_at_zero_with_ticks_gridlines_and_the_year():
    figure = chart_figure([date(2026, 11, 30)], {"Pairs": [3], "Met": [1]}, "Pairs by round")
    drawn(figure)
    (axes,) = figure.axes
    bottom, top = axes.get_ylim()
    assert bottom == 0 and top >= 3
    shown = [t for t in axes.get_yticks() if bottom <= t <= top]
    assert shown == [0, 1, 2, 3], "whole-number ticks from zero"
    assert all(line.get_visible() for line in axes.get_ygridlines())
    assert [t.get_text() for t in axes.get_xticklabels()] == ["30 Nov\n2026"]
    left, right = axes.get_xlim()
    assert all(bar.get_width() < (right - left) / 8 for bar in axes.patches), "one period is bars, not a wall"
    assert [bar.get_height() for bar in axes.patches] == [3, 1]


def test_every_legend_label_stands_beside_its_colour():
    series = {"Shares": [1, 0, 2], "Testimonials": [0, 0, 1], "Event answers": [4, 1, 0]}
    figure = chart_figure([date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)], series, "Steps")
    renderer = drawn(figure)
    (legend,) = figure.legends
    (axes,) = figure.axes
    bar_colours = {bars.get_label(): bars.patches[0].get_facecolor() for bars in axes.containers}
    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        swatch, words = handle.get_window_extent(renderer), text.get_window_extent(renderer)
        assert 0 <= words.x0 - swatch.x1 < 16, "the label starts just right of its colour"
        assert abs((words.y0 + words.y1) / 2 - (swatch.y0 + swatch.y1) / 2) < 4, "on the same line"
        assert handle.get_facecolor() == bar_colours[text.get_text()]
    assert [t.get_text() for t in legend.get_texts()] == list(series)


def test_a_chart_of_rounds_keeps_their_labels_and_is_a_png_of_the_usual_size():
    figure = chart_figure(["#1", "#2"], {"Pairs": [0, 0], "Met": [0, 0]}, "Pairs by round")
    drawn(figure)
    (axes,) = figure.axes
    assert [t.get_text() for t in axes.get_xticklabels()] == ["#1", "#2"]
    assert axes.get_ylim()[0] == 0 and axes.get_ylim()[1] >= 1, "all zeros still has an axis to read"
    with Image.open(io.BytesIO(bar_chart(["#1", "#2"], {"Pairs": [0, 0]}, "Pairs"))) as png:
        assert (png.format, png.size) == ("PNG", (900, 420))
