"""Form drafts in the database: one row per member per community, rewritten after every answer.

Each write of a draft is conditional on its `version` as it was read, and moves it on: a draft another
process wrote since is not written over (`DraftChanged`), so the engine takes the step again from what
that process wrote."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.storage import Database, Transaction
from bot.values import stamp


@dataclass(frozen=True)
class WaitingForm:
    """A form the member started while another was open, waiting while they choose which to keep."""

    form: str
    answers: dict[str, Any]
    context: dict[str, Any]
    intro: str = ""


@dataclass
class Draft:
    """A member's open form, as stored: their answers, the cog's own `context`, and the engine's state."""

    community: str
    member_id: str
    member_name: str
    form: str
    submission_id: str
    answers: dict[str, Any] = field(default_factory=dict)
    current: str | None = None  # the question being asked; None at the review
    origin_channel: str | None = None
    context: dict[str, Any] = field(default_factory=dict)  # the cog's own, handed back with the submission
    started_at: str = ""
    updated_at: str = ""
    remind_at: str | None = None
    expire_at: str = ""
    intro: str = ""  # said before the first question, and again when the form is resumed
    typed: dict[str, str] | None = None  # what a dialog held when it was refused, to open it again with it
    confirm_cancel: bool = False  # "cancel" was said once: a second ends the form
    switch_to: WaitingForm | None = None
    submitting: bool = False  # its cog's handler runs now: a form the handler opens for this member replaces it
    version: int = 0  # moved on by each write; 0 until the draft is first stored
    look_at: str = ""  # when the deadlines job looks at it next: no later than its nearer deadline (see `due`)


class DraftChanged(Exception):
    """The draft was written (or deleted) by another step since it was read: nothing was written."""


_COLUMNS = ("community, member_id, member_name, form, submission_id, answers, current, origin_channel,"
            " context, started_at, updated_at, remind_at, expire_at, intro, typed, confirm_cancel, switch_to,"
            " submitting")
_READ = f"{_COLUMNS}, version, look_at"
_GET = f"SELECT {_READ} FROM form_drafts WHERE community = ? AND member_id = ?"


class DraftStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, community: str, member_id: str) -> Draft | None:
        row = await self._db.fetchone(_GET, (community, member_id))
        return _draft(row) if row else None

    async def save(self, draft: Draft, *, over: Draft | None = None) -> None:
        """Write the draft, if the member's is still as it was read; else raise DraftChanged. One statement, one
        commit, after every answer. A new draft (version 0) is written if the member has none, or `over` the
        one they had (another form, in its place); otherwise what a step changes is written over the draft
        as it was read (at `draft.version`). It is saved as not yet shown to the member (`asked` 0) until
        `mark_asked`. An update in place, not a delete and insert, so only the indexes of what changed are
        rewritten."""
        state = (json.dumps(draft.answers), draft.current, draft.intro,
                 None if draft.typed is None else json.dumps(draft.typed), draft.confirm_cancel,
                 None if draft.switch_to is None else json.dumps(asdict(draft.switch_to)), draft.submitting,
                 draft.updated_at, draft.remind_at, draft.expire_at)
        # The job need not look at the draft before its nearer deadline, later with every answer: its index
        # entry (`look_at`) is written only when that deadline comes before it (a new draft, shorter settings).
        nearer = min(draft.remind_at or draft.expire_at, draft.expire_at)
        key = (draft.community, draft.member_id)
        if over is None and draft.version:  # a step's change
            if nearer < draft.look_at:
                sql, values, look_at = _UPDATE_LOOK_AT, (*state, nearer, *key, draft.version), nearer
            else:
                sql, values, look_at = _UPDATE, (*state, *key, draft.version), draft.look_at
            version = draft.version + 1
        else:  # a new draft: where the member has none, or over the one they had
            identity = (draft.member_name, draft.form, draft.submission_id, draft.origin_channel,
                        json.dumps(draft.context), draft.started_at)
            if over is None:
                sql, values, version = _INSERT, (*key, *identity, *state, nearer), 1
            else:
                sql, values, version = _REPLACE, (*identity, *state, nearer, *key, over.version), over.version + 1
            look_at = nearer
        if not await self._db.execute(sql, values):
            raise DraftChanged()
        draft.version, draft.look_at = version, look_at

    async def mark_asked(self, draft: Draft, *, tx: Transaction | None = None) -> None:
        """The member was shown where the draft is now (unless it changed since)."""
        await (tx or self._db).execute(_MARK_ASKED, _marked(draft))

    async def mark_all_asked(self, drafts: list[Draft]) -> None:
        """`mark_asked` for many drafts, in one statement and one commit."""
        await self._db.executemany(_MARK_ASKED, [_marked(draft) for draft in drafts])

    async def unasked(self, before: datetime | None = None) -> list[Draft]:
        """Drafts whose member was not shown where they are: a crash came between the answer and the reply.
        `before`: only those last written before then."""
        sql, params = f"SELECT {_READ} FROM form_drafts WHERE asked = 0", ()
        if before is not None:
            sql, params = f"{sql} AND updated_at < ?", (stamp(before),)
        return [_draft(row) for row in await self._db.fetchall(sql, params)]

    async def keep_claim(self, draft: Draft, now: datetime) -> None:
        """The draft's submit is still being handled here: its claim is renewed (as of `now`), so that no other
        process takes it for one its process left behind. Its version stays: the steps it guards still match."""
        await self._db.execute("UPDATE form_drafts SET updated_at = ? WHERE community = ? AND member_id = ?"
                               " AND submission_id = ? AND submitting <> 0",
                               (stamp(now), draft.community, draft.member_id, draft.submission_id))

    async def delete(self, draft: Draft) -> None:
        """Delete the draft if it is still as it was read; else raise DraftChanged."""
        if not await self._db.execute("DELETE FROM form_drafts WHERE community = ? AND member_id = ? AND version = ?",
                                      (draft.community, draft.member_id, draft.version)):
            raise DraftChanged()

    async def delete_submission(self, community: str, member_id: str, submission_id: str, *,
                                tx: Transaction | None = None) -> None:
        """Delete the draft of that submission (given `tx`, with the record the submission made)."""
        await (tx or self._db).execute(
            "DELETE FROM form_drafts WHERE community = ? AND member_id = ? AND submission_id = ?",
            (community, member_id, submission_id))

    async def expire(self, draft: Draft, now: datetime) -> bool:
        """Delete the draft if it is still past its expiry (the member may have just answered)."""
        return await self._db.execute(
            "DELETE FROM form_drafts WHERE community = ? AND member_id = ? AND submission_id = ? AND expire_at <= ?",
            (draft.community, draft.member_id, draft.submission_id, stamp(now))) == 1

    async def mark_reminded(self, draft: Draft) -> bool:
        """Clear the reminder if the draft has not changed since it was read."""
        return await self._db.execute(
            "UPDATE form_drafts SET remind_at = NULL WHERE community = ? AND member_id = ? AND version = ?",
            (draft.community, draft.member_id, draft.version)) == 1

    async def due(self, now: datetime) -> list[Draft]:
        """Drafts whose reminder or expiry has come (including while the bot was down). Those the job was to look
        at by now but whose deadlines answers have moved on since are to be looked at then instead."""
        moment = stamp(now)
        # The nearer deadline: SQLite's MIN of two values is PostgreSQL's LEAST.
        nearer = f"{'LEAST' if self._db.dialect == 'postgresql' else 'MIN'}(COALESCE(remind_at, expire_at), expire_at)"
        await self._db.execute(f"UPDATE form_drafts SET look_at = {nearer} WHERE look_at <= ? AND {nearer} > ?",
                               (moment, moment))
        rows = await self._db.fetchall(f"SELECT {_READ} FROM form_drafts WHERE look_at <= ? ORDER BY expire_at",
                                       (moment,))
        return [_draft(row) for row in rows]


