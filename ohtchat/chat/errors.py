"""The chat layer's error for an operation it cannot do."""

from __future__ import annotations


class ChatError(Exception):
    """A chat operation cannot be done (unknown recipient, no presence, ...)."""
