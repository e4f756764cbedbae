"""The core: loading cogs, a broken cog, permissions, options, help, events and jobs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core import Channel, Member
from bot.core.commands import RawArgument
from conversation import Chat

WITH_SAMPLES = """
[cogs]
enabled = ["share", "sample_cogs.echo", "sample_cogs.broken", "sample_cogs.broken_setup"]
"""


@pytest.fixture
async def samples(tmp_path):
    chat = await Chat.open(tmp_path, WITH_SAMPLES)
    yield chat
    await chat.close()


async def test_broken_cogs_are_reported_and_the_others_run(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    chat = await Chat.open(tmp_path, WITH_SAMPLES)
    try:
        assert set(chat.bot.cogs.loaded) == {"core", "forms", "outbox", "privacy", "limits", "share", "sample_cogs.echo"}
        assert "broken on purpose" in chat.bot.cogs.failed["sample_cogs.broken"]
        assert "setup failed on purpose" in chat.bot.cogs.failed["sample_cogs.broken_setup"]
        assert any("sample_cogs.broken" in r.getMessage() and "not loaded" in r.getMessage() for r in caplog.records)

        await chat.as_member("you").run("/echo hi")
        assert chat.last_in("general").text == "You said: hi"

        await chat.run(":mod you", "/cogs list")
        listing = chat.last_private("you").text
        assert "share (2 commands)" in listing
        assert "sample_cogs.broken: RuntimeError: this cog is broken on purpose" in listing
    finally:
        await chat.close()


async def test_moderators_unload_load_and_reload_cogs_at_runtime(chat):
    await chat.run(":mod you", "/cogs unload share")
    assert "share is unloaded" in chat.last_private("you").text
    await chat.run("/share")
    assert "I don't know the command /share" in chat.last_private("you").text

    await chat.run("/cogs load share")
    assert "share is loaded" in chat.last_private("you").text
    await chat.run("/share")
    assert chat.last_private("you").message.title == "Share your One Small Step experience"

    await chat.run("/cogs reload share", "/share")
    assert chat.last_private("you").message.title == "Share your One Small Step experience"

    await chat.run("/cogs load nothing_here")
    assert "there is no cog named 'nothing_here'" in chat.last_private("you").text
    await chat.run("/cogs unload core")
    assert "part of the core" in chat.last_private("you").text


async def test_a_member_who_is_not_a_moderator_is_refused_politely_and_logged(samples, caplog):
    caplog.set_level(logging.WARNING)
    await samples.as_member("alice").run("/secret")
    reply = samples.last_private("alice").text
    assert "Only moderators can use /secret" in reply
    assert "the secret" not in reply
    refused = [r.getMessage() for r in caplog.records if "refused /secret" in r.getMessage()]
    assert refused == ["refused /secret in console:local: not a moderator"], "logged, naming no one"

    await samples.run(":mod alice", "/secret")
    assert samples.last_private("alice").text == "the secret"


async def test_a_non_moderator_cannot_manage_cogs(chat):
    await chat.as_member("bob").run("/cogs unload share")
    assert "Only moderators" in chat.last_private("bob").text
    assert "share" in chat.bot.cogs.loaded


async def test_unknown_command_suggests_the_closest(chat):
    await chat.run("/shrae")
    assert "I don't know the command /shrae. Did you mean /share?" in chat.last_private("you").text
    await chat.run("/share-promt #general")
    reply = chat.last_private("you").text
    assert "/share-promt." in reply and "share-prompt" not in reply, "members are not offered moderator commands"
    await chat.run("/shre now")
    assert "I don't know the command /shre now." in chat.last_private("you").text, "a second word may be a subcommand"

    await chat.run(":mod you", "/share-promt #general")
    assert "Did you mean /share-prompt?" in chat.last_private("you").text
    await chat.run("/cogs")
    assert "/cogs needs one more word: /cogs list, /cogs load, /cogs unload, /cogs reload." in chat.last_private("you").text
    await chat.run("/cogs lst")
    assert "Did you mean /cogs list?" in chat.last_private("you").text


async def test_help_shows_what_this_member_may_use(samples):
    await samples.as_member("alice").run("/help")
    member_help = samples.last_private("alice").text
    assert "/share: Get ready-to-post texts" in member_help
    assert "/echo <text>: Say the text back" in member_help
    assert "/secret" not in member_help and "/cogs" not in member_help

    await samples.run(":mod alice", "/help")
    moderator_help = samples.last_private("alice").text
    assert "/secret: Something only moderators may do (moderators)" in moderator_help
    assert "/cogs load <name>" in moderator_help

    await samples.run("/help pick")
    one = samples.last_private("alice").text
    assert "/pick <colour> [number] [loud]" in one
    assert "colour: A colour (one of: red, green)" in one
    assert "number: A number (default: 7)" in one

    await samples.run("/help cogs load")
    assert "Switch a feature on" in samples.last_private("alice").text


async def test_options_by_name_by_position_and_with_quotes(samples):
    await samples.run("/pick green 3 yes")
    assert samples.last_in("general").text == "green 3 !"
    await samples.run("/pick number:4 colour:RED")
    assert samples.last_in("general").text == "red 4"
    await samples.run('/echo text:"two words"')
    assert samples.last_in("general").text == "You said: two words"
    await samples.run("/echo three bare words")
    assert samples.last_in("general").text == "You said: three bare words"
    await samples.run("/echo don't stop")
    assert samples.last_in("general").text == "You said: don't stop"
    await samples.run("/echo next: soon")
    assert samples.last_in("general").text == "You said: next: soon"
    await samples.run("/echo \u201ccurly quotes\u201d")
    assert samples.last_in("general").text == "You said: curly quotes"
    await samples.run("/greet @Carol #events")
    assert samples.last_in("events").text == "Hello, Carol"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/pick blue", '"blue" isn\'t one of the choices for "colour": red, green.'),
        ("/pick gren", 'Did you mean "green"?'),
        ("/pick red many", '"number" should be a whole number, not "many".'),
        ("/pick red 1 perhaps", '"loud" should be yes or no, not "perhaps".'),
        ("/pick colour:red colour:green", 'You gave "colour" twice'),
        ("/pick colur:red", '/pick has no option called "colur". Did you mean "colour"?'),
        ("/pick", '/pick needs "colour": A colour.'),
        ("/echo this text is far too long to be echoed", '"text" is 18 characters too long (the limit is 20).'),
        ('/echo "   "', '"text" can\'t be empty.'),
        ('/echo "unclosed', "A double quotation mark is missing its partner."),
        ("/pick red 3 yes colur:green", '/pick has no option called "colur". Did you mean "colour"?'),
        ("/greet carol", 'I can\'t find the member "carol". Write it as @name.'),
        ("/greet @carol #two words", 'I didn\'t expect "words" there'),
    ],
)
async def test_bad_options_get_a_specific_friendly_answer(samples, line, expected):
    await samples.run(line)
    reply = samples.last_private("you").text
    assert expected in reply
    if "quotation" not in expected:
        assert "How to write it: /" in reply


async def test_a_failing_handler_gets_an_apology_not_a_traceback(samples, caplog):
    caplog.set_level(logging.ERROR)
    await samples.run("/crash")
    reply = samples.last_private("you").text
    assert "something went wrong on my side" in reply
    assert "Traceback" not in reply and "deliberate" not in reply
    assert any("deliberate failure" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_cog_settings_come_from_the_config(tmp_path):
    config = '[cogs]\nenabled = ["sample_cogs.echo"]\n\n[cogs."sample_cogs.echo"]\ngreeting = "Hi"\nrepeat = 2\n'
    chat = await Chat.open(tmp_path, config)
    try:
        await chat.run("/greet @dana")
        assert chat.last_in("general").text == "Hi Hi, dana"
    finally:
        await chat.close()


async def test_events_reach_listeners_even_when_one_of_them_fails(samples, caplog):
    caplog.set_level(logging.ERROR)
    await samples.as_member("erin").run("/share")
    await samples.press("I shared it")
    heard = await samples.db.fetchall("SELECT member_id FROM echo_heard")
    assert [row["member_id"] for row in heard] == ["erin"]
    assert any("this listener always fails" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_jobs_run_when_due_and_not_twice_after_a_restart(samples):
    async def runs() -> int:
        return await samples.db.fetchval("SELECT COUNT(*) FROM echo_runs")

    await samples.run(":clock +23h")
    assert await runs() == 0
    await samples.run(":clock +2h")
    assert await runs() == 1
    await samples.restart()
    await samples.bot.scheduler.run_due()
    assert await runs() == 1, "a restart must not run the job again"
    await samples.run(":clock +1d")
    assert await runs() == 2


async def test_a_job_whose_period_passed_several_times_runs_once(samples):
    await samples.run(":clock +3d")
    assert await samples.db.fetchval("SELECT COUNT(*) FROM echo_runs") == 1


async def test_direct_messages_get_a_pointer_to_help(chat):
    await chat.as_member("fay").run(":dm hello there")
    assert "type /help" in chat.last_dm("fay").text
    await chat.run(":dm /share")
    assert chat.last_dm("fay").message.title == "Share your One Small Step experience"


async def test_a_broken_error_template_still_gets_the_member_an_answer(tmp_path, caplog):
    (tmp_path / "mine" / "core").mkdir(parents=True)
    shipped = (Path(__file__).resolve().parents[1] / "templates" / "core" / "errors.j2").read_text()
    broken = shipped.replace("I don't know the command", "{{ no_such_variable }}")
    (tmp_path / "mine" / "core" / "errors.j2").write_text(broken)
    chat = await Chat.open(tmp_path, '[bot]\ntemplates_dir = "mine"\n')
    try:
        await chat.run("/nosuch")
        assert "couldn't explain why" in chat.last_private("you").text
        await chat.run("/share")
        assert chat.last_private("you").message.title == "Share your One Small Step experience"
    finally:
        await chat.close()


async def test_only_known_cogs_can_be_loaded(chat):
    await chat.run(":mod you", "/cogs load bot.core")
    assert "there is no cog named 'bot.core'" in chat.last_private("you").text
    await chat.run("/cogs load shar")
    assert "did you mean 'share'?" in chat.last_private("you").text
    await chat.run("/share")
    assert chat.last_private("you").message.title == "Share your One Small Step experience"


GREETER = '''
from bot.core import Cog, Invocation, command


class Greeter(Cog):
    @command("greeting", help="Say the greeting")
    async def greeting(self, ctx: Invocation) -> None:
        await ctx.reply("{text}")


def setup(bot, name):
    return Greeter(bot, name)
'''


async def test_reload_reads_the_files_again_and_a_broken_edit_keeps_the_old_version(tmp_path, monkeypatch):
    package = tmp_path / "site" / "ourcogs" / "greeter"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text(GREETER.replace("{text}", "first version"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    chat = await Chat.open(tmp_path, '[cogs]\nenabled = ["ourcogs.greeter"]\n')
    try:
        await chat.run(":mod you", "/greeting")
        assert chat.last_in("general").text == "first version"

        (package / "__init__.py").write_text(GREETER.replace("{text}", "second version"))
        await chat.run("/cogs reload ourcogs.greeter", "/greeting")
        assert chat.last_in("general").text == "second version"

        (package / "__init__.py").write_text("this is not python")
        await chat.run("/cogs reload ourcogs.greeter")
        assert "the version that was running stays on" in chat.last_private("you").text
        await chat.run("/greeting")
        assert chat.last_in("general").text == "second version"
        assert "ourcogs.greeter" not in chat.bot.cogs.failed
    finally:
        await chat.close()


async def test_commands_whose_options_arrive_already_named(samples):
    """Discord sends a slash command's name and typed options; they take the same checked path."""
    ctx = samples.adapter.invocation("general")
    await samples.bot.run_command(ctx, "pick", [RawArgument("colour", "green"), RawArgument("number", 5)])
    assert samples.last_in("general").text == "green 5"
    zed = Member("console", "zed", "Zed")
    await samples.bot.run_command(ctx, "greet", [RawArgument("who", zed), RawArgument("where", Channel("news", "news"))])
    assert samples.last_in("news").text == "Hello, Zed"
    await samples.bot.run_command(ctx, "pick", [RawArgument("colour", "blue")])
    assert "isn't one of the choices" in samples.last_private("you").text
    await samples.bot.run_command(ctx, "pik", [])
    assert "Did you mean /pick?" in samples.last_private("you").text


