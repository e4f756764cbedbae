"""The Slack adapter on the real slack-bolt AsyncApp, against the fake Slack in tests/fakes.

Requests are signed with the real signing secret and go through Bolt's real verification;
the adapter's AsyncWebClient talks to the fake Web API, which records every call.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import logging
import os
import sys
from pathlib import Path

import pytest_asyncio
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.config import parse_config
from datetime import timedelta

from bot.app import Bot
from bot.core import Channel, Member, Message
from bot.core.message import Image
from bot.platforms.slack import SlackAdapter
from databases import database_for, read_only
from fakes.slack_server import (
    tokens_revoked_event,
    view_submission_body,
    FakeSlack,
    app_home_opened_event,
    block_action_body,
    event_body,
    message_im_event,
    signed_headers,
    slash_command_body,
    slash_command_payload,
    team_join_event,
)

SECRET = "test-signing-secret"
TEAM = "T0001"
GENERAL = "C0GENERAL"
MODERATORS = "C0MODS"
ALICE = "U0ALICE"
ADMIN = "U0ADMIN"  # a moderator by user id
GUS = "U0GUS"  # a moderator through the user group
GROUP = "S0MODS"
STORY = "We talked for an hour about our towns, our parents and what each of us fears most."


class Harness:
    """The fake Slack and the bot's Bolt app; requests are signed and dispatched in-process."""

    def __init__(self, fake: FakeSlack, tmp_path: Path, extra_config: str = "") -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.config = parse_config(
            '[cogs]\nenabled = ["share", "testimonials", "partners", "events", "badges", "welcome", "sample_cogs.echo"]\n'
            f'[slack]\napi_base_url = "{fake.api_base}"\nmoderators = ["{ADMIN}"]\nmoderator_group = "{GROUP}"\n'
            f'{extra_config}', base_dir=tmp_path)
        self.bot: Bot | None = None
        self.adapter: SlackAdapter | None = None

    async def start(self) -> None:
        self.bot = await Bot.open(self.config, database=database_for(self.tmp_path))
        self.adapter = SlackAdapter(self.bot, token="xoxb-test", signing_secret=SECRET)
        await self.bot.start()
        await self.adapter.prepare()

    async def stop(self) -> None:
        await self.adapter.close()
        await self.bot.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def send(self, body: str, *, retry_num: int | None = None, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> int:
        headers = signed_headers(SECRET, body, timestamp=timestamp, retry_num=retry_num, content_type=content_type)
        response = await self.adapter.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        return response.status

    async def command(self, user: str, text: str, *, channel: str = GENERAL) -> str:
        """A `/smallstep <text>`; returns the response_url its answers will go to."""
        url = self.fake.response_url()
        body = slash_command_body(command="/smallstep", text=text, user_id=user, user_name=self.fake.handle(user),
                                  channel_id=channel, team_id=TEAM, response_url=url)
        assert await self.send(body) == 200
        return url

    async def press(self, user: str, action_id: str, value: str, *, channel: str | None = GENERAL) -> str:
        url = self.fake.response_url()
        body = block_action_body(user_id=user, user_name=self.fake.handle(user), team_id=TEAM, channel_id=channel,
                                 action_id=action_id, value=value, response_url=url)
        assert await self.send(body) == 200
        return url

    async def submit_view(self, user: str, view: dict, values: dict[str, str]) -> tuple[int, dict]:
        """Submit a modal the app opened; Slack's answer is the acknowledgement's status and body."""
        body = view_submission_body(view=view, user_id=user, user_name=self.fake.handle(user), team_id=TEAM,
                                    values=values)
        response = await self.adapter.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed_headers(
            SECRET, body, content_type="application/x-www-form-urlencoded")))
        return response.status, json.loads(response.body) if response.body else {}

    async def event(self, event: dict, *, event_id: str, retry_num: int | None = None) -> None:
        body = event_body(event, team_id=TEAM, event_id=event_id)
        assert await self.send(body, retry_num=retry_num, content_type="application/json") == 200

    async def answer(self, response_url: str) -> dict:
        """The first answer sent to a response_url."""
        url_id = response_url.rstrip("/").rsplit("/", 1)[-1]
        await self.fake.wait_for(lambda: any(r["url_id"] == url_id for r in self.fake.responses))
        return next(r["body"] for r in self.fake.responses if r["url_id"] == url_id)

    async def posts_to(self, channel: str, count: int = 1) -> list[dict]:
        await self.fake.wait_for(lambda: len(self._posts(channel)) >= count)
        return self._posts(channel)

    def _posts(self, channel: str) -> list[dict]:
        return [c["args"] for c in self.fake.calls_to("chat.postMessage")
                if c["error"] is None and c["args"].get("channel") == channel]


