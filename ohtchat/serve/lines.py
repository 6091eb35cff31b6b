"""Bounded line reading and unix-socket paths that may be longer than ``sun_path`` allows."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ohtchat.serve.protocol import MAX_LINE

# sun_path holds 108 bytes on Linux including the final NUL; keep a margin.
_SUN_PATH_MAX = 100


class LineTooLong(Exception):
    """A line exceeded the limit; it has been read and discarded, the stream stays usable."""


async def read_line(reader: asyncio.StreamReader, limit: int = MAX_LINE) -> bytes | None:
    """The next line without its newline, or None at end of stream.

    A line longer than ``limit`` is consumed up to its newline and reported as
    :class:`LineTooLong`, so one bad line never desynchronizes or stalls the peer.
    A last line without a newline at end of stream is returned as it is.
    """
    discarding = False
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
            discarding = True
            continue
        except asyncio.IncompleteReadError as exc:
            if discarding:
                raise LineTooLong from None
            return exc.partial or None
        if discarding or len(line) - 1 > limit:
            raise LineTooLong
        return line[:-1]


class SocketPath:
    """A unix socket path usable with bind/connect even when it is longer than ``sun_path``.

    Long paths go through ``/proc/self/fd/N/<name>`` with ``N`` an open descriptor of the
    directory (Linux), which is short whatever the directory's real path is. Close it after.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        text = str(path)
        if len(os.fsencode(text)) > _SUN_PATH_MAX and Path("/proc/self/fd").is_dir():
            self._fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            text = f"/proc/self/fd/{self._fd}/{path.name}"
        self.address = text

    def close(self) -> None:
        """Release the directory descriptor, if one was opened."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SocketPath:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
