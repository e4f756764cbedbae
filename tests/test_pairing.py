"""Pairing through the whole bot: joining by DM, rounds, introductions that keep answers private,
the follow-up and its badge through the clock, safety, leaving, moderators' totals."""

from __future__ import annotations

import pytest

from conversation import Chat

CONFIG = """[cogs]
enabled = ["pairing", "practice", "badges", "reports"]
[cogs.pairing]
every = ""
[cogs.badges]
celebrate_in = "general"
"""
STATEMENT = "narrow the gap between rich and poor"  # words of the first statement, in the form


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, CONFIG)
    yield conversation
    await conversation.close()


async def join(chat: Chat, name: str, views: str, zone: str = "America/Chicago", times: str = "3",
               formats: str = "1", town: str = "", avoid: str = "skip", feeling: str = "skip") -> None:
    """Answer the form: views as a/d per statement, times and formats as the numbers a member types."""
    answers = [":dm " + ("I agree" if v == "a" else "I disagree") for v in views]
    answers += [f":dm {zone}", f":dm {times}", f":dm {formats}"]
    if town:
        answers.append(f":dm {town}")
    await chat.as_member(name).run("/pairing join", *answers, f":dm {avoid}", f":dm {feeling}", ":dm submit")
    assert chat.last_dm(name).text.startswith("You're in!"), chat.last_dm(name).text


async def round_now(chat: Chat) -> str:
    await chat.as_member("admin").run("/pairing round", ":press Pair them now")
    return chat.last_private("admin").text


def told(chat: Chat, name: str) -> str:
    """The bot's last word to a member, in DMs or privately in a channel (a button in a DM answers there)."""
    return [d for d in chat.transcript if d.where in (f"DM {name}", f"private {name}")][-1].text


def intro(chat: Chat, name: str) -> str:
    intros = [d for d in chat.said(f"DM {name}") if d.message.title and d.message.title.startswith("Meet ")]
    return intros[-1].message.title + "\n" + intros[-1].text if intros else ""


async def pairs(chat: Chat) -> set[frozenset[str]]:
    rows = await chat.db.fetchall("SELECT member_a, member_b FROM pairing_pairs")
    return {frozenset((r["member_a"], r["member_b"])) for r in rows}


async def test_joining_is_private_and_joining_again_changes_answers(chat):
    await chat.as_member("ann").run("/pairing join")
    first = chat.said("DM ann")[0].text
    assert "Your answers are private. No other member ever sees them" in first
    assert STATEMENT in chat.last_dm("ann").text and [b.label for b in chat.last_dm("ann").message.buttons] == [
        "I agree", "I disagree"]
    await chat.run(":dm I agree", ":dm I agree", ":dm I disagree", ":dm I agree", ":dm I agree", ":dm Atlantis/Nowhere")
    assert chat.last_dm("ann").text.startswith("I don't know that time zone")
    await chat.run(":dm chicago", ":dm 3, 9")
    assert 'Please pick one of' in chat.last_dm("ann").text, "there is no ninth time"
    await chat.run(":dm 3 and 6", ":dm 1, 3", ":dm Wichita", ":dm money at home", ":dm skip", ":dm submit")
    row = await chat.db.fetchone("SELECT * FROM pairing_members WHERE member_id = 'ann'")
    assert (row["timezone"], row["availability"], row["formats"], row["town"], row["avoid"]) == (
        "America/Chicago", '["weekday_evenings", "weekend_evenings"]', '["video", "in_person"]', "Wichita",
        "money at home")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'pairing.joined'") == 1

    await chat.run(":clock +2m", "/pairing join")  # forms.submit_cooldown: the same form again after a minute
    review = chat.last_dm("ann").text
    assert "Weekday evenings (5 to 9), Weekend evenings (5 to 9)" in review and "money at home" in review
    await chat.run(":dm edit 9", ":dm Dayton", ":dm submit")
    assert await chat.db.fetchval("SELECT town FROM pairing_members WHERE member_id = 'ann'") == "Dayton"
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'pairing.joined'") == 1


