"""The form engine, driven through the real console: every control word, every validation,
restarts, reminders and expiry, two members at once, and hostile text."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import parse_config
from bot.core import Clock, Invocation
from bot.forms.engine import CLAIM_HOLDS
from bot.platforms.console import run_console
from bot.render.escape import ZERO_WIDTH_SPACE
from databases import database_for, query
from conversation import Chat
from sample_cogs.survey import QUICK

WITH_SURVEY = '[cogs]\nenabled = ["sample_cogs.survey"]\n'
STORY = "We talked for an hour about our towns and our parents."


@pytest.fixture
async def survey(tmp_path):
    chat = await Chat.open(tmp_path, WITH_SURVEY)
    yield chat
    await chat.close()


def dm(chat: Chat, name: str) -> str:
    """The text of the last direct message to `name`, title included."""
    message = chat.last_dm(name).message
    return f"{message.title}\n{message.text}"


async def draft(chat: Chat, member: str) -> dict | None:
    row = await chat.db.fetchone("SELECT * FROM form_drafts WHERE member_id = ?", (member,))
    return None if row is None else {**dict(row), "answers": json.loads(row["answers"])}


async def submissions(chat: Chat) -> list[dict]:
    rows = await chat.db.fetchall("SELECT * FROM survey_answers ORDER BY id")
    return [{**{k: v for k, v in dict(r).items() if k != "id"}, "answers": json.loads(r["answers"]), "context": json.loads(r["context"])} for r in rows]


async def answer_all(chat: Chat, name: str = "Alice") -> None:
    await chat.run(":dm " + name, ":dm " + STORY, ":press Green", ":press No", ":dm skip", ":dm skip", ":press I agree")


async def test_a_form_from_start_to_submit(survey):
    await survey.as_member("alice").run("/survey")
    assert survey.last_private("alice").text == "I've sent you a direct message with the first question of \"The survey\"."
    assert dm(survey, "alice") == "The survey: question 1 of 7\nWhat's your name?"

    await survey.run(":dm Alice", ":dm " + STORY)
    question = survey.last_dm("alice").message
    assert question.title == "The survey: question 3 of 7"
    assert [b.label for b in question.buttons] == ["Red", "Green", "Blue"]
    await survey.press("Green")
    await survey.press("No")  # no partner: the partner question is not asked
    assert "A link to your recording?" in dm(survey, "alice") and "question 5 of 7" in dm(survey, "alice")
    await survey.run(":dm skip", ":dm skip")
    assert "I agree that the program may quote my story" in dm(survey, "alice")
    await survey.press("I agree")

    review = dm(survey, "alice")
    assert review.startswith("The survey: your answers")
    assert "1. What's your name?\n   Alice" in review
    assert "3. Pick a colour.\n   Green" in review
    assert "5. A link to your recording?\n   (skipped)" in review
    assert "7. I agree that the program may quote my story in its outreach.\n   I agree" in review
    await survey.press("Submit")
    assert survey.last_dm("alice").text == "Thanks, your survey is in."

    (kept,) = await submissions(survey)
    answers = kept["answers"]
    assert answers["name"] == "Alice" and answers["story"] == STORY and answers["colour"] == "green"
    assert answers["has_partner"] is False and "partner" not in answers
    assert answers["link"] is None and answers["email"] is None
    assert answers["may_quote"]["agreed"] is True
    assert answers["may_quote"]["wording"] == "I agree that the program may quote my story in its outreach."
    assert answers["may_quote"]["at"].startswith(str(survey.bot.clock.today().year))
    assert await draft(survey, "alice") is None


async def test_a_conditional_question_follows_the_answer_it_depends_on(survey):
    await survey.as_member("bo").run("/survey", ":dm Bo", ":dm " + STORY, ":dm blue", ":dm yes")
    assert "What's their name?" in dm(survey, "bo") and "question 5 of 8" in dm(survey, "bo")
    await survey.run(":dm Cy", ":dm skip", ":dm skip", ":dm yes", ":dm edit 4", ":dm no")
    review = dm(survey, "bo")
    assert "What's their name?" not in review, "a question that no longer applies is left out"
    await survey.run(":dm submit")
    assert "partner" not in (await submissions(survey))[0]["answers"]


async def test_every_control_word(survey):
    await survey.as_member("cy").run("/survey")
    await survey.run(":dm help")
    assert "back: go to the previous question" in survey.last_dm("cy").text
    await survey.run(":dm BACK")
    assert survey.last_dm("cy").text.startswith("This is the first question")
    await survey.run(":dm skip")
    assert survey.last_dm("cy").text.startswith("This question can't be skipped")
    await survey.run(":dm Cy", ":dm back")
    assert "What's your name?" in dm(survey, "cy") and "Your answer so far: Cy" in dm(survey, "cy")
    await survey.run(":dm Cyrus")
    assert "Tell us about your conversation." in dm(survey, "cy"), "back then answer returns to where you were"
    await survey.run(":dm review")
    assert "Cyrus" in dm(survey, "cy")
    await survey.run(":dm submit")
    assert "still 6 questions to answer" in dm(survey, "cy")
    await survey.run(":dm edit 9")
    assert 'Say "edit" and a number from 1 to 7' in survey.last_dm("cy").text
    await survey.run(":dm edit 1", ":dm Cy")
    assert (await draft(survey, "cy"))["answers"]["name"] == "Cy"

    await survey.run(":dm cancel")
    assert "Say \"cancel\" again to confirm" in survey.last_dm("cy").text
    await survey.run(":dm " + STORY)
    assert (await draft(survey, "cy"))["answers"]["story"] == STORY, "anything but a second cancel carries on"
    await survey.run(":dm cancel", ":dm cancel")
    assert survey.last_dm("cy").text == 'Stopped. Your answers to "The survey" are deleted.'
    assert await draft(survey, "cy") is None
    await survey.run(":dm hello")
    assert "type /help" in survey.last_dm("cy").text


async def test_cancel_can_be_confirmed_with_its_button(survey):
    await survey.as_member("di").run("/survey", ":dm Di", ":dm cancel")
    await survey.press("Yes, delete my answers")
    assert await draft(survey, "di") is None


@pytest.mark.parametrize(
    ("setup", "bad", "expected"),
    [
        ([], "x" * 41, "That's 1 character too long (the limit is 40)."),
        ([], "Admin", "That name is kept for the moderators; please use your own."),
        (["Al"], "too short", "That's a little short: 11 more characters, please (at least 20)."),
        (["Al", STORY], "purple", "Please pick one of: Red, Green, Blue."),
        (["Al", STORY], "gren", 'Did you mean "Green"?'),
        (["Al", STORY, "red"], "perhaps", "Please answer yes or no."),
        (["Al", STORY, "red", "no"], "example dot org", "doesn't look like a web address"),
        (["Al", STORY, "red", "no", "skip"], "not-an-email", "doesn't look like an email address"),
        (["Al", STORY, "red", "no", "skip", "skip"], "no", "This agreement is needed to submit."),
    ],
)
async def test_a_wrong_answer_is_asked_again_and_nothing_is_lost(survey, setup, bad, expected):
    await survey.as_member("ed").run("/survey", *[f":dm {line}" for line in setup])
    before = (await draft(survey, "ed"))["answers"]
    await survey.run(f":dm {bad}")
    reply = survey.last_dm("ed").message
    assert expected in reply.text
    assert reply.title.startswith("The survey: question"), "the question is asked again"
    assert (await draft(survey, "ed"))["answers"] == before


async def test_a_restart_mid_form_continues_at_the_same_question(survey):
    await survey.as_member("fay").run("/survey", ":dm Fay", ":dm " + STORY)
    await survey.restart()
    await survey.as_member("fay").press("Blue")  # the button from before the restart
    assert "Was your partner a member here?" in dm(survey, "fay")
    await survey.run(":dm no", ":dm skip", ":dm skip", ":dm yes", ":dm submit")
    (kept,) = await submissions(survey)
    assert kept["answers"]["name"] == "Fay" and kept["answers"]["colour"] == "blue"


async def test_one_reminder_then_expiry(survey):
    await survey.as_member("gus").run("/survey", ":dm Gus")
    await survey.run(":clock +23h")
    assert "haven't finished" not in dm(survey, "gus")
    await survey.run(":clock +2h")
    reminder = survey.last_dm("gus").text
    assert 'You started "The survey" and haven\'t finished it.' in reminder
    assert "Tell us about your conversation." in reminder, "the reminder repeats the question"
    count = len(survey.said("DM gus"))
    await survey.run(":clock +2d")
    assert len(survey.said("DM gus")) == count, "only one reminder"
    await survey.run(":clock +5d")
    assert "was deleted after a long silence" in survey.last_dm("gus").text
    assert await draft(survey, "gus") is None


async def test_answering_pushes_the_deadlines_back(survey):
    await survey.as_member("hal").run("/survey", ":clock +20h", ":dm Hal", ":clock +20h")
    assert "haven't finished" not in dm(survey, "hal")
    await survey.run(":clock +5h")
    assert "haven't finished" in dm(survey, "hal"), "a day after the last answer"


async def test_a_reminder_and_an_expiry_that_fell_due_while_the_bot_was_down(tmp_path):
    config = parse_config(WITH_SURVEY, base_dir=tmp_path)
    db = database_for(tmp_path)
    printed: list[str] = []

    async def console(script: str, days_later: float) -> str:
        printed.clear()
        await run_console(config, database=db, stdin=io.StringIO(script), write=printed.append,
                          clock=Clock(offset=timedelta(days=days_later)))
        return "\n".join(printed)

    await console(":as ivy\n/survey\n:dm Ivy\n", 0)
    await console(":as jo\n/survey\n", 3)  # three days later, jo starts too; the bot stops again
    # A week and an hour after ivy's last answer the bot starts once more, and says nothing else:
    # ivy's draft expired meanwhile (after 7 days), jo's reminder fell due (after 1 day).
    out = await console("", 7 + 1 / 24)
    assert '[DM ivy] Your unfinished "The survey" was deleted' in out
    assert '[DM jo] The survey: question 1 of 7\n  You started "The survey" and haven\'t finished it.' in out
    assert [r[0] for r in query(db, "SELECT member_id FROM form_drafts")] == ["jo"]


async def test_two_members_filling_forms_at_once_do_not_cross_answers(survey):
    await survey.as_member("kim").run("/survey")
    await survey.as_member("lee").run("/survey")
    await survey.as_member("kim").run(":dm Kim")
    await survey.as_member("lee").run(":dm Lee")
    await survey.as_member("kim").run(":dm " + STORY)
    await survey.as_member("lee").run(":dm " + STORY.upper())
    assert (await draft(survey, "kim"))["answers"] == {"name": "Kim", "story": STORY}
    assert (await draft(survey, "lee"))["answers"] == {"name": "Lee", "story": STORY.upper()}


async def test_hostile_answers_are_kept_as_typed_and_shown_harmless(survey):
    hostile = "@everyone <@&1> **loud** \u202eevil 👩🏽‍🚀 שלום עולם مرحبا"
    await survey.as_member("max").run("/survey", f":dm {hostile}")
    assert "too long" in survey.last_dm("max").text  # 41+ characters for a 40-character name
    await survey.run(":dm @everyone", ":dm " + "ש" * 30 + " 👩🏽‍🚀 " + "<!channel> " * 3)
    stored = (await draft(survey, "max"))["answers"]
    assert stored["name"] == "@everyone", "stored as typed"
    await survey.run(":dm review")
    shown = dm(survey, "max")
    assert "@everyone" not in shown and f"@{ZERO_WIDTH_SPACE}everyone" in shown
    assert "<!channel>" not in shown and "👩🏽‍🚀" in shown

    await survey.run(":dm edit 2", ":dm " + "x" * 10_000)
    assert "That's 9500 characters too long (the limit is 500)." in survey.last_dm("max").text


async def test_starting_another_form_asks_before_abandoning_the_first(survey):
    await survey.as_member("nia").run("/survey", ":dm Nia", "/quick")
    offer = survey.last_dm("nia").message
    assert 'You have an unfinished "The survey". Start "The quick question" instead?' in offer.text
    await survey.press("Continue where I was")
    assert "Tell us about your conversation." in dm(survey, "nia")
    assert (await draft(survey, "nia"))["answers"] == {"name": "Nia"}

    await survey.run("/quick")
    await survey.press("Start the new one")
    assert "One word, please." in dm(survey, "nia")
    await survey.run(":dm hello", ":dm submit")
    (kept,) = await submissions(survey)
    assert kept["form"] == "quick" and kept["context"] == {"asked_by": "test"}

    await survey.run("/quick")
    await survey.run("/quick")
    assert 'You\'re already filling in "The quick question"; here is where you were.' in survey.last_dm("nia").text


async def test_a_member_with_closed_dms_is_told_where_they_started_and_nothing_is_lost(survey):
    await survey.as_member("ola").run(":dms off", "/survey")
    assert "I couldn't send you a direct message" in survey.last_private("ola").text
    assert await draft(survey, "ola") is not None
    await survey.run(":dms on", "/survey")
    assert "here is where you were" in survey.last_dm("ola").text
    assert "What's your name?" in dm(survey, "ola")


async def test_try_again_delivers_the_question_once_dms_are_open(survey):
    await survey.as_member("ola").run(":dms off", "/survey")
    closed = survey.last_private("ola").message
    assert [b.label for b in closed.buttons] == ["Try again"]
    await survey.press("Try again")  # still closed: told again, nothing lost
    assert "I couldn't send you a direct message" in survey.last_private("ola").text
    await survey.restart()  # the button still works after a restart: the draft is in the database
    await survey.as_member("ola").run(":dms on", ":press Try again")
    assert "What's your name?" in dm(survey, "ola")
    assert "I've sent you a direct message" in survey.last_private("ola").text
    await survey.run(":dm Ola")
    assert (await draft(survey, "ola"))["answers"] == {"name": "Ola"}


async def test_an_old_button_does_not_answer_a_later_question(survey):
    await survey.as_member("pat").run("/survey", ":dm Pat", ":dm " + STORY)
    await survey.press("Red")
    await survey.run(":dm back", ":dm back")  # now at the story again; the colour buttons are gone from view
    await survey.as_member("pat").run(":dm " + STORY + " Again.")
    assert (await draft(survey, "pat"))["answers"]["colour"] == "red"


async def test_submitting_twice_records_once(survey):
    await survey.as_member("quinn").run("/quick", ":dm word", ":dm review")
    await survey.press("Submit")
    await survey.press("Submit")
    assert len(await submissions(survey)) == 1
    assert "already closed" in survey.last_dm("quinn").text


async def test_the_control_words_can_be_translated(tmp_path):
    (tmp_path / "mine" / "forms").mkdir(parents=True)
    shipped = (Path(__file__).resolve().parents[1] / "bot" / "forms" / "templates" / "forms" / "engine.j2").read_text()
    french = shipped.replace("{% block words_back %}back, previous{% endblock %}",
                             "{% block words_back %}retour, précédent{% endblock %}")
    (tmp_path / "mine" / "forms" / "engine.j2").write_text(french)
    chat = await Chat.open(tmp_path, WITH_SURVEY + '\n[bot]\ntemplates_dir = "mine"\n')
    try:
        await chat.as_member("rae").run("/survey", ":dm Rae", ":dm RETOUR")
        assert "Your answer so far: Rae" in dm(chat, "rae")
    finally:
        await chat.close()


async def test_switching_off_a_question_switches_off_the_ones_that_depend_on_it(survey):
    await survey.as_member("sam").run("/chain", ":dm yes", ":dm Rex", ":dm dog", ":dm edit 1", ":dm no")
    review = dm(survey, "sam")
    assert "pet's name" not in review and "kind of animal" not in review
    await survey.run(":dm submit")
    assert (await submissions(survey))[0]["answers"] == {"pets": False}


async def test_reminders_and_expiry_never_overwrite_a_fresh_answer(survey):
    await survey.as_member("tia").run("/survey", ":dm Tia")
    stale = await survey.bot.forms.store.get("console:local", "tia")
    await survey.run(":clock +1h", ":dm " + STORY)  # the member answers after the job read the draft
    far_future = survey.bot.clock.now() + timedelta(days=30)
    assert not await survey.bot.forms.store.mark_reminded(stale)
    assert not await survey.bot.forms.store.expire(stale, survey.bot.clock.now())
    fresh = await draft(survey, "tia")
    assert fresh["answers"] == {"name": "Tia", "story": STORY} and fresh["remind_at"] is not None
    assert await survey.bot.forms.store.expire(await survey.bot.forms.store.get("console:local", "tia"), far_future)


async def test_an_old_switch_button_does_not_delete_the_form_in_progress(survey):
    await survey.as_member("uma").run("/survey", ":dm Uma", "/quick")
    await survey.press("Continue where I was")
    await survey.run(":dm " + STORY)
    assert (await draft(survey, "uma"))["answers"]["story"] == STORY
    ctx = survey.adapter.invocation(None)
    submission_id = (await draft(survey, "uma"))["submission_id"]
    await survey.bot.press(ctx, "forms:switch", f"{submission_id[:12]}:")
    assert (await draft(survey, "uma"))["form"] == "survey", "no switch was asked for any more"
    await survey.bot.press(ctx, "forms:submit", "an-old-form:")
    assert "That button belongs to an earlier question" in survey.last_dm("uma").text


async def test_buttons_of_a_finished_form_do_nothing(survey):
    await survey.as_member("val").run("/chain", ":dm no", ":dm submit")
    await survey.press("Submit")  # the review's button, still on screen
    assert "already closed" in survey.last_dm("val").text
    assert len(await submissions(survey)) == 1


async def test_a_form_whose_cog_is_off_can_still_be_cancelled(survey):
    await survey.as_member("wes").run("/survey", ":dm Wes", ":mod admin")
    await survey.as_member("admin").run("/cogs unload sample_cogs.survey")
    await survey.as_member("wes").run(":dm hello")
    assert "switched off right now" in survey.last_dm("wes").text
    await survey.run(":dm cancel")
    assert survey.last_dm("wes").text == 'Stopped. Your answers to "survey" are deleted.'
    assert await draft(survey, "wes") is None


async def test_consent_is_stored_in_the_words_the_member_read_without_markup(tmp_path):
    chat = await Chat.open(tmp_path, WITH_SURVEY + '\n[program]\nname = "Team @everyone <b>"\n')
    try:
        await chat.as_member("xi").run("/survey", ":dm Xi", ":dm " + STORY, ":dm red", ":dm no", ":dm skip",
                                        ":dm skip", ":dm yes")
        stored = (await draft(chat, "xi"))["answers"]["may_quote"]["wording"]
        assert ZERO_WIDTH_SPACE not in stored
    finally:
        await chat.close()


async def test_questions_with_buttons_take_typed_labels_and_numbers(survey):
    await survey.as_member("ola").run("/survey", ":dm Ola", ":dm " + STORY, ":dm gren")
    assert 'Please pick one of: Red, Green, Blue. Did you mean "Green"?' in survey.last_dm("ola").text
    await survey.run(":dm 3")  # the third button
    assert (await draft(survey, "ola"))["answers"]["colour"] == "blue"
    await survey.run(":dm back", ":dm  GREEN! ")  # the label, however it is typed
    assert (await draft(survey, "ola"))["answers"]["colour"] == "green"
    await survey.run(":dm No", ":dm skip", ":dm skip", ":dm I agree")  # the consent button's own words
    assert (await draft(survey, "ola"))["answers"]["may_quote"]["agreed"] is True


async def test_a_cogs_own_rule_applies_to_any_kind_of_question(survey):
    await survey.as_member("pim").run("/survey", ":dm Pim", ":dm " + STORY, ":press Red", ":press No", ":dm skip")
    await survey.run(":dm pim@example.com")
    assert "Addresses at example.com are only examples" in survey.last_dm("pim").text
    await survey.run(":dm pim@pim.org")
    assert (await draft(survey, "pim"))["answers"]["email"] == "pim@pim.org"


async def test_two_members_answering_at_the_same_moment_do_not_cross(survey):
    adapter = survey.adapter
    await survey.as_member("kit").run("/survey")
    await survey.as_member("lou").run("/survey")

    def dm_from(name: str) -> Invocation:
        return Invocation(bot=survey.bot, adapter=adapter, community=adapter.community, member=adapter.member(name),
                          channel=None)

    await asyncio.gather(survey.bot.receive_dm(dm_from("kit"), "Kit"), survey.bot.receive_dm(dm_from("lou"), "Lou"))
    await asyncio.gather(*(survey.bot.receive_dm(dm_from(name), f"{STORY} ({name})") for name in ("kit", "lou")),
                         survey.bot.receive_dm(dm_from("lou"), "green"))  # lou's second message, sent at once
    assert (await draft(survey, "kit"))["answers"] == {"name": "Kit", "story": f"{STORY} (kit)"}
    assert (await draft(survey, "lou"))["answers"] == {"name": "Lou", "story": f"{STORY} (lou)", "colour": "green"}



def from_member(chat: Chat, name: str) -> Invocation:
    """A direct message or a press from `name`, on `chat`'s bot."""
    return Invocation(bot=chat.bot, adapter=chat.adapter, community=chat.adapter.community,
                      member=chat.adapter.member(name), channel=None)


