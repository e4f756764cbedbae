"""How a form reaches a member: its first question by direct message (wherever they started it), or
the whole form as one dialog where the platform has them and the form is short.

A member whose DMs are closed is told where they are, with a button that tries again once they have
opened them. A dialog's answers come back all at once: checked, kept in the draft, then submitted;
where the platform closes a dialog when it is sent (Discord), what is wrong comes back privately with
a button that opens it again with what they wrote.
"""

from __future__ import annotations

from bot.core.context import Invocation
from bot.core.errors import MemberUnreachable
from bot.core.message import Message
from bot.forms.store import Draft
from bot.forms.view import RETRY, WRITE_AGAIN, FormView


async def first_question(ctx: Invocation, view: FormView, draft: Draft, note: str = "", *,
                         resumed: bool = False) -> bool:
    """Send where the member is in the form to their DMs, after `note`; False if their DMs are closed.
    Started in a channel, they are told there (privately) to look in their DMs."""
    delivered = await to_dms(ctx, view, draft, view.where(draft, note))
    if delivered and ctx.channel is not None:
        said = view.engine(title=view.title)
        await ctx.reply_private(said["sent_to_dm_resumed" if resumed else "sent_to_dm"])
    return delivered


async def to_dms(ctx: Invocation, view: FormView, draft: Draft, message: Message) -> bool:
    """DM the member. If their DMs are closed, tell them where they are (when that is a channel), with a
    button that tries again once they have opened them: the draft waits meanwhile."""
    try:
        await ctx.dm(message)
        return True
    except MemberUnreachable:
        if ctx.channel is not None:
            await ctx.reply_private(Message(text=view.engine(title=view.title)["dm_closed"],
                                            buttons=[view.button(RETRY, draft)]))
        return False


async def open_dialog(ctx: Invocation, plain: FormView, draft: Draft, intro: str) -> bool:
    """Show the form as one dialog where the platform can (in answer to a press), from the plain-text
    view (a dialog's words are plain text); False to ask in DMs instead."""
    return plain.form.fits_dialog and await ctx.adapter.open_dialog(ctx, plain.dialog(draft, intro))


async def dialog_refused(ctx: Invocation, view: FormView, draft: Draft, problems: dict[str, str]) -> None:
    """For a platform whose dialogs close when sent: what is wrong, privately, and a button that opens the
    dialog again with what they wrote."""
    items = [{"question": view.texts[key], "problem": text} for key, text in problems.items()]
    ui = view.engine(title=view.title, items=items)
    await ctx.reply_private(Message(text=ui["dialog_problems"], buttons=[view.button(WRITE_AGAIN, draft)]))


async def dialog_echo(ctx: Invocation, view: FormView, values: dict[str, str]) -> None:
    """What was written in a dialog that could not be kept (the database refused), sent back to them."""
    items = [{"question": view.texts[q.key], "text": values[q.key]} for q in view.form.questions if values.get(q.key)]
    if items:
        await ctx.reply_private(view.engine(items=items)["dialog_echo"])

