"""The signed device list: adding, revoking (for good), expiry, and every malformed field
refused with a message naming it."""

from __future__ import annotations

import pytest

from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.devices import MAX_DEVICES, DeviceError, DeviceList
from ohtchat.wire.envelope import pack, unpack

NOW = 1_700_000_000


def listed(account: AccountKey, *nodes: NodeKey) -> DeviceList:
    devices = DeviceList(account.public)
    for i, node in enumerate(nodes):
        devices = devices.add(account.certify(node.public, NOW), f"device {i}", NOW)
    return devices


def test_add_revoke_and_read_back() -> None:
    account, a1, a2 = AccountKey(), NodeKey(), NodeKey()
    devices = listed(account, a1, a2)
    back = DeviceList.from_value(account.public, devices.to_value())
    assert back == devices
    assert back.speaks_for(a1.public, NOW) and back.speaks_for(a2.public, NOW)
    unlinked = back.revoke(a2.public)
    assert not unlinked.speaks_for(a2.public, NOW) and unlinked.is_revoked(a2.public)
    assert DeviceList.from_value(account.public, unlinked.to_value()) == unlinked
    # A revoked key cannot be linked again, even with a fresh certificate.
    with pytest.raises(DeviceError, match="revoked"):
        unlinked.add(account.certify(a2.public, NOW + 10), "again", NOW + 10)
    with pytest.raises(DeviceError, match="no such device"):
        unlinked.revoke(a2.public)


def test_expired_certificates_stay_listed_but_do_not_speak() -> None:
    account, node = AccountKey(), NodeKey()
    cert = account.certify(node.public, NOW, lifetime=100)
    devices = DeviceList(account.public).add(cert, "old", NOW)
    back = DeviceList.from_value(account.public, devices.to_value())
    assert back.speaks_for(node.public, NOW + 100)
    assert not back.speaks_for(node.public, NOW + 101)


def test_another_accounts_certificate_is_refused() -> None:
    mine, theirs, node = AccountKey(), AccountKey(), NodeKey()
    foreign = theirs.certify(node.public, NOW)
    with pytest.raises(DeviceError, match="another account"):
        DeviceList(mine.public).add(foreign, "x", NOW)
    smuggled = pack(
        {"v": 1, "devices": [{"cert": foreign.to_bytes(), "name": "x", "added": 1}], "revoked": []}
    )
    with pytest.raises(DeviceError, match="another account"):
        DeviceList.from_value(mine.public, smuggled)


def test_a_forged_certificate_is_refused() -> None:
    account, node = AccountKey(), NodeKey()
    value = unpack(listed(account, node).to_value())
    cert = bytearray(value["devices"][0]["cert"])
    cert[-1] ^= 1
    value["devices"][0]["cert"] = bytes(cert)
    with pytest.raises(DeviceError, match="does not verify"):
        DeviceList.from_value(account.public, pack(value))


def test_at_most_max_devices() -> None:
    account = AccountKey()
    devices = listed(account, *(NodeKey() for _ in range(MAX_DEVICES)))
    with pytest.raises(DeviceError, match="at most"):
        devices.add(account.certify(NodeKey().public, NOW), "one more", NOW)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda v: {**v, "v": 2}, "'v'"),
        (lambda v: {**v, "v": True}, "'v'"),
        (lambda v: {**v, "devices": "x"}, "'devices'"),
        (lambda v: {**v, "devices": v["devices"] * (MAX_DEVICES + 1)}, "'devices'"),
        (lambda v: {**v, "revoked": [b"short"]}, "'revoked'"),
        (lambda v: {**v, "devices": [{**v["devices"][0], "cert": b"x"}]}, "'cert'"),
        (lambda v: {**v, "devices": [{**v["devices"][0], "name": 5}]}, "'name'"),
        (lambda v: {**v, "devices": [{**v["devices"][0], "added": -1}]}, "'added'"),
        (lambda v: {**v, "devices": v["devices"] * 2}, "twice"),
        (lambda v: {**v, "revoked": [v["devices"][0]["cert"][32:64]]}, "both"),
    ],
)
def test_malformed_lists_name_the_field(mutate: object, message: str) -> None:
    account, node = AccountKey(), NodeKey()
    value = unpack(listed(account, node).to_value())
    assert callable(mutate)
    with pytest.raises(DeviceError, match=message):
        DeviceList.from_value(account.public, pack(mutate(value)))


def test_not_msgpack() -> None:
    with pytest.raises(DeviceError, match="msgpack"):
        DeviceList.from_value(AccountKey().public, b"\xc1")
