"""An event's fields, declared once: the options of /event create and /event edit, and the form a
moderator fills in by DM (one field at a time) when /event create lacks a title or a start, are all
made from `FIELDS`. A new field is one line here, its question in events/form.j2, and its reading in
`Events._checked`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bot.core import option
from bot.core.cog import Option
from bot.forms import Form, Question, long_text, short_text
from bot.values import looks_like_channel, whole_number, with_digits
from bot.values import zone as find_zone


def _whole_number(value: str) -> str | None:
    try:
        return None if whole_number(value) > 0 else "capacity_number"
    except (ValueError, OverflowError):  # "²" is a digit to str.isdigit, and not a number of places
        return "capacity_number"


@dataclass(frozen=True)
class EventField:
    """One field of an event: what its option says on /event create and on /event edit, and how the
    form asks for it (a question of events/form.j2 named like the field)."""

    name: str
    on_create: str
    on_edit: str
    max_length: int
    needed: bool = False  # the form cannot skip it (without it, /event create asks the form)
    long: bool = False  # a long text in the form
    number: bool = False  # a whole number on the commands; in the form, text checked to be one
    fits: Callable[[str], Any] | None = None  # which bare words can fill its option (see `option`)
    autocomplete: str | None = None

    def option(self, *, editing: bool) -> tuple[Any, Option]:
        """Its option: (type hint, option) for `command(options=...)`; every field may be left out."""
        if self.number:
            return int | None, option(self.on_edit if editing else self.on_create)
        return str | None, option(self.on_edit if editing else self.on_create, max_length=self.max_length,
                                  fits=self.fits, autocomplete=self.autocomplete)

    def question(self) -> Question:
        if self.number:
            return short_text(self.name, optional=True, max_length=self.max_length, validate=_whole_number)
        ask = long_text if self.long else short_text
        return ask(self.name, optional=not self.needed, max_length=self.max_length)


FIELDS = (
    EventField("title", "What it is called", "A new title", 200, needed=True),
    EventField("start", "When it starts, e.g. 2026-12-10 18:00", "A new start, e.g. 2026-12-10 18:00", 60,
               needed=True, fits=with_digits),
    EventField("timezone", "The time zone of that start, e.g. Europe/Berlin", "The time zone of the start", 64,
               fits=find_zone),
    EventField("duration", "How long (90m, 2h) or when it ends (19:30)", "How long (90m, 2h) or when it ends (19:30)",
               60, fits=with_digits),
    EventField("place", "Where: an address, or a link for an online event", "Where", 500),
    EventField("description", "What to expect", "What to expect", 2000, long=True),
    EventField("capacity", "How many places (leave out for no limit)",
               "How many places (0 takes the limit away: the waitlist moves up)", 6, number=True),
    EventField("channels", "Where to announce it, e.g. #events #general", "More channels to announce it in", 500,
               fits=looks_like_channel),
    EventField("partner", "The partner organisation, if any", "The partner organisation (none: no partner)", 100,
               autocomplete="partner_names"),
    EventField("repeat", "weekly, monthly, or an RRULE like FREQ=WEEKLY;BYDAY=TU;COUNT=6",
               "weekly, monthly, an RRULE, or none", 200),
)

CREATE_OPTIONS = {field.name: field.option(editing=False) for field in FIELDS}
# The event's number exactly as typed: `/event edit " 1 "` is not event 1.
EDIT_OPTIONS = {"event": (str, option("The event's number", max_length=120, autocomplete="event_choices",
                                      trim=False)),
                **{field.name: field.option(editing=True) for field in FIELDS}}
EVENT_FORM = Form("event", template="events/form.j2", questions=tuple(field.question() for field in FIELDS))


def as_typed(given: dict[str, Any]) -> dict[str, str]:
    """The fields given (as options or as the form's answers), as text, leaving out those not given."""
    return {field.name: text for field in FIELDS
            if (value := given.get(field.name)) is not None and (text := str(value).strip())}
