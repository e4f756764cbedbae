"""From what a member typed to the values a command handler receives.

Text commands (the console, and Slack's `/smallstep share ...`) arrive as one line:
`/timezone set Europe/Berlin` or `/timezone set zone:Europe/Berlin`. Options are given
as `name:value` or `name:"value with spaces"`; bare values fill the options in their
declared order, and a last text option takes the rest of the line. A bare word that cannot
be the next option (a number, a choice, a link...) belongs to the text option before it:
`/report Someone keeps posting spam https://...` is one `what` and one `link`. A `word:value`
that fits nowhere and looks like a misspelt option name is reported as one. Discord sends
options already named; both end in `bind_options`, which checks and converts them.

Every mistake raises `UsageError` with a reason (a block name in core/errors.j2) and the
details the template needs, so the member is told exactly what to change.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Container, Iterable

from bot.core.cog import CommandSpec, OptionSpec
from bot.core.context import Channel, Member
from bot.core.errors import UsageError
from bot.values import LARGEST_NUMBER, number, whole_number

if TYPE_CHECKING:
    from bot.core.context import Invocation

_TRUE = {"yes", "y", "true", "on", "1"}
_FALSE = {"no", "n", "false", "off", "0"}


@dataclass(frozen=True)
class RawArgument:
    """One option as the member gave it: named (`zone:Europe/Berlin`) or bare (`Europe/Berlin`)."""

    name: str | None
    value: Any


_WORD = re.compile(r'(?:[^\s"]+|"[^"]*")+')
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"'})


def split_line(text: str) -> list[str]:
    """Split a command line into words; double quotes (straight or curly) keep spaces together.

    Apostrophes are ordinary letters, so `/story submit ... why:don't miss it` works.
    """
    text = text.translate(_SMART_QUOTES)
    if text.count('"') % 2:
        raise UsageError("unbalanced_quotes")
    return [word.replace('"', "") for word in _WORD.findall(text)]


def find_command(words: list[str], names: Container[str]) -> tuple[str | None, list[str]]:
    """The command name the words start with (two-word names first) and the words left for its options."""
    if len(words) >= 2 and f"{words[0]} {words[1]}".lower() in names:
        return f"{words[0]} {words[1]}".lower(), words[2:]
    if words and words[0].lower() in names:
        return words[0].lower(), words[1:]
    return None, words


def closest(typed: str, names: Iterable[str]) -> str:
    """The known name nearest to what was typed, or "" when nothing is close."""
    by_lower = {name.lower(): name for name in names}
    matches = difflib.get_close_matches(typed.lower(), list(by_lower), n=1, cutoff=0.5)
    return by_lower[matches[0]] if matches else ""


def raw_arguments(spec: CommandSpec, words: list[str]) -> list[RawArgument]:
    """Tell named options (`name:value`, for names this command has) from bare values."""
    names = {opt.name for opt in spec.options}
    arguments = []
    for word in words:
        name, sep, value = word.partition(":")
        if sep and name.lower() in names:
            arguments.append(RawArgument(name.lower(), value))
        else:
            arguments.append(RawArgument(None, word))
    return arguments


async def bind_options(spec: CommandSpec, arguments: list[RawArgument], ctx: Invocation) -> dict[str, Any]:
    """Match arguments to the command's options, convert them, and fill in defaults."""
    by_name = {opt.name: opt for opt in spec.options}
    given: dict[str, Any] = {}
    from_bare: set[str] = set()
    bare = []
    for argument in arguments:
        if argument.name is None:
            bare.append(argument.value)
        elif argument.name not in by_name:
            raise UsageError("unknown_option", show_usage=True, option=argument.name,
                             suggestion=closest(argument.name, by_name))
        elif argument.name in given:
            raise UsageError("repeated_option", show_usage=True, option=argument.name)
        else:
            given[argument.name] = argument.value
    open_options = [opt for opt in spec.options if opt.name not in given]
    words: dict[str, list[Any]] = {}
    text_option = None  # the free text option filled last, which takes the words no later option can
    for value in bare:
        upcoming = open_options[len(words)] if len(words) < len(open_options) else None
        if upcoming is not None and (text_option is None or _fits(upcoming, str(value))):
            words[upcoming.name] = [value]
            text_option = upcoming if upcoming.kind is str and not upcoming.choices else None
        elif text_option is not None:
            words[text_option.name].append(value)
        else:
            raise _misspelt_option(spec, value) or UsageError("too_many_values", show_usage=True, value=str(value))
    for name, values in words.items():
        from_bare.add(name)
        given[name] = values[0] if len(values) == 1 else " ".join(str(v) for v in values)

    values = {}
    for opt in spec.options:
        if opt.name in given:
            try:
                values[opt.name] = await convert(opt, given[opt.name], ctx)
            except UsageError as exc:
                misspelt = _misspelt_option(spec, given[opt.name]) if opt.name in from_bare else None
                raise (misspelt or exc) from None
        elif opt.required:
            raise UsageError("missing_option", show_usage=True, option=opt.name, help=opt.help)
        else:
            values[opt.name] = opt.default
    return values