@pytest_asyncio.fixture
async def slack(tmp_path, caplog, request):
    """The fake Slack and the bot on it; a test marked `@pytest.mark.slack_config("...")` adds to the config."""
    caplog.set_level(logging.ERROR)
    fake = FakeSlack(team_id=TEAM)
    for user, name in ((ALICE, "alice"), (ADMIN, "admin"), (GUS, "gus")):
        fake.add_user(user, name)
    fake.add_usergroup(GROUP, [GUS])
    fake.add_channel(GENERAL, "general")
    fake.add_channel(MODERATORS, "moderators")
    await fake.start()
    extra = request.node.get_closest_marker("slack_config")
    harness = Harness(fake, tmp_path, extra.args[0] if extra else "")
    harness.caplog = caplog
    await harness.start()
    yield harness
    await asyncio.sleep(0.05)  # let the last listeners finish after their acks
    await harness.stop()
    await fake.close()
    assert not fake.unknown_calls, fake.unknown_calls
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def texts_of(message: dict) -> str:
    texts = []
    for block in message.get("blocks", []):
        if block.get("type") in ("header", "section"):
            texts += [block["text"]["text"]] if "text" in block else [f["text"] for f in block["fields"]]
    return "\n".join(texts)


def buttons_of(message: dict) -> list[tuple[str, str, str]]:
    return [(e["text"]["text"], e["action_id"], e.get("value", "")) for block in message.get("blocks", [])
            if block["type"] == "actions" for e in block["elements"]]


async def test_a_command_is_answered_privately_with_blocks_and_buttons(slack):
    kit = await slack.answer(await slack.command(ALICE, "share"))
    assert kit["response_type"] == "ephemeral"
    assert kit["blocks"][0] == {"type": "header",
                                "text": {"type": "plain_text", "text": "Share your One Small Step experience"}}
    assert [(label, action) for label, action, _ in buttons_of(kit)] == [
        ("Get my badge graphic", "share:badge#0"), ("I shared it", "share:done#1")]


async def test_a_button_press_after_a_restart_still_works(slack):
    kit = await slack.answer(await slack.command(ALICE, "share"))
    _, action_id, value = buttons_of(kit)[1]
    await slack.restart()
    thanks = await slack.answer(await slack.press(ALICE, action_id, value))
    assert texts_of(thanks).startswith("Thank you for sharing!")
    again = await slack.answer(await slack.press(ALICE, action_id, value))
    assert "already told us" in texts_of(again)
    assert await slack.bot.db.fetchval("SELECT COUNT(*) FROM shares") == 1


async def test_help_writes_commands_as_slack_has_them(slack):
    help_text = texts_of(await slack.answer(await slack.command(ALICE, "")))
    assert "/smallstep share: Get ready-to-post texts" in help_text
    assert "/smallstep testimonial withdraw" in help_text


async def test_a_form_runs_in_direct_messages(slack):
    started = await slack.answer(await slack.command(ALICE, "testimonial"))
    assert "sent you a direct message" in texts_of(started)
    dm = slack.fake.dm_channel_of(ALICE)
    first = (await slack.posts_to(dm))[0]
    assert "What happened in your conversation?" in texts_of(first)
    await slack.event(message_im_event(user_id=ALICE, text=STORY), event_id="Ev1")
    assert "What surprised you" in texts_of((await slack.posts_to(dm, 2))[1])
    draft = await slack.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (ALICE,))
    assert json.loads(draft["answers"])["story"] == STORY


async def test_a_hostile_answer_is_shown_escaped_in_the_review(slack):
    typed = "Hey <!channel> and <!here>, <@U0ADMIN> said *this* & that: we talked for an hour, it was good."
    await slack.command(ALICE, "testimonial")
    dm = slack.fake.dm_channel_of(ALICE)
    await slack.posts_to(dm)
    for count, (event_id, text) in enumerate((("Ev11", typed), ("Ev12", "That we agreed about the schools."),
                                              ("Ev13", "skip"), ("Ev14", "first name"), ("Ev15", "I agree")), 2):
        await slack.event(message_im_event(user_id=ALICE, text=text), event_id=event_id)
        await slack.posts_to(dm, count)
    review = texts_of(slack._posts(dm)[-1])
    assert "<!channel>" not in review and "<!here>" not in review and "<@U0ADMIN>" not in review
    assert "&lt;!channel&gt;" in review and "&amp; that" in review
    draft = await slack.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (ALICE,))
    assert json.loads(draft["answers"])["story"].startswith("Hey <!channel> and <!here>, @")


