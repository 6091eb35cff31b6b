"""A minimal SOCKS5 client (RFC 1928, no authentication) for tor's SOCKS unix socket.

python-socks only connects to proxies over TCP, and we need tor's ExtendedErrors reply
codes verbatim, so this small client does the CONNECT itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from pathlib import Path

from ohtchat.tor.errors import SocksError

#: SOCKS5 reply codes, including tor's ExtendedErrors (0xF0–0xF7, proposal 304).
REPLY_MESSAGES: dict[int, str] = {
    0x01: "general failure in tor",
    0x02: "not allowed (this SOCKS port only reaches onion services)",
    0x03: "network unreachable",
    0x04: "host unreachable",
    0x05: "connection refused by the onion service",
    0x06: "timed out building the circuit (TTL expired)",
    0x07: "command not supported",
    0x08: "address type not supported",
    0xF0: "onion service descriptor not found (offline or not yet published)",
    0xF1: "onion service descriptor is invalid",
    0xF2: "introduction to the onion service failed",
    0xF3: "rendezvous with the onion service failed",
    0xF4: "onion service needs client authorization",
    0xF5: "wrong client authorization for the onion service",
    0xF6: "invalid onion address",
    0xF7: "introduction to the onion service timed out",
}
_ADDRESS_LEN = {1: 4 + 2, 4: 16 + 2}  # IPv4 / IPv6 bound address + port
#: Codes after which a later attempt may succeed.
RETRYABLE = frozenset({0x01, 0x04, 0x06, 0xF0, 0xF2, 0xF3, 0xF7, -1})


def describe(code: int) -> str:
    """A human-readable text for a SOCKS reply code."""
    return REPLY_MESSAGES.get(code, f"unknown SOCKS error {code:#04x}")


async def open_proxy(
    proxy: Path | tuple[str, int],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to tor's SOCKS listener (unix socket path or TCP host and port)."""
    try:
        if isinstance(proxy, Path):
            return await asyncio.open_unix_connection(str(proxy))
        return await asyncio.open_connection(proxy[0], proxy[1])
    except OSError as exc:
        raise SocksError(f"cannot reach tor's SOCKS listener at {proxy}: {exc}") from exc


async def socks5_connect(
    proxy: Path | tuple[str, int], host: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a stream to ``host:port`` through the SOCKS5 proxy; SocksError on any failure."""
    raw = host.encode("ascii", "strict")
    if not 0 < len(raw) < 256 or not 0 < port < 65536:
        raise SocksError(f"bad SOCKS target {host!r}:{port}")
    reader, writer = await open_proxy(proxy)
    try:
        writer.write(b"\x05\x01\x00")
        if await _read(reader, 2) != b"\x05\x00":
            raise SocksError("tor's SOCKS listener refused the no-authentication method")
        writer.write(b"\x05\x01\x00\x03" + bytes([len(raw)]) + raw + struct.pack(">H", port))
        version, code, _, atyp = await _read(reader, 4)
        if version != 5:
            raise SocksError(f"not a SOCKS5 reply (version {version})")
        if code != 0:
            raise SocksError(describe(code), code)
        # Skip the bound address tor reports (its form depends on the address type).
        if atyp == 3:
            length = (await _read(reader, 1))[0] + 2
        elif atyp in _ADDRESS_LEN:
            length = _ADDRESS_LEN[atyp]
        else:
            raise SocksError(f"unknown SOCKS address type {atyp}")
        await _read(reader, length)
    except BaseException:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        raise
    return reader, writer


async def _read(reader: asyncio.StreamReader, n: int) -> bytes:
    try:
        return await reader.readexactly(n)
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise SocksError("tor closed the SOCKS connection mid-handshake") from exc
