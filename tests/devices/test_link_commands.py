"""The Devices commands on one in-memory node: /link and its actions, /devices, /unlink and
/joinlink refusals (the whole flow between two nodes: test_link_tcp.py)."""

from __future__ import annotations

from tests.app.nodes import memory_ring


async def test_link_actions_devices_and_refusals() -> None:
    async with memory_ring(["alice"]) as (alice,):
        none = await alice.execute("/link status")
        assert none.ok and none.data["state"] == "none"
        made = await alice.execute("/link")
        assert made.ok and made.data["code"] in made.text
        assert (await alice.execute("/link status")).data["state"] == "waiting"
        early = await alice.execute("/link confirm 123456")
        assert not early.ok and early.code == "link_none"
        cancelled = await alice.execute("/link cancel")
        assert cancelled.ok and cancelled.data["state"] == "none"

        devices = await alice.execute("/devices")
        assert devices.ok and devices.data["revoked"] == 0
        [me] = devices.data["devices"]
        assert me["this_device"] and me["node_id"] == f"{alice.identity.node_id:064x}"
        assert me["node_id"][:8] in devices.text
        mine = await alice.execute(f"/unlink {me['node_id'][:8]}")
        assert not mine.ok and mine.code == "this_device"
        unknown = await alice.execute("/unlink nosuchdevice")
        assert not unknown.ok and unknown.code == "not_found"

        bad = await alice.execute("/joinlink ohtchat-link:notacode")
        assert not bad.ok and bad.code == "link_code"
        own = await alice.execute(f"/joinlink {made.data['code']}")
        assert not own.ok and own.code == "link_code"  # a code of this very device
