"""Linking a device end to end on real ChatNodes over loopback TCP: ``/link`` on alice's node,
``/joinlink`` (what ``ohtchat link`` runs) on a fresh node, the digits the new device shows
confirmed on alice's, then the new node runs as alice's account with its own onion, listed in
the device list; a third node trying the same code is refused; ``/devices`` and ``/unlink``."""

from __future__ import annotations

import asyncio
import re

import pytest

from ohtchat.api.constants import LINK_TOPIC
from ohtchat.api.device_ops import JoinLink
from ohtchat.api.events import LogEvent
from ohtchat.app.node import ChatNode
from ohtchat.store.records import Contact
from tests.chat.ringnodes import PASS, RING_DEADLINE, options, start_ring
from tests.waiting import eventually

pytestmark = pytest.mark.slow


async def fresh_node(base, name: str, seed: str) -> ChatNode:
    node = await ChatNode.start(options(base / name, f"linking-{name}", [seed]), PASS)
    await node.ready(RING_DEADLINE)
    return node


async def test_link_a_device_then_list_and_unlink_it(tmp_path):
    alice, carol = await start_ring(tmp_path, ["alice", "carol"])
    nodes = [alice, carol]
    try:
        bob_contact = Contact(carol.account.account_id, "carol", "accepted", "", 1.0)
        alice.store.put_contact(bob_contact)
        laptop = await fresh_node(tmp_path, "laptop", alice.listener.address)
        nodes.append(laptop)
        mallory = await fresh_node(tmp_path, "mallory", alice.listener.address)
        nodes.append(mallory)
        laptop_onion, laptop_key = laptop.identity.onion, laptop.account.node_key.public

        shown: list[str] = []

        async def watch() -> None:
            async for event in laptop.events():
                if isinstance(event, LogEvent) and event.topic == LINK_TOPIC:
                    shown.append(event.text)

        watcher = asyncio.create_task(watch())
        r = await alice.execute("/link")
        assert r.ok, r.text
        code = r.data["code"]
        assert code.startswith("ohtchat-link:") and r.data["state"] == "waiting"

        joining = asyncio.create_task(laptop.call(JoinLink(code, "laptop")))
        await eventually(lambda: alice.linking.state().state == "asked", "the request")
        found = await eventually(
            lambda: next((m for t in shown if (m := re.search(r"\d{3} \d{3}", t))), None),
            "the digits shown on the new device",
        )
        # Someone else with the code now gets nowhere.
        stolen = await mallory.call(JoinLink(code, "evil"))
        assert not stolen.ok and stolen.code == "link_used", stolen.text
        assert not joining.done()

        ok = await alice.execute(f"/link confirm {found.group(0).replace(' ', '')}")
        assert ok.ok, ok.text
        done = await asyncio.wait_for(joining, RING_DEADLINE)
        assert done.ok, done.text
        watcher.cancel()

        # Same account, its own node key and onion.
        assert laptop.account.account_id == alice.account.account_id
        assert laptop.account.key.seed == alice.account.key.seed
        assert laptop.identity.onion == laptop_onion != alice.identity.onion
        assert [a.name for a in laptop.accounts.all()] == ["alice"]  # the throwaway is gone
        assert [c.account_id for c in laptop.store.contacts()] == [carol.account.account_id]
        for node in (alice, laptop):
            listed = {d.node_public for d in node.chat.devices.own().devices}
            assert listed == {alice.account.node_key.public, laptop_key}
        await laptop.ready(RING_DEADLINE)

        # The code is spent: trying it again is refused.
        again = await mallory.call(JoinLink(code, "evil"))
        assert not again.ok and again.code.startswith("link_"), again.text

        devs = await laptop.execute("/devices")
        assert devs.ok, devs.text
        mine = [d for d in devs.data["devices"] if d["this_device"]]
        assert [d["name"] for d in mine] == ["laptop"] and len(devs.data["devices"]) == 2

        refused = await laptop.execute("/unlink laptop")
        assert not refused.ok and refused.code == "this_device"
        gone = await alice.execute("/unlink laptop")
        assert gone.ok, gone.text
        own = alice.chat.devices.own()
        assert own.find(laptop_key) is None and own.is_revoked(laptop_key)
    finally:
        for n in nodes:
            await n.stop()
