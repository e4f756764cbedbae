"""Rendering: jinja2 templates, per-platform escaping, and images drawn with Pillow."""

from bot.render.escape import escape, neutralise_mentions
from bot.render.templates import Rendered, TemplateProblem, Templates, long_date

__all__ = ["Rendered", "TemplateProblem", "Templates", "escape", "long_date", "neutralise_mentions"]
