"""Step 6, partners: the directory members search, and moderators keep up to date."""

from __future__ import annotations

import pytest

from conversation import Chat

WITH_PARTNERS = '[cogs]\nenabled = ["partners"]\n'
KQED = ('/partner add KQED description:"Public radio for Northern California." website:https://www.kqed.org'
        ' region:California contact:"Ana, ana@kqed.org" logo:https://www.kqed.org/logo.png')


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, WITH_PARTNERS)
    await conversation.as_member("admin").run(KQED, '/partner add "Braver Angels" region:Ohio')
    yield conversation
    await conversation.close()


async def test_members_list_search_and_look_at_partners(chat):
    await chat.as_member("ann").run("/partners")
    listing = chat.last_private("ann")
    assert listing.message.title == "Our partner organisations"
    assert listing.text.splitlines()[:2] == ["• Braver Angels (Ohio)",
                                             "• KQED (California): Public radio for Northern California."]
    await chat.run("/partners ohio")
    assert "Braver Angels" in chat.last_private("ann").text and "KQED" not in chat.last_private("ann").text
    await chat.run("/partners radio")
    assert "KQED" in chat.last_private("ann").text and "Braver" not in chat.last_private("ann").text
    await chat.run("/partner kqed")
    page = chat.last_private("ann").message
    assert page.title == "KQED" and page.thumbnail_url == "https://www.kqed.org/logo.png"
    assert [f.name for f in page.fields] == ["Region", "Website"], "no contact for members, no events cog"
    await chat.as_member("admin").run("/partner KQED")
    assert "Ana, ana@kqed.org" in [f.value for f in chat.last_private("admin").message.fields]


async def test_suggestions_while_typing(chat):
    ctx = chat.adapter.invocation("general")
    assert await chat.bot.suggest(ctx, "partner", "name", "an") == ["Braver Angels"]
    assert await chat.bot.suggest(ctx, "partners", "search", "") == ["California", "Ohio", "Braver Angels", "KQED"]
    assert await chat.bot.suggest(ctx, "partners", "search", "OHI") == ["Ohio"]


async def test_mistakes_are_explained_and_nothing_changes(chat):
    await chat.run("/partner kqd")
    assert chat.last_private("admin").text.startswith('There is no partner called "kqd". Did you mean "KQED"?')
    await chat.run("/partner add Other website:kqed.org")
    assert '"kqed.org" doesn\'t look like a web address' in chat.last_private("admin").text
    await chat.run("/partner add kqed")
    assert chat.last_private("admin").text == 'There is already a partner called "kqed".'
    await chat.run('/partner edit "braver angels" new_name:KQED')
    assert chat.last_private("admin").text == 'There is already a partner called "KQED".'
    assert await chat.db.fetchval("SELECT COUNT(*) FROM partners") == 2
    await chat.as_member("bob").run("/partner remove KQED")
    assert "Only moderators" in chat.last_private("bob").text


async def test_moderators_edit_and_remove_after_confirming(chat):
    await chat.run('/partner edit kqed region:"Bay Area" new_name:"KQED Public Media"')
    assert chat.last_private("admin").text == "KQED Public Media is updated."
    await chat.run("/partners bay area")
    assert "KQED Public Media (Bay Area)" in chat.last_private("admin").text
    await chat.run('/partner remove "Braver Angels"', ":press Keep it")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM partners") == 2
    await chat.run('/partner remove "Braver Angels"', ":press Yes, remove it")
    assert chat.last_private("admin").text == "Braver Angels is no longer in the directory."
    assert await chat.db.fetchval("SELECT COUNT(*) FROM partners") == 1
    await chat.restart()
    await chat.run(":press Yes, remove it")  # pressed again, later: nothing left to remove
    assert chat.last_private("admin").text == "That partner was already removed."


async def test_other_cogs_ask_without_importing(chat):
    community = chat.adapter.community
    found = await chat.bot.ask("partners.find", community, "kqed")
    assert found["name"] == "KQED" and "contact" not in found, "a partner's contact stays with the moderators"
    assert await chat.bot.ask("partners.names", community) == ["Braver Angels", "KQED"]
    assert await chat.bot.ask("nobody.knows", community, default="no one") == "no one"
