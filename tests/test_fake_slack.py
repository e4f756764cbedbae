"""The fake Slack (tests/fakes/slack_server.py) driven by the real Bolt app and slack_sdk.

These tests prove the fake speaks enough of Slack for Bolt: signed slash commands, button
presses and events (in-process and over real HTTP), refused signatures, respond() to a
response_url, DMs, the Home tab, rate limits, file uploads, refusals and Socket Mode. Tests of
the Slack adapter build on the same pattern: point the app's AsyncWebClient at `fake.api_base`,
send what Slack would send, assert on what the fake recorded, and close everything afterwards.
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from fakes.slack_server import (
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
ALICE = "U0ALICE"
BOB = "U0BOB"
CAROL = "U0CAROL"  # joins during a test
MODERATORS = "S0MODS"
BADGE = b"\x89PNG not really"


@pytest_asyncio.fixture
async def fake():
    """A running fake workspace with two members and a channel."""
    fake = FakeSlack(team_id=TEAM)
    fake.add_user(ALICE, "alice")
    fake.add_user(BOB, "bob", is_admin=True)
    fake.add_channel(GENERAL, "general")
    fake.add_usergroup(MODERATORS, [BOB])
    await fake.start()
    yield fake
    await fake.close()


@pytest_asyncio.fixture
async def app(fake):
    """A real Bolt app on the fake's Web API, with a few small listeners."""
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=fake.api_base,
        # slack_sdk retries only connection errors unless told to wait out a 429.
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    # process_before_response: async_dispatch returns once the listener has finished.
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)

    @app.command("/smallstep")
    async def smallstep(ack, respond, client, command):
        await ack()
        await respond("pong", response_type="ephemeral")
        await client.chat_postMessage(channel=command["channel_id"], text=f"<@{command['user_id']}> pinged")

    @app.command("/badge")
    async def badge(ack, client, command):
        await ack()
        await client.files_upload_v2(channel=command["channel_id"], file=BADGE, filename="x.png", initial_comment="hi")

    @app.action(re.compile(r"^step:"))
    async def step(ack, respond, action):
        await ack()
        await respond(f"pressed {action['action_id']}", replace_original=False)

    @app.event("message")
    async def direct_message(event, client):
        if event.get("channel_type") == "im":
            dm = await client.conversations_open(users=event["user"])
            await client.chat_postMessage(channel=dm["channel"]["id"], text=f"you said: {event['text']}")

    @app.event("team_join")
    async def welcome(event, client):
        # A user id as the channel: Slack posts in the app's DM with them.
        await client.chat_postMessage(channel=event["user"]["id"], text=f"welcome, {event['user']['profile']['display_name']}")

    @app.event("app_home_opened")
    async def home(event, client):
        user = await client.users_info(user=event["user"])
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"Hi {user['user']['profile']['display_name']}"}}]
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})

    return app


async def dispatch(app: AsyncApp, body: str, **header_options):
    """Send a signed request to the app in-process, as the HTTP adapter would."""
    return await app.async_dispatch(AsyncBoltRequest(body=body, headers=signed_headers(SECRET, body, **header_options)))


def command_body(fake: FakeSlack, command: str, user_id: str = ALICE, text: str = "") -> str:
    return slash_command_body(
        command=command,
        text=text,
        user_id=user_id,
        user_name="alice",
        channel_id=GENERAL,
        team_id=TEAM,
        response_url=fake.response_url(),
    )


async def test_a_slash_command_responds_and_posts(fake, app):
    response = await dispatch(app, command_body(fake, "/smallstep"))
    assert response.status == 200

    # Bolt asks auth.test on its first request, before any listener runs.
    assert fake.calls[0]["method"] == "auth.test"
    assert [r["body"] for r in fake.responses] == [{"text": "pong", "response_type": "ephemeral"}]
    [post] = fake.calls_to("chat.postMessage")
    assert post["args"]["channel"] == GENERAL
    assert post["args"]["text"] == f"<@{ALICE}> pinged"
    assert post["token"] == "xoxb-test"
    assert post["error"] is None
    assert fake.unknown_calls == [] and fake.unknown_requests == []


async def test_a_bad_signature_or_an_old_timestamp_is_refused(fake, app):
    body = command_body(fake, "/smallstep")
    forged = await app.async_dispatch(AsyncBoltRequest(body=body, headers=signed_headers("wrong", body)))
    stale = await dispatch(app, body, timestamp=int(time.time()) - 600)
    assert (forged.status, stale.status) == (401, 401)
    assert fake.responses == [] and fake.calls == []


async def test_requests_over_real_http(fake, app):
    """Bolt's own aiohttp web app, served on 127.0.0.1, as Slack would reach it."""
    runner = web.AppRunner(app.web_app(path="/slack/events"))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        press = block_action_body(
            user_id=ALICE,
            user_name="alice",
            team_id=TEAM,
            channel_id=fake.dm_channel_of(ALICE),
            action_id="step:done",
            value="1",
            response_url=fake.response_url(),
        )
        dm = event_body(message_im_event(user_id=ALICE, text="hello"), team_id=TEAM)
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=press, headers=signed_headers(SECRET, press)) as answer:
                assert answer.status == 200
            json_headers = signed_headers(SECRET, dm, content_type="application/json")
            async with session.post(url, data=dm, headers=json_headers) as answer:
                assert answer.status == 200
            async with session.post(url, data=dm, headers=signed_headers("wrong", dm)) as answer:
                assert answer.status == 401
    finally:
        await runner.cleanup()

    assert [r["body"]["text"] for r in fake.responses] == ["pressed step:done"]
    [reply] = fake.calls_to("chat.postMessage")
    assert (reply["args"]["channel"], reply["args"]["text"]) == (fake.dm_channel_of(ALICE), "you said: hello")


