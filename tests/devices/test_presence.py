"""Device presence: signed by the device's own node key, checked against its certificate and
the account's device list; the DHT lets nobody else write it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ohtchat.crypto.kem import KemKeyPair
from ohtchat.crypto.keys import AccountKey, NodeKey, account_id
from ohtchat.devices import DeviceError, DeviceList, DevicePresence, device_presence_key
from ohtchat.devices.presence import prekey_message
from ohtchat.dht.errors import ForgedRecord
from ohtchat.dht.record import Record
from ohtchat.wire.envelope import pack, unpack

NOW = 1_700_000_000
KEM = KemKeyPair.generate().public


def presence(account: AccountKey, node: NodeKey, signer: NodeKey | None = None) -> DevicePresence:
    cert = account.certify(node.public, NOW)
    sig = (signer or node).sign(prekey_message(KEM))
    return DevicePresence(
        account.account_id, node.public, cert, "laptop", node.onion, "", KEM, sig, NOW
    )


def setup() -> tuple[AccountKey, NodeKey, DeviceList]:
    account, node = AccountKey(), NodeKey()
    devices = DeviceList(account.public).add(account.certify(node.public, NOW), "laptop", NOW)
    return account, node, devices


def test_a_listed_device_presence_round_trips() -> None:
    account, node, devices = setup()
    mine = presence(account, node)
    got = DevicePresence.from_value(account.account_id, node.public, mine.to_value(), devices, NOW)
    assert got == mine


def test_only_the_device_key_can_write_its_presence_key() -> None:
    account, node, _ = setup()
    key = device_presence_key(account.account_id, node.public)
    assert key.decode().split(":")[1:] == [account.account_id, account_id(node.public)]
    Record.create(node, key, b"x", 1, NOW + 60).verify()
    for other in (account, NodeKey()):
        with pytest.raises(ForgedRecord):
            Record.create(other, key, b"x", 1, NOW + 60).verify()


def test_revoked_and_unlisted_devices_have_no_presence() -> None:
    account, node, devices = setup()
    value = presence(account, node).to_value()
    with pytest.raises(DeviceError, match="device revoked"):
        DevicePresence.from_value(
            account.account_id, node.public, value, devices.revoke(node.public), NOW
        )
    stranger = NodeKey()  # certified by the account, but never linked
    with pytest.raises(DeviceError, match="not in the account's device list"):
        DevicePresence.from_value(
            account.account_id,
            stranger.public,
            presence(account, stranger).to_value(),
            devices,
            NOW,
        )


def test_forgeries_are_refused_naming_the_field() -> None:
    account, node, devices = setup()
    acct = account.account_id
    good = presence(account, node)
    cases = [
        # The prekey signed by someone else than the device.
        (presence(account, node, signer=NodeKey()).to_value(), node.public, "'kem_sig'"),
        # A certificate of another account.
        (
            replace(good, cert=AccountKey().certify(node.public, NOW)).to_value(),
            node.public,
            "another account",
        ),
        # Another node's record carrying this device's certificate.
        (good.to_value(), NodeKey().public, "'cert'"),
        # An address that is not the signer's.
        (replace(good, onion=NodeKey().onion).to_value(), node.public, "'onion'"),
    ]
    for value, owner, message in cases:
        with pytest.raises(DeviceError, match=message):
            DevicePresence.from_value(acct, owner, value, devices, NOW)
    fields = unpack(good.to_value())
    for name, bad in (("v", 2), ("ts", True), ("kem_pub", "x"), ("cert", b"short")):
        with pytest.raises(DeviceError, match=repr(name)):
            DevicePresence.from_value(acct, node.public, pack({**fields, name: bad}), devices, NOW)
    with pytest.raises(DeviceError, match="expired"):
        DevicePresence.from_value(acct, node.public, good.to_value(), devices, NOW + 10**9)