async def test_a_round_pairs_the_most_different_and_introduces_them_without_their_answers(chat):
    await join(chat, "ann", "aaaaa", avoid="my brother Quixtor")
    await join(chat, "bo", "ddddd", zone="America/New_York", times="2, 3", formats="1, 2")
    await join(chat, "cy", "aaaad", formats="1 3", town="Wichita")
    await join(chat, "di", "dddda", formats="3", town="wichita", avoid="the Zorblat affair")
    await join(chat, "eve", "aaaaa", zone="Europe/Berlin", times="4")  # Berlin weekend mornings: nobody else is free
    assert await round_now(chat) == ("Made 2 pairs of the 5 members who were in. Introductions are on their way. The"
                                     " one left out is told so, and is first in line next round.")
    assert await pairs(chat) == {frozenset({"ann", "bo"}), frozenset({"cy", "di"})}

    ann = intro(chat, "ann")
    assert ann.startswith("Meet bo\nYou and bo are paired for a conversation. You answered at least 3 of the 5"
                          " statements differently")
    assert "You're both free on weekday evenings (your time), and you'd both be happy with a video call. Write" in ann
    assert "\n\nA first question you might ask: What's something from how you grew up" in ann, "the practice guide's"
    assert "my brother Quixtor" in ann and "(Only you see this.)\n\nThe buttons below" in ann
    assert ann.endswith("\n\nIn 7 days I'll ask you both whether you met.")
    assert [b.label for b in chat.said("DM ann")[-1].message.buttons] == [
        "Next question", "Suggest a time", "Pause", "End", "Report"]
    assert "you'd both be happy with meeting in person in wichita." in intro(chat, "di")
    assert await chat.db.fetchval("SELECT waiting_since IS NOT NULL FROM pairing_members WHERE member_id = 'eve'")
    assert chat.last_dm("eve").text.startswith("No one different enough was free this round, sorry."), \
        "told kindly, not left wondering"
    assert "You're first in line next time" in chat.last_dm("eve").text
    assert not [d for d in chat.said("DM ann") if d.text.startswith("No one different enough")]

    # Nothing a member answered reaches anyone else: not their statements, not what they'd rather avoid.
    for name, private in (("ann", "my brother Quixtor"), ("di", "the Zorblat affair")):
        for delivery in chat.transcript:
            if delivery.where not in (f"DM {name}", f"private {name}"):
                assert private not in delivery.printed, (name, delivery.where)
    for delivery in chat.transcript:
        if delivery.message.title and delivery.message.title.startswith("Meet "):
            assert STATEMENT not in delivery.printed and "I agree" not in delivery.printed
            assert "I disagree" not in delivery.printed
    await chat.as_member("admin").run("/pairing stats")
    stats = chat.last_private("admin")
    assert "In: 5 · paused: 0" in stats.text and "2 pairs, 0 met (0%)" in stats.text
    assert "Quixtor" not in stats.printed and stats.message.images[0].filename == "pairing-stats.png"


async def test_near_alike_members_are_not_paired_and_are_told_so(chat):
    # Each differs from every other on one or two statements: below "more than half" (3 of 5).
    for name, views in (("ann", "aaaaa"), ("bo", "aaaad"), ("cy", "aadaa"), ("di", "daaaa")):
        await join(chat, name, views)
    assert await round_now(chat) == ("Made 0 pairs of the 4 members who were in. The 4 left out are told so, and are"
                                     " first in line next round."), "no introductions on their way"
    assert await pairs(chat) == set()
    for name in ("ann", "bo", "cy", "di"):
        assert chat.last_dm(name).text.startswith("No one different enough was free this round, sorry.")
        assert "first in line next time" in chat.last_dm(name).text
    # eve is 3 apart from ann, 4 from bo and cy, 2 from di: she is paired; of the three left, only di had no one
    # different enough (ann and the other of bo and cy could have met eve, who was taken).
    await join(chat, "eve", "ddada")
    await round_now(chat)
    assert len(await pairs(chat)) == 1
    await chat.as_member("admin").run("/pairing stats")
    stats = chat.last_private("admin").text
    first, second = [line.split(": ", 1)[1] for line in stats.splitlines() if line.startswith("Round #")]
    assert first == "4 in, 0 pairs, 0 met, 4 left out for want of a different enough partner"
    assert second.startswith("5 in, 1 pair, 0 met (0%), 1 left out for want of a different enough partner")


async def test_a_threshold_beyond_the_statements_asked_is_a_clear_error(tmp_path):
    chat = await Chat.open(tmp_path, CONFIG.replace('every = ""', 'min_difference = 6'))
    try:
        assert "no two members could be paired" in chat.bot.cogs.failed["pairing"]
    finally:
        await chat.close()


