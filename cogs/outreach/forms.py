"""The form an organisation fills in to partner with the program."""

from bot.forms import Form, choice, email, long_text, short_text

KINDS = ("community_group", "faith_group", "school_or_university", "library", "media", "employer", "other")
WANTS = ("own_program", "events", "webinar")

PARTNER_INTEREST = Form("partner-interest", template="outreach/partner_form.j2", questions=(
    short_text("organisation", max_length=200),
    short_text("contact_name", max_length=200),
    email("email"),
    choice("kind", *KINDS),
    choice("wants", *WANTS),
    long_text("message", optional=True, max_length=2000),
))
