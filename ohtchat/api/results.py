"""The outcome of one operation: localized text for people, data for programs, a typed view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ohtchat.api.codec import from_data, to_data
from ohtchat.api.views import VIEWS, View


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one operation.

    ``text`` is for people (localized); ``data`` is JSON-able, for programs (``ohtchat cmd
    --json`` prints it); ``view`` is the same content typed, for UIs (``None`` when the
    operation has nothing to show but its text). Failed results carry ``data["error"]``: a
    stable code such as ``usage``, ``unknown_command``, ``not_found``, ``unavailable``,
    ``no_handler`` or ``internal``.
    """

    ok: bool
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    view: View | None = None

    @classmethod
    def success(cls, text: str = "", view: View | None = None, /, **data: Any) -> CommandResult:
        """A successful result; ``view``'s fields are part of ``data``."""
        merged = {**to_data(view), **data} if view is not None else data
        return cls(True, text, merged, view)

    @classmethod
    def failure(cls, text: str, code: str = "failed", /, **data: Any) -> CommandResult:
        """A failed result with error code ``code``."""
        return cls(False, text, {"error": code, **data})

    @property
    def code(self) -> str | None:
        """The error code of a failed result (None when it succeeded)."""
        return None if self.ok else str(self.data.get("error", "failed"))

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "text", "data", "view"?}``: one JSON object per result."""
        obj: dict[str, Any] = {"ok": self.ok, "text": self.text, "data": dict(self.data)}
        if self.view is not None:
            obj["view"] = type(self.view).__name__
        return obj

    @classmethod
    def from_json(cls, obj: Any) -> CommandResult:
        """Inverse of :meth:`to_json`; ``ValueError`` names what is malformed."""
        if not isinstance(obj, dict) or not isinstance(obj.get("ok"), bool):
            raise ValueError("result: not a result object")
        text, data = obj.get("text", ""), obj.get("data", {})
        if not isinstance(text, str) or not isinstance(data, dict):
            raise ValueError("result: malformed text or data")
        tag = obj.get("view")
        view: View | None = None
        if tag is not None:
            view_type = VIEWS.get(str(tag))
            if view_type is None:
                raise ValueError(f"result.view: unknown view {tag!r}")
            view = from_data(view_type, data, where=f"result.{tag}")
        return cls(obj["ok"], text, data, view)
