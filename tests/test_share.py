"""Step 1, sharing: the kit, the badge graphic, "I shared it" counted once, and the moderators' prompt."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from bot.render.images import FontChain, clusters, draw_text, fit_text
from conversation import Chat

KIT_TITLE = "Share your One Small Step experience"


async def shares(chat: Chat, member: str | None = None) -> int:
    if member is None:
        return await chat.db.fetchval("SELECT COUNT(*) FROM shares")
    return await chat.db.fetchval("SELECT COUNT(*) FROM shares WHERE member_id = ?", (member,))


async def completed_events(chat: Chat) -> int:
    return await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'share.completed'")


async def test_the_kit_offers_ready_to_post_texts_with_the_signup_link(chat):
    await chat.as_member("alice").run("/share")
    kit = chat.last_private("alice").message
    assert kit.title == KIT_TITLE
    assert len(kit.fields) >= 3
    for post in kit.fields:
        assert "https://takeonesmallstep.org" in post.value
    assert [b.label for b in kit.buttons] == ["Get my badge graphic", "I shared it"]
    assert chat.said("#general") == [], "the kit is private to the member"
    assert await chat.db.fetchval("SELECT COUNT(*) FROM share_offers WHERE member_id = 'alice'") == 1


async def test_the_signup_link_comes_from_the_config(tmp_path):
    chat = await Chat.open(tmp_path, '[program]\nname = "Bridges"\nsignup_url = "https://bridges.example/join"\n')
    try:
        await chat.run("/share")
        kit = chat.last_private("you").message
        assert kit.title == "Share your Bridges experience"
        assert all("https://bridges.example/join" in post.value for post in kit.fields)
    finally:
        await chat.close()


async def test_a_community_adds_its_own_post_and_blanks_out_one(tmp_path):
    posts = tmp_path / "mine" / "share" / "posts"
    posts.mkdir(parents=True)
    (posts / "04-ours.j2").write_text("{% block label %}Ours{% endblock %}{% block text %}Join us at {{ program.signup_url }}{% endblock %}")
    (posts / "01-short.j2").write_text("{% block label %}{% endblock %}{% block text %}{% endblock %}")
    (posts / "README.txt").write_text("Notes for our team: these files are the posts members see.")
    (posts / "02-what-i-learned.j2~").write_text("an editor's backup copy")
    chat = await Chat.open(tmp_path, '[bot]\ntemplates_dir = "mine"\n')
    try:
        await chat.run("/share")
        labels = [post.name for post in chat.last_private("you").message.fields]
        assert labels == ["What I learned", "An invitation", "Ours"]
    finally:
        await chat.close()


async def test_pressing_i_shared_it_twice_records_it_once(chat):
    await chat.as_member("alice").run("/share")
    await chat.press("I shared it")
    assert "Thank you for sharing" in chat.last_private("alice").text
    await chat.press("I shared it")
    assert "already told us" in chat.last_private("alice").text
    assert await shares(chat, "alice") == 1
    assert await completed_events(chat) == 1


async def test_a_restart_between_the_presses_still_records_it_once(chat):
    await chat.as_member("alice").run("/share")
    await chat.press("I shared it")
    await chat.restart()
    await chat.as_member("alice").press("I shared it")
    assert "already told us" in chat.last_private("alice").text
    assert await shares(chat, "alice") == 1
    assert await completed_events(chat) == 1


async def test_a_restart_before_the_first_press_loses_nothing(chat):
    await chat.as_member("bea").run("/share")
    await chat.restart()
    await chat.as_member("bea").press("I shared it")
    assert "Thank you for sharing" in chat.last_private("bea").text
    assert await shares(chat, "bea") == 1


async def test_each_member_shares_for_themselves(chat):
    for name in ("alice", "bob"):
        await chat.as_member(name).run("/share")
        await chat.press("I shared it")
    assert await shares(chat) == 2
    assert await completed_events(chat) == 2


async def test_the_badge_graphic_is_a_png_with_the_members_name(chat):
    await chat.as_member("Alice").run("/share")
    await chat.press("Get my badge graphic")
    reply = chat.last_private("Alice")
    assert reply.text.startswith("Here is your badge graphic")
    (image,) = reply.message.images
    assert image.filename == "small-step-badge.png"
    with Image.open(io.BytesIO(image.data)) as png:
        assert (png.format, png.size) == ("PNG", (1080, 1080))
    assert reply.saved[0].read_bytes() == image.data


async def test_the_moderators_prompt_opens_the_kit_for_whoever_presses(chat):
    await chat.as_member("bob").run("/share-prompt #general")
    assert "Only moderators" in chat.last_private("bob").text
    assert chat.said("#general") == []

    await chat.as_member("mod").run(":mod mod", "/share-prompt #general")
    invitation = chat.last_in("general").message
    assert [b.label for b in invitation.buttons] == ["Get my share kit"]
    assert chat.last_private("mod").text == "Posted the invitation in #general."

    await chat.as_member("carol").press("Get my share kit")
    assert chat.last_private("carol").message.title == KIT_TITLE
    await chat.press("I shared it")
    assert await shares(chat, "carol") == 1


async def test_the_prompt_needs_a_channel(chat):
    await chat.run(":mod you", "/share-prompt")
    assert '/share-prompt needs "channel"' in chat.last_private("you").text


async def test_a_community_background_image_is_used(tmp_path):
    Image.new("RGB", (400, 300), (10, 120, 30)).save(tmp_path / "field.png")
    chat = await Chat.open(tmp_path, '[cogs.share]\nbadge_background = "field.png"\n')
    try:
        await chat.run("/share", ":press Get my badge graphic")
        data = chat.last_private("you").message.images[0].data
        with Image.open(io.BytesIO(data)) as png:
            assert png.getpixel((5, 5)) == (10, 120, 30), "the corner shows the community's image"
    finally:
        await chat.close()


# -- names of every length and script fit on the badge -------------------------------------

NAMES = [
    "Al",
    "Maximilian Alexander von Hohenzollern-Sigmaringen zu Württemberg",
    "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessenschafewarenwohlgepflegt",
    "محمد عبد الله بن سعيد",
    "Σωκράτης Παπαδόπουλος",
    "Ольга Николаевна Крупская-Шостакович",
    "Nguyễn Thị Minh Khai",
    "प्रियंका चोपड़ा",
    "Zoë Ñúñez-Ærøskøbing",
    "家族の皆さんと話しました",
    "👩🏽‍🚀 Ada 🇺🇦",
    " ".join(["Maria-Guadalupe de los Santos"] * 5),  # 149 characters: longer than any platform allows
]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_fits_its_box_whole(name):
    fonts = FontChain.default()
    width, height = 800, 170
    block = fit_text(name, fonts, width, height, max_size=96, bold=True)
    assert block.height <= height and block.width <= width
    # Every character some font has is there, in order, and no line break falls inside a character;
    # one no font has (CJK, where the machine has no CJK font) is left out, never drawn as a box.
    drawable = fonts.drawable(name).replace(" ", "")
    assert "".join(line.text for line in block.lines).replace(" ", "") == drawable
    line_clusters = [c for line in block.lines for c in clusters(line.text.replace(" ", ""))]
    assert line_clusters == clusters(drawable)

    # Drawn for real (in colour, as the pictures are, so emoji show), the ink stays inside the box.
    margin = 60
    canvas = Image.new("RGB", (width + 2 * margin, height + 2 * margin), "black")
    draw_text(ImageDraw.Draw(canvas), block, (margin, margin, width, height), fill="white")
    if not drawable:
        assert canvas.getbbox() is None, "a name no font has draws nothing at all"
        return
    left, top, right, bottom = canvas.getbbox()
    assert left >= margin - 2 and right <= margin + width + 2
    assert top >= margin - 6 and bottom <= margin + height + 6


@pytest.mark.parametrize("name", [n for n in NAMES if not any("\u3000" <= c <= "\u9fff" for c in n)])
def test_the_bundled_fonts_draw_latin_greek_cyrillic_arabic_devanagari_and_emoji(name):
    assert FontChain.default().missing(name) == []


def test_a_long_name_shrinks_before_it_wraps_too_far():
    fonts = FontChain.default()
    short = fit_text("Al", fonts, 800, 170, max_size=96, bold=True)
    long = fit_text(NAMES[1], fonts, 800, 170, max_size=96, bold=True)
    assert short.size == 96 and len(short.lines) == 1
    assert long.size < 96 and len(long.lines) >= 2


def test_a_configured_font_is_tried_first(tmp_path):
    import fontpkg

    arabic = Path(fontpkg.path("Noto Sans Arabic"))
    chain = FontChain.default([arabic])
    assert chain.faces[0].path == arabic
    assert chain.runs("سلام")[0][1].path == arabic


def _ink(image: Image.Image, left: float, right: float) -> Image.Image:
    return image.crop((round(left), 0, round(right), image.height))


@pytest.mark.parametrize("name, left_word, right_word", [
    ("سارة Smith", "Smith", "سارة"),                 # a right-to-left line: the first word typed is on the right
    ("Anna محمد", "Anna", "محمد"),                   # a left-to-right line keeps its order
])
def test_a_name_mixing_scripts_is_drawn_in_reading_order(name, left_word, right_word):
    fonts = FontChain.default()
    block = fit_text(name, fonts, 800, 170, max_size=96, bold=True)
    (line,) = block.lines
    canvas = Image.new("L", (900, 300), 0)
    draw_text(ImageDraw.Draw(canvas), block, (50, 50, 800, 170), fill=255)
    start = 50 + (800 - line.width) / 2
    baseline = 50 + (170 - block.height) / 2 + line.ascent

    def alone(word: str, x: float) -> tuple[Image.Image, float]:
        """The word drawn on its own, where it should stand, with its own font and direction."""
        (piece,) = fit_text(word, fonts, 800, 170, max_size=block.size, min_size=block.size, bold=True).lines[0].runs
        image = Image.new("L", canvas.size, 0)
        ImageDraw.Draw(image).text((x, baseline), piece.text, font=piece.font, fill=255, anchor="ls",
                                   direction=piece.direction)
        return image, piece.width

    left, left_width = alone(left_word, start)
    right_width = alone(right_word, 0)[1]
    right, _ = alone(right_word, start + line.width - right_width)
    for expected, x0, x1 in ((left, start, start + left_width), (right, start + line.width - right_width,
                                                                  start + line.width)):
        drawn, wanted = _ink(canvas, x0, x1), _ink(expected, x0, x1)
        assert wanted.getbbox() is not None
        difference = ImageStat.Stat(ImageChops.difference(drawn, wanted)).mean[0] / 255
        assert difference < 0.01, f"{name!r}: the {'left' if expected is left else 'right'} end is not the word expected"
