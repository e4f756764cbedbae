"""The outbox: every recipient of a batch once, across crashes and restarts, and nothing lost."""

from __future__ import annotations

import pytest

from bot.core import Message
from conversation import Chat

WITH_ECHO = '[cogs]\nenabled = ["testimonials", "sample_cogs.echo"]\n[console]\nread_only_channels = ["closed"]\n'
CHANNELS = [f"c{i}" for i in range(10)]


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, WITH_ECHO)
    yield conversation
    await conversation.close()


class Crash(BaseException):
    """The process dying in the middle of a send (not an error the bot could handle)."""


def posts(chat: Chat, text: str) -> list[str]:
    return [d.where for d in chat.transcript if d.text == text]


async def rows(chat: Chat, batch: str) -> list[str]:
    return [r["status"] for r in await chat.db.fetchall("SELECT status FROM outbox WHERE batch = ? ORDER BY id",
                                                        (batch,))]


async def test_a_batch_reaches_each_channel_once_even_when_queued_again(chat):
    channels = " ".join(f"#{c}" for c in CHANNELS)
    await chat.as_member("admin").run(f'/broadcast news "{channels}" Hello all')
    assert chat.last_private("admin").text == "queued 10"
    assert posts(chat, "Hello all") == [f"#{c}" for c in CHANNELS]
    await chat.run(f'/broadcast news "{channels} #c10" Hello all')
    assert chat.last_private("admin").text == "queued 1", "only the channel not in the batch yet"
    assert posts(chat, "Hello all") == [f"#{c}" for c in [*CHANNELS, "c10"]]


async def test_a_crash_after_k_of_n_channels_resumes_and_sends_exactly_n(chat):
    delivered: list[str] = []
    record = chat.adapter.observe

    def dies_at_the_fourth(delivery) -> None:
        if delivery.text == "Big news" and len(delivered) == 3:
            raise Crash()  # before the fourth is shown: the process is gone
        if delivery.text == "Big news":
            delivered.append(delivery.where)
        record(delivery)

    chat.adapter.observe = dies_at_the_fourth
    with pytest.raises(Crash):
        await chat.as_member("admin").run(f'/broadcast big "{" ".join("#" + c for c in CHANNELS)}" Big news')
    assert delivered == ["#c0", "#c1", "#c2"]
    assert (await rows(chat, "echo:big")).count("sent") == 3

    chat.adapter.observe = record
    await chat.restart()  # the outbox resumes at start, where it stopped
    await chat.run(":as admin")
    assert sorted(posts(chat, "Big news")) == sorted(f"#{c}" for c in CHANNELS)
    assert await rows(chat, "echo:big") == ["sent"] * 10


async def test_a_channel_closed_to_the_bot_waits_for_someone_to_open_it(chat):
    await chat.as_member("admin").run('/broadcast mixed "#open #closed" Hi', '/broadcast later "#closed" Bye')
    assert posts(chat, "Hi") == ["#open"]
    waiting = await chat.db.fetchall("SELECT status, problem FROM outbox WHERE target_id = 'closed'")
    assert [r["status"] for r in waiting] == ["pending", "pending"]
    assert all("#closed is read-only for the bot" in r["problem"] for r in waiting)
    await chat.run(":clock +15m")
    assert posts(chat, "Hi") == ["#open"], "still closed: still waiting"
    chat.adapter.read_only_channels.discard("closed")  # a moderator gives the bot the permission
    await chat.run(":clock +1h")
    assert posts(chat, "Hi") == ["#open", "#closed"] and posts(chat, "Bye") == ["#closed"]


async def test_a_channel_that_stays_closed_is_given_up_after_a_day_and_a_half(chat):
    await chat.as_member("admin").run('/broadcast mixed "#closed" Hi')
    for _ in range(6):
        await chat.run(":clock +1d")
    assert posts(chat, "Hi") == []
    assert await chat.db.fetchval("SELECT status FROM outbox WHERE target_id = 'closed'") == "failed"


async def test_a_dm_to_a_closed_inbox_waits_until_the_member_comes_back(chat):
    bot = chat.bot
    await chat.as_member("tia").run(":dms off")
    await bot.outbox.put(chat.adapter.community, "notice:1", [(chat.adapter.member("tia"), Message(text="For you"))])
    await bot.outbox.idle()
    assert posts(chat, "For you") == [] and await rows(chat, "notice:1") == ["unreachable"]
    await chat.restart()  # still waiting after a restart: it is in the database
    await chat.as_member("tia").run(":dms off", "/help")  # back, DMs still closed: still waiting, nothing lost
    assert await rows(chat, "notice:1") == ["unreachable"]
    await chat.run(":dms on", "/help")
    assert posts(chat, "For you") == ["DM tia"] and await rows(chat, "notice:1") == ["sent"]


async def test_a_message_past_its_moment_is_not_sent_late(chat):
    bot = chat.bot
    soon = bot.clock.now()
    await chat.as_member("you").run(":dms off")
    await bot.outbox.put(chat.adapter.community, "reminder:1", [(chat.adapter.member("you"), Message(text="Soon!"))],
                         expires_at=soon)
    await chat.run(":dms on", "/help")
    assert posts(chat, "Soon!") == [] and await rows(chat, "reminder:1") == ["expired"]


async def test_withdrawn_messages_are_never_sent(chat):
    bot = chat.bot
    community = chat.adapter.community
    await chat.as_member("ann").run(":dms off")
    await bot.outbox.put(community, "event:9", [(chat.adapter.member("ann"), Message(text="See you"))])
    await bot.outbox.idle()
    assert await bot.outbox.withdraw(community, "event:9") == 1
    await chat.run(":dms on", "/help")
    assert posts(chat, "See you") == [] and await rows(chat, "event:9") == ["withdrawn"]
    assert [(p.target_id, p.status) for p in await bot.outbox.posts(community, "event:9")] == [("ann", "withdrawn")]


async def test_a_picture_for_many_is_kept_once_and_forgotten_once_delivered(chat):
    from bot.core import Image

    bot, community = chat.bot, chat.adapter.community
    picture = Message(text="Look", images=[Image("badge.png", b"\x89PNG" + bytes(5000))])
    await chat.as_member("sue").run(":dms off")
    people = [chat.adapter.member(name) for name in ("sue", "tom", "uri")]
    await bot.outbox.put(community, "pictures", [(person, picture) for person in people])
    await bot.outbox.idle()
    assert await chat.db.fetchval("SELECT COUNT(*) FROM outbox_files") == 1
    assert [len(d.message.images[0].data) for d in chat.transcript if d.text == "Look"] == [5004, 5004]
    assert await bot.outbox.forget_delivered_files() == 0, "sue's message still needs it"
    await chat.run(":dms on", "/help")
    assert [d.where for d in chat.transcript if d.text == "Look"] == ["DM tom", "DM uri", "DM sue"]
    assert await bot.outbox.forget_delivered_files() == 1