@pytest.fixture
async def two_processes(tmp_path):
    """Two bots on one database, as two processes behind one load balancer would be: a member's messages
    and presses land on either."""
    chats = [await Chat.open(tmp_path, WITH_SURVEY) for _ in range(2)]
    yield chats
    for chat in chats:
        await chat.close()


async def test_one_members_messages_on_two_processes_at_once_are_taken_once_each_in_one_order(two_processes):
    """Four quick messages, two on each process at the same moment: each is the answer to the question the
    member is at when it is taken, in one order. None is lost, none is taken twice, and none is stored as the
    answer to a question it did not answer (without the turn across processes, two were taken as the name)."""
    first, second = two_processes
    await first.as_member("kit").run("/survey")
    before = [len(chat.said("DM kit")) for chat in two_processes]
    texts = [f"We met at the library, day {n}." for n in range(4)]  # a name, or a story: 20 to 40 characters
    await asyncio.gather(*(chat.bot.receive_dm(from_member(chat, "kit"), text)
                           for chat, text in zip((first, second, first, second), texts)))

    kept = await draft(first, "kit")
    name, story = kept["answers"].get("name"), kept["answers"].get("story")
    assert kept["answers"] == {"name": name, "story": story} and kept["current"] == "colour"
    assert name in texts and story in texts and name != story
    replies = [d.message for chat, n in zip(two_processes, before) for d in chat.said("DM kit")[n:]]
    assert sorted(reply.title for reply in replies) == [
        "The survey: question 2 of 7"] + ["The survey: question 3 of 7"] * 3, "one answer to each message"
    assert len([r for r in replies if r.text.startswith("Please pick one of: Red, Green, Blue.")]) == 2, \
        "the two messages after the story were not taken as a colour"


