"""Rendering: member text is escaped for each platform and can never ping; templates can be overridden."""

from __future__ import annotations

import re
from datetime import date

import jinja2
import pytest

from bot.render import TemplateProblem, Templates, escape
from bot.render.escape import ZERO_WIDTH_SPACE
from conversation import Chat

HOSTILE = [
    "@everyone look at this",
    "@everyones and @here2 and @everyone_",
    "@here now!",
    "hey @Channel",
    "<@&123456789> role ping",
    "<@!42> and <@42> and <#99>",
    "<!channel> <!here> <!everyone> <!subteam^S0123|team>",
    "<@U024BE7LH> hi",
    "**bold** __under__ ~~strike~~ ||spoiler|| `code`",
    "# A heading\n> a quote\n- a list\n1. numbered",
    "[click me](https://evil.example)",
    "\x1b[31mred terminal\x1b[0m\x07",
    "right-to-left \u202eoverride",
]

# What would ping or format if it reached the platform unchanged.
LIVE_MENTION = {
    "discord": re.compile(r"@(everyone|here)|<[@#][!&]?\d+>"),
    "slack": re.compile(r"<[!@#]|@(channel|here|everyone)\b", re.IGNORECASE),
    "console": re.compile(r"@(everyone|here|channel)|<[@#!]|\x1b", re.IGNORECASE),
}


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("dialect", ["discord", "slack", "console"])
def test_hostile_text_never_pings_anyone(dialect, text):
    assert not LIVE_MENTION[dialect].search(escape(text, dialect))


def test_discord_markdown_is_made_literal_but_links_still_work():
    out = escape("**bold** _it_ [x](https://a.example/b_c) ||s|| `c`", "discord")
    assert out == r"\*\*bold\*\* \_it\_ \[x\](https://a.example/b_c) \|\|s\|\| \`c\`"
    assert escape("# Title\n> quote\n- item\n2. two", "discord") == "\\# Title\n\\> quote\n\\- item\n2\\. two"


def test_slack_entities_are_escaped_once():
    assert escape("a & b < c > d <!channel>", "slack") == "a &amp; b &lt; c &gt; d &lt;!channel&gt;"


def test_control_characters_are_dropped_everywhere():
    for dialect in ("discord", "slack", "console", "image"):
        out = escape("\x1b[31mred\x07 \u202eevil\nnext\tline", dialect)
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        assert "\n" in out and "\t" in out


def test_mentions_are_broken_with_an_invisible_space():
    assert escape("@everyone", "console") == f"@{ZERO_WIDTH_SPACE}everyone"


def test_every_template_value_is_escaped_unless_marked_safe(tmp_path):
    (tmp_path / "t.j2").write_text("{{ said }} | {{ trusted | safe }}")
    templates = Templates(tmp_path)
    out = templates.render("t.j2", "discord", said="@everyone **hi**", trusted="**bold**").body
    assert out == f"@{ZERO_WIDTH_SPACE}everyone \\*\\*hi\\*\\* | **bold**"
    slack = templates.render("t.j2", "slack", said="<!here> & <@U1>", trusted="<https://a.example|a>").body
    assert slack == "&lt;!here&gt; &amp; &lt;@U1&gt; | <https://a.example|a>"


def test_jinjas_own_escape_filters_cannot_smuggle_a_mention(tmp_path):
    (tmp_path / "t.j2").write_text("{{ said|e }} {{ said|escape }} {{ said|forceescape }} {{ said|tojson }}")
    templates = Templates(tmp_path)
    for dialect in ("discord", "slack", "console"):
        out = templates.render("t.j2", dialect, said="@everyone <@&1>").body
        assert not LIVE_MENTION[dialect].search(out), (dialect, out)
    assert templates.render("t.j2", "slack", said="a & b").body.split()[0:3] == ["a", "&amp;", "b"]


def test_rendered_output_is_plain_text_to_python_code(tmp_path):
    """A cog that glues member text to rendered output gets text that is escaped again, not a live ping."""
    (tmp_path / "t.j2").write_text("{% block text %}Hello{% endblock %}")
    (tmp_path / "show.j2").write_text("{{ text }}")
    templates = Templates(tmp_path)
    glued = templates.render("t.j2", "discord")["text"] + " @everyone"
    assert templates.render("show.j2", "discord", text=glued).body == f"Hello @{ZERO_WIDTH_SPACE}everyone"


def test_rendered_output_is_not_escaped_twice(tmp_path):
    (tmp_path / "inner.j2").write_text("{{ name }}!")
    (tmp_path / "outer.j2").write_text("Hello {{ inner }}")
    templates = Templates(tmp_path)
    inner = templates.render("inner.j2", "slack", name="A & B").body
    assert templates.render("outer.j2", "slack", inner=inner).body == "Hello A &amp; B!"


def test_undefined_variables_are_errors_not_blanks(tmp_path):
    (tmp_path / "t.j2").write_text("Hello {{ nobody }}")
    with pytest.raises(jinja2.UndefinedError):
        Templates(tmp_path).render("t.j2", "console").body


def test_a_community_override_wins_and_the_rest_stay_built_in(tmp_path):
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "thanks.j2").write_text("{% block first %}Merci !{% endblock %}{% block again %}Encore merci.{% endblock %}")
    templates = Templates(tmp_path)
    assert templates.render("share/thanks.j2", "console")["first"] == "Merci !"
    assert templates.render("share/kit.j2", "console", program={"name": "X"})["button_done"] == "I shared it"


def test_a_broken_override_is_reported_with_its_line(tmp_path):
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "kit.j2").write_text("line one\n{% block title %}unclosed\n")
    with pytest.raises(TemplateProblem) as caught:
        Templates(tmp_path).check()
    assert "kit.j2" in str(caught.value) and "line" in str(caught.value)


def test_an_override_must_keep_the_blocks_the_bot_uses(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "errors.j2").write_text("{% block unknown_command %}Hm?{% endblock %}")
    with pytest.raises(TemplateProblem) as caught:
        Templates(tmp_path).check()
    message = str(caught.value)
    assert "errors.j2" in message and "internal_error" in message and "not_moderator" in message


def test_every_shipped_template_compiles():
    Templates().check()


def test_dates_read_the_same_on_every_machine(tmp_path):
    (tmp_path / "d.j2").write_text("{{ day | longdate }}")
    assert Templates(tmp_path).render("d.j2", "console", day=date(2026, 3, 7)).body == "7 March 2026"


async def test_a_hostile_display_name_reaches_no_one_through_a_real_command(tmp_path):
    (tmp_path / "overrides" / "share").mkdir(parents=True)
    (tmp_path / "overrides" / "share" / "thanks.j2").write_text(
        "{% block first %}Thanks, {{ member.display_name }}!{% endblock %}{% block again %}Again{% endblock %}")
    chat = await Chat.open(tmp_path, '[bot]\ntemplates_dir = "overrides"\n')
    try:
        await chat.as_member("Eve @everyone <@&42>").run("/share")
        await chat.press("I shared it")
        reply = chat.last_private("Eve @everyone <@&42>").text
        assert reply == f"Thanks, Eve @{ZERO_WIDTH_SPACE}everyone <{ZERO_WIDTH_SPACE}@&42>!"
    finally:
        await chat.close()
