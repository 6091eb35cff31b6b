"""Sessions of a second implementation, written from docs/protocol.md §3–7.

Frames, the envelope, the mutual handshake (both roles), the AEAD channel with its counters,
and RPC both ways over one session. Standard library, PyNaCl and msgpack only (the KEM is in
:mod:`tests.conformance.minicrypto`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import os
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import nacl.bindings as sodium

from tests.conformance.minicrypto import (
    CERT_LEN,
    KEM_CIPHERTEXT,
    KEM_PUBLIC,
    Identity,
    KemPair,
    SpecViolation,
    check_certificate,
    decapsulate,
    encapsulate,
    onion_key,
    sha3,
    verify,
)

VERSION = 5
MAX_FRAME = 262_144
HANDSHAKE_MAX_FRAME = 8_192
HS_LABEL = b"ohtchat handshake v1"
SIG_I = b"ohtchat handshake v1 initiator signature\x00"
SIG_R = b"ohtchat handshake v1 responder signature\x00"
LIMITS = {
    "max_str_len": 64 * 1024,
    "max_bin_len": 256 * 1024,
    "max_array_len": 4096,
    "max_map_len": 256,
    "max_ext_len": 0,
}


# ------------------------------------------------------------------- frames, envelope
async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_FRAME) -> bytes:
    """``length u32 ‖ payload``, the length checked before the payload is read."""
    (length,) = struct.unpack(">I", await reader.readexactly(4))
    if length > limit:
        raise SpecViolation(f"frame of {length} bytes (limit {limit})")
    return await reader.readexactly(length)


def frame(payload: bytes) -> bytes:
    """One frame around ``payload``."""
    return struct.pack(">I", len(payload)) + payload


def pack(obj: Any) -> bytes:
    """msgpack with ``bin`` for bytes and ``str`` for text."""
    return bytes(msgpack.packb(obj, use_bin_type=True))


def unpack(data: bytes) -> Any:
    """Strict msgpack (§4 limits, no trailing bytes, string keys)."""
    return msgpack.unpackb(data, raw=False, strict_map_key=True, **LIMITS)


def envelope(kind: str, body: dict[str, Any]) -> bytes:
    """``{"v": 4, "t": kind, "b": body}``."""
    return pack({"v": VERSION, "t": kind, "b": body})


def open_envelope(data: bytes) -> tuple[str, dict[str, Any]]:
    """``(type, body)`` after checking the §4 shape."""
    obj = unpack(data)
    if not isinstance(obj, dict) or set(obj) != {"v", "t", "b"} or obj["v"] != VERSION:
        raise SpecViolation(f"not a version-{VERSION} envelope: {obj!r:.200}")
    if not isinstance(obj["t"], str) or not 1 <= len(obj["t"]) <= 32:
        raise SpecViolation("envelope type must be 1-32 characters")
    if not isinstance(obj["b"], dict):
        raise SpecViolation("envelope body must be a map")
    return obj["t"], obj["b"]


def _field(
    body: dict[str, Any], name: str, kind: type[str | bytes], size: int | None = None
) -> Any:
    value: Any = body.get(name)
    if not isinstance(value, kind) or (size is not None and len(value) != size):
        raise SpecViolation(f"field {name!r} is {value!r:.80}")
    return value


# ---------------------------------------------------------------------------- handshake
def _lp(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def transcript(
    onion_i: str,
    onion_r: str,
    c_i: bytes,
    c_r: bytes,
    k_i: bytes,
    k_r: bytes,
    ct_i: bytes,
    ct_r: bytes,
) -> bytes:
    """``T`` of §5 (version field = the envelope version)."""
    parts = (onion_i.encode(), onion_r.encode(), c_i, c_r, k_i, k_r, ct_i, ct_r)
    return sha3(HS_LABEL, struct.pack(">H", VERSION), *map(_lp, parts))


def derive(t: bytes, s_i: bytes, s_r: bytes) -> tuple[bytes, bytes, bytes]:
    """``(k_I2R, k_R2I, sid)``: HKDF-SHA256 with salt ``T``, one block each."""
    prk = hmac.new(t, s_i + s_r, hashlib.sha256).digest()
    i2r, r2i, sid = (
        hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
        for info in (b"ohtchat v1 key i2r", b"ohtchat v1 key r2i", b"ohtchat v1 sid")
    )
    return i2r, r2i, sid


def _proof(label: bytes, t: bytes, cert: bytes) -> bytes:
    return label + t + sha3(cert)


def _check_proof(onion: str, label: bytes, t: bytes, cert: bytes, sig: bytes) -> bytes:
    """Verify a side's signature with the key inside its onion, then its certificate."""
    node_public = onion_key(onion)
    if not verify(node_public, _proof(label, t, cert), sig):
        raise SpecViolation(f"handshake proof not signed by the key of {onion}")
    return check_certificate(cert, node_public, time.time())


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, kind: str, body: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    writer.write(frame(envelope(kind, body)))
    await writer.drain()
    return open_envelope(await read_frame(reader, HANDSHAKE_MAX_FRAME))