async def test_a_form_started_on_two_processes_at_once_is_opened_once(two_processes):
    await asyncio.gather(*(chat.as_member("max").run("/survey") for chat in two_processes))
    said = [d.message for chat in two_processes for d in chat.said("DM max")]
    assert [m.title for m in said] == ["The survey: question 1 of 7"] * 2
    assert len([m for m in said if m.text.startswith("You're already filling in")]) == 1, "the second finds the first's"
    assert len(query(two_processes[0].database, "SELECT * FROM form_drafts WHERE member_id = 'max'")) == 1


async def test_submit_pressed_on_two_processes_at_once_is_handed_to_the_cog_once(two_processes):
    first, second = two_processes
    await first.as_member("quinn").run("/quick", ":dm word")
    key = (await draft(first, "quinn"))["submission_id"][:12]
    await asyncio.gather(*(chat.bot.press(from_member(chat, "quinn"), "forms:submit", f"{key}:")
                           for chat in two_processes * 2))  # pressed twice, and each press sent on twice
    said = [d.text for chat in two_processes for d in chat.said("DM quinn")]
    assert said.count("Thanks for the quick answer.") == 1
    assert said.count("That form is already closed. Nothing else is needed from you.") == 3
    assert len(await submissions(first)) == 1 and await draft(first, "quinn") is None


