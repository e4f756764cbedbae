"""A form's deadlines: a member silent for `forms.remind_after` is reminded once (with the question, to
answer at once), and one silent for `forms.expire_after` has their draft deleted and is told. Both are
times in the draft's row, checked by a job (`FormsCog.deadlines`), which also catches up at start on what
fell due while the bot was down. And at start, a member whose answer was kept but who was not shown
what came next (the bot stopped in between) is sent their question again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.context import Community, Member
from bot.core.errors import MemberUnreachable
from bot.core.message import Message
from bot.forms.view import joined
from bot.values import stamp

if TYPE_CHECKING:
    from bot.forms.engine import FormEngine

log = logging.getLogger(__name__)


async def remind_or_expire(engine: FormEngine, now: datetime) -> None:
    """Remind silent members once, and delete drafts left too long, even if overdue at start-up."""
    moment = stamp(now)
    for draft in await engine.store.due(now):
        community = Community.from_key(draft.community)
        adapter = engine.adapters.get(community.platform)
        form = engine.form_of(draft)
        if adapter is None or form is None:
            continue  # another platform's draft, or its cog is off: it waits, untouched
        view = engine.view(community.platform, form)
        if draft.expire_at <= moment:
            if not await engine.store.expire(draft, now):
                continue  # answered in the meantime
            message = Message(text=view.engine(title=view.title)["expired"])
        else:
            if not await engine.store.mark_reminded(draft):
                continue  # answered in the meantime: its deadlines moved
            expires = datetime.fromisoformat(draft.expire_at).astimezone(engine.clock.tz).date()
            message = view.where(draft)  # with its buttons, to answer at once
            message.text = joined(view.engine(title=view.title, expires=expires)["reminder"], message.text)
        try:
            await adapter.send(community, Member(community.platform, draft.member_id, draft.member_name), message)
        except MemberUnreachable:
            log.info("could not reach a member about their %s form in %s", draft.form, draft.community)


async def ask_again(engine: FormEngine, *, before: datetime | None = None) -> int:
    """Each member whose answer was kept but who was not shown what came next is sent their current question,
    through the outbox, once; returns how many. `before`: only drafts last written before then (see
    `FormEngine.ask_again`)."""
    asked = 0
    for draft in await engine.store.unasked(before):
        form = engine.form_of(draft)
        if form is None:
            continue  # its cog is off: it waits, untouched
        community = Community.from_key(draft.community)
        message = engine.view(community.platform, form).where(draft)
        member = Member(community.platform, draft.member_id, draft.member_name)
        async with engine.db.transaction() as tx:
            await engine.outbox.put(community, f"forms:asked-again:{draft.submission_id}:{draft.updated_at}",
                                    [(member, message)], tx=tx)
            await engine.store.mark_asked(draft, tx=tx)
        asked += 1
    return asked
