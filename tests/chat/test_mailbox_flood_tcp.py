"""Mailbox flooding (issue 19, item 2) on real nodes over loopback TCP: an attacker node floods
an offline contact's mailbox at every holder from fresh deposit keys; the contact's offline
whispers, deposited with its ticket, still reach the recipient after its restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohtchat.app.node import ChatNode
from ohtchat.chat.tickets import held_key
from ohtchat.crypto.keys import SigningKey
from ohtchat.dht import Deposit
from tests.chat.ringnodes import PASS, RING_DEADLINE, finds, options, settle, start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow

#: Junk deposits, each from a fresh key: more than a whole mailbox (256 items).
FLOOD = 300


async def test_a_flood_from_fresh_keys_does_not_stop_a_contacts_offline_whispers(
    tmp_path: Path,
) -> None:
    nodes = await start_ring(tmp_path, ["alice", "bob", "mallory", "dave"])
    alice, bob, mallory = nodes[0], nodes[1], nodes[2]
    a_id, b_id = alice.account.account_id, bob.account.account_id
    try:
        assert (await alice.execute(f"/request {b_id} hi")).ok
        await eventually(
            lambda: any(c.account_id == a_id for c in bob.store.contacts()),
            "the request",
            RING_DEADLINE,
        )
        assert (await bob.execute(f"/add {a_id}")).ok
        await eventually(
            lambda: alice.store.get_setting(held_key(a_id, b_id)) is not None,
            "bob's ticket at alice",
            RING_DEADLINE,
        )
        await bob.stop()
        await settle([n for n in nodes if n is not bob])
        await eventually(
            lambda: finds(alice, b_id, bob.identity.onion), "bob's presence", RING_DEADLINE
        )
        for i in range(FLOOD):
            await mallory.dht.mailbox_put(b_id, b"junk %d" % i, deposit=Deposit(SigningKey()))
        sent = [(await alice.execute(f"/whisper {b_id} offline {i}")).data for i in range(2)]
        assert [s["state"] for s in sent] == ["queued", "queued"]
        bob2 = await ChatNode.start(
            options(tmp_path / "bob", "bob", [alice.listener.address]), PASS
        )
        nodes[1] = bob2
        await bob2.ready(RING_DEADLINE)

        async def both() -> bool:
            h = await bob2.execute(f"/history {a_id}")
            texts = {m["text"] for m in h.data["messages"]}
            return {"offline 0", "offline 1"} <= texts

        await eventually(both, "both offline whispers picked up", RING_DEADLINE)
    finally:
        for n in nodes:
            await n.stop()
