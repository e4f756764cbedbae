"""Members' limits (commands a minute, the cooldowns of commands and forms) live in the database: the bots on
one database count a member's commands together, however many there are and however they overlap, and a
restart forgets none of them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from conversation import Chat

THREE_A_MINUTE = "[safety]\ncommands_per_minute = 3\n"
SLOW_DOWN = "That's a lot of commands in a short while. Please try again in"
HELP = "Here is what you can do"


async def test_two_bots_on_one_database_share_a_members_limits(tmp_path):
    one = await Chat.open(tmp_path, THREE_A_MINUTE)
    two = await Chat.open(tmp_path, THREE_A_MINUTE)  # another process of the bot, on the same database
    try:
        await one.as_member("ava").run("/help", "/help")
        await two.as_member("ava").run("/help")
        assert two.last_private("ava").text.startswith(HELP), "her third command of the minute"
        await two.run("/help")
        assert two.last_private("ava").text.startswith(SLOW_DOWN)
        await one.run("/help")
        assert one.last_private("ava").text.startswith(SLOW_DOWN), "the other bot counted the same four"
        await one.as_member("bob").run("/help")
        assert one.last_private("bob").text.startswith(HELP), "each member has limits of their own"

        await one.run('/report what:"A post in #general calls people names"')
        assert one.last_private("bob").text.startswith("Thank you for telling us.")
        await two.as_member("bob").run('/report what:"And another one"')
        assert two.last_private("bob").text.startswith("You used /report a moment ago.")
    finally:
        await one.close()
        await two.close()


async def test_of_two_bots_checking_at_once_only_the_limit_gets_through(tmp_path):
    one = await Chat.open(tmp_path)
    two = await Chat.open(tmp_path)
    try:
        community, limits = one.adapter.community.key, (one.bot.limits, two.bot.limits)
        waits = await asyncio.gather(*(limits[i % 2].rate(community, "ava", 5) for i in range(20)))
        assert waits.count(0) == 5 and all(0 < wait <= 60 for wait in waits if wait)
        gap = timedelta(minutes=1)
        cooldowns = await asyncio.gather(*(limits[i % 2].cooldown(community, "ava", "/report", gap) for i in range(10)))
        assert [c.wait for c in cooldowns].count(0) == 1, "one use starts the cooldown, every other waits for it"
    finally:
        await one.close()
        await two.close()


async def test_a_members_limits_survive_a_restart(tmp_path):
    chat = await Chat.open(tmp_path, THREE_A_MINUTE)
    try:
        await chat.as_member("gil").run("/report", '/report what:"A post in #general calls people names"')
        assert chat.last_private("gil").text.startswith("Thank you for telling us."), \
            "a command that did not go through (no `what`) starts no cooldown"
        await chat.restart()
        await chat.run('/report what:"again"')
        assert chat.last_private("gil").text.startswith("You used /report a moment ago.")
        await chat.restart()
        await chat.run("/help")
        assert chat.last_private("gil").text.startswith(SLOW_DOWN), "the fourth command of the minute"
        await chat.run(":clock +61s", '/report what:"again"')
        assert chat.last_private("gil").text.startswith("Thank you for telling us.")
    finally:
        await chat.close()


async def test_limits_whose_window_has_ended_are_tidied_away(tmp_path):
    chat = await Chat.open(tmp_path, THREE_A_MINUTE)
    try:
        await chat.as_member("gil").run('/report what:"A post in #general calls people names"')
        await chat.as_member("hal").run("/help")
        assert await chat.db.fetchval("SELECT COUNT(*) FROM member_limits") == 3
        await chat.run(":clock +2h")
        assert await chat.db.fetchval("SELECT COUNT(*) FROM member_limits") == 0
    finally:
        await chat.close()
