"""Issue 16's "done when", end to end on real nodes over loopback TCP: with devices A1 and A2
linked to one account and a contact B, B's whisper shows on A1 and A2; a whisper sent from A2
shows in A1's history; after ``/unlink`` A2, B's next whisper reaches A1 only."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohtchat.app.node import ChatNode
from tests.chat.ringnodes import PASS, RING_DEADLINE, options, start_ring
from tests.devices.linking import link_device
from tests.waiting import eventually

pytestmark = pytest.mark.slow


def texts(node: ChatNode, conversation: str) -> list[str]:
    """The texts of a conversation on ``node``, oldest first."""
    return [m.text for m in node.store.history(conversation, limit=100)]


async def test_two_devices_one_account_whispers_sync_and_unlink(tmp_path: Path) -> None:
    a1, bob = await start_ring(tmp_path, ["alice", "bob"])
    nodes = [a1, bob]
    try:
        a_id, b_id = a1.account.account_id, bob.account.account_id
        # Contacts both ways (so alice tells bob when her devices change).
        assert (await bob.execute(f"/add {a_id}")).ok
        await eventually(lambda: a_id in {c.account_id for c in bob.store.contacts()}, "req")
        await eventually(
            lambda: b_id in {c.account_id for c in a1.store.contacts()}, "alice sees bob"
        )
        assert (await a1.execute(f"/add {b_id}")).ok

        opts = options(tmp_path / "laptop", "linking-laptop", [a1.listener.address])
        a2 = await ChatNode.start(opts, PASS)
        nodes.append(a2)
        await a2.ready(RING_DEADLINE)
        await link_device(a1, a2, "laptop")
        assert a2.account.account_id == a_id and a2.identity.onion != a1.identity.onion
        a2_key = a2.account.node_key.public

        async def bob_sees_both() -> bool:
            listed = await bob.chat.devices.current(a_id, fresh=True)
            return len(listed.devices) == 2 and len(await bob.chat.devices.presences(a_id)) == 2

        await eventually(bob_sees_both, "bob finds both of alice's devices", RING_DEADLINE)

        # B's whisper shows on A1 and A2.
        sent = await bob.execute(f"/whisper {a_id} hello both")
        assert sent.ok and sent.data["state"] == "delivered", sent.text
        # receipts per device: both devices receipted it
        both = {f"{a1.identity.node_id:064x}", f"{a2.identity.node_id:064x}"}
        assert set(sent.data["devices"]) == both and "2 devices" in sent.text
        await eventually(lambda: "hello both" in texts(a1, b_id), "A1 has bob's whisper")
        await eventually(lambda: "hello both" in texts(a2, b_id), "A2 has bob's whisper")

        # A whisper sent from A2 shows in A1's history (as alice's own message).
        reply = await a2.execute(f"/whisper {b_id} sent from the laptop")
        assert reply.ok and reply.data["state"] == "delivered", reply.text
        await eventually(lambda: "sent from the laptop" in texts(bob, a_id), "bob has it")
        await eventually(lambda: "sent from the laptop" in texts(a1, b_id), "A1 shows A2's message")
        mine = [m for m in a1.store.history(b_id, limit=100) if m.text == "sent from the laptop"]
        assert [m.sender for m in mine] == [a_id]

        # After /unlink A2, B's next whisper reaches A1 only.
        gone = await a1.execute("/unlink laptop")
        assert gone.ok, gone.text
        await eventually(lambda: bob.chat.devices.revoked(a_id, a2_key), "bob saw the unlink")
        await eventually(lambda: a2.chat.devices.unlinked, "A2 learnt it was unlinked")
        after = await bob.execute(f"/whisper {a_id} only for A1")
        assert after.ok and after.data["state"] == "delivered", after.text
        await eventually(lambda: "only for A1" in texts(a1, b_id), "A1 has it")
        # bob's delivery has ended (the command returned): nothing went to A2, directly or
        # into the mailbox; and A2 can no longer send as alice.
        assert "only for A1" not in texts(a2, b_id)
        assert bob.chat.delivery.receipts[after.data["msg_id"]] == (f"{a1.identity.node_id:064x}",)
        refused = await a2.execute(f"/whisper {b_id} still here?")
        assert refused.data["state"] == "failed", refused.text
    finally:
        for n in nodes:
            await n.stop()
