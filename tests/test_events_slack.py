"""Events on Slack, through the real Bolt app against the fake Slack: times written with Slack's date markup
(each reader's own zone, with an escaped fallback), and with threads on, changes posted as replies to each
announcement. Slack has no list of events of its own: nothing is copied anywhere."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from test_slack import ADMIN, ALICE, GENERAL, slack, texts_of  # noqa: F401

START = datetime(2030, 1, 14, 18, 0, tzinfo=timezone.utc)
UNIX = int(START.timestamp())


async def create(slack) -> dict:
    await slack.answer(await slack.command(
        ADMIN, f'event create title:"Listening session" start:"{START:%Y-%m-%d %H:%M}" duration:90m place:"A & B"'
               f' channels:<#{GENERAL}|general>'))
    (post,) = await slack.posts_to(GENERAL)
    return post


async def test_times_are_written_with_slacks_date_markup(slack):
    post = await create(slack)
    end = int((START + timedelta(minutes=90)).timestamp())
    assert (f"<!date^{UNIX}^{{date_long_pretty}} at {{time}}|Mon 14 Jan 2030, 18:00 UTC>"
            f"–<!date^{end}^{{time}}|19:30>") in texts_of(post)
    listing = texts_of(await slack.answer(await slack.command(ALICE, "events")))
    assert f"<!date^{UNIX}^{{date_long_pretty}} at {{time}}|Mon 14 Jan 2030, 18:00 UTC>: Listening session" in listing
    assert "Times are shown in your own time zone." in listing
    assert "A &amp; B" in texts_of(post), "member text stays escaped beside the markup"
    assert not [c for c in slack.fake.unknown_calls], "no list of events is asked for"


@pytest.mark.slack_config("[cogs.events]\nthreads = true\n")
async def test_with_threads_a_change_is_a_reply_to_the_announcement(slack):
    post = await create(slack)
    (ts,) = [m["ts"] for m in slack.fake.messages_in(GENERAL) if "thread_ts" not in m]
    later = START + timedelta(hours=1)
    await slack.answer(await slack.command(ADMIN, f'event edit 1 start:"{later:%Y-%m-%d %H:%M}"'))
    await slack.fake.wait_for(lambda: slack.fake.replies_to(GENERAL, ts))
    (reply,) = slack.fake.replies_to(GENERAL, ts)
    assert texts_of(reply).startswith(f"This event has changed: it is now on <!date^{int(later.timestamp())}^")
    assert [m["ts"] for m in slack.fake.messages_in(GENERAL) if "thread_ts" not in m] == [ts], \
        "in the thread, not in the channel"
    assert post["blocks"][0]["text"]["text"] == "Listening session"
