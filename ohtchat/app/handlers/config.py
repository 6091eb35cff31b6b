"""The CONFIG commands: ``/config``, ``/set``, ``/unset`` and ``/save``."""

from __future__ import annotations

from ohtchat.api import ops
from ohtchat.api.results import CommandResult
from ohtchat.api.views import SettingChanged
from ohtchat.app.dispatch import HandlerTable
from ohtchat.app.handlers.context import Context
from ohtchat.commands.errors import NotFound, Unavailable
from ohtchat.i18n import _

HANDLERS: HandlerTable[Context] = HandlerTable()
"""The handlers of this group, by operation."""


@HANDLERS.handles(ops.ListConfig)
async def config(ctx: Context, args: ops.ListConfig) -> CommandResult:
    """``/config``: every setting of config.toml."""
    items = ctx.config.items()
    return CommandResult.success(
        "\n".join(f"{k} = {v!r}" for k, v in items) or _("No settings."), config=dict(items)
    )


@HANDLERS.handles(ops.SetConfig)
async def set_(ctx: Context, args: ops.SetConfig) -> CommandResult:
    """``/set KEY VALUE``: change a setting (booleans and numbers are typed)."""
    ctx.config.set(args.key, parse_value(args.value))
    return CommandResult.success(
        _("Set {key}.").format(key=args.key), SettingChanged(args.key, args.value)
    )


@HANDLERS.handles(ops.UnsetConfig)
async def unset(ctx: Context, args: ops.UnsetConfig) -> CommandResult:
    """``/unset KEY``: back to the default."""
    if not ctx.config.unset(args.key):
        raise NotFound(_("{key} is not set.").format(key=args.key))
    return CommandResult.success(
        _("Unset {key}.").format(key=args.key), SettingChanged(args.key, None)
    )


@HANDLERS.handles(ops.SaveConfig)
async def save(ctx: Context, args: ops.SaveConfig) -> CommandResult:
    """``/save``: write config.toml."""
    if ctx.options.memory or ctx.options.data_dir is None:
        raise Unavailable(_("Nothing is saved in --memory mode."))
    ctx.config.save()
    return CommandResult.success(_("Settings saved."))


def parse_value(text: str) -> str | int | float | bool:
    """A setting's value as typed: ``true``/``yes``/``on`` and their opposites are booleans,
    whole and decimal numbers are numbers, anything else stays text."""
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
