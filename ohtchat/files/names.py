"""Safe file names for received files: no path traversal, no control characters, no hidden or
reserved names, bounded length; and free names, never overwriting (``name (1).ext`` …)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from pathlib import Path

#: Longest safe name, in UTF-8 bytes (below every common file system's 255).
MAX_SAFE_BYTES = 200
#: What a name with nothing usable left becomes.
FALLBACK = "file"
#: Characters Windows (and some tools) refuse in names; replaced, so a copied folder stays valid.
_RESERVED_CHARS = frozenset('<>:"|?*')
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
#: Unicode categories dropped: controls, format (bidi overrides such as U+202E), separators.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def sanitize_name(name: str) -> str:
    """A safe file name for ``name`` offered by a peer: its last path component only, control
    and format characters removed, reserved characters replaced, no leading dot or trailing
    dot/space, at most :data:`MAX_SAFE_BYTES` bytes (the extension kept), never empty."""
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in _DROPPED:
            continue
        kept.append("_" if ch in _RESERVED_CHARS else (" " if cat.startswith("Z") else ch))
    name = "".join(kept).strip(" .")
    if not name:
        return FALLBACK
    stem, dot, _ = name.rpartition(".")
    if not dot:
        stem = name
    if stem.upper() in _RESERVED_NAMES:
        name = "_" + name
    return _truncate(name)


def _truncate(name: str) -> str:
    """``name`` cut to :data:`MAX_SAFE_BYTES` UTF-8 bytes, keeping a short extension."""
    if len(name.encode("utf-8")) <= MAX_SAFE_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext.encode("utf-8")) <= 16 else ""
    base = name[: len(name) - len(suffix)]
    budget = MAX_SAFE_BYTES - len(suffix.encode("utf-8"))
    cut = base.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
    return (cut or FALLBACK) + suffix


def candidates(name: str) -> Iterator[str]:
    """``name``, then ``stem (1).ext``, ``stem (2).ext`` … (each within the length bound)."""
    yield name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    n = 1
    while True:
        tag = f" ({n})"
        budget = MAX_SAFE_BYTES - len((tag + suffix).encode("utf-8"))
        cut = stem.encode("utf-8")[: max(budget, 1)].decode("utf-8", "ignore")
        yield f"{cut}{tag}{suffix}"
        n += 1


def publish(part: Path, folder: Path, name: str, attempts: int = 10_000) -> Path:
    """Give the finished ``part`` file its final name in ``folder``: the first free candidate
    of ``name``, taken atomically (a hard link fails if the name exists, so nothing is ever
    overwritten, even by a file created meanwhile); returns the final path."""
    for _, candidate in zip(range(attempts), candidates(name), strict=False):
        final = folder / candidate
        try:
            os.link(part, final)
        except FileExistsError:
            continue
        except OSError:
            # No hard links here (some FUSE / network file systems): claim the name with an
            # exclusive create, then move the part over our own placeholder.
            try:
                fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            os.close(fd)
            os.replace(part, final)
            return final
        os.unlink(part)
        return final
    raise FileExistsError(f"no free name for {name!r} in {folder}")
