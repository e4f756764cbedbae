"""The cogs' commands as Discord application commands, and Discord's interactions back as core commands.

Discord allows a command or a group with subcommands under one name, not both. Where a cog
has both (`/testimonial` and `/testimonial withdraw`), the single command becomes a subcommand
of the group, named by `single_subcommand`: `/testimonial start`, `/partner show`. Only Discord
needs this: the console and Slack keep `/testimonial` and `/partner NAME`. Moderator-only commands (and
groups whose every subcommand is moderator-only) are hidden from members by default permissions
(Manage Server); the core still checks the configured role on every use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Container, Iterable

from bot.core import Channel, Member
from bot.core.cog import CommandSpec, OptionSpec
from bot.core.commands import RawArgument

MANAGE_GUILD = 1 << 5
OPTION_TYPES = {str: 3, int: 4, bool: 5, Member: 6, Channel: 7, float: 10}
SUB_COMMAND = 1
TEXT_CHANNEL = 0
# Discord's limits for chat-input commands: a payload past them is refused whole when synced.
MAX_COMMANDS, MAX_OPTIONS, MAX_CHOICES = 100, 25, 25

# A single command whose name is also a group's (/partner beside /partner add) is a subcommand of that group
# on Discord: `show` where it shows something (/partner show KQED, /event show 12, /badges show, /timezone show,
# /my-data show), `start` otherwise (/testimonial start begins the form; /report start, /practice start,
# /stories start), which is also what a new cog's gets. A name moved here changes what members type on Discord.
SHOWING = {"badges", "event", "my-data", "partner", "timezone"}


def single_subcommand(name: str) -> str:
    """What the single command /`name` is called on Discord where a group has its name: `start` or `show`."""
    return "show" if name in SHOWING else "start"


@dataclass(frozen=True)
class CommandEntry:
    """A core command and the cog-level description of its group, if it belongs to one."""

    spec: CommandSpec
    group_description: str = ""


def application_commands(entries: Iterable[CommandEntry]) -> list[dict[str, Any]]:
    """Discord's JSON for every command: single commands, and groups with their subcommands."""
    entries = sorted(entries, key=lambda e: e.spec.name)
    groups: dict[str, list[CommandEntry]] = {}
    for entry in entries:
        if " " in entry.spec.name:
            groups.setdefault(entry.spec.name.split(" ")[0], []).append(entry)
    payload = []
    for entry in entries:
        spec = entry.spec
        if " " in spec.name or spec.name in groups:
            continue
        payload.append({"type": 1, "name": spec.name, "description": _description(spec.help),
                        "options": _options(spec.options), **_permissions([spec])})
    for group, members in groups.items():
        single = next((e for e in entries if e.spec.name == group), None)
        subcommands = [(e.spec.name.split(" ", 1)[1], e.spec) for e in members]
        if single is not None:
            alone = single_subcommand(group)
            if alone in {sub for sub, _ in subcommands}:
                raise CommandLimitError(f"/{group} and /{group} {alone} would have the same name on Discord, where"
                                        f" /{group} is /{group} {alone}: give /{group} {alone} another name")
            subcommands.insert(0, (alone, single.spec))
        specs = [spec for _, spec in subcommands]
        fallback = single.spec.help if single else members[0].spec.help
        payload.append({
            "type": 1, "name": group,
            "description": _description(members[0].group_description or fallback),
            "options": [{"type": SUB_COMMAND, "name": sub, "description": _description(spec.help),
                         "options": _options(spec.options)} for sub, spec in subcommands],
            **_permissions(specs),
        })
    _check_limits(payload)
    return payload


class CommandLimitError(ValueError):
    """The cogs declare more than Discord accepts; says which command and what to change."""


def _check_limits(payload: list[dict[str, Any]]) -> None:
    """Refuse here, naming the command, what Discord would refuse only at sync time, whole."""
    if len(payload) > MAX_COMMANDS:
        raise CommandLimitError(f"the enabled cogs have {len(payload)} top-level commands; Discord allows "
                                f"{MAX_COMMANDS}: switch some cogs off")
    for command in payload:
        top = command.get("options", [])
        subcommands = [o for o in top if o["type"] == SUB_COMMAND]
        leaves = [(f"/{command['name']} {o['name']}", o.get("options", [])) for o in subcommands] or [
            (f"/{command['name']}", top)]
        for where, options in [(f"/{command['name']}", top), *leaves]:
            if len(options) > MAX_OPTIONS:
                raise CommandLimitError(f"{where} has {len(options)} options; Discord allows {MAX_OPTIONS}")
            for option in options:
                if len(option.get("choices", [])) > MAX_CHOICES:
                    raise CommandLimitError(
                        f"{where} offers {len(option['choices'])} choices for {option['name']}; Discord allows "
                        f"{MAX_CHOICES}: make it a text option with suggestions (autocomplete)")


def core_command(data: dict[str, Any], commands: Container[str], resolved_member,
                 resolved_channel) -> tuple[str, list[RawArgument]]:
    """An interaction's command name and options, as the core knows them.

    `commands` are the core's command names: a subcommand that is not one of them is the
    group's single command (`/partner show` is the core's `/partner`). `resolved_member(id)`
    and `resolved_channel(id)` turn the ids Discord sends for user and channel options into
    Members and Channels (from the interaction's resolved data).
    """
    name = data["name"]
    options = data.get("options") or []
    if options and options[0].get("type") == SUB_COMMAND:
        sub = options[0]["name"]
        name = f"{name} {sub}" if f"{name} {sub}" in commands else name
        options = options[0].get("options") or []
    arguments = []
    for option in options:
        value = option.get("value")
        if option.get("type") == OPTION_TYPES[Member]:
            value = resolved_member(str(value)) or str(value)
        elif option.get("type") == OPTION_TYPES[Channel]:
            value = resolved_channel(str(value)) or str(value)
        arguments.append(RawArgument(option["name"], value))
    return name, arguments


def focused_option(data: dict[str, Any], commands: Container[str]) -> tuple[str, str, str]:
    """For an autocomplete interaction: the core command's name, the option being typed, and what
    was typed so far."""
    name, _ = core_command(data, commands, lambda _: None, lambda _: None)
    options = data.get("options") or []
    if options and options[0].get("type") == SUB_COMMAND:
        options = options[0].get("options") or []
    focused = next((o for o in options if o.get("focused")), None)
    return name, (focused or {}).get("name", ""), str((focused or {}).get("value", ""))


def _options(options: tuple[OptionSpec, ...]) -> list[dict[str, Any]]:
    # Discord wants required options before optional ones; on Discord every option is named.
    ordered = sorted(options, key=lambda o: not o.required)
    result = []
    for option in ordered:
        entry: dict[str, Any] = {"type": OPTION_TYPES[option.kind], "name": option.name,
                                 "description": _description(option.help), "required": option.required}
        if option.choices:
            entry["choices"] = [{"name": c, "value": c} for c in option.choices]
        elif option.kind is str:
            entry["max_length"] = min(option.max_length, 6000)
            if option.autocomplete:
                entry["autocomplete"] = True
        if option.kind is Channel:
            entry["channel_types"] = [TEXT_CHANNEL]
        result.append(entry)
    return result


def _permissions(specs: list[CommandSpec]) -> dict[str, Any]:
    """Hide from members what only moderators may use; the role is still checked on every use."""
    if specs and all(spec.moderator for spec in specs):
        return {"default_member_permissions": str(MANAGE_GUILD)}
    return {}


def _description(text: str) -> str:
    text = text.strip() or "No description"
    return text if len(text) <= 100 else text[:99] + "…"