async def test_a_submit_claimed_by_a_process_that_stopped_is_let_go(survey):
    """A process that stopped while its cog's handler ran left the draft claimed: after a while, the member's
    next step goes on without waiting for it, and the draft is as before the submit."""
    await survey.as_member("ned").run("/quick", ":dm word")
    await survey.db.execute("UPDATE form_drafts SET submitting = 1 WHERE member_id = 'ned'")  # as it stopped
    await survey.run(":clock +11s", ":dm back")
    assert "One word, please." in dm(survey, "ned") and (await draft(survey, "ned"))["submitting"] == 0
    await survey.run(":dm word", ":dm submit")
    assert survey.last_dm("ned").text == "Thanks for the quick answer." and len(await submissions(survey)) == 1

async def test_a_slow_submits_claim_is_kept_so_another_process_waits_for_it(two_processes):
    """A cog's handler that takes longer than a left claim may last: its process renews the claim while it runs,
    so a step of the same member on another process, at a moment when the first claim would already count as
    left behind, waits for the handler rather than taking the draft back (and answering from it)."""
    first, second = two_processes
    await first.as_member("kai").run("/quick", ":dm word")
    release = asyncio.Event()
    handled = []

    async def slowly(ctx: Invocation, submission) -> None:  # the quick form's handler, on the first process
        await release.wait()
        handled.append(submission.id)
        await ctx.reply("Thanks, slowly.")

    first.bot.forms.register(QUICK, slowly)
    submitting = asyncio.create_task(first.bot.receive_dm(from_member(first, "kai"), "submit"))
    claimed = await eventually(lambda: draft(first, "kai"), lambda row: row and row["submitting"],
                               what="the draft claimed by the submit")
    renewed = await eventually(lambda: draft(first, "kai"), lambda row: row["updated_at"] > claimed["updated_at"],
                               within=30, what="the claim renewed while the handler runs")
    # Half a second past the first claim's hold, on the second process: had it not been renewed, it would be let go.
    past_first_hold = datetime.fromisoformat(claimed["updated_at"]) + CLAIM_HOLDS + timedelta(seconds=0.5)
    second.bot.clock.advance(max(past_first_hold - second.bot.clock.now(), timedelta(0)))
    assert datetime.fromisoformat(renewed["updated_at"]) + CLAIM_HOLDS > second.bot.clock.now()
    stepping = asyncio.create_task(second.bot.receive_dm(from_member(second, "kai"), "back"))
    await asyncio.sleep(0.3)  # well within the renewed claim: it would be left behind 2.8 s after its renewal
    assert not stepping.done(), "the second process waits while the handler runs"
    release.set()
    await asyncio.wait_for(asyncio.gather(submitting, stepping), 30)
    assert len(handled) == 1 and await draft(first, "kai") is None
    assert first.last_dm("kai").text == "Thanks, slowly."
    assert "One word, please." not in dm(second, "kai"), "the second did not answer from the draft"


