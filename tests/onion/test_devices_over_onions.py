"""Two devices of one account over onion services on the private Tor network: the new device
links to the first over its onion, then bob's whisper shows on both devices, the new device's
whisper shows in the first one's history, and after ``/unlink`` only the first gets bob's next
whisper."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ohtchat.app.node import ChatNode
from ohtchat.tor.testnet import Testnet
from tests.devices.linking import link_device
from tests.devices.test_devices_tcp import texts
from tests.onionring import onion_options
from tests.waiting import eventually

pytestmark = [pytest.mark.tor, pytest.mark.slow]

DEADLINE = 240.0


async def test_two_devices_over_onions(testnet: Testnet, tmp_path: Path) -> None:
    hub = await ChatNode.start(onion_options(testnet, "hub", []), "")
    nodes = [hub]
    try:
        await hub.ready(120)
        seed = [hub.identity.onion]
        a1, bob, a2 = await asyncio.gather(
            ChatNode.start(onion_options(testnet, "alice", seed), ""),
            ChatNode.start(onion_options(testnet, "bob", seed), ""),
            ChatNode.start(onion_options(testnet, "linking-laptop", seed), ""),
        )
        nodes += [a1, bob, a2]
        await asyncio.gather(a1.ready(180), bob.ready(180), a2.ready(180))
        a_id, b_id = a1.account.account_id, bob.account.account_id

        await link_device(a1, a2, "laptop")  # dials a1's onion, proves the code, adopts
        assert a2.account.account_id == a_id and a2.identity.onion != a1.identity.onion

        async def bob_sees_both() -> bool:
            return len(await bob.chat.devices.presences(a_id, fresh=True)) == 2

        await eventually(bob_sees_both, "bob finds both of alice's devices", DEADLINE, 1.0)
        sent = await bob.execute(f"/whisper {a_id} hello both")
        assert sent.ok and sent.data["state"] == "delivered", sent.text
        await eventually(lambda: "hello both" in texts(a1, b_id), "A1 has it", DEADLINE)
        await eventually(lambda: "hello both" in texts(a2, b_id), "A2 has it", DEADLINE)

        reply = await a2.execute(f"/whisper {b_id} from the laptop")
        assert reply.ok and reply.data["state"] == "delivered", reply.text
        await eventually(lambda: "from the laptop" in texts(a1, b_id), "A1 synced", DEADLINE)

        assert (await a1.execute("/unlink laptop")).ok
        gone = a2.account.node_key.public

        async def bob_dropped_a2() -> bool:
            listed = await bob.chat.devices.current(a_id, fresh=True)
            return listed.is_revoked(gone)

        await eventually(bob_dropped_a2, "bob reads the list without A2", DEADLINE, 1.0)
        after = await bob.execute(f"/whisper {a_id} only for A1")
        assert after.ok and after.data["state"] == "delivered", after.text
        await eventually(lambda: "only for A1" in texts(a1, b_id), "A1 has it", DEADLINE)
        assert "only for A1" not in texts(a2, b_id)
    finally:
        for n in nodes:
            await n.stop()