async def test_a_rate_limited_post_is_retried_and_delivered_once(fake, app):
    fake.rate_limit_next("chat.postMessage", retry_after=0)
    await dispatch(app, command_body(fake, "/smallstep"))
    assert fake.rate_limited == 1
    assert [c["error"] for c in fake.calls_to("chat.postMessage")] == [None]


async def test_events_reach_their_listeners(fake, app):
    fake.add_user(CAROL, "carol")
    await dispatch(app, event_body(team_join_event(user_id=CAROL, name="carol"), team_id=TEAM))
    # A redelivery (Slack retries events it got no answer to) passes signature checks too.
    home = event_body(app_home_opened_event(user_id=BOB), team_id=TEAM)
    await dispatch(app, home, retry_num=1, content_type="application/json")

    [welcome] = fake.calls_to("chat.postMessage")
    assert welcome["args"]["channel"] == CAROL
    assert (welcome["args"]["text"], welcome["error"]) == ("welcome, carol", None)
    [published] = fake.calls_to("views.publish")
    assert published["args"]["user_id"] == BOB
    assert published["args"]["view"]["blocks"][0]["text"]["text"] == "Hi bob"


async def test_a_file_upload_is_recorded_with_its_bytes(fake, app):
    await dispatch(app, command_body(fake, "/badge"))
    assert [(u["filename"], u["bytes"], u["channel_id"], u["initial_comment"], u["title"]) for u in fake.uploads] == [
        ("x.png", BADGE, GENERAL, "hi", "x.png")
    ]
    methods = [c["method"] for c in fake.calls]
    assert methods == ["auth.test", "files.getUploadURLExternal", "files.completeUploadExternal"]


async def test_refusals_reach_the_app_as_slack_api_errors(fake, app):
    fake.fail_next("conversations.open", "cannot_dm_bot")
    await dispatch(app, event_body(message_im_event(user_id=ALICE, text="hello"), team_id=TEAM))
    assert [c["error"] for c in fake.calls_to("conversations.open")] == ["cannot_dm_bot"]
    assert fake.calls_to("chat.postMessage") == []

    client = app.client
    with pytest.raises(SlackApiError) as refused:
        await client.users_info(user="U0NOBODY")
    assert refused.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C0NOWHERE", text="hello")
    assert refused.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as refused:
        await client.api_call("reactions.add", json={"channel": GENERAL, "name": "tada"})
    assert refused.value.response["error"] == "unknown_method"
    assert [c["method"] for c in fake.unknown_calls] == ["reactions.add"]

    assert (await client.usergroups_users_list(usergroup=MODERATORS))["users"] == [BOB]
    posted = await client.chat_postMessage(channel=GENERAL, text="draft")
    updated = await client.chat_update(channel=GENERAL, ts=posted["ts"], text="final")
    assert updated["message"]["text"] == "final"
    await client.chat_delete(channel=GENERAL, ts=posted["ts"])
    with pytest.raises(SlackApiError) as refused:
        await client.chat_update(channel=GENERAL, ts=posted["ts"], text="again")
    assert refused.value.response["error"] == "message_not_found"


async def test_socket_mode_delivers_a_command_and_gets_its_ack(fake, app):
    handler = AsyncSocketModeHandler(app, "xapp-test")
    try:
        # connect_async() retries forever if the fake refuses, so bound it.
        await asyncio.wait_for(handler.connect_async(), timeout=5)
        payload = slash_command_payload(
            command="/smallstep",
            text="",
            user_id=ALICE,
            user_name="alice",
            channel_id=GENERAL,
            team_id=TEAM,
            response_url=fake.response_url(),
        )
        envelope_id = await fake.socket_send("slash_commands", payload)
        await fake.wait_for(lambda: fake.socket_acks[0]["envelope_id"] == envelope_id)
    finally:
        await handler.close_async()

    assert fake.socket_acks == [{"envelope_id": envelope_id, "payload": None}]
    assert [r["body"]["text"] for r in fake.responses] == ["pong"]
    assert len(fake.calls_to("chat.postMessage")) == 1
    [opened] = fake.calls_to("apps.connections.open")
    assert opened["token"] == "xapp-test"


async def test_group_dms_open_once_per_set_of_people_and_need_their_scope(fake, app):
    """conversations.open with several users: a group DM with the caller added, the same one for the same people;
    mpim:write to open one, mpim:history to read it (docs.slack.dev)."""
    fake.add_user("U0CAROL", "carol")
    client = app.client
    opened = (await client.conversations_open(users=f"{ALICE},U0CAROL"))["channel"]["id"]
    again = (await client.conversations_open(users=f"U0CAROL,{ALICE}"))["channel"]["id"]
    assert opened == again and opened.startswith("G")
    assert fake.group_dms() == {opened: sorted([ALICE, "U0CAROL", fake.bot_user_id])}
    await client.chat_postMessage(channel=opened, text="hello, you two")
    fake.scopes = {"chat:write", "im:write"}
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_history(channel=opened)
    assert refused.value.response["error"] == "missing_scope"
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users=f"{ALICE},U0CAROL")
    assert refused.value.response["error"] == "missing_scope"
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users=",".join(f"U0X{n}" for n in range(9)))
    assert refused.value.response["error"] == "too_many_users"
