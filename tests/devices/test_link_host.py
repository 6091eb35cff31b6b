"""The linking host's state machine (``/link`` on the existing device) and the bundle checks,
without a network: sessions are PeerIdentity values with their own binding."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from ohtchat.api.events import LogEvent, NodeEvent
from ohtchat.app.linking import PART_SIZE, LinkHost, sas_digits
from ohtchat.app.linking_bundle import (
    BundleError,
    pack_bundle,
    parse_bundle,
    shared_config,
)
from ohtchat.commands.errors import CommandFailed
from ohtchat.crypto.keys import AccountKey, NodeKey
from ohtchat.devices import DeviceList, LinkCode, link_proof, verification_string
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import RpcError
from ohtchat.store.records import Channel, Contact
from ohtchat.wire.envelope import Fields, pack, unpack


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def session(key: NodeKey | None = None) -> PeerIdentity:
    """A peer as one session authenticated it (a fresh binding per session)."""
    key = key or NodeKey()
    cert = AccountKey().certify(key.public, int(time.time()))
    return PeerIdentity(key.onion, key.public, cert, binding=os.urandom(32))


def host_with_code() -> tuple[LinkHost, LinkCode, Clock, list[NodeEvent]]:
    events: list[NodeEvent] = []
    clock = Clock()
    host = LinkHost(events.append, now=clock)
    code = host.new_code(NodeKey().public)
    return host, code, clock, events


async def request(
    host: LinkHost, peer: PeerIdentity, code: LinkCode, proof: bytes | None = None
) -> dict[str, Any]:
    p = link_proof(code.secret, peer.binding, peer.node_public) if proof is None else proof
    params = {"node_pub": peer.node_public, "name": "laptop", "proof": p}
    return await host.handle_rpc(peer, "link_request", Fields(params))


async def fetch(host: LinkHost, peer: PeerIdentity, part: int = 0) -> dict[str, Any]:
    return await host.handle_rpc(peer, "link_fetch", Fields({"part": part}))


async def refused(coro: Any) -> str:
    with pytest.raises(RpcError) as info:
        await coro
    return info.value.code


async def test_confirmed_device_fetches_the_bundle_in_parts_then_the_code_is_gone() -> None:
    host, code, _clock, events = host_with_code()
    peer = session()
    r = await request(host, peer, code)
    assert r["status"] == "pending"
    sas = verification_string(code.secret, peer.binding)
    notice = [e for e in events if isinstance(e, LogEvent)]
    # The notice names the device but not our digits: the user must read them off the new
    # device (copying ours would make the comparison worthless).
    assert notice and "laptop" in notice[-1].text
    assert sas not in notice[-1].text and sas_digits(sas) not in notice[-1].text
    assert host.state().state == "asked"
    assert (await fetch(host, peer))["status"] == "pending"
    attempt = host.confirm(sas_digits(sas))
    assert attempt.node_public == peer.node_public and attempt.name == "laptop"
    bundle = os.urandom(PART_SIZE * 2 + 10)
    host.deliver(bundle)
    first = await fetch(host, peer)
    assert first["status"] == "linked" and first["parts"] == 3
    got = [first["data"]] + [(await fetch(host, peer, i))["data"] for i in (1, 2)]
    assert b"".join(got) == bundle
    # Handed out: nothing pending any more, the code cannot be used again.
    assert host.state().state == "none"
    assert await refused(request(host, session(), code)) == "link_none"


async def test_expired_code_is_refused() -> None:
    host, code, clock, _ = host_with_code()
    clock.t += 601
    assert await refused(request(host, session(), code)) == "link_expired"


async def test_used_code_is_refused_to_a_second_session_even_with_a_valid_proof() -> None:
    host, code, _clock, _ = host_with_code()
    await request(host, session(), code)
    assert await refused(request(host, session(), code)) == "link_used"


async def test_three_bad_proofs_void_the_code() -> None:
    host, code, _clock, _ = host_with_code()
    for _ in range(3):
        assert await refused(request(host, session(), code, b"\0" * 32)) == "link_bad_proof"
    assert await refused(request(host, session(), code)) == "link_voided"


async def test_proof_replayed_on_another_session_fails() -> None:
    host, code, _clock, _ = host_with_code()
    key = NodeKey()
    first, second = session(key), session(key)  # same device key, two sessions
    proof = link_proof(code.secret, first.binding, key.public)
    assert await refused(request(host, second, code, proof)) == "link_bad_proof"


async def test_node_key_must_be_the_sessions() -> None:
    host, _code, _clock, _ = host_with_code()
    peer = session()
    params = {"node_pub": NodeKey().public, "name": "x", "proof": b"\0" * 32}
    with pytest.raises(RpcError) as info:
        await host.handle_rpc(peer, "link_request", Fields(params))
    assert info.value.code == "link_key"


async def test_only_the_proving_session_may_fetch() -> None:
    host, code, _clock, _ = host_with_code()
    peer = session()
    assert await refused(fetch(host, peer)) == "link_session"  # no proof yet
    await request(host, peer, code)
    sas = verification_string(code.secret, peer.binding)
    host.confirm(sas)
    host.deliver(b"bundle")
    # The same key on another session (a new binding) gets nothing.
    other = PeerIdentity(peer.onion, peer.node_public, peer.cert, binding=os.urandom(32))
    assert await refused(fetch(host, other)) == "link_session"
    assert (await fetch(host, peer))["data"] == b"bundle"


async def test_wrong_digits_refuse_the_device_for_good() -> None:
    host, code, _clock, _ = host_with_code()
    peer = session()
    await request(host, peer, code)
    sas = sas_digits(verification_string(code.secret, peer.binding))
    wrong = f"{(int(sas) + 1) % 1_000_000:06d}"
    with pytest.raises(CommandFailed) as info:
        host.confirm(wrong)
    assert info.value.code == "link_sas"
    assert await refused(fetch(host, peer)) == "link_refused"
    with pytest.raises(CommandFailed):  # the right digits come too late
        host.confirm(sas)
    assert await refused(request(host, session(), code)) == "link_used"


async def test_cancel_drops_the_waiting_device() -> None:
    host, code, _clock, _ = host_with_code()
    peer = session()
    await request(host, peer, code)
    assert host.cancel()
    assert await refused(fetch(host, peer)) == "link_refused"
    assert await refused(request(host, session(), code)) == "link_none"


async def test_confirm_after_expiry_fails_and_without_request_fails() -> None:
    host, code, clock, _ = host_with_code()
    with pytest.raises(CommandFailed):
        host.confirm("123456")
    peer = session()
    await request(host, peer, code)
    clock.t += 601
    with pytest.raises(CommandFailed) as info:
        host.confirm(verification_string(code.secret, peer.binding))
    assert info.value.code == "link_expired"
    assert await refused(fetch(host, peer)) == "link_expired"


# ---------------------------------------------------------------------- bundle
def make_bundle(node: bytes, **overrides: Any) -> tuple[bytes, AccountKey]:
    key = AccountKey()
    now = int(time.time())
    devices = DeviceList(key.public).add(key.certify(node, now), "laptop", now)
    bob = AccountKey()
    contact = Contact(bob.account_id, "bob", "accepted", "1 2 3", 5.0, bob.public, ("x.onion",))
    channel = Channel("ab" * 16, "friends", (key.account_id, bob.account_id), 6.0, key.account_id)
    config = [("notify.bell", True), ("files.dir", "/home/a"), ("bootstrap", ["1.2.3.4:5"])]
    raw = pack_bundle("alice", key, 3.0, devices, [contact], [channel], config)
    if overrides:
        obj = unpack(raw)
        for path, value in overrides.items():
            target = obj
            *parents, last = path.split(".")
            for p in parents:
                target = target[int(p)] if isinstance(target, list) else target[p]
            target[last] = value
        raw = pack(obj)
    return raw, key


def test_bundle_round_trip_keeps_only_shared_settings() -> None:
    node = NodeKey().public
    raw, key = make_bundle(node)
    b = parse_bundle(raw, node, int(time.time()))
    assert b.seed == key.seed and b.name == "alice" and b.created == 3.0
    assert [c.name for c in b.contacts] == ["bob"] and b.channels[0].name == "friends"
    assert dict(b.config) == {"notify.bell": True}
    assert shared_config([("files.dir", "x"), ("tor.binary", "y"), ("ui.x", 1)]) == [("ui.x", 1)]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"account.seed": b"\1" * 32}, "not this account's list"),
        ({"account.seed": b"short"}, "'seed'"),
        ({"contacts.0.account_id": "zz"}, "'account_id'"),
        ({"contacts.0.account_public": b"\2" * 32}, "'account_public'"),
        ({"contacts.0.onions": ["a"] * 17}, "'onions'"),
        ({"channels.0.members": ["nothex"]}, "'members'"),
        ({"channels.0.channel_id": "../x"}, "'channel_id'"),
        ({"config": {"bad key!": 1}}, "config"),
        ({"v": 2}, "'v'"),
    ],
)
def test_bundle_with_a_bad_field_is_refused(override: dict[str, Any], message: str) -> None:
    node = NodeKey().public
    raw, _ = make_bundle(node, **override)
    with pytest.raises(BundleError, match=message):
        parse_bundle(raw, node, int(time.time()))


def test_bundle_for_another_device_is_refused() -> None:
    raw, _ = make_bundle(NodeKey().public)
    with pytest.raises(BundleError, match="does not name this device"):
        parse_bundle(raw, NodeKey().public, int(time.time()))
