"""Hostile holders and squatters against the DHT (issue 19, item 6), on 64 simulated nodes.

Each test builds the attack with the project's own record code, as a modified client would.
"""

from __future__ import annotations

from typing import Any

from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey, account_id
from ohtchat.dht import Record, key_location, ring_handler
from ohtchat.dht.record import bound_account
from ohtchat.sim.loop import run_virtual
from tests.dht.simdht import DhtRing, clock
from tests.dht.test_dht_ring import store_direct

ATTACKER = AccountKey(b"\x66" * 32)


def _answers_with(r: DhtRing, holder: PeerRef, rec: Record) -> None:
    """Make ``holder`` answer every fetch with ``rec`` (a validly signed record of its own)."""
    liar = r.dhts[holder.id]
    real = ring_handler(liar.chord, liar)

    async def lying(caller: PeerRef | None, method: str, params: dict[str, Any]) -> Any:
        if method == "dht_fetch":
            return {"rec": rec.to_wire()}
        return await real(caller, method, params)

    r.ring.net.set_handler(holder.address, lying)


def test_one_holder_cannot_substitute_its_own_newer_record() -> None:
    # The attacker signs a record for the same key under its own account, with a far higher
    # sequence number, and one of the k holders serves it: readers keep the real owner's.
    async def main() -> None:
        r = DhtRing(64, seed=11)
        owner, reader = r.live()[5], r.live()[30]
        res = await owner.put("handle-like", b"genuine", ttl=3600)
        squat = Record.create(ATTACKER, b"handle-like", b"attacker", 1 << 62, int(clock()) + 3600)
        _answers_with(r, res.holders[0], squat)
        rec = await reader.get("handle-like")
        assert rec is not None and rec.value == b"genuine"
        # Deleting by tombstone works the same way: the lone holder cannot resurrect or hide.
        await owner.delete("handle-like")
        assert await reader.get("handle-like") is None

    run_virtual(main())


def test_keys_bound_to_an_account_cannot_be_squatted_or_shadowed() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=12)
        victim, reader = r.live()[7], r.live()[40]
        assert victim.signer is not None
        key = f"presence:{account_id(victim.signer.public)}".encode()
        assert bound_account(key) == account_id(victim.signer.public)
        now = int(clock())
        # Before the victim ever publishes, an attacker tries to squat the key on every holder.
        squat = Record.create(ATTACKER, key, b"attacker's presence", 1, now + 3600)
        for peer in await reader.responsible(key_location(key)):
            assert await store_direct(reader, peer, squat) == "forged"
        # The victim's own record goes in; a holder serving the attacker's is ignored (counted).
        res = await victim.put(key, b"real presence", ttl=3600)
        assert res.stored_on == len(res.holders)
        _answers_with(r, res.holders[0], squat)
        rec = await reader.get(key)
        assert rec is not None and rec.value == b"real presence"
        assert reader.metrics.bad_replies >= 1

    run_virtual(main())