async def eventually(read, holds, *, within: float = 10, what: str = "the condition"):
    """What `read` gives once `holds` is true of it, looked at every 50 ms for up to `within` seconds."""
    async def poll():
        while not holds(value := await read()):
            await asyncio.sleep(0.05)
        return value
    try:
        return await asyncio.wait_for(poll(), within)
    except asyncio.TimeoutError:
        raise AssertionError(f"{what}: not seen within {within} s") from None


HOSTILE_STORY = ("@everyone <@&1> <!channel> **loud** _lean_ `code` [x](https://evil.example) \u202eevil "
                 "👩🏽‍🚀 שלום עולם مرحبا بكم")


async def test_a_hostile_story_is_kept_whole_as_typed(survey):
    await survey.as_member("rio").run("/survey", ":dm Rio", ":dm " + HOSTILE_STORY)
    assert (await draft(survey, "rio"))["answers"]["story"] == HOSTILE_STORY
    await survey.run(":dm review")
    shown = dm(survey, "rio")
    assert "@everyone" not in shown and "שלום עולם مرحبا بكم" in shown and "👩🏽‍🚀" in shown


def test_the_control_words_through_the_console_command(tmp_path):
    (tmp_path / "smallstep.toml").write_text(WITH_SURVEY)
    script = "\n".join([
        "/survey", ":dm HELP", ":dm Sam", ":dm Back", ":dm Sammy", ":dm skip", ":dm " + STORY, ":dm REVIEW",
        ":dm Edit 1", ":dm Samuel", ":dm cancel", ":dm carry on", ":dm cancel", ":dm cancel",
    ]) + "\n"
    tests = Path(__file__).parent  # where the survey cog lives
    result = subprocess.run([sys.executable, "-m", "bot", "console", "--db", str(database_for(tmp_path))],
                            cwd=tmp_path, input=script,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), str(tests.parent)])})
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "back: go to the previous question" in out.split("you> :dm HELP", 1)[1].split("you>", 1)[0]
    after_back = out.split("you> :dm Back", 1)[1].split("you>", 1)[0]
    assert "What's your name?" in after_back
    assert "This question can't be skipped." in out.split("you> :dm skip", 1)[1].split("you>", 1)[0]
    assert "The survey: your answers" not in out.split("you> :dm REVIEW", 1)[0]
    assert "1. What's your name?\n     Sammy" in out.split("you> :dm REVIEW", 1)[1].split("you>", 1)[0]
    assert 'Stopped. Your answers to "The survey" are deleted.' in out.split("you> :dm carry on", 1)[1]
    assert query(database_for(tmp_path), "SELECT COUNT(*) FROM form_drafts")[0][0] == 0


