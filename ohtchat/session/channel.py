"""The encrypted channel after the handshake: AEAD frames with per-direction counter nonces.

Each encrypted frame's payload is ``counter (u64 BE) ‖ ChaCha20-Poly1305(key, nonce, plaintext,
aad=counter)`` with ``nonce = 0x00000000 ‖ counter``. Counters start at 0 in each direction and
increase by one per frame. A frame whose counter is not the next expected one is replayed (lower)
or out of order (higher); either ends the session, as does a frame that fails authentication.
"""

from __future__ import annotations

import struct

import nacl.bindings as sodium
from nacl.exceptions import CryptoError as NaclCryptoError

from ohtchat.wire.errors import (
    MalformedMessage,
    OutOfOrderFrame,
    ReplayedFrame,
    TamperedFrame,
)

COUNTER = struct.Struct(">Q")
TAG_LEN = 16
OVERHEAD = COUNTER.size + TAG_LEN


def _nonce(counter: int) -> bytes:
    return b"\x00\x00\x00\x00" + COUNTER.pack(counter)


class ChannelCipher:
    """Seals outgoing and opens incoming frame payloads; pure (no I/O), one per session."""

    def __init__(self, send_key: bytes, recv_key: bytes) -> None:
        self._send_key = send_key
        self._recv_key = recv_key
        self.send_counter = 0
        self.recv_counter = 0

    def seal(self, plaintext: bytes) -> bytes:
        """The next outgoing frame payload."""
        counter = COUNTER.pack(self.send_counter)
        ct = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, counter, _nonce(self.send_counter), self._send_key
        )
        self.send_counter += 1
        return counter + ct

    def open(self, payload: bytes) -> bytes:
        """Check and decrypt the next incoming frame payload (typed error on any problem)."""
        if len(payload) < OVERHEAD:
            raise MalformedMessage(f"encrypted frame of {len(payload)} bytes is too short")
        (counter,) = COUNTER.unpack_from(payload)
        if counter < self.recv_counter:
            raise ReplayedFrame(
                f"frame counter {counter} already seen (expected {self.recv_counter})"
            )
        if counter > self.recv_counter:
            raise OutOfOrderFrame(
                f"frame counter {counter} out of order (expected {self.recv_counter})"
            )
        try:
            plaintext = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
                payload[COUNTER.size :], payload[: COUNTER.size], _nonce(counter), self._recv_key
            )
        except NaclCryptoError as exc:
            raise TamperedFrame(f"frame {counter} failed authentication") from exc
        self.recv_counter += 1
        return bytes(plaintext)