def _fits(opt: OptionSpec, word: str) -> bool:
    """Whether a bare word can be this option's value, judged by its shape before any conversion."""
    if opt.kind is int:
        return bool(re.fullmatch(r"[+-]?\d+", word))
    if opt.kind is float:
        return bool(re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", word))
    if opt.kind is bool:
        return word.strip().lower() in _TRUE | _FALSE
    if opt.choices:
        return word.strip().lower() in {c.lower() for c in opt.choices}
    return bool(opt.fits(word)) if opt.fits else True  # a member, a channel, free text: anything may be


def _misspelt_option(spec: CommandSpec, value: Any) -> UsageError | None:
    """`colur:red` that did not fit anywhere was probably meant as `colour:red`."""
    name, sep, rest = str(value).partition(":")
    near = closest(name, [opt.name for opt in spec.options]) if sep and rest and name.isidentifier() else ""
    return UsageError("unknown_option", show_usage=True, option=name, suggestion=near) if near else None


async def convert(opt: OptionSpec, value: Any, ctx: Invocation) -> Any:
    """Check one value against its option and turn it into the declared type."""
    if opt.kind in (Channel, Member):
        if isinstance(value, opt.kind):  # Discord resolves channels and members itself
            return value
        resolve = ctx.adapter.resolve_channel if opt.kind is Channel else ctx.adapter.resolve_member
        found = await resolve(ctx.community, str(value))
        if found is None:
            reason = "unknown_channel" if opt.kind is Channel else "unknown_member"
            raise UsageError(reason, show_usage=True, option=opt.name, value=str(value))
        return found
    if opt.kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise UsageError("not_yes_no", show_usage=True, option=opt.name, value=str(value))
    if opt.kind in (int, float):
        try:
            return whole_number(value) if opt.kind is int else number(value)
        except ValueError:
            reason = "not_whole_number" if opt.kind is int else "not_number"
            raise UsageError(reason, show_usage=True, option=opt.name, value=str(value)) from None
        except OverflowError:
            raise UsageError("number_out_of_range", show_usage=True, option=opt.name, value=str(value),
                             largest=LARGEST_NUMBER, whole=opt.kind is int) from None
    text = str(value).strip() if opt.trim else str(value)
    if not text.strip():
        raise UsageError("empty_value", show_usage=True, option=opt.name)
    if len(text) > opt.max_length:
        raise UsageError("too_long", show_usage=True, option=opt.name, limit=opt.max_length, over=len(text) - opt.max_length)
    if opt.choices:
        for choice in opt.choices:
            if choice.lower() == text.lower():
                return choice
        raise UsageError("not_a_choice", show_usage=True, option=opt.name, value=text, choices=opt.choices,
                         suggestion=closest(text, opt.choices))
    return text