async def test_a_member_sending_too_many_commands_is_asked_to_wait(tmp_path):
    chat = await Chat.open(tmp_path, "[safety]\ncommands_per_minute = 3\n")
    try:
        await chat.as_member("ava").run("/help", "/help", "/help", "/help")
        assert chat.last_private("ava").text.startswith("That's a lot of commands in a short while. Please try again in")
        await chat.as_member("admin").run("/help", "/help", "/help", "/help")
        assert chat.last_private("admin").text.startswith("Here is what you can do"), "moderators have no limit"
        await chat.run(":clock +61s", ":as ava", "/help")
        assert chat.last_private("ava").text.startswith("Here is what you can do")
    finally:
        await chat.close()


TYPO = '''
from bot.core import Button, Cog, Invocation, Message, command, option


class Typo(Cog):
    """A cog with one name spelled wrong."""

    @command("typo", help="Try it")
    async def typo(self, ctx: Invocation, partner: str = option("Who", {suggest})) -> None:
        reply = await self.bot.ask({query}, ctx.community, default=None)
        await ctx.reply(Message(text=str(reply), buttons=[Button("Again", {action})]))

    async def partner_names(self, ctx: Invocation, typed: str) -> list[str]:
        return []

    @command("typo-again", help="Its button")
    async def again(self, ctx: Invocation) -> None:
        await ctx.reply("again")


def setup(bot, name):
    return Typo(bot, name)
'''
RIGHT = {"suggest": 'autocomplete="partner_names"', "query": '"partners.names"', "action": '"share:done"'}


