"""Step 4, testimonials: the form, the moderators' queue, outcomes, changes, featuring, export, withdrawal."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from bot.render.escape import ZERO_WIDTH_SPACE
from databases import database_for
from conversation import Chat

STORY = "We talked for an hour about our towns, our parents and what each of us fears most."
SURPRISE = "That we agreed about the schools."
QUEUE_BUTTONS = ["Approve", "Reject", "Ask for changes"]


@pytest.fixture
async def chat(tmp_path):
    conversation = await Chat.open(tmp_path, '[cogs]\nenabled = ["testimonials"]\n')
    yield conversation
    await conversation.close()


async def submit(chat: Chat, name: str, *, credit: str = "My full name", story: str = STORY) -> None:
    await chat.as_member(name).run("/testimonial", f":dm {story}", f":dm {SURPRISE}", ":dm skip")
    await chat.press(credit)
    await chat.press("I agree")
    await chat.press("Submit")


async def the_testimonial(chat: Chat, testimonial_id: int = 1) -> dict:
    return dict(await chat.db.fetchone("SELECT * FROM testimonials WHERE id = ?", (testimonial_id,)))


async def events(chat: Chat, name: str) -> int:
    return await chat.db.fetchval("SELECT COUNT(*) FROM domain_events WHERE name = ?", (name,))


async def as_moderator(chat: Chat, *lines: str) -> None:
    await chat.as_member("admin").run(":channel moderators", *lines)


async def test_a_testimonial_goes_to_the_moderators_queue_and_is_approved_by_button(chat):
    await submit(chat, "Alice Walker")
    assert chat.last_dm("Alice Walker").text.startswith("Thank you for your testimonial!")
    stored = await the_testimonial(chat)
    assert (stored["status"], stored["story"], stored["advice"], stored["credit"]) == (
        "pending", STORY, None, "full_name")
    assert stored["consent_given"] == 1
    assert stored["consent_wording"].startswith("I agree that One Small Step may quote this testimonial")
    assert stored["consent_at"].startswith(str(chat.bot.clock.today().year))
    assert await events(chat, "testimonial.submitted") == 1

    card = chat.last_in("moderators").message
    assert card.title == "Testimonial #1 from Alice Walker"
    assert [b.label for b in card.buttons] == QUEUE_BUTTONS
    assert STORY in [f.value for f in card.fields]

    await as_moderator(chat, ":press Approve")
    assert chat.last_private("admin").text == "Testimonial #1 is approved. Its author has been told."
    assert "was approved" in chat.last_dm("Alice Walker").text
    assert (await the_testimonial(chat))["status"] == "approved"
    assert await events(chat, "testimonial.approved") == 1
    edited = chat.last("#moderators, message " + chat.said("#moderators")[0].message_id + " edited").message
    assert edited.buttons == [] and edited.text == "Status: approved"


async def test_a_rejection_asks_the_moderator_why_and_tells_the_member(chat):
    await submit(chat, "bob")
    await as_moderator(chat, ":press Reject")
    assert "Why is it rejected?" in chat.last_dm("admin").text
    await chat.run(":dm It names a private person.", ":dm submit")
    assert chat.last_dm("admin").text == "Testimonial #1 is rejected. Its author has been told why."
    assert chat.last_dm("bob").text.endswith("said: It names a private person.")
    stored = await the_testimonial(chat)
    assert (stored["status"], stored["moderator_note"], stored["decided_by"]) == (
        "rejected", "It names a private person.", "admin")


async def test_asking_for_changes_gives_the_member_their_answers_back(chat):
    await submit(chat, "cat")
    await as_moderator(chat, "/testimonials request-changes 1 Please leave out the town's name.")
    reopened = chat.last_dm("cat")
    assert "asked for a change: Please leave out the town's name." in reopened.text
    assert reopened.message.title == "Your testimonial: your answers"
    assert STORY[:40] in reopened.text
    assert (await the_testimonial(chat))["status"] == "changes_requested"

    await chat.as_member("cat").run(":dm edit 1", f":dm {STORY} (town removed)", ":dm submit")
    assert chat.last_dm("cat").text.startswith("Thank you for the changes!")
    stored = await the_testimonial(chat)
    assert (stored["status"], stored["story"], stored["moderator_note"]) == (
        "pending", f"{STORY} (town removed)", None)
    assert await chat.db.fetchval("SELECT COUNT(*) FROM testimonials") == 1
    assert [b.label for b in chat.last_in("moderators").message.buttons] == QUEUE_BUTTONS
    assert (await events(chat, "testimonial.submitted"), await events(chat, "testimonial.revised")) == (1, 1), \
        "the revision is the same testimonial: the weekly stats count it once"


async def test_moderator_commands_and_their_refusals(chat):
    await submit(chat, "dan")
    await chat.as_member("dan").run("/testimonials queue")
    assert "Only moderators" in chat.last_private("dan").text
    await chat.as_member("dan").run(":channel moderators", ":press Approve")
    assert "Only moderators" in chat.last_private("dan").text
    assert (await the_testimonial(chat))["status"] == "pending"

    await as_moderator(chat, "/testimonials queue")
    assert chat.last_private("admin").text.startswith("#1 from dan: We talked for an hour")
    await chat.run("/testimonials show 1")
    assert chat.last_private("admin").message.title == "Testimonial #1 from dan"
    await chat.run("/testimonials show 7")
    assert chat.last_private("admin").text == "There is no testimonial #7 in this community."
    await chat.run("/testimonials reject 1 Too short.", "/testimonials reject 1 Again.")
    assert chat.last_private("admin").text == "Testimonial #1 is rejected, so that can't be done now."
    await chat.run("/testimonials approve 1")
    assert (await the_testimonial(chat))["status"] == "approved", "a rejection can be reconsidered"
    await chat.run("/testimonials queue")
    assert chat.last_private("admin").text == "No testimonials are waiting. Well done!"


@pytest.mark.parametrize(("credit", "credited"), [
    ("My full name", "Erin Brockovich"), ("My first name only", "Erin"), ("Don't name me", "Anonymous")])
async def test_featuring_credits_the_author_as_they_chose(chat, credit, credited):
    await submit(chat, "Erin Brockovich", credit=credit)
    await as_moderator(chat, "/testimonials feature 1 #general")
    assert "can't be shown" in chat.last_private("admin").text
    await chat.run("/testimonials approve 1", "/testimonials feature 1 #general")
    post = chat.last_in("general").text
    assert post.startswith(f'"{STORY}"')
    assert f"— {credited}, who took part in One Small Step" in post


async def test_exports_hold_only_approved_testimonials_credited_as_chosen(chat, tmp_path):
    await submit(chat, "Fay Wray", credit="My first name only")
    await submit(chat, "Gus Grissom", credit="Don't name me", story="=HYPERLINK(\"x\") " + STORY)
    await submit(chat, "Hal Holbrook")
    await as_moderator(chat, "/testimonials approve 1", "/testimonials approve 2", "/testimonials export csv")
    delivery = chat.last_dm("admin")
    assert delivery.message.files[0].filename == "testimonials.csv"
    table = list(csv.DictReader(io.StringIO(delivery.message.files[0].data.decode())))
    assert [(r["id"], r["credited_as"]) for r in table] == [("1", "Fay"), ("2", "Anonymous")]
    assert table[1]["story"].startswith("'=HYPERLINK"), "a formula is made plain text for spreadsheets"
    assert table[0]["consent_wording"].startswith("I agree that One Small Step may quote")

    await chat.run("/testimonials export json")
    records = json.loads(chat.last_dm("admin").message.files[0].data)
    assert [r["credited_as"] for r in records] == ["Fay", "Anonymous"]
    assert "Hal" not in json.dumps(records), "not approved: not exported"

    await chat.close()
    result = subprocess.run([sys.executable, "-m", "bot", "export", "testimonials", "--format", "json",
                             "--db", str(chat.database)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == records
    result = subprocess.run([sys.executable, "-m", "bot", "export", "testimonials", "--format", "csv",
                             "--db", str(chat.database)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert list(csv.DictReader(io.StringIO(result.stdout))) == table
    await chat._start()


async def test_withdrawing_removes_it_everywhere(chat):
    await submit(chat, "ivy")
    await as_moderator(chat, "/testimonials approve 1", "/testimonials feature 1 #general")
    featured_id = chat.last_in("general").message_id

    await chat.as_member("jon").run("/testimonial withdraw")
    assert chat.last_private("jon").text == "You have no testimonials to withdraw."

    await chat.as_member("ivy").run("/testimonial withdraw")
    await chat.press("Withdraw #1")
    assert chat.last_private("ivy").text.startswith("Withdraw testimonial #1?")
    await chat.press("Keep it")
    assert (await the_testimonial(chat))["status"] == "approved"
    await chat.run("/testimonial withdraw", ":press Withdraw #1", ":press Yes, withdraw it")
    assert chat.last_private("ivy").text.startswith("Testimonial #1 is withdrawn.")
    assert (await the_testimonial(chat))["status"] == "withdrawn"
    assert chat.last(f"#general, message {featured_id} edited").text == "This testimonial was withdrawn by its author."
    await as_moderator(chat, "/testimonials show 1")
    consent = next(f.value for f in chat.last_private("admin").message.fields if f.name == "May be quoted")
    assert consent == "no: withdrawn by its author"

    await as_moderator(chat, "/testimonials export json", "/testimonials queue")
    assert json.loads(chat.last_dm("admin").message.files[0].data) == []


async def test_only_the_author_can_withdraw(chat):
    await submit(chat, "kim")
    await chat.as_member("kim").run("/testimonial withdraw")
    await chat.as_member("lee").run(":channel general")
    # lee presses kim's button through the action directly, as a forged request would
    ctx = chat.adapter.invocation("general")
    await chat.bot.press(ctx, "testimonials:withdraw-confirmed", "1")
    assert "isn't one of yours" in chat.last_private("lee").text
    assert (await the_testimonial(chat))["status"] == "pending"


async def test_hostile_text_is_kept_as_typed_and_shown_harmless(chat):
    hostile = "@everyone <@&42> **Vote** for [us](https://evil.example) " + STORY
    await submit(chat, "max", story=hostile)
    assert (await the_testimonial(chat))["story"] == hostile
    shown = [f.value for f in chat.last_in("moderators").message.fields]
    assert any(f"@{ZERO_WIDTH_SPACE}everyone" in value for value in shown)
    assert not any("@everyone" in value or "<@&42>" in value for value in shown)


async def test_submitting_twice_records_one_testimonial(chat):
    await chat.as_member("ned").run("/testimonial", f":dm {STORY}", f":dm {SURPRISE}", ":dm skip")
    await chat.press("Don't name me")
    await chat.press("I agree")
    await chat.press("Submit")
    await chat.press("Submit")
    assert await chat.db.fetchval("SELECT COUNT(*) FROM testimonials") == 1
    assert await events(chat, "testimonial.submitted") == 1


def test_a_testimonial_across_two_console_processes(tmp_path):
    """The console as a subprocess: start the form, stop the bot mid-form, finish it in a new process."""

    def console(script: str) -> str:
        result = subprocess.run([sys.executable, "-m", "bot", "console", "--db", str(database_for(tmp_path))],
                                cwd=tmp_path, input=script, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    first = console(f":as olga\n/testimonial\n:dm {STORY}\n")
    assert "[private olga] I've sent you a direct message" in first
    assert "[DM olga] Your testimonial: question 2 of 5" in first

    second = console(f":as olga\n:dm {SURPRISE}\n:dm skip\n:press 3\n:press I agree\n:press Submit\n")
    assert "[DM olga] Thank you for your testimonial!" in second
    assert "[#moderators] Testimonial #1 from olga" in second
    assert "Don't name me" not in second.split("[#moderators]")[1], "the credit shown is the name it may use"
    assert "Anonymous" in second.split("[#moderators]")[1]


async def test_a_revision_cannot_bring_back_a_withdrawn_or_approved_testimonial(chat):
    await submit(chat, "pia")
    await as_moderator(chat, "/testimonials request-changes 1 Shorter, please.")
    await chat.as_member("pia").run("/testimonial withdraw", ":press Withdraw #1", ":press Yes, withdraw it")
    await chat.run(":dm submit")
    assert (await the_testimonial(chat))["status"] == "withdrawn"
    assert "type /help" in chat.last_dm("pia").text, "the revision was closed with the withdrawal"

    await submit(chat, "rob", credit="My full name")
    await as_moderator(chat, "/testimonials request-changes 2 Shorter, please.", "/testimonials approve 2")
    await chat.as_member("rob").run(":dm edit 4")
    assert (await the_testimonial(chat, 2))["status"] == "approved"
    assert "type /help" in chat.last_dm("rob").text, "approval closed the revision"


async def test_a_request_for_changes_waits_for_an_author_busy_with_another_form(chat):
    await submit(chat, "uma")
    await chat.as_member("uma").run("/testimonial")  # a second one, half written
    await chat.run(":dm Another conversation, with my neighbour, about the new road and the old school.")
    await as_moderator(chat, "/testimonials request-changes 1 Please add what surprised you.")
    offer = chat.last_dm("uma").text
    assert "asked for a change: Please add what surprised you." in offer and "Start" in offer
    await chat.as_member("uma").press("Continue where I was")  # not now: the request must not be lost
    await chat.run(":dm cancel", ":dm cancel")
    await chat.run("/testimonial")
    reopened = chat.last_dm("uma")
    assert "asked for a change: Please add what surprised you." in reopened.text
    assert reopened.message.title == "Your testimonial: your answers"
    await chat.run(":dm submit")
    assert (await the_testimonial(chat))["status"] == "pending", "back in the queue"


async def test_a_moderator_can_ask_changes_of_their_own_testimonial(chat):
    await submit(chat, "admin")
    await chat.run(":channel moderators", ":press Ask for changes", ":dm Add what surprised you.", ":dm submit")
    reopened, done = chat.said("DM admin")[-2:]
    assert done.text == "I've asked the author of testimonial #1 for changes and given them their answers back."
    assert "asked for a change: Add what surprised you." in reopened.text
    assert reopened.message.title == "Your testimonial: your answers"


async def test_a_note_form_finished_after_losing_the_moderator_role_decides_nothing(chat):
    await submit(chat, "sol")
    await as_moderator(chat, ":press Reject")
    await chat.run(":unmod admin", ":dm Not for us.", ":dm submit")
    assert "Only moderators" in chat.last_dm("admin").text
    assert (await the_testimonial(chat))["status"] == "pending"


async def test_asking_changes_of_an_author_with_closed_dms_tells_the_moderator(chat):
    await submit(chat, "ted")
    await chat.as_member("ted").run(":dms off")
    await as_moderator(chat, "/testimonials request-changes 1 One more sentence.")
    assert "couldn't send its author a direct message" in chat.last_private("admin").text
    await chat.as_member("ted").run(":dms on", ":dm review")
    assert STORY[:30] in chat.last_dm("ted").text, "the answers wait for the author"


def test_csv_cells_that_a_spreadsheet_would_run_are_made_plain():
    from cogs.testimonials.export import render

    text = render([{"id": 1, "credited_as": "\t=cmd()", "story": "-2+3", "surprise": "@SUM(A1)", "advice": "ok",
                    "consent_wording": "w", "consent_given_at": "t", "approved_at": "a"}], "csv")
    row = next(csv.DictReader(io.StringIO(text)))
    assert (row["credited_as"], row["story"], row["surprise"], row["advice"]) == ("'\t=cmd()", "'-2+3", "'@SUM(A1)", "ok")


def test_the_export_command_explains_a_missing_database_or_folder(tmp_path):
    def export(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "export", "testimonials", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    missing = export("--db", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "there is no database" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
    (tmp_path / "bot.db").write_bytes(b"")
    subprocess.run([sys.executable, "-m", "bot", "console", "--db", str(tmp_path / "bot.db")], input="",
                   cwd=tmp_path, capture_output=True, timeout=60)
    bad_folder = export("--db", str(tmp_path / "bot.db"), "--output", str(tmp_path / "no" / "such" / "file.csv"))
    assert bad_folder.returncode == 2 and "cannot write" in bad_folder.stderr and "Traceback" not in bad_folder.stderr


async def test_an_author_with_closed_dms_hears_the_outcome_when_back(chat):
    await submit(chat, "vic")
    await chat.as_member("vic").run(":dms off")
    await as_moderator(chat, "/testimonials approve 1")
    assert not [d for d in chat.said("DM vic") if "was approved" in d.text]
    await chat.as_member("vic").run(":dms on", "/help")
    assert [d for d in chat.said("DM vic") if "was approved" in d.text], "delivered once vic was back"