async def test_paused_excluded_blocked_and_already_met_are_never_paired(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await join(chat, "cy", "ddddd")
    await join(chat, "di", "aaaaa")
    await chat.as_member("ann").run("/pairing block @bo")
    assert chat.last_private("ann").text == "Done. You won't be paired with bo. They are not told."
    await chat.as_member("cy").run("/pairing pause")
    await chat.as_member("admin").run('/pairing exclude @di reason:"asked us to"')
    assert (await round_now(chat)).startswith("Made 0 pairs of the 2 members"), "cy paused, di excluded, bo blocked"
    assert await pairs(chat) == set()

    await chat.as_member("cy").run("/pairing resume")
    await chat.as_member("admin").run("/pairing include @di")
    # Allowed now: ann-cy, bo-di, cy-di (ann blocked bo; ann and di, bo and cy answered alike).
    await round_now(chat)
    assert await pairs(chat) == {frozenset({"ann", "cy"}), frozenset({"bo", "di"})}
    assert (await round_now(chat)).startswith("Made 1 pair of the 4"), "the only pair not met before"
    assert await pairs(chat) == {frozenset({"ann", "cy"}), frozenset({"bo", "di"}), frozenset({"cy", "di"})}
    assert (await round_now(chat)).startswith("Made 0 pairs"), "everyone allowed has met"
    # Leaving and joining again does not undo a moderator's exclusion.
    await chat.as_member("admin").run('/pairing exclude @di reason:"again"')
    await chat.as_member("di").run("/pairing leave", ":press Yes, delete my answers", ":clock +2m")
    await join(chat, "di", "aaaaa")
    assert "di" not in {m.member_id for m in await chat.bot.cogs.loaded["pairing"].store.in_round(
        chat.adapter.community)}
    actions = [e.action for e in await chat.bot.audit.entries(chat.adapter.community)]
    assert {"pairing.exclude", "pairing.include", "pairing.round"} <= set(actions)


async def test_did_you_meet_after_a_week_and_the_badge_when_both_say_yes(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await round_now(chat)
    await chat.run(":clock +6d")
    assert not [d for d in chat.said("DM ann") if "manage to meet" in d.text]
    await chat.run(":clock +1d1h")
    asked = chat.last_dm("ann")
    assert asked.text == "Did you and bo manage to meet?"
    assert [b.label for b in asked.message.buttons] == ["Yes, we met", "Not yet", "We won't"]
    await chat.restart()  # the question is not asked twice after a restart
    assert len([d for d in chat.said("DM bo") if "manage to meet" in d.text]) == 1

    await chat.as_member("ann").run(":dm hello", ":press Yes, we met")
    assert told(chat, "ann").startswith("Thank you! How did it go, from 1 to 5?")
    await chat.press("4")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'pairing.met'") == 0
    await chat.as_member("bo").run(":press Yes, we met")
    assert any(d.text.startswith("Wonderful: you both said you met.") for d in chat.said("DM bo"))
    assert await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = 'pairing.met'") == 2
    held = {r[0] for r in await chat.db.fetchall("SELECT member_id FROM badge_awards WHERE badge = 'met-across'")}
    assert held == {"ann", "bo"}
    await chat.run(":clock +8d")
    assert len([d for d in chat.said("DM ann") if "meet" in d.text and "?" in d.text]) == 1, "met: no more asking"
    assert await chat.db.fetchval("SELECT rating_a + 0 FROM pairing_pairs") in (4, None)
    await chat.as_member("admin").run("/pairing stats")
    assert "1 pair, 1 met (100%)" in chat.last_private("admin").text
    assert "rated" not in chat.last_private("admin").text, "one rating alone would name whose it was"


async def test_not_yet_is_asked_once_more_then_never(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await round_now(chat)
    await chat.run(":clock +7d1h")
    await chat.as_member("ann").run(":press Not yet")
    assert told(chat, "ann") == "No rush. I'll ask once more later."
    await chat.run(":clock +7d1h")
    assert chat.last_dm("ann").text == "Still hoping you'll meet bo: did you?"
    await chat.run(":clock +7d1h", ":clock +7d1h")
    assert len([d for d in chat.said("DM ann") if "meet bo" in d.text or "bo manage" in d.text]) == 2


async def test_someone_else_cannot_answer_for_a_pair(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await round_now(chat)
    await chat.run(":clock +7d1h")
    await chat.as_member("mallory").run(":press Yes, we met")  # the console presses the last button shown
    assert await chat.db.fetchval("SELECT answer_a IS NULL AND answer_b IS NULL FROM pairing_pairs")


async def test_a_report_about_a_partner_reaches_the_moderators_queue(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await round_now(chat)
    await chat.as_member("ann").run('/pairing report what:"bo was rude @everyone"')
    assert chat.last_private("ann").text.startswith("Thank you for telling us.")
    card = chat.last_in("moderators")
    assert "About my pairing partner bo (pair #1): bo was rude @\u200beveryone" in card.text
    assert await chat.db.fetchval("SELECT COUNT(*) FROM reports") == 1


async def test_leaving_asks_first_then_deletes_the_answers(chat):
    await join(chat, "ann", "aaaaa", avoid="a private worry")
    await chat.as_member("ann").run("/pairing leave", ":press Keep them")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_members") == 1
    await chat.run("/pairing leave", ":press Yes, delete my answers")
    assert chat.last_private("ann").text.startswith("Done: your answers are deleted")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_members") == 0
    await chat.run("/pairing pause")
    assert chat.last_private("ann").text.startswith("You haven't joined pairing.")


async def test_rounds_come_on_schedule(tmp_path):
    chat = await Chat.open(tmp_path, CONFIG.replace('every = ""', 'every = "14d"'))
    try:
        await join(chat, "ann", "aaaaa")
        await join(chat, "bo", "ddddd")
        await chat.run(":clock +13d")
        assert await pairs(chat) == set()
        await chat.run(":clock +1d1h")
        assert await pairs(chat) == {frozenset({"ann", "bo"})}
        assert intro(chat, "bo").startswith("Meet ann")
        await chat.restart()
        assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_rounds") == 1
    finally:
        await chat.close()


async def test_more_statements_than_the_template_has_is_a_clear_error(tmp_path):
    chat = await Chat.open(tmp_path, CONFIG.replace('every = ""', "statements = 7"))
    try:
        assert "no block view_6, view_7" in chat.bot.cogs.failed["pairing"]
    finally:
        await chat.close()


async def test_each_round_suggests_the_next_of_the_communitys_opening_questions(chat):
    await chat.as_member("admin").run("/practice questions")
    questions = [line.split(". ", 1)[1] for line in chat.last_private("admin").text.splitlines()
                 if line[:1].isdigit()]
    firsts = []
    for names in (("ann", "bo"), ("cy", "di"), ("eve", "flo")):
        await join(chat, names[0], "aaaaa")
        await join(chat, names[1], "ddddd")
        await round_now(chat)
        firsts.append(intro(chat, names[0]).split("A first question you might ask: ")[1].split("\n")[0])
    assert firsts == questions[:3], "a different first question each round, in the community's order"


async def test_without_the_practice_cog_the_introduction_has_its_own_first_question(tmp_path):
    chat = await Chat.open(tmp_path, CONFIG.replace('"pairing", "practice",', '"pairing",'))
    try:
        await join(chat, "ann", "aaaaa")
        await join(chat, "bo", "ddddd")
        await round_now(chat)
        assert "A first question you might ask: What is something about where you grew up" in intro(chat, "ann")
    finally:
        await chat.close()


async def test_a_confirmation_pressed_twice_makes_one_round(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await join(chat, "cy", "aaaaa")
    await join(chat, "di", "ddddd")
    await chat.as_member("admin").run("/pairing round", ":press Pair them now", ":press Pair them now")
    assert told(chat, "admin").startswith("A round was made since this button was shown.")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_rounds") == 1
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_pairs") == 2


async def test_made_up_button_values_are_refused_politely(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await round_now(chat)
    for value in ("\u00b2:yes", "99999999999999999999:yes", "1:maybe", "abc"):
        await chat.bot.press(chat.as_member("ann").adapter.invocation("general"), "pairing:met", value)
        assert told(chat, "ann") in ("That button isn't for you, or the pair is no longer on record.",
                                     "That button is out of date."), value
    await chat.bot.press(chat.adapter.invocation("general"), "pairing:rate", "1:5")
    assert told(chat, "ann") == "That button is out of date.", "a rating only after saying you met"
    assert await chat.db.fetchval("SELECT rating_a IS NULL AND rating_b IS NULL FROM pairing_pairs")


async def test_no_did_you_meet_when_the_partner_erased_their_data(chat):
    await join(chat, "ann", "aaaaa")
    await join(chat, "bo", "ddddd")
    await round_now(chat)
    await chat.as_member("bo").run("/my-data delete", ":press Yes, erase my data")
    await chat.run(":clock +7d1h")
    assert not [d for d in chat.said("DM ann") if "manage to meet" in d.text]
    assert await chat.db.fetchval("SELECT COUNT(*) FROM pairing_pairs") == 1, "the pair's counts stay"


async def test_periods_under_a_day_are_said_in_hours(tmp_path):
    chat = await Chat.open(tmp_path, CONFIG.replace('every = ""', 'every = "12h"\nfollow_up_after = "36h"'))
    try:
        await join(chat, "ann", "aaaaa")
        assert "Pairs are made every 12 hours" in told(chat, "ann")
        await join(chat, "bo", "ddddd")
        await round_now(chat)
        assert "In 1 day I'll ask you both whether you met." in intro(chat, "ann")
    finally:
        await chat.close()