def typo_cog(tmp_path, monkeypatch, package_name: str, **names: str) -> str:
    """A cog package of its own name (each test imports its own), with `names` spelled as given."""
    package = tmp_path / "site" / package_name / "typo"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text(TYPO.format(**{**RIGHT, **names}))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return f'[cogs]\nenabled = ["share", "partners", "{package_name}.typo"]\n'


@pytest.mark.parametrize("package_name, wrong, named", [
    ("typo_suggest", {"suggest": 'autocomplete="partner_name"'},
     "/typo partner: its suggestions come from 'partner_name', which is not an async method of Typo"),
    ("typo_query", {"query": '"partners.name"'},
     "__init__.py:10 asks the query 'partners.name', which no cog answers (did you mean 'partners.names'?)"),
    ("typo_action", {"action": '"share:dome"'},
     "__init__.py:11 shows a button for the action 'share:dome', which no cog handles"),
])
async def test_a_name_spelled_wrong_stops_the_start_naming_the_cog_and_the_name(tmp_path, monkeypatch, package_name,
                                                                                 wrong, named):
    from bot.core.errors import UnknownName

    config = typo_cog(tmp_path, monkeypatch, package_name, **wrong)
    with pytest.raises(UnknownName) as stopped:
        await Chat.open(tmp_path, config)
    assert str(stopped.value).startswith(f"cog {package_name}.typo: ") and named in str(stopped.value)


async def test_the_same_cog_with_its_names_spelled_right_starts(tmp_path, monkeypatch):
    chat = await Chat.open(tmp_path, typo_cog(tmp_path, monkeypatch, "typo_none"))
    try:
        await chat.run("/typo partner:x")
        assert chat.last_in("general").text == "[]", "the partners cog answered"
    finally:
        await chat.close()