async def test_a_member_waits_before_submitting_the_same_form_again(survey):
    await survey.as_member("uli").run("/chain", ":dm no", ":dm submit")
    await survey.run("/chain", ":dm yes", ":dm Rex", ":dm dog", ":dm submit")
    assert survey.last_dm("uli").text.startswith('You sent this form a moment ago. Please say "submit" again in')
    assert (await draft(survey, "uli"))["answers"] == {"pets": True, "pet_name": "Rex", "pet_kind": "dog"}, "kept"
    await survey.run(":clock +61s", ":dm submit")
    assert [s["answers"]["pets"] for s in await submissions(survey)] == [False, True]


class Died(BaseException):
    """The process is gone: raised where the console would show a message."""


async def test_an_answer_kept_when_the_bot_died_before_the_next_question_gets_that_question_at_start(survey):
    record = survey.adapter.observe

    def dies_before_the_second_question(delivery) -> None:
        if "question 2 of 7" in (delivery.message.title or ""):
            raise Died()  # the answer is in the database; the next question never left
        record(delivery)

    await survey.as_member("ida").run("/survey")
    survey.adapter.observe = dies_before_the_second_question
    with pytest.raises(Died):
        await survey.run(":dm Ida")
    survey.adapter.observe = record
    assert (await draft(survey, "ida"))["answers"] == {"name": "Ida"}
    assert "question 2 of 7" not in dm(survey, "ida")

    await survey.restart()
    assert dm(survey, "ida").startswith("The survey: question 2 of 7\nTell us about your conversation."), "at start"
    await survey.as_member("ida").run(":dm " + STORY)
    assert (await draft(survey, "ida"))["answers"] == {"name": "Ida", "story": STORY}
    await survey.restart()
    assert len([d for d in survey.said("DM ida") if "question 2 of 7" in d.message.title]) == 1, "asked once"


