"""The testimonial form, and the one-question forms moderators answer when they reject or ask for changes."""

from bot.forms import Form, choice, consent, long_text

CREDITS = ("full_name", "first_name", "anonymous")

TESTIMONIAL = Form("testimonial", template="testimonials/form.j2", questions=(
    long_text("story", min_length=50, max_length=2000),
    long_text("surprise", min_length=10, max_length=1000),
    long_text("advice", optional=True, max_length=1000),
    choice("credit", *CREDITS),
    consent("may_quote"),
))

REJECTION = Form("testimonial-rejection", template="testimonials/rejection.j2", questions=(
    long_text("note", min_length=5, max_length=1000),
))

CHANGES = Form("testimonial-changes", template="testimonials/changes.j2", questions=(
    long_text("note", min_length=5, max_length=1000),
))
