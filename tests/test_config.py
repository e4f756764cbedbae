"""The config: every kind of bad file is refused with the key, the problem and the fix."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import SECTIONS, ConfigError, load_config, parse_config
from conversation import Chat

REPO = Path(__file__).resolve().parents[1]


def error_for(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="test.toml")
    return caught.value


def test_no_file_means_the_built_in_defaults(tmp_path):
    config = load_config(cwd=tmp_path)
    assert config.source == "built-in defaults"
    example = tomllib.loads((Path(__file__).parents[1] / "config.example.toml").read_text())
    assert config.cogs.enabled == example["cogs"]["enabled"], "the example shows the defaults as they are"
    assert config.path(config.bot.database) == tmp_path / "smallstep.db"


def test_smallstep_toml_in_the_working_folder_is_used(tmp_path):
    (tmp_path / "smallstep.toml").write_text('[program]\nname = "Bridges"\n')
    assert load_config(cwd=tmp_path).program.name == "Bridges"


def test_a_missing_file_names_the_fix(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert "does not exist" in str(caught.value)
    assert "config.example.toml" in caught.value.fix


def test_bad_toml_says_where():
    error = error_for('[program]\nname = "unclosed\n')
    assert error.key == "(file)"
    assert "not valid TOML" in error.problem and "line 2" in error.problem


def test_an_unknown_key_suggests_the_right_one():
    error = error_for('[program]\nsignup_ulr = "https://example.org"\n')
    assert error.key == "program.signup_ulr"
    assert "did you mean 'signup_url'?" in error.fix


def test_an_unknown_section_is_refused():
    error = error_for("[prgram]\n")
    assert error.key == "prgram"
    assert "did you mean 'program'?" in error.fix


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[bot]\nscheduler_interval_seconds = "30"\n', "bot.scheduler_interval_seconds", "must be a whole number"),
        ("[bot]\nscheduler_interval_seconds = true\n", "bot.scheduler_interval_seconds", "must be a whole number"),
        ("[program]\nname = 5\n", "program.name", "must be text"),
        ('[cogs]\nenabled = "share"\n', "cogs.enabled", "must be a list"),
        ('[console]\nmoderators = ["a", 3]\n', "console.moderators", "every item must be text"),
        ("program = 3\n", "program", "must be a table"),
    ],
)
def test_a_wrong_type_names_the_key_and_shows_the_right_form(text, key, problem):
    error = error_for(text)
    assert error.key == key
    assert problem in error.problem
    assert error.fix.startswith("write it as") and key.rsplit(".", 1)[-1] in error.fix


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[program]\nsignup_url = "http://example.org"\n', "program.signup_url", "must be a full https:// address"),
        ('[bot]\ntimezone = "Europe/Berln"\n', "bot.timezone", "not a time zone name"),
        ('[bot]\nlog_level = "LOUD"\n', "bot.log_level", "must be one of"),
        ("[bot]\nscheduler_interval_seconds = 0\n", "bot.scheduler_interval_seconds", "between 1 and 3600"),
        ('[cogs]\nenabled = ["share", "share"]\n', "cogs.enabled", "lists a cog twice"),
    ],
)
def test_a_bad_value_is_explained(text, key, problem):
    error = error_for(text)
    assert (error.key, problem in error.problem) == (key, True)


def test_an_enabled_cog_that_does_not_exist():
    error = error_for('[cogs]\nenabled = ["share", "shares"]\n')
    assert error.key == "cogs.enabled[1]"
    assert "there is no cog named 'shares'" in error.problem
    assert "did you mean 'share'?" in error.fix


def test_settings_for_a_cog_that_does_not_exist():
    error = error_for('[cogs.shar]\nfonts = []\n')
    assert error.key == "cogs.shar"


@pytest.mark.parametrize(
    ("text", "key", "env"),
    [
        ('[discord]\ntoken = "abc"\n', "discord.token", "DISCORD_TOKEN"),
        ('[slack]\nbot_token = "xoxb-123"\n', "slack.bot_token", "SLACK_BOT_TOKEN"),
        ('[slack]\nsigning_secret = "s"\n', "slack.signing_secret", "SLACK_SIGNING_SECRET"),
        ('[slack]\nmoderators = ["xoxb-1234-5678"]\n', "slack.moderators", "an environment variable"),
        ('[program]\nname = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"\n', "program.name",
         "an environment variable"),
    ],
)
def test_a_secret_in_the_file_is_refused(text, key, env):
    error = error_for(text)
    assert error.key == key
    assert "secret" in error.problem
    assert env in error.fix


def test_the_example_config_is_valid_and_documents_every_key():
    text = (REPO / "config.example.toml").read_text()
    parse_config(text)
    documented = tomllib.loads(text)
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            assert f.name in documented.get(section, {}), f"config.example.toml lacks {section}.{f.name}"
    assert "share" in documented["cogs"], "config.example.toml lacks the [cogs.share] table"
    from cogs.share.cog import ShareSettings
    from cogs.testimonials.cog import TestimonialSettings

    for cog, settings in (("share", ShareSettings), ("testimonials", TestimonialSettings)):
        for f in dataclasses.fields(settings):
            assert f.name in documented["cogs"][cog], f"config.example.toml lacks cogs.{cog}.{f.name}"


async def test_a_cog_setting_of_the_wrong_type_stops_the_start(tmp_path):
    with pytest.raises(ConfigError) as caught:
        await Chat.open(tmp_path, "[cogs.share]\nfonts = \"one.ttf\"\n")
    assert caught.value.key == "cogs.share.fonts"


async def test_a_missing_badge_background_stops_the_start(tmp_path):
    with pytest.raises(ConfigError) as caught:
        await Chat.open(tmp_path, '[cogs.share]\nbadge_background = "missing.png"\n')
    assert caught.value.key == "cogs.share.badge_background"
    assert "missing.png" in caught.value.problem


def run_cli(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_command_exits_with_status_2_and_no_traceback_on_a_bad_config(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[bot]\ntimezone = "Mars/Olympus"\n')
    result = run_cli("console", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "bot.timezone" in result.stderr and "fix:" in result.stderr
    assert "Traceback" not in result.stderr

    result = run_cli("config", "check", "--config", str(tmp_path / "absent.toml"), cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_config_check_catches_what_only_a_cog_can_check(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[cogs.share]\nfonts = ["nope.ttf"]\n')
    result = run_cli("config", "check", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "cogs.share.fonts[0]" in result.stderr and "nope.ttf" in result.stderr

    bad.write_text('[cogs.share]\nbadge_backgrund = "x.png"\n')
    result = run_cli("config", "check", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean 'badge_background'?" in result.stderr


def test_a_misspelt_time_zone_gets_suggestions():
    error = error_for('[bot]\ntimezone = "Europe/Berln"\n')
    assert "did you mean 'Europe/Berlin'" in error.fix


def test_config_check_accepts_the_example(tmp_path):
    result = run_cli("config", "check", "--config", str(REPO / "config.example.toml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


async def test_a_missing_templates_folder_stops_the_start(tmp_path):
    with pytest.raises(ConfigError) as caught:
        await Chat.open(tmp_path, '[bot]\ntemplates_dir = "my-templates"\n')
    assert caught.value.key == "bot.templates_dir"
    assert "my-templates" in caught.value.problem
