"""Did-you-mean: command names close to a mistyped one (for errors and help)."""

from __future__ import annotations

import difflib

from ohtchat.commands.spec import command_names, get_spec


def suggest(name: str, limit: int = 3) -> list[str]:
    """Canonical command names close to ``name``: prefix matches first, then look-alikes."""
    name = name.lower()
    out: list[str] = []
    if name:
        out += [c for c in command_names() if c.startswith(name)]
    for close in difflib.get_close_matches(name, command_names(True), n=limit, cutoff=0.6):
        spec = get_spec(close)
        if spec is not None:
            out.append(spec.name)
    return list(dict.fromkeys(out))[:limit]
