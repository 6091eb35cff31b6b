"""Mailbox items are signed as the exact bytes that travel (protocol v2), on no network."""

from __future__ import annotations

import pytest

from ohtchat.chat.envelopes import ITEM_LABEL, SEAL_AAD, ChatItem, open_item, seal_item
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey
from ohtchat.wire.envelope import pack, unpack
from ohtchat.wire.errors import MalformedMessage

ITEM = ChatItem("whisper", "ab" * 16, "cd" * 32, 1_700_000_000.5, "hello", {"name": "alice"})


def _box(sender: AccountKey, to: kem.KemKeyPair, inner: dict[str, object]) -> bytes:
    return kem.seal(to.public, pack(inner), SEAL_AAD)


def test_seal_then_open_gives_the_sender_and_the_item() -> None:
    sender, recipient = AccountKey(), kem.KemKeyPair.generate()
    got_sender, got = open_item(recipient.secret, seal_item(sender, recipient.public, ITEM))
    assert (got_sender, got) == (sender.public, ITEM)


def test_a_sender_that_encodes_the_map_in_another_key_order_still_verifies() -> None:
    # Another implementation may order the keys differently: the signature is over its bytes,
    # so the receiver never needs to reproduce them.
    sender, recipient = AccountKey(), kem.KemKeyPair.generate()
    body = ITEM.body()
    item_bytes = pack(dict(reversed(list(body.items()))))
    assert item_bytes != pack(body)
    sig = sender.sign(ITEM_LABEL + item_bytes)
    box = _box(sender, recipient, {"v": 2, "b": item_bytes, "from": sender.public, "sig": sig})
    assert open_item(recipient.secret, box) == (sender.public, ITEM)


def test_the_signature_covers_the_bytes_not_the_map() -> None:
    sender, recipient = AccountKey(), kem.KemKeyPair.generate()
    item_bytes = pack(ITEM.body())
    sig = sender.sign(ITEM_LABEL + item_bytes)
    # The same map re-encoded differently no longer matches the signature.
    other = pack(dict(reversed(list(ITEM.body().items()))))
    box = _box(sender, recipient, {"v": 2, "b": other, "from": sender.public, "sig": sig})
    with pytest.raises(MalformedMessage, match="field 'sig' does not verify"):
        open_item(recipient.secret, box)


def test_a_version_1_box_is_refused_naming_the_field() -> None:
    sender, recipient = AccountKey(), kem.KemKeyPair.generate()
    sealed = kem.open_sealed(recipient.secret, seal_item(sender, recipient.public, ITEM), SEAL_AAD)
    inner = unpack(sealed)
    inner["v"] = 1
    with pytest.raises(MalformedMessage, match="field 'v' is 1, expected 2"):
        open_item(recipient.secret, _box(sender, recipient, inner))


def test_a_signed_non_map_body_is_refused() -> None:
    sender, recipient = AccountKey(), kem.KemKeyPair.generate()
    item_bytes = pack(["not", "a", "map"])
    sig = sender.sign(ITEM_LABEL + item_bytes)
    box = _box(sender, recipient, {"v": 2, "b": item_bytes, "from": sender.public, "sig": sig})
    with pytest.raises(MalformedMessage, match="field 'b' is not a msgpack map"):
        open_item(recipient.secret, box)