async def alice_sends_a_testimonial(slack) -> None:
    await slack.command(ALICE, "testimonial")
    dm = slack.fake.dm_channel_of(ALICE)
    await slack.posts_to(dm)
    for count, (event_id, text) in enumerate((("Ev21", STORY), ("Ev22", "That we agreed about the schools."),
                                              ("Ev23", "skip"), ("Ev24", "first name"), ("Ev25", "I agree"),
                                              ("Ev26", "submit")), 2):
        await slack.event(message_im_event(user_id=ALICE, text=text), event_id=event_id)
        await slack.posts_to(dm, count)
    assert await slack.bot.db.fetchval("SELECT COUNT(*) FROM testimonials") == 1


async def test_a_moderators_note_is_written_in_a_modal_and_checked_beside_its_box(slack):
    await alice_sends_a_testimonial(slack)
    pressed = await slack.press(ADMIN, "testimonials:reject", "1", channel=MODERATORS)
    await slack.fake.wait_for(lambda: slack.fake.views)
    view = slack.fake.views[-1]
    assert view["title"]["text"] == "Rejecting a testimonial" and view["submit"]["text"] == "Submit"
    (box,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert box["block_id"] == "note" and box["element"]["multiline"] and box["element"]["min_length"] == 5
    assert box["label"]["text"].startswith("Why is it rejected?")
    assert not [c for c in slack.fake.calls_to("chat.postMessage") if c["args"]["channel"] == slack.fake.dm_channel_of(
        ADMIN)], "no DM conversation: the modal asks"

    status, answer = await slack.submit_view(ADMIN, view, {"note": "meh"})
    assert status == 200 and answer["response_action"] == "errors"
    assert answer["errors"]["note"].startswith("That's a little short: 2 more characters")
    assert await slack.bot.db.fetchval("SELECT status FROM testimonials") == "pending"

    async with read_only(slack.bot.db):  # the database refuses writes for a moment
        status, answer = await slack.submit_view(ADMIN, view, {"note": "It names a neighbour without asking."})
    assert answer["errors"]["note"].startswith("I couldn't keep this just now.")
    slack.caplog.clear()  # its log line was expected

    await slack.restart()  # the modal stays open on the moderator's screen; its draft is in SQLite
    status, answer = await slack.submit_view(ADMIN, view, {"note": "It names a neighbour <!channel> without asking."})
    assert status == 200 and answer == {}
    note = "It names a neighbour &lt;!channel&gt; without asking."  # escaped: it pings no one
    await slack.fake.wait_for(lambda: any(note in texts_of(p) for p in slack._posts(slack.fake.dm_channel_of(ALICE))))
    assert await slack.bot.db.fetchval("SELECT status FROM testimonials") == "rejected"
    done = await slack.answer(pressed)  # the moderator's own answer, where they pressed
    assert done["response_type"] == "ephemeral" and "rejected" in texts_of(done).lower()
    status, again = await slack.submit_view(ADMIN, view, {"note": "Sent twice by a double click."})
    assert status == 200 and await slack.bot.db.fetchval("SELECT COUNT(*) FROM audit_log WHERE action ="
                                                         " 'testimonial.reject'") == 1


async def test_a_retried_event_is_handled_once(slack):
    await slack.command(ALICE, "testimonial")
    dm = slack.fake.dm_channel_of(ALICE)
    await slack.posts_to(dm)
    event = message_im_event(user_id=ALICE, text=STORY)
    await slack.event(event, event_id="Ev2")
    await slack.posts_to(dm, 2)
    await slack.event(event, event_id="Ev2", retry_num=1)
    await asyncio.sleep(0.2)
    assert len(slack._posts(dm)) == 2, "the retry did not answer again"
    draft = await slack.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (ALICE,))
    assert json.loads(draft["answers"]) == {"story": STORY}


async def test_member_text_cannot_ping_or_format(slack):
    answer = await slack.answer(await slack.command(ALICE, "help <!channel> <@U0ADMIN> & <!here>"))
    text = texts_of(answer)
    assert "<!channel>" not in text and "<!here>" not in text and "<@U0ADMIN>" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text


async def test_bad_signatures_and_stale_requests_are_refused(slack):
    body = slash_command_body(command="/smallstep", text="share", user_id=ALICE, user_name="alice",
                              channel_id=GENERAL, team_id=TEAM, response_url=slack.fake.response_url())
    forged = signed_headers("not-the-secret", body)
    response = await slack.adapter.app.async_dispatch(AsyncBoltRequest(body=body, headers=forged))
    assert response.status == 401

    assert await slack.send(body, timestamp=int(time.time()) - 600) == 401  # ten minutes old
    assert await slack.bot.db.fetchval("SELECT COUNT(*) FROM share_offers") == 0