async def test_a_draft_left_by_the_version_before_the_engine_state_columns_goes_on(tmp_path):
    """Migration forms/0003 moves the engine's flags out of the cog's context into columns of their own:
    a member who had said "cancel" once and had another form waiting is where they were."""
    from importlib.resources import files

    from bot.storage import Database, apply_migrations

    older = tmp_path / "forms-0002"
    older.mkdir()
    for name in ("0001_forms.sql", "0002_asked.sql"):
        (older / name).write_text((files("bot.forms") / "migrations" / name).read_text())
    db = await Database.open(database_for(tmp_path, empty=True))  # the chat's own, before the new migrations
    await apply_migrations(db, "forms", older)
    context = {"purpose": "kept", "_confirm_cancel": True, "_intro": "Hello again.",
               "_switch_to": {"form": "chain", "answers": {}, "context": {}, "intro": ""}}
    await db.execute(
        "INSERT INTO form_drafts (community, member_id, member_name, form, submission_id, answers, current, context,"
        " started_at, updated_at, remind_at, expire_at) VALUES ('console:local', 'vic', 'Vic', 'survey', 'abc123',"
        " '{\"name\": \"Vic\"}', 'story', ?, '2030-01-01', '2030-01-01', NULL, '2999-01-01')", (json.dumps(context),))
    await db.close()

    chat = await Chat.open(tmp_path, WITH_SURVEY)
    try:
        kept = await chat.bot.forms.store.get("console:local", "vic")
        assert kept.context == {"purpose": "kept"}, "the cog's own context, without the engine's flags"
        assert (kept.intro, kept.confirm_cancel, kept.switch_to.form) == ("Hello again.", True, "chain")
        await chat.as_member("vic").run(":dm cancel")  # the second "cancel": the form ends
        assert 'Stopped. Your answers to "The survey" are deleted.' in chat.last_dm("vic").text
        assert await draft(chat, "vic") is None
    finally:
        await chat.close()
