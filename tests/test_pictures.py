"""Pictures a member wants to post: names drawn without a single empty box (and the member told,
once, what was left out), the profile card, and the moderators' charts. Each is checked by what
can be measured in what is drawn: the glyphs a font picks, pixels, heights, contrast."""

from __future__ import annotations

import colorsys
import io
from datetime import date

import pytest
import uharfbuzz as hb
from PIL import Image, ImageChops, ImageDraw

from bot.config import ConfigError, parse_config
from bot.render.charts import bar_chart, chart_figure
from bot.render.images import FontChain, Run, draw_text, fit_text
from bot.render.mark import VIEW_A, VIEW_B
from cogs.badges.art import badge_colours, grid_for
from cogs.badges.catalogue import DEFAULT_CATALOGUE
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


def test_a_long_hyphenated_name_breaks_after_its_hyphen_not_inside_a_word():
    block = fit_text("Hohenzollern-Sigmaringen", FontChain.default(), 420, 190, max_size=72, bold=True)
    assert [line.text for line in block.lines] == ["Hohenzollern-", "Sigmaringen"]


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


# -- the profile card ------------------------------------------------------------------------------

EVERY_BADGE = ["share.completed", "story.shared", "interview.published", "testimonial.submitted", "partner.viewed",
               "practice.opened", "outreach.invited", "partner_interest.submitted", "support.opened",
               "pairing.met", "pairing.recording_agreed", "event.attended", "testimonial.approved"] + ["event.rsvp"] * 3
EVERYTHING_ON = '[cogs]\nenabled = ["share", "stories", "interviews", "testimonials", "partners", "events", ' \
                '"practice", "outreach", "badges", "pairing"]\n'


async def card_of(tmp_path, name: str, events: list[str], config: str = EVERYTHING_ON) -> Image.Image:
    """The profile card of a member who did these things."""
    chat = await Chat.open(tmp_path, config)
    try:
        for event in events:
            await chat.bot.events.emit(event, chat.adapter.community, chat.adapter.member(name))
        await chat.as_member(name).run("/badges card")
        (path,) = chat.last_private(name).saved
        with Image.open(path) as card:
            return card.convert("RGB")
    finally:
        await chat.close()


def ink(picture: Image.Image, box: tuple[int, int, int, int] | None = None) -> tuple[int, int, int, int] | None:
    """Where dark text is, in a part of a picture (left, top, right, bottom), or None."""
    part = picture.crop(box) if box else picture
    return part.convert("L").point(lambda v: 255 if v < 110 else 0).getbbox()


def found(picture: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int]):
    """Where a colour is drawn within box, as (left, top, right, bottom) in the picture, or None."""
    part = picture.crop(box)
    channels = ImageChops.difference(part, Image.new("RGB", part.size, colour)).split()
    near = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
    where = near.point(lambda v: 255 if v <= 3 else 0).getbbox()
    return None if where is None else (where[0] + box[0], where[1] + box[1], where[2] + box[0], where[3] + box[1])