# What a step may change of a draft, and what stays from its start (written once, or over another form).
_STATE = ("answers", "current", "intro", "typed", "confirm_cancel", "switch_to", "submitting", "updated_at",
          "remind_at", "expire_at")
_IDENTITY = ("member_name", "form", "submission_id", "origin_channel", "context", "started_at")
_INSERT = (f"INSERT INTO form_drafts (community, member_id, {', '.join(_IDENTITY + _STATE)}, look_at, asked)"
           f" VALUES ({', '.join('?' * (len(_IDENTITY) + len(_STATE) + 3))}, 0)"
           " ON CONFLICT (community, member_id) DO NOTHING")
_WHERE_VERSION = ", asked = 0, version = version + 1 WHERE community = ? AND member_id = ? AND version = ?"
_UPDATE = f"UPDATE form_drafts SET {', '.join(f'{column} = ?' for column in _STATE)}{_WHERE_VERSION}"
_UPDATE_LOOK_AT = (f"UPDATE form_drafts SET {', '.join(f'{column} = ?' for column in _STATE)}, look_at = ?"
                   f"{_WHERE_VERSION}")
_REPLACE = (f"UPDATE form_drafts SET {', '.join(f'{column} = ?' for column in _IDENTITY + _STATE)}, look_at = ?"
            f"{_WHERE_VERSION}")
# Shown is not a change of the draft: its version stays (a step under way in another process writes on).
_MARK_ASKED = "UPDATE form_drafts SET asked = 1 WHERE community = ? AND member_id = ? AND version = ?"


def _marked(draft: Draft) -> tuple[str, str, int]:
    return draft.community, draft.member_id, draft.version


def _draft(row: Any) -> Draft:
    """A draft from its row (`_READ`'s columns, in the order of Draft's fields)."""
    (community, member_id, member_name, form, submission_id, answers, current, origin_channel, context, started_at,
     updated_at, remind_at, expire_at, intro, typed, confirm_cancel, switch_to, submitting, version, look_at) = row
    return Draft(community, member_id, member_name, form, submission_id, json.loads(answers), current, origin_channel,
                 json.loads(context), started_at, updated_at, remind_at, expire_at, intro,
                 None if typed is None else json.loads(typed), bool(confirm_cancel),
                 None if switch_to is None else WaitingForm(**json.loads(switch_to)), bool(submitting), version, look_at)