async def test_a_rate_limited_post_is_retried_by_slack_sdk_and_delivered_once(slack):
    slack.fake.rate_limit_next("chat.postMessage", 1, retry_after=1)
    started = time.monotonic()
    done = await slack.answer(await slack.command(ADMIN, f"share-prompt <#{GENERAL}|general>"))
    assert time.monotonic() - started >= 1.0, "slack-sdk waited out the Retry-After before trying again"
    assert texts_of(done) == "Posted the invitation in #general."
    assert slack.fake.rate_limited == 1
    (post,) = await slack.posts_to(GENERAL)
    assert [label for label, _, _ in buttons_of(post)] == ["Get my share kit"]


async def test_a_slow_command_is_acknowledged_at_once_and_answered_afterwards(slack):
    started = time.monotonic()
    url = await slack.command(ALICE, "slow")  # returns when Bolt has acknowledged the request
    acknowledged = time.monotonic() - started
    answer = await slack.answer(url)
    answered = time.monotonic() - started
    assert acknowledged < 1.0 < 1.3 <= answered, (acknowledged, answered)
    assert texts_of(answer) == "done at last"


async def test_an_event_is_announced_and_answered_on_slack(slack):
    created = await slack.answer(await slack.command(
        ADMIN, f'event create title:"Listening session" start:"2030-01-14 18:00" place:Online'
               f' channels:<#{GENERAL}|general>'))
    assert "Event #1 is on: Listening session" in texts_of(created)
    (post,) = await slack.posts_to(GENERAL)
    assert [label for label, _, _ in buttons_of(post)][:3] == ["Going", "Maybe", "Can't go"]
    _, action_id, value = buttons_of(post)[0]
    answered = await slack.answer(await slack.press(ALICE, action_id, value))
    assert "You're going to Listening session" in texts_of(answered)
    await slack.fake.wait_for(lambda: slack.fake.calls_to("chat.update"))
    updated = slack.fake.calls_to("chat.update")[-1]["args"]
    assert "Going: 1" in texts_of(updated) and updated["channel"] == GENERAL


async def test_moderators_by_user_id_or_user_group(slack):
    refused = await slack.answer(await slack.command(ALICE, f"share-prompt <#{GENERAL}|general>"))
    assert "Only moderators can use /smallstep share-prompt" in texts_of(refused)
    allowed = await slack.answer(await slack.command(GUS, f"share-prompt <#{GENERAL}|general>"))
    assert texts_of(allowed) == "Posted the invitation in #general."


async def test_a_private_image_goes_to_the_members_dms(slack):
    kit = await slack.answer(await slack.command(ALICE, "share"))
    label, action_id, value = buttons_of(kit)[0]
    await slack.press(ALICE, action_id, value)
    await slack.fake.wait_for(lambda: slack.fake.uploads)
    (upload,) = slack.fake.uploads
    assert upload["filename"] == "small-step-badge.png" and upload["bytes"].startswith(b"\x89PNG")
    assert upload["channel_id"] == slack.fake.dm_channel_of(ALICE)


async def test_joins_and_the_home_tab(slack):
    slack.fake.add_user("U0NEW", "newcomer")  # Slack knows its new member before telling the bot
    await slack.event(team_join_event(user_id="U0NEW", name="newcomer"), event_id="Ev3")
    for _ in range(100):
        if await slack.bot.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'member.joined'"):
            break
        await asyncio.sleep(0.02)
    assert await slack.bot.db.fetchval("SELECT member_id FROM domain_events WHERE name = 'member.joined'") == "U0NEW"

    kit = await slack.answer(await slack.command(ALICE, "share"))
    await slack.answer(await slack.press(ALICE, buttons_of(kit)[1][1], buttons_of(kit)[1][2]))
    await slack.event(app_home_opened_event(user_id=ALICE), event_id="Ev4")
    await slack.fake.wait_for(lambda: slack.fake.calls_to("views.publish"))
    view = slack.fake.calls_to("views.publish")[0]["args"]["view"]
    home = "\n".join(b["text"]["text"] for b in view["blocks"])
    assert "✅ 1. Share your experience" in home and "▫️ 4. Submit a testimonial" in home
    assert "*Your badges:* Spread the word" in home
    await slack.fake.wait_for(lambda: slack.fake.dm_channel_of("U0NEW"))
    welcome = [c["args"] for c in slack.fake.calls_to("chat.postMessage")
               if c["args"]["channel"] == slack.fake.dm_channel_of("U0NEW")]
    assert len(welcome) == 1 and "Welcome, newcomer!" in texts_of(welcome[0])


