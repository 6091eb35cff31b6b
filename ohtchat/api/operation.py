"""The base of every operation (its own module so that :mod:`ohtchat.api.ops` and the sibling
modules that define more operations, such as :mod:`ohtchat.api.device_ops`, share it without
an import cycle)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from ohtchat.api.codec import to_data


@dataclass(frozen=True)
class Operation:
    """Base of every operation; ``command_name`` is the console command it is (``""`` for text)."""

    command_name: ClassVar[str] = ""

    def args(self) -> dict[str, Any]:
        """The fields as JSON-able data (the arguments of the command)."""
        return {f.name: to_data(getattr(self, f.name)) for f in fields(self)}
