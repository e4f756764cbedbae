"""The form a moderator fills in by DM to create an event, one field at a time."""

from bot.forms import Form, long_text, short_text
from bot.values import whole_number


def _whole_number(value: str) -> str | None:
    try:
        return None if whole_number(value) > 0 else "capacity_number"
    except (ValueError, OverflowError):  # "²" is a digit to str.isdigit, and not a number of places
        return "capacity_number"


EVENT_FORM = Form("event", template="events/form.j2", questions=(
    short_text("title", max_length=200),
    short_text("start", max_length=60),
    short_text("timezone", optional=True, max_length=64),
    short_text("duration", optional=True, max_length=60),
    short_text("place", optional=True, max_length=500),
    long_text("description", optional=True, max_length=2000),
    short_text("capacity", optional=True, max_length=6, validate=_whole_number),
    short_text("channels", optional=True, max_length=500),
    short_text("partner", optional=True, max_length=100),
    short_text("repeat", optional=True, max_length=200),
))
