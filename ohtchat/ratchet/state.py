"""A session's whole state and its exact serialized form (docs/protocol.md §15.7).

The state is one msgpack map with exactly these keys, in this order (``bin N`` = N bytes,
``?`` = may be ``nil``)::

    v     int 1 (the state format version)     init  bool: this side started the session
    own   bin 32: our account key              peer  bin 32: the peer's account key
    hid   bin 32: handshake id                 rk    bin 32: root key
    dhs   bin 32?: our ratchet X25519 secret   kpk   bin 1184?: our ML-KEM key (ek)
    ksk   bin 2400?: its secret (dk)           kct   bin 1088?: KEM_CT of our sending chain
    dhr   bin 32?: peer's ratchet key          kemr  bin 1184?: peer's ML-KEM key
    cks ckr hks hkr nhks nhkr   bin 32?: chain and header keys
    ns nr pn   int in [0, 2^32]: message numbers
    old   array ≤ 32 of bin 32: header keys of previous receiving chains, oldest first
    skip  array ≤ 2000 of bin 68: skipped keys HK (32) ‖ u32 N ‖ MK (32), oldest first
    pre   bin 1160?: the initial prefix, while the initiator has not read a reply

Serialization is deterministic: the same state always gives the same bytes.
"""

from __future__ import annotations

import copy
import struct
from dataclasses import dataclass, field
from typing import Any

from ohtchat.crypto import kem
from ohtchat.ratchet.errors import BadState
from ohtchat.ratchet.message import PREFIX_LEN
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

STATE_VERSION = 1
#: A message may be at most this many messages ahead of its chain's position.
MAX_SKIP = 1000
#: Skipped message keys kept in all (the oldest are evicted first).
MAX_SKIPPED = 2000
#: Previous receiving chains whose header keys are kept (duplicates, late messages).
MAX_OLD_CHAINS = 32
MAX_COUNTER = 1 << 32
_SKIP = struct.Struct(">32sI32s")

#: Serialized keys holding optional fixed-size byte strings, with their sizes.
_OPTIONAL = {
    "dhs": 32,
    "kpk": kem.M_PK,
    "ksk": kem.M_SK,
    "kct": kem.M_CT,
    "dhr": 32,
    "kemr": kem.M_PK,
    "cks": 32,
    "ckr": 32,
    "hks": 32,
    "hkr": 32,
    "nhks": 32,
    "nhkr": 32,
}
_KEYS = ["v", "init", "own", "peer", "hid", "rk", *_OPTIONAL, "ns", "nr", "pn", "old", "skip"]
_KEYS.append("pre")


@dataclass
class RatchetState:
    """Everything one side of a session holds (see the module docstring for each field)."""

    initiator: bool
    own: bytes
    peer: bytes
    hid: bytes
    rk: bytes
    dhs: bytes | None = None
    kpk: bytes | None = None
    ksk: bytes | None = None
    kct: bytes | None = None
    dhr: bytes | None = None
    kemr: bytes | None = None
    cks: bytes | None = None
    ckr: bytes | None = None
    hks: bytes | None = None
    hkr: bytes | None = None
    nhks: bytes | None = None
    nhkr: bytes | None = None
    ns: int = 0
    nr: int = 0
    pn: int = 0
    old: list[bytes] = field(default_factory=list)
    skipped: dict[tuple[bytes, int], bytes] = field(default_factory=dict)
    pre: bytes | None = None

    def copy(self) -> RatchetState:
        """An independent copy (what a decryption works on until it succeeds)."""
        c = copy.copy(self)
        c.old = list(self.old)
        c.skipped = dict(self.skipped)
        return c

    def to_bytes(self) -> bytes:
        """The exact serialized form (the module docstring)."""
        d = vars(self)
        out: dict[str, Any] = {
            "v": STATE_VERSION,
            "init": self.initiator,
            "own": self.own,
            "peer": self.peer,
            "hid": self.hid,
            "rk": self.rk,
        }
        out.update({k: d[k] for k in _OPTIONAL})
        out.update({"ns": self.ns, "nr": self.nr, "pn": self.pn, "old": list(self.old)})
        out["skip"] = [_SKIP.pack(hk, n, mk) for (hk, n), mk in self.skipped.items()]
        out["pre"] = self.pre
        return pack(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> RatchetState:
        """Parse and check serialized state; :class:`BadState` on anything unexpected."""
        try:
            obj = unpack(data)
        except MalformedMessage as exc:
            raise BadState(str(exc)) from exc
        if not isinstance(obj, dict) or list(obj) != _KEYS:
            raise BadState("state must be a map of exactly the documented keys, in order")
        if type(obj["v"]) is not int or obj["v"] != STATE_VERSION:
            raise BadState(f"unknown state version {obj['v']!r}")
        if not isinstance(obj["init"], bool):
            raise BadState("field 'init' must be a boolean")
        for key in ("own", "peer", "hid", "rk"):
            _check_bin(obj, key, 32, optional=False)
        for key, size in _OPTIONAL.items():
            _check_bin(obj, key, size, optional=True)
        _check_bin(obj, "pre", PREFIX_LEN, optional=True)
        for key in ("ns", "nr", "pn"):
            if type(obj[key]) is not int or not 0 <= obj[key] <= MAX_COUNTER:
                raise BadState(f"field {key!r} must be an integer in [0, 2^32]")
        olds, skips = obj["old"], obj["skip"]
        if not isinstance(olds, list) or len(olds) > MAX_OLD_CHAINS:
            raise BadState(f"field 'old' must be a list of at most {MAX_OLD_CHAINS}")
        if not isinstance(skips, list) or len(skips) > MAX_SKIPPED:
            raise BadState(f"field 'skip' must be a list of at most {MAX_SKIPPED}")
        if not all(isinstance(k, bytes) and len(k) == 32 for k in olds):
            raise BadState("field 'old' must hold 32-byte keys")
        if not all(isinstance(s, bytes) and len(s) == _SKIP.size for s in skips):
            raise BadState(f"field 'skip' must hold {_SKIP.size}-byte entries")
        if len({obj[k] is None for k in ("dhs", "kpk", "ksk")}) != 1 or (
            obj["kct"] is not None and obj["dhs"] is None
        ):
            raise BadState("fields 'dhs', 'kpk', 'ksk' must be all set or all nil ('kct' too)")
        skipped: dict[tuple[bytes, int], bytes] = {}
        for entry in skips:
            hk, n, mk = _SKIP.unpack(entry)
            skipped[(hk, n)] = mk
        if len(skipped) != len(skips):
            raise BadState("field 'skip' repeats a key")
        fields = {k: obj[k] for k in _OPTIONAL}
        return cls(
            obj["init"],
            obj["own"],
            obj["peer"],
            obj["hid"],
            obj["rk"],
            **fields,
            ns=obj["ns"],
            nr=obj["nr"],
            pn=obj["pn"],
            old=olds,
            skipped=skipped,
            pre=obj["pre"],
        )


def _check_bin(obj: dict[str, Any], key: str, size: int, *, optional: bool) -> None:
    value = obj[key]
    if value is None and optional:
        return
    if not isinstance(value, bytes) or len(value) != size:
        raise BadState(f"field {key!r} must be {size} bytes{' or nil' if optional else ''}")