async def initiate(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, me: Identity, onion_r: str
) -> Session:
    """The initiator's side; ``onion_r`` is the address dialled, or ``""`` for anyone."""
    c_i, k_i = os.urandom(32), KemPair.generate()
    kind, hs2 = await _exchange(
        reader, writer, "hs1", {"onion": onion_r, "cookie": c_i, "kem": k_i.public}
    )
    if kind != "hs2":
        raise SpecViolation(f"expected hs2, got {kind} {hs2!r:.200}")
    named = _field(hs2, "onion", str)
    if onion_r and named != onion_r:
        raise SpecViolation(f"dialled {onion_r} but {named} answered")
    c_r, k_r = _field(hs2, "cookie", bytes, 32), _field(hs2, "kem", bytes, KEM_PUBLIC)
    ct_i = _field(hs2, "ct", bytes, KEM_CIPHERTEXT)
    if named == me.onion or c_r == c_i or k_r == k_i.public:
        raise SpecViolation("reflected handshake")
    s_i = decapsulate(k_i, ct_i)
    ct_r, s_r = encapsulate(k_r)
    t = transcript(me.onion, named, c_i, c_r, k_i.public, k_r, ct_i, ct_r)
    sig = me.sign_node(_proof(SIG_I, t, me.cert))
    body = {"onion": me.onion, "ct": ct_r, "cert": me.cert, "sig": sig}
    kind, hs4 = await _exchange(reader, writer, "hs3", body)
    if kind != "hs4":
        raise SpecViolation(f"expected hs4, got {kind} {hs4!r:.200}")
    cert_r, sig_r = _field(hs4, "cert", bytes, CERT_LEN), _field(hs4, "sig", bytes, 64)
    account = _check_proof(named, SIG_R, t, cert_r, sig_r)
    i2r, r2i, sid = derive(t, s_i, s_r)
    return Session(reader, writer, named, account, send_key=i2r, recv_key=r2i, sid=sid)


async def respond(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, me: Identity
) -> tuple[Session, str]:
    """The responder's side: ``(session, hs1's onion as the initiator named it)``."""
    kind, hs1 = open_envelope(await read_frame(reader, HANDSHAKE_MAX_FRAME))
    if kind != "hs1":
        raise SpecViolation(f"expected hs1, got {kind}")
    dialled = _field(hs1, "onion", str)
    if dialled not in ("", me.onion):
        raise SpecViolation(f"initiator dialled {dialled}, not us")
    c_i, k_i = _field(hs1, "cookie", bytes, 32), _field(hs1, "kem", bytes, KEM_PUBLIC)
    c_r, k_r = os.urandom(32), KemPair.generate()
    ct_i, s_i = encapsulate(k_i)
    body = {"onion": me.onion, "cookie": c_r, "kem": k_r.public, "ct": ct_i}
    kind, hs3 = await _exchange(reader, writer, "hs2", body)
    if kind != "hs3":
        raise SpecViolation(f"expected hs3, got {kind}")
    onion_i = _field(hs3, "onion", str)
    if onion_i == me.onion:
        raise SpecViolation("initiator claims our own address")
    ct_r = _field(hs3, "ct", bytes, KEM_CIPHERTEXT)
    s_r = decapsulate(k_r, ct_r)
    t = transcript(onion_i, me.onion, c_i, c_r, k_i, k_r.public, ct_i, ct_r)
    cert_i, sig_i = _field(hs3, "cert", bytes, CERT_LEN), _field(hs3, "sig", bytes, 64)
    account = _check_proof(onion_i, SIG_I, t, cert_i, sig_i)
    sig = me.sign_node(_proof(SIG_R, t, me.cert))
    writer.write(frame(envelope("hs4", {"cert": me.cert, "sig": sig})))
    await writer.drain()
    i2r, r2i, sid = derive(t, s_i, s_r)
    return Session(reader, writer, onion_i, account, send_key=r2i, recv_key=i2r, sid=sid), dialled


