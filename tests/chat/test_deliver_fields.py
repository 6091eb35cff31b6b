"""``chat_deliver`` and presence records: a bad or missing field is refused, naming it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ohtchat.chat.envelopes import ChatItem
from ohtchat.chat.presence import Presence, PresenceError, parse_presence, sign_prekey
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.session.rpc import RpcError
from ohtchat.wire.envelope import Fields, pack, unpack
from ohtchat.wire.errors import MalformedMessage
from tests.chat.virtual import ChatNet, simulate

Params = dict[str, Any]


def item(to: str = "cd" * 32) -> Params:
    return ChatItem("whisper", "ab" * 16, to, 1_700_000_000.5, "hello", {"name": "a"}).body()


ITEM_BAD: list[tuple[str, object]] = [
    ("kind", "shout"),
    ("kind", 5),
    ("kind", None),
    ("msg_id", ""),
    ("msg_id", "x" * 65),
    ("msg_id", None),
    ("to", "cd" * 31),
    ("to", b"cd" * 32),
    ("to", None),
    ("sent_at", "now"),
    ("sent_at", True),
    ("sent_at", None),
    ("text", "t" * 8193),
    ("text", 5),
    ("text", None),
    ("extra", []),
    ("extra", None),
]


@pytest.mark.parametrize(("name", "bad"), ITEM_BAD)
def test_a_bad_item_field_is_named(name: str, bad: object) -> None:
    params = item()
    if bad is None:
        del params[name]
    else:
        params[name] = bad
    with pytest.raises(MalformedMessage) as info:
        ChatItem.from_fields(Fields(params, "req.p"))
    assert name in str(info.value), str(info.value)


def test_over_a_session_chat_deliver_answers_receipt_or_a_named_error() -> None:
    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob", timers=False)

        async def deliver(params: Params) -> Fields:
            return await alice.pool.request(bob.address, bob.onion, "chat_deliver", params, 10)

        # Whispers travel inside the ratchet: the ratchet item is receipted, a plain one refused.
        whisper = ChatItem.from_fields(Fields(item(bob.id), "item"))
        sealed = alice.chat.ratchets.seal(await alice.chat.lookup(bob.id), whisper).body()
        assert sealed["kind"] == "ratchet" and sealed["text"] == ""
        assert (await deliver(sealed)).data == {"receipt": True}
        assert (await deliver(sealed)).data == {"receipt": True}  # a retry: stored once
        assert bob.texts(alice.id) == ["hello"]
        with pytest.raises(RpcError) as info:
            await deliver(item(bob.id))
        assert info.value.code == "bad_request" and "ratchet" in info.value.detail
        device = sealed["extra"]["d"]
        assert device == alice.account.node_key.public  # the sending device is named
        with pytest.raises(RpcError) as info:
            await deliver({**sealed, "extra": {"r": bytes(3000), "d": device}})
        assert info.value.code == "undecryptable"
        with pytest.raises(RpcError) as info:
            await deliver({**sealed, "extra": {"r": "text", "d": device}})
        assert info.value.code == "bad_request" and "'r'" in info.value.detail
        with pytest.raises(RpcError) as info:  # another device than the session's
            await deliver({**sealed, "extra": {**sealed["extra"], "d": bytes(32)}})
        assert info.value.code == "bad_request" and ".d" in info.value.detail
        with pytest.raises(RpcError) as info:
            await deliver({**item(bob.id), "sent_at": "yesterday"})
        assert info.value.code == "bad_request" and "sent_at" in info.value.detail
        with pytest.raises(RpcError) as info:
            await deliver({k: v for k, v in item(bob.id).items() if k != "text"})
        assert info.value.code == "bad_request" and "field 'text'" in info.value.detail
        with pytest.raises(RpcError) as info:
            await deliver(item("ef" * 32))  # for an account bob does not serve
        assert info.value.code == "not_here"

    simulate(scenario)


def _presence() -> tuple[AccountKey, Params]:
    acct, node, kp = AccountKey(), NodeKey(), kem.KemKeyPair.generate()
    now = int(time.time())
    p = Presence(acct.account_id, acct.public, "alice", node.onion, "127.0.0.1:1", kp.public, now)
    value = p.to_value(acct.certify(node.public, now).to_bytes(), sign_prekey(acct.sign, kp.public))
    return acct, unpack(value)


PRESENCE_BAD: list[tuple[str, object]] = [
    ("v", 2),
    ("v", None),
    ("name", 5),
    ("name", None),
    ("account_pub", "pub"),
    ("account_pub", AccountKey().public),  # not the owner / not the account asked for
    ("cert", b"c" * 144),
    ("cert", None),
    ("onion", NodeKey().onion),  # the certificate is for another node key
    ("addr", None),
    ("kem_pub", b"k" * 1216),  # not the key the prekey signature covers
    ("kem_sig", bytes(64)),
    ("kem_sig", 7),
    ("ts", "now"),
    ("ts", True),
]


@pytest.mark.parametrize(("name", "bad"), PRESENCE_BAD)
def test_a_bad_presence_field_is_named(name: str, bad: object) -> None:
    acct, fields = _presence()
    parse_presence(acct.account_id, acct.public, pack(fields), time.time())  # the good one
    if bad is None:
        del fields[name]
    else:
        fields[name] = bad
    with pytest.raises(PresenceError) as info:
        parse_presence(acct.account_id, acct.public, pack(fields), time.time())
    # A field that only fails together with another (onion vs cert) is named with it.
    assert f"'{name}'" in str(info.value), str(info.value)
