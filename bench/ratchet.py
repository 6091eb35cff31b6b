"""Double ratchet (ohtchat/ratchet): messages/s per core and bytes of overhead per message, next
to today's whisper paths measured in the same run.

Run: ``.venv/bin/python bench/ratchet.py [--seconds S] [--text N]`` (S: total, default 20)

Every rate counts one message encrypted *and* decrypted (both sides in this one process, one
core). The payload is the msgpack bytes of a whisper chat item with an N-character text.

* baseline, offline: ``seal_item`` + ``open_item`` (ohtchat/chat/envelopes.py): ed25519-signed,
  sealed to the recipient's hybrid KEM prekey (one encapsulation + decapsulation per item).
* baseline, online: the session's AEAD channel (``ChannelCipher.seal`` + ``open``).
* ratchet, in order: one sending chain (HMAC chain step, header and body AEAD per message).
* ratchet, a turn every message: the two sides alternate, so every message turns the ratchet
  (X25519 key + ML-KEM-768 key pair + encapsulation at the sender, decapsulation + X25519 at
  the receiver).
* ratchet, in order, persisted: as in order, plus ``to_bytes()`` of both states per message
  (what chat does to store the state atomically).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from ohtchat.chat.envelopes import ChatItem, new_msg_id, open_item, seal_item
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet import PrekeyBundle, Session
from ohtchat.ratchet.message import OVERHEAD, PREFIX_LEN
from ohtchat.session.channel import OVERHEAD as CHANNEL_OVERHEAD
from ohtchat.session.channel import ChannelCipher
from ohtchat.wire.envelope import pack


def rates(fns: list[Callable[[], object]], seconds: float, rounds: int = 7) -> list[float]:
    """Calls per second of each of ``fns``: the median of ``rounds`` timed slices, the slices
    of all functions interleaved so that load from other processes hits them alike."""
    for fn in fns:
        fn()
    slices: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            n, t0 = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - t0) < seconds / rounds / len(fns):
                fn()
                n += 1
            slices[i].append(n / elapsed)
    return [statistics.median(s) for s in slices]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0, help="total measuring time")
    ap.add_argument("--text", type=int, default=100, help="characters of whisper text")
    args = ap.parse_args()

    alice, bob, prekey = AccountKey(), AccountKey(), kem.KemKeyPair.generate()
    item = ChatItem(
        "whisper", new_msg_id(), bob.account_id, time.time(), "x" * args.text, {"name": "alice"}
    )
    payload = pack(item.body())
    box = seal_item(alice, prekey.public, item)

    def sealed() -> None:
        open_item(prekey.secret, seal_item(alice, prekey.public, item))

    tx, rx = ChannelCipher(b"k" * 32, b"k" * 32), ChannelCipher(b"k" * 32, b"k" * 32)

    def channel() -> None:
        rx.open(tx.seal(payload))

    a = Session.initiate(alice, PrekeyBundle.sign(bob, prekey))
    b, _ = Session.accept(bob, prekey, a.encrypt(b"hello"))
    a.decrypt(b.encrypt(b"hi"))

    def in_order() -> None:
        b.decrypt(a.encrypt(payload))

    def persisted() -> None:
        b.decrypt(a.encrypt(payload))
        a.to_bytes()
        b.to_bytes()

    turn = [a, b]

    def turning() -> None:
        sender, receiver = turn
        receiver.decrypt(sender.encrypt(payload))
        turn.reverse()

    names = [
        ("baseline: sealed mailbox item (seal_item+open_item)", len(box) - len(payload)),
        ("baseline: session AEAD frame (ChannelCipher)", CHANNEL_OVERHEAD),
        ("ratchet, in order", OVERHEAD),
        ("ratchet, in order, both states to_bytes()", OVERHEAD),
        ("ratchet, a turn every message", OVERHEAD),
    ]
    measured = rates([sealed, channel, in_order, persisted, turning], args.seconds)
    rows = [(name, r, over) for (name, over), r in zip(names, measured, strict=True)]
    sealed_rate, channel_rate = rows[0][1], rows[1][1]
    print(f"payload: {len(payload)} bytes (whisper item, {args.text}-character text)")
    print(f"{'path':52} {'msgs/s':>9} {'vs sealed':>9} {'vs AEAD':>8} {'overhead B':>10}")
    for name, r, over in rows:
        print(f"{name:52} {r:9.0f} {r / sealed_rate:9.2f} {r / channel_rate:8.3f} {over:10d}")
    sizes = sorted(len(s.to_bytes()) for s in (a, b))
    print(f"initial messages (until the first reply): overhead {OVERHEAD + PREFIX_LEN} B")
    print(f"serialized states: {sizes[0]} B (reader) / {sizes[1]} B (sender, holding its")
    print("  chain's ML-KEM secret), + 68 B per skipped key")


if __name__ == "__main__":
    main()