# ------------------------------------------------------------------------ channel, RPC
class RpcFault(Exception):
    """Raised by a served method: answered ``{ok: false, e: code, d: detail}``."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Reply:
    """A ``res`` envelope: ``ok`` with result ``r``, or error ``e`` with detail ``d``."""

    ok: bool
    r: dict[str, Any]
    e: str = ""
    d: str = ""


def to_reply(body: dict[str, Any]) -> Reply:
    """A ``res`` body, checked to have exactly the §7 fields of a success or a failure."""
    if body.get("ok") is True and set(body) == {"id", "ok", "r"} and isinstance(body["r"], dict):
        return Reply(True, body["r"])
    e, d = body.get("e"), body.get("d")
    shaped = body.get("ok") is False and set(body) == {"id", "ok", "e", "d"}
    if shaped and isinstance(e, str) and isinstance(d, str) and len(e) <= 64 and len(d) <= 1024:
        return Reply(False, {}, e, d)
    raise SpecViolation(f"res envelope {body!r:.300}")


Serve = Callable[["Session", str, dict[str, Any]], Awaitable[dict[str, Any]]]


def _nonce(ctr: int) -> bytes:
    return bytes(4) + struct.pack(">Q", ctr)


@dataclass(eq=False)
class Session:
    """An established session: §6 encrypted frames carrying §7 RPC envelopes, both ways."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    peer_onion: str
    peer_account: bytes
    send_key: bytes
    recv_key: bytes
    sid: bytes
    send_ctr: int = 0
    recv_ctr: int = 0
    #: The address the peer said it accepts sessions at (``_hello``).
    peer_addr: str | None = None
    #: Every request and one-way message the peer sent us: ``(method, params)``.
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[Reply]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def seal(self, ctr: int, plaintext: bytes) -> bytes:
        """One encrypted frame payload: ``ctr u64 ‖ AEAD(k, 0⁴ ‖ ctr, plaintext, aad = ctr)``."""
        head = struct.pack(">Q", ctr)
        sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, head, _nonce(ctr), self.send_key
        )
        return head + bytes(sealed)

    async def send(self, kind: str, body: dict[str, Any]) -> None:
        """Encrypt one envelope with the next counter."""
        async with self._lock:
            payload = self.seal(self.send_ctr, envelope(kind, body))
            self.send_ctr += 1
            self.writer.write(frame(payload))
            await self.writer.drain()

    async def recv(self) -> tuple[str, dict[str, Any]]:
        """The next envelope; the counter must be exactly the next one."""
        payload = await read_frame(self.reader)
        (ctr,) = struct.unpack(">Q", payload[:8])
        if ctr != self.recv_ctr:
            raise SpecViolation(f"frame counter {ctr}, expected {self.recv_ctr}")
        plain = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
            payload[8:], payload[:8], _nonce(ctr), self.recv_key
        )
        self.recv_ctr += 1
        return open_envelope(bytes(plain))

    def start(self, serve: Serve) -> asyncio.Task[None]:
        """Read envelopes until the stream ends: replies resolve calls, requests are served."""
        return asyncio.get_running_loop().create_task(self._read_loop(serve))

    async def _read_loop(self, serve: Serve) -> None:
        try:
            while True:
                kind, body = await self.recv()
                if kind == "res":
                    fut = self._pending.pop(body.get("id", -1), None)
                    if fut is not None and not fut.done():
                        try:
                            fut.set_result(to_reply(body))
                        except SpecViolation as exc:
                            fut.set_exception(exc)
                elif kind == "msg" and body["m"] == "_hello":
                    self.peer_addr = body["p"]["addr"]
                    self.received.append((body["m"], body["p"]))
                elif kind in ("req", "msg"):
                    self.received.append((body["m"], body["p"]))
                    task = asyncio.get_running_loop().create_task(
                        self._answer(serve, body.get("id"), body["m"], body["p"])
                    )
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                else:
                    raise SpecViolation(f"unknown envelope type {kind}")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("session closed"))

    async def _answer(self, serve: Serve, rid: int | None, method: str, params: Any) -> None:
        try:
            body: dict[str, Any] = {"id": rid, "ok": True, "r": await serve(self, method, params)}
        except RpcFault as fault:
            body = {"id": rid, "ok": False, "e": fault.code, "d": fault.detail}
        if rid is not None:
            with contextlib.suppress(ConnectionError):
                await self.send("res", body)

    async def call(self, method: str, params: dict[str, Any], timeout: float = 30.0) -> Reply:
        """A ``req``; the matching ``res``."""
        rid = next(self._ids)
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        await self.send("req", {"id": rid, "m": method, "p": params})
        return await asyncio.wait_for(fut, timeout)

    async def hello(self, addr: str) -> None:
        """Tell the peer where we accept sessions (``_hello``)."""
        await self.send("msg", {"m": "_hello", "p": {"addr": addr}})

    async def close(self) -> None:
        """Close the stream and wait for the reader to notice."""
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
        for task in list(self._tasks):
            task.cancel()