def test_the_manifest_lists_the_enabled_commands_for_both_modes(tmp_path):
    def manifest(*args: str) -> dict:
        result = subprocess.run([sys.executable, "-m", "bot", "slack-manifest", *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    socket = manifest()
    assert socket["settings"]["socket_mode_enabled"] is True
    (command,) = socket["features"]["slash_commands"]
    assert command["command"] == "/smallstep" and "share" in command["usage_hint"] and "url" not in command
    assert {"commands", "chat:write", "im:write", "im:history"} <= set(socket["oauth_config"]["scopes"]["bot"])
    # Reading a conversation's history, to tell whether a message arrived before a crash.
    assert {"channels:history", "groups:history"} <= set(socket["oauth_config"]["scopes"]["bot"])
    assert "mpim:write" in socket["oauth_config"]["scopes"]["bot"], "the pairing cog's rooms, on by default"
    assert set(socket["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.im", "team_join", "app_home_opened", "app_uninstalled", "tokens_revoked"}
    http = manifest("--request-url", "https://bot.example.org")
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["features"]["slash_commands"][0]["url"] == "https://bot.example.org/slack/events"


async def test_the_command_runs_on_socket_mode_and_stops_cleanly(tmp_path):
    fake = FakeSlack(team_id=TEAM)
    fake.add_user(ALICE, "alice")
    fake.add_channel(GENERAL, "general")
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(f'[slack]\napi_base_url = "{fake.api_base}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}

    async def smallstep(extra_env: dict) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--platform", "slack", cwd=tmp_path, env={**env, **extra_env},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    try:
        missing = await smallstep({})
        _, err = await asyncio.wait_for(missing.communicate(), 60)
        assert missing.returncode == 2 and "SLACK_BOT_TOKEN is not set" in err.decode()
        no_mode = await smallstep({"SLACK_BOT_TOKEN": "xoxb-test"})
        _, err = await asyncio.wait_for(no_mode.communicate(), 60)
        assert no_mode.returncode == 2 and "SLACK_APP_TOKEN" in err.decode()
        wrong_kind = await smallstep({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xoxb-oops"})
        _, err = await asyncio.wait_for(wrong_kind.communicate(), 60)
        assert wrong_kind.returncode == 2 and "app-level token (xapp-" in err.decode()
        (tmp_path / "smallstep.toml").write_text('[slack]\napi_base_url = "http://127.0.0.1:9/api/"\n')
        unreachable = await smallstep({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"})
        _, err = await asyncio.wait_for(unreachable.communicate(), 60)
        assert unreachable.returncode == 1 and "cannot reach Slack at http://127.0.0.1:9/api/" in err.decode()
        assert "Traceback" not in err.decode()
        (tmp_path / "smallstep.toml").write_text(f'[slack]\napi_base_url = "{fake.api_base}"\n')
        rejected = await smallstep({"SLACK_BOT_TOKEN": "bogus-token", "SLACK_APP_TOKEN": "xapp-test"})
        _, err = await asyncio.wait_for(rejected.communicate(), 60)
        assert rejected.returncode == 2 and "Slack rejected the token" in err.decode()

        process = await smallstep({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"})
        url = fake.response_url()
        await fake.socket_send("slash_commands", slash_command_payload(
            command="/smallstep", text="share", user_id=ALICE, user_name="alice", channel_id=GENERAL,
            team_id=TEAM, response_url=url))
        await fake.wait_for(lambda: fake.responses and fake.socket_acks, timeout=30)
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
        assert "Traceback" not in err.decode()
    finally:
        await fake.close()


async def test_the_command_runs_in_http_mode_behind_the_signing_secret(tmp_path, unused_tcp_port):
    import aiohttp

    fake = FakeSlack(team_id=TEAM)
    fake.add_user(ALICE, "alice")
    fake.add_channel(GENERAL, "general")
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(
        f'[slack]\napi_base_url = "{fake.api_base}"\nhost = "127.0.0.1"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    process = await asyncio.create_subprocess_exec(  # its own port, as each of several behind a load balancer
        sys.executable, "-m", "bot", "run", "--platform", "slack", "--port", str(unused_tcp_port), cwd=tmp_path,
        env={**env, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    url = f"http://127.0.0.1:{unused_tcp_port}/slack/events"
    try:
        body = slash_command_body(command="/smallstep", text="share", user_id=ALICE, user_name="alice",
                                  channel_id=GENERAL, team_id=TEAM, response_url=fake.response_url())
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # the server takes a moment to start listening
                try:
                    async with session.post(url, data=body, headers=signed_headers("wrong", body)) as forged:
                        assert forged.status == 401
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with session.post(url, data=body, headers=signed_headers(SECRET, body)) as signed:
                assert signed.status == 200
        await fake.wait_for(lambda: fake.responses, timeout=30)
        assert "Share your One Small Step experience" in json.dumps(fake.responses[0]["body"])
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()


async def test_what_members_type_arrives_as_they_typed_it(slack):
    said = await slack.answer(await slack.command(ALICE, "echo Tom &amp; Jerry"))
    assert texts_of(said) == "You said: Tom &amp; Jerry", "escaped once, for display"
    await slack.command(ALICE, "testimonial")
    dm = slack.fake.dm_channel_of(ALICE)
    await slack.posts_to(dm)
    story = "Our talk is online at <https://example.org/talk|example.org/talk>; write to <mailto:me@example.org|me@example.org> &amp; see."
    await slack.event({**message_im_event(user_id=ALICE, text=story), "subtype": "file_share"}, event_id="Ev9")
    await slack.posts_to(dm, 2)
    draft = await slack.bot.db.fetchone("SELECT answers FROM form_drafts WHERE member_id = ?", (ALICE,))
    assert json.loads(draft["answers"])["story"] == (
        "Our talk is online at https://example.org/talk; write to me@example.org & see.")


async def test_an_expired_response_url_falls_back_to_a_private_post(slack):
    body = slash_command_body(command="/smallstep", text="share", user_id=ALICE, user_name="alice",
                              channel_id=GENERAL, team_id=TEAM, response_url=slack.fake.api_base + "../response/expired")
    assert await slack.send(body) == 200
    await slack.fake.wait_for(lambda: slack.fake.calls_to("chat.postEphemeral"))
    ephemeral = slack.fake.calls_to("chat.postEphemeral")[0]["args"]
    assert ephemeral["user"] == ALICE and ephemeral["channel"] == GENERAL


async def test_an_uninstalled_workspace_is_marked_for_deletion(slack):
    await slack.event({"type": "app_uninstalled"}, event_id="Ev90")
    await slack.event({"type": "tokens_revoked", "tokens": {"bot": ["B1"]}}, event_id="Ev91")
    await slack.fake.wait_for(lambda: True)
    for _ in range(100):
        if await slack.bot.db.fetchval("SELECT COUNT(*) FROM community_departures"):
            break
        await asyncio.sleep(0.02)
    assert await slack.bot.db.fetchval("SELECT community FROM community_departures") == f"slack:{TEAM}"


async def test_another_workspace_is_ignored(slack):
    url = slack.fake.response_url()
    body = slash_command_body(command="/smallstep", text="share", user_id=ALICE, user_name="alice",
                              channel_id=GENERAL, team_id="T0OTHER", response_url=url)
    assert await slack.send(body) == 200
    await asyncio.sleep(0.2)
    assert not slack.fake.responses and await slack.bot.db.fetchval("SELECT COUNT(*) FROM share_offers") == 0


def test_block_kit_limits_are_kept():
    from bot.core import Button, Field, Message
    from bot.platforms.slack.adapter import _blocks
    from bot.platforms.text import pieces

    blocks = _blocks(Message(title="T", text="x", fields=[Field(f"f{i}", "v") for i in range(60)],
                             buttons=[Button("Go", "echo:go")]))
    assert len(blocks) == 50 and blocks[-1]["type"] == "actions"
    inline = _blocks(Message(text="x", fields=[Field("When", "Tuesday", inline=True), Field("Where", "Online",
                                                                                            inline=True),
                                               Field("About", "A long description")]))
    assert inline[1] == {"type": "section", "fields": [{"type": "mrkdwn", "text": "*When*\nTuesday"},
                                                       {"type": "mrkdwn", "text": "*Where*\nOnline"}]}
    assert inline[2]["text"]["text"] == "*About*\nA long description"
    many = _blocks(Message(fields=[Field(f"f{i}", "v", inline=True) for i in range(12)]))
    assert [len(b["fields"]) for b in many] == [10, 2]
    parts = pieces("&amp;" * 700, 3000)
    assert all(part.endswith(";") for part in parts[:-1]), "no piece ends inside an entity"


# -- Slack's documented behaviour (each of these failed against a fake that did not keep it) ------------


async def departures(slack) -> list[str]:
    return [r["community"] for r in await slack.bot.db.fetchall("SELECT community FROM community_departures")]


async def handled(slack, event_id: str) -> None:
    """Wait until the bot has taken an event (it is handled after Slack's acknowledgement)."""
    for _ in range(100):
        if await slack.bot.db.fetchval("SELECT COUNT(*) FROM slack_events WHERE event_id = ?", (event_id,)):
            await asyncio.sleep(0.05)  # and acted on it
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(event_id)


async def test_members_are_named_as_slack_shows_them_never_by_their_handle(slack):
    """`user_name` and `user.name` are legacy handles: names come from users.info, the display
    name the member chose, else their real name."""
    slack.fake.add_user("U0JANE", "Jane Doe", display_name="Jane")
    slack.fake.add_user("U0SAM", "Sam Okafor", display_name="")  # chose no display name
    handle = slack.fake.handle("U0JANE")
    url = await slack.command("U0JANE", f"greet <@U0SAM|{slack.fake.handle('U0SAM')}>")
    assert "Hello, Sam Okafor" in json.dumps(await slack.answer(url))
    await slack.answer(await slack.command("U0JANE", "share"))
    await slack.press("U0JANE", "share:done", "")
    await slack.fake.wait_for(lambda: any("Congratulations" in c["args"].get("text", "")
                                          for c in slack.fake.calls_to("chat.postMessage")))
    said = json.dumps([c["args"] for c in slack.fake.calls_to("chat.postMessage")] + slack.fake.responses)
    assert "Congratulations, Jane!" in said and handle not in said


async def test_a_post_whose_connection_broke_is_found_in_the_history_not_posted_again(slack):
    """chat.postMessage has no idempotency key: a reset after Slack stored the message must not make a
    second one. The post is not retried blindly; the outbox tries again later and finds it by its metadata."""
    slack.fake.reset_after_next("chat.postMessage")
    await slack.answer(await slack.command(ADMIN, "broadcast b1 <#C0GENERAL|general> A new event is on."))
    await slack.fake.wait_for(lambda: slack.fake.calls_to("chat.postMessage"))
    await slack.bot.outbox.idle()
    assert await slack.bot.db.fetchval("SELECT status FROM outbox WHERE batch = 'echo:b1'") == "pending"
    slack.bot.clock.advance(timedelta(minutes=1))  # the retry is due
    await slack.bot.outbox.deliver_due()
    posts = slack._posts(GENERAL)
    assert len(posts) == 1, "the message once"
    assert posts[0]["metadata"]["event_type"] == "smallstep_delivery"
    assert slack.fake.calls_to("conversations.history")[-1]["args"]["include_all_metadata"] in (True, "true", "1")
    row = await slack.bot.db.fetchone("SELECT status, message_id FROM outbox WHERE batch = 'echo:b1'")
    (message,) = slack.fake.messages_in(GENERAL)
    assert (row["status"], row["message_id"]) == ("sent", message["ts"])


async def retry_due(slack) -> None:
    """Move the clock past the outbox's wait after a failure, and let it try again."""
    slack.bot.clock.advance(timedelta(minutes=15))
    await slack.bot.outbox.deliver_due()


async def test_after_an_unknown_outcome_only_what_did_not_arrive_is_posted(slack):
    """A post whose answer was lost, then a history Slack cannot read for a moment (a passing error, which
    must not mean "not posted"), then files that failed: in the end one message and one picture."""
    slack.fake.add_channel("C0NEWS", "news", bot_is_member=False)  # posted in with chat:write.public
    slack.fake.reset_after_next("chat.postMessage")
    picture = Image("badge.png", b"\x89PNG picture", "a badge")
    await slack.bot.outbox.put(slack.adapter.team, "t:files", [(Channel("C0NEWS", "news"),
                                                                 Message(text="You earned a badge.", images=[picture]))])
    await slack.bot.outbox.idle()
    slack.fake.fail_next("conversations.history", "internal_error")
    await retry_due(slack)
    slack.fake.fail_next("files.getUploadURLExternal", "internal_error")
    await retry_due(slack)
    await retry_due(slack)
    assert len(slack._posts("C0NEWS")) == 1, "the message once"
    assert [u["filename"] for u in slack.fake.uploads] == ["badge.png"], "and its picture once"
    assert slack.fake.calls_to("conversations.join"), "the history of a public channel is read after joining it"
    assert await slack.bot.db.fetchval("SELECT status FROM outbox WHERE batch = 't:files'") == "sent"
    await retry_due(slack)
    assert len(slack._posts("C0NEWS")) == 1 and len(slack.fake.uploads) == 1


async def test_a_dm_conversation_slack_no_longer_knows_is_opened_again(slack):
    await slack.bot.db.execute("INSERT INTO slack_dm_channels (community, member_id, channel_id) VALUES (?, ?, ?)",
                               (slack.adapter.team.key, ALICE, "D0GONE"))
    await slack.bot.outbox.put(slack.adapter.team, "t:stale", [(Member("slack", ALICE, "alice"), Message(text="Hi."))])
    await slack.bot.outbox.idle()
    assert await slack.bot.db.fetchval("SELECT status FROM outbox WHERE batch = 't:stale'") == "sent"
    assert [c["args"]["channel"] for c in slack.fake.calls_to("chat.postMessage")] == ["D0GONE", slack.fake.dm_channel_of(ALICE)]
    assert slack.fake.calls_to("chat.postMessage")[0]["error"] == "channel_not_found"


async def test_older_private_channels_with_g_ids_are_channels(slack):
    slack.fake.add_channel("G0OLDPRIV", "old-private")
    await slack.answer(await slack.command(ADMIN, "broadcast b2 <#G0OLDPRIV|old-private> Hello, old friends."))
    assert (await slack.posts_to("G0OLDPRIV"))[0]["text"] == "Hello, old friends."


async def test_dm_channels_are_opened_once_and_kept(slack):
    community = slack.adapter.team
    alice = Member("slack", ALICE, "alice")
    await slack.bot.outbox.put(community, "t:1", [(alice, Message(text="One."))])
    await slack.bot.outbox.idle()
    await slack.restart()
    await slack.bot.outbox.put(community, "t:2", [(alice, Message(text="Two."))])
    await slack.bot.outbox.idle()
    assert [c["args"]["text"] for c in slack.fake.calls_to("chat.postMessage")] == ["One.", "Two."]
    assert len(slack.fake.calls_to("conversations.open")) == 1


async def test_a_member_the_bot_may_not_see_gets_their_message_when_they_next_come(slack):
    """conversations.open answers user_not_visible for someone the bot may not DM now: it waits, as
    for closed DMs, until the member next uses the bot."""
    slack.fake.fail_next("conversations.open", "user_not_visible")
    await slack.bot.outbox.put(slack.adapter.team, "t:3", [(Member("slack", ALICE, "alice"), Message(text="Hi."))])
    await slack.bot.outbox.idle()
    assert await slack.bot.db.fetchval("SELECT status FROM outbox WHERE batch = 't:3'") == "unreachable"
    await slack.answer(await slack.command(ALICE, "help"))
    await slack.fake.wait_for(lambda: any(c["args"].get("text") == "Hi." for c in slack.fake.calls_to("chat.postMessage")))


async def test_only_the_bots_own_revoked_token_means_it_was_removed_and_coming_back_keeps_the_data(slack):
    await slack.event(tokens_revoked_event(oauth=[ALICE]), event_id="Ev92")  # a member's own token
    await handled(slack, "Ev92")
    assert await departures(slack) == []
    await slack.event(tokens_revoked_event(bot=[slack.fake.bot_user_id]), event_id="Ev93")
    await handled(slack, "Ev93")
    assert await departures(slack) == [f"slack:{TEAM}"]
    await slack.answer(await slack.command(ALICE, "help"))  # the workspace installed the app again
    assert await departures(slack) == [], "not purged"
    await slack.event(tokens_revoked_event(bot=[slack.fake.bot_user_id]), event_id="Ev94")
    await handled(slack, "Ev94")
    await slack.restart()  # and a bot that starts with a working token knows it is installed
    assert await departures(slack) == []


async def test_a_broken_socket_mode_connection_is_made_again(tmp_path):
    fake = FakeSlack(team_id=TEAM)
    fake.add_user(ALICE, "alice")
    fake.add_channel(GENERAL, "general")
    await fake.start()
    (tmp_path / "smallstep.toml").write_text(f'[slack]\napi_base_url = "{fake.api_base}"\n')
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--platform", "slack", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        dropped = None
        for attempt in range(2):  # before the break, and after it
            await fake.wait_for(lambda: fake._socket is not None and fake._socket is not dropped, timeout=30)
            url = fake.response_url()
            envelope = await fake.socket_send("slash_commands", slash_command_payload(
                command="/smallstep", text="help", user_id=ALICE, user_name=fake.handle(ALICE), channel_id=GENERAL,
                team_id=TEAM, response_url=url))
            await fake.wait_for(lambda: any(r["url_id"] == url.rsplit("/", 1)[-1] for r in fake.responses), 30)
            await fake.wait_for(lambda: any(a["envelope_id"] == envelope for a in fake.socket_acks), 30)
            dropped = fake._socket
            await fake.drop_socket()
        assert len(fake.calls_to("apps.connections.open")) >= 3, "a new connection was asked for"
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0 and "Traceback" not in err.decode(), err.decode()[-2000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.close()
