"""Step 2, stories: links checked, duplicates caught, the moderators' queue, the spotlight in turn,
and passing a story on counted once."""

from __future__ import annotations

import pytest

from conversation import Chat

CONFIG = ('[cogs]\nenabled = ["stories"]\n[cogs.stories]\nspotlight_channel = "general"\nspotlight_every = "7d"\n')
ARCHIVE = "https://archive.storycorps.org/interviews/"


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, CONFIG)
    yield conversation
    await conversation.close()


async def submit(chat: Chat, name: str, url: str) -> str:
    await chat.as_member(name).run(f"/story submit {url}")
    return chat.last_private(name).text


async def test_links_are_checked_and_duplicates_caught(chat):
    assert "doesn't look like a web address" in await submit(chat, "ann", "http://archive.storycorps.org/interviews/a")
    assert "isn't in the program's archive" in await submit(chat, "ann", "https://example.org/interviews/a")
    assert "isn't in the program's archive" in await submit(chat, "ann", "https://archive.storycorps.org.evil.example/a")
    assert (await submit(chat, "ann", f"{ARCHIVE}a-1/?utm_source=x")).startswith("Thank you! Story #1")
    assert "put forward already (story #1)" in await submit(chat, "bob", "https://Archive.StoryCorps.org/interviews/a-1")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM stories") == 1


async def test_the_moderators_decide_and_the_member_is_told(chat):
    await submit(chat, "ann", f"{ARCHIVE}a-1")
    await submit(chat, "bob", f"{ARCHIVE}b-2")
    card = chat.said("#moderators")[0].message
    assert card.title == "Story #1, put forward by ann" and [b.label for b in card.buttons] == ["Approve", "Reject"]
    await chat.as_member("admin").run(":channel moderators", ":press 1")  # the latest card's Approve: story #2
    assert chat.last_dm("bob").text.startswith("The story you put forward (#2) is approved")
    await chat.run("/stories queue")
    assert chat.last_private("admin").text.startswith("#1 from ann")
    await chat.run("/story reject 1 reason:\"It is not public yet.\"")
    assert chat.last_dm("ann").text.endswith("said: It is not public yet.")
    await chat.run("/story approve 1")
    assert chat.last_private("admin").text == "Story #1 was already rejected."
    await chat.as_member("cy").run("/story approve 2")
    assert "Only moderators" in chat.last_private("cy").text


async def test_the_spotlight_shows_each_story_in_turn(chat):
    for name, letter in zip(("ann", "bob", "cy"), "abc"):
        await submit(chat, name, f"{ARCHIVE}{letter}")
    await chat.as_member("admin").run("/story approve 1", "/story approve 2", "/story approve 3")
    shown = []
    for _ in range(6):
        await chat.run(":clock +7d")
        shown += [d.text.splitlines()[0] for d in chat.said("#general")][len(shown):]
    assert shown == [f"{ARCHIVE}{x}" for x in "abcabc"], "none repeats before all had a turn"
    await chat.run(":clock +3d")
    assert len(chat.said("#general")) == 6, "not before a week has passed"


async def test_passing_a_story_on_counts_once(chat):
    await submit(chat, "ann", f"{ARCHIVE}a")
    await chat.as_member("admin").run("/story approve 1", ":clock +1h")
    await chat.as_member("dee").run(":channel general", ":press Share this story")
    kit = chat.last_private("dee").message
    assert kit.title == "Pass on story #1" and all(f"{ARCHIVE}a" in f.value for f in kit.fields)
    await chat.press("I shared it")
    await chat.press("I shared it")
    assert chat.last_private("dee").text.startswith("You've shared this one already")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'story.shared'") == 1
    await chat.run("/story share 7")
    assert chat.last_private("dee").text.startswith("There is no approved story #7")


async def test_one_member_waits_between_two_stories(chat):
    await submit(chat, "eve", f"{ARCHIVE}e-1")
    assert await submit(chat, "eve", f"{ARCHIVE}e-2") == ("You used /story submit a moment ago."
                                                          " Please try again in 30 seconds.")
    await chat.run(":clock +31s")
    assert (await submit(chat, "eve", f"{ARCHIVE}e-2")).startswith("Thank you! Story #2")