def contrast(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two colours."""
    def luminance(rgb):
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.fixture
async def full_card(tmp_path):
    """The card of a member holding every built-in badge, and the colour each is drawn in."""
    card = await card_of(tmp_path, "Ada", EVERY_BADGE)
    return card, badge_colours(DEFAULT_CATALOGUE)


async def test_the_card_holds_every_built_in_badge_centred_under_its_heading(full_card):
    card, colours = full_card
    seals = [found(card, colour, (520, 110, 1200, 630)) for colour in colours.values()]
    assert len(colours) == len(DEFAULT_CATALOGUE) and all(seals), "each of the built-in badges is on the card"
    left, right = min(s[0] for s in seals), max(s[2] for s in seals)
    heading = ink(card, (520, 110, 1200, min(s[1] for s in seals)))
    assert abs((left + right) / 2 - (520 + (heading[0] + heading[2]) / 2)) < 8, "the grid is centred under 'Badges'"
    assert ink(card, (0, 420, 520, 630)) and ink(card, (520, 420, 1200, 630)), "both columns reach the bottom third"


def spans(flags: list[bool]) -> list[tuple[int, int]]:
    """The stretches of True in a row of flags, as (first, last + 1)."""
    found, start = [], None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            found.append((start, index))
            start = None
    return found


def first_letter_height(area: Image.Image) -> int:
    """The height in pixels of the first letter of the first line of dark text in an area."""
    grey = area.convert("L")
    dark = lambda box: grey.crop(box).getextrema()[0] < 110  # noqa: E731
    top, bottom = spans([dark((0, y, grey.width, y + 1)) for y in range(grey.height)])[0]
    left, right = spans([dark((x, top, x + 1, bottom)) for x in range(grey.width)])[0]
    letter = ink(area, (left, top, right, bottom))
    return letter[3] - letter[1]


async def test_badge_names_are_at_least_18_pixels(full_card):
    card, colours = full_card
    reference = Image.new("RGB", (60, 60), "white")
    draw_text(ImageDraw.Draw(reference), fit_text("H", FontChain.default(), 60, 60, max_size=18, min_size=18,
                                                  bold=True), (0, 0, 60, 60), "black")
    capital = first_letter_height(reference)
    grid = grid_for(len(colours))  # what is beneath a badge in its own cell: its name, and nothing of the next row
    for colour in colours.values():
        left, top, right, bottom = found(card, colour, (520, 110, 1200, 630))
        middle = (left + right) // 2
        beneath = card.crop((middle - 58, bottom + 4, middle + 58, min(630, bottom + grid.cell[1] - grid.seal)))
        assert ink(beneath), f"the badge drawn in {colour} has its name beneath"
        # Every built-in badge's name starts with a capital: it is at least as tall as one in 18 px type.
        assert first_letter_height(beneath) >= capital - 1, f"the name beneath the badge in {colour} is too small"


async def test_every_badge_reads_as_earned(full_card):
    card, colours = full_card
    background = card.getpixel((5, 625))
    for colour in colours.values():
        left, top, right, bottom = found(card, colour, (520, 110, 1200, 630))
        assert contrast(colour, background) >= 3, f"{colour} stands out from the card (WCAG 1.4.11)"
        assert contrast(colour, (255, 255, 255)) >= 4.5, f"the white number on {colour} is readable"
        hue, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in colour))
        assert saturation >= 0.4, f"{colour} is a colour, not the grey of a step not yet taken"


async def test_the_card_names_the_program_with_its_own_mark(tmp_path):
    Image.new("RGB", (200, 100), (10, 120, 30)).save(tmp_path / "mark.png")
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    short = await card_of(tmp_path / "a", "Bea", [], '[program]\nname = "Bridges"\nmark = "../mark.png"\n')
    long = await card_of(tmp_path / "b", "Bea", [], '[program]\nname = "Bridges Across the Divide"\n')
    mark = found(short, (10, 120, 30), (0, 0, 1200, 110))
    assert mark is not None and mark[3] <= 110, "the community's mark is at the top of the card"
    assert found(long, (10, 120, 30), (0, 0, 1200, 110)) is None
    assert found(long, VIEW_A, (0, 0, 1200, 110)) and found(long, VIEW_B, (0, 0, 1200, 110)), "else the bot's own"
    short_name, long_name = ink(short, (mark[2], 0, 1200, 110)), ink(long, (mark[2], 0, 1200, 110))
    assert short_name and long_name and long_name[2] > short_name[2] + 200, "the program's name is written beside"


async def test_a_mark_that_is_not_a_picture_is_a_config_error(tmp_path):
    (tmp_path / "mark.png").write_text("not a picture")
    with pytest.raises(ConfigError) as caught:
        parse_config('[program]\nmark = "mark.png"\n', base_dir=tmp_path)
    assert caught.value.key == "program.mark" and "PNG or JPEG" in caught.value.fix
