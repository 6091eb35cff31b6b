"""Usage lines and ``/help`` text rendered from the command table, in the active language."""

from __future__ import annotations

from typing import Any

from ohtchat.commands.errors import UnknownCommand
from ohtchat.commands.spec import ArgSpec, CommandSpec, by_group, get_spec
from ohtchat.commands.suggest import suggest
from ohtchat.i18n import _


def _spec_or_raise(name: str) -> CommandSpec:
    spec = get_spec(name)
    if spec is None:
        raise UnknownCommand(name.removeprefix("/"), suggest(name.removeprefix("/")))
    return spec


def _arg_usage(arg: ArgSpec) -> str:
    return f"[{arg.shown}]" if arg.optional else arg.shown


def usage(name: str) -> str:
    """The usage line of a command: ``/history [CONVERSATION] [N]`` (localized metavars)."""
    spec = _spec_or_raise(name)
    return " ".join([f"/{spec.name}", *(_arg_usage(a) for a in spec.args)])


def help_text(name: str | None = None) -> str:
    """All commands by group (``name`` None), or one command's usage, help, aliases, example."""
    if name is not None:
        return _detail(_spec_or_raise(name))
    groups = list(by_group())
    width = max(len(usage(s.name)) for _g, specs in groups for s in specs) + 2
    lines = [_("Commands:")]
    for group, specs in groups:
        lines.append(f"  {group.title}:")
        lines += [f"    {usage(s.name).ljust(width)}{s.summary}" for s in specs]
    lines.append("")
    lines.append(_("Text without a leading / is sent to the open conversation; // sends a /."))
    lines.append(_("Type /help COMMAND for details."))
    return "\n".join(lines)


def _detail(spec: CommandSpec) -> str:
    lines = [usage(spec.name), f"  {spec.summary}"]
    for arg in spec.args:
        if arg.choices:
            lines.append(
                "  "
                + _("{arg}: one of {choices}").format(
                    arg=_(arg.metavar), choices=", ".join(arg.choices)
                )
            )
    if spec.aliases:
        aliases = ", ".join(f"/{a}" for a in spec.aliases)
        lines.append("  " + _("Aliases: {aliases}").format(aliases=aliases))
    lines.append("  " + _("Example: {example}").format(example=spec.example))
    return "\n".join(lines)


def describe(spec: CommandSpec) -> dict[str, Any]:
    """A JSON-able description of one command (for ``/help`` results and the control API)."""
    return {
        "name": spec.name,
        "group": spec.group.name.lower(),
        "group_title": spec.group.title,
        "usage": usage(spec.name),
        "help": spec.summary,
        "aliases": list(spec.aliases),
        "example": spec.example,
        "args": [
            {
                "name": a.name,
                "kind": a.kind.value,
                "optional": a.optional,
                "choices": list(a.choices),
                "default": a.default,
                "completion": a.completion.value,
            }
            for a in spec.args
        ],
    }
