"""The store header ``store.hdr``: plaintext KDF parameters plus the sealed manifest.

Layout (big-endian)::

    magic "OHTSTOR\\0" (8) ‖ version u16 ‖ opslimit u32 ‖ memlimit u64 ‖ salt (16)
    ‖ store id (16) ‖ manifest length u32 ‖ sealed manifest ‖ BLAKE2b-256 of all before

The checksum tells a damaged header (:class:`CorruptedFile`) apart from a wrong
passphrase (checksum fine, manifest does not authenticate: :class:`WrongPassphrase`).
The manifest (msgpack, sealed with the header prefix as associated data) names the
live files: the journal of the current generation, the meta segment and the message
segments. Replacing this one file atomically is how every compaction commits.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import msgpack

from ohtchat.store.errors import CorruptedFile, WrongPassphrase
from ohtchat.store.sealing import KdfParams, SealError, derive_key, seal, unseal

MAGIC = b"OHTSTOR\x00"
VERSION = 1
HEADER_NAME = "store.hdr"
_FIXED = struct.Struct(">8sHIQ16s16sI")
_SUM_BYTES = 32


@dataclass
class SegmentEntry:
    """One message segment in the manifest: its current file and its conversation."""

    file: str
    conversation: str


@dataclass
class Manifest:
    """Which files hold the store's state at one generation."""

    gen: int
    journal: str
    meta: str
    next_seg: int
    segments: dict[int, SegmentEntry] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """msgpack encoding."""
        segs = {str(k): [v.file, v.conversation] for k, v in self.segments.items()}
        return bytes(msgpack.packb([self.gen, self.journal, self.meta, self.next_seg, segs]))

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse; raises ValueError/TypeError/KeyError on a malformed manifest."""
        gen, journal, meta, next_seg, segs = msgpack.unpackb(data)
        entries = {int(k): SegmentEntry(str(v[0]), str(v[1])) for k, v in segs.items()}
        for name in [journal, meta, *(e.file for e in entries.values())]:
            if not isinstance(name, str) or "/" in name or name.startswith("."):
                raise ValueError(f"bad file name {name!r}")
        return cls(int(gen), journal, meta, int(next_seg), entries)

    def files(self) -> set[str]:
        """Every file name this manifest refers to."""
        return {self.journal, self.meta, *(e.file for e in self.segments.values())}


@dataclass(frozen=True)
class HeaderInfo:
    """The plaintext part of a header."""

    kdf: KdfParams
    salt: bytes
    store_id: bytes


def encode_header(info: HeaderInfo, key: bytes, manifest: Manifest) -> bytes:
    """The bytes of ``store.hdr`` for this manifest sealed under ``key``."""
    sealed_len_unknown = _prefix(info, 0)
    sealed = seal(key, manifest.to_bytes(), _ad(sealed_len_unknown))
    body = _prefix(info, len(sealed)) + sealed
    return body + hashlib.blake2b(body, digest_size=_SUM_BYTES).digest()


def _prefix(info: HeaderInfo, sealed_len: int) -> bytes:
    return _FIXED.pack(
        MAGIC,
        VERSION,
        info.kdf.opslimit,
        info.kdf.memlimit,
        info.salt,
        info.store_id,
        sealed_len,
    )


def _ad(prefix: bytes) -> bytes:
    # The length field is excluded (it is only known after sealing); the checksum covers it.
    return b"ohtchat-manifest\x00" + prefix[: _FIXED.size - 4]


def parse_header(path: Path, data: bytes) -> tuple[HeaderInfo, bytes]:
    """Check magic, version, checksum and KDF bounds; return the info and the sealed manifest."""
    if len(data) < _FIXED.size + _SUM_BYTES:
        raise CorruptedFile(path, f"header truncated ({len(data)} bytes)")
    body, check = data[:-_SUM_BYTES], data[-_SUM_BYTES:]
    if hashlib.blake2b(body, digest_size=_SUM_BYTES).digest() != check:
        if not data.startswith(MAGIC):
            raise CorruptedFile(path, "not an ohtchat store header (bad magic)")
        raise CorruptedFile(path, "header checksum mismatch")
    magic, version, ops, mem, salt, store_id, sealed_len = _FIXED.unpack_from(body)
    if magic != MAGIC:
        raise CorruptedFile(path, "not an ohtchat store header (bad magic)")
    if version != VERSION:
        raise CorruptedFile(path, f"unsupported store format version {version}")
    if sealed_len != len(body) - _FIXED.size:
        raise CorruptedFile(path, "header length field mismatch")
    kdf = KdfParams(ops, mem)
    if not kdf.valid():
        raise CorruptedFile(path, f"Argon2id parameters out of range ({ops}, {mem})")
    return HeaderInfo(kdf, salt, store_id), body[_FIXED.size :]


def open_header(path: Path, passphrase: str) -> tuple[HeaderInfo, bytes, Manifest]:
    """Read and decrypt ``store.hdr``: returns its info, the derived key and the manifest."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptedFile(path, f"cannot read: {exc.strerror}") from exc
    info, sealed = parse_header(path, data)
    key = derive_key(passphrase, info.salt, info.kdf)
    return info, key, unseal_manifest(path, info, key, sealed)


def unseal_manifest(path: Path, info: HeaderInfo, key: bytes, sealed: bytes) -> Manifest:
    """Decrypt the manifest; a checksum-valid header that fails here means a wrong key."""
    try:
        plain = unseal(key, sealed, _ad(_prefix(info, 0)))
    except SealError:
        raise WrongPassphrase(path) from None
    try:
        return Manifest.from_bytes(plain)
    except (ValueError, TypeError, KeyError, IndexError, msgpack.ExtraData) as exc:
        raise CorruptedFile(path, f"malformed manifest: {exc}") from exc


def read_info(path: Path) -> tuple[HeaderInfo, bytes]:
    """Plaintext info and sealed manifest of a header (no passphrase needed)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptedFile(path, f"cannot read: {exc.strerror}") from exc
    return parse_header(path, data)
