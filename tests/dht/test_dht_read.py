"""A DHT read returns once a majority of holders agree, without waiting for the slowest one,
and a single lying holder still cannot replace or hide a record (issue 14, DHT get latency)."""

from __future__ import annotations

import asyncio
from typing import Any

from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import Record, ring_handler
from ohtchat.dht.quorum import Mark, decide
from ohtchat.sim.loop import run_virtual
from tests.dht.simdht import DhtRing, clock

ALICE = AccountKey(b"\x11" * 32)
MALLORY = AccountKey(b"\x66" * 32)


def _rec(who: AccountKey, seq: int, value: bytes = b"v") -> Record:
    return Record.create(who, b"key", value, seq, 2_000_000_000)


def test_decide_settles_on_a_strict_majority_of_the_same_version() -> None:
    a1, a2, m = _rec(ALICE, 1), _rec(ALICE, 2), _rec(MALLORY, 1 << 62)
    p, e, f = Mark.PENDING, Mark.EMPTY, Mark.FAILED
    assert decide([a2, a2, p]) == (True, a2)
    # Absence is believed only from every holder (new holders are empty until maintenance).
    assert decide([e, e, p]) == (False, None)
    assert decide([e, e, e]) == (True, None)
    assert decide([p, p, p]) == (False, None)
    # One voice is never a majority of three, whatever it says.
    assert not decide([m, p, p])[0]
    assert not decide([a2, p, p])[0]
    assert not decide([e, p, p])[0]
    # Disagreement waits: a liar against an honest holder, or two versions.
    assert decide([m, a2, p]) == (False, m)  # (the tie goes to the nearest, for now)
    assert not decide([a1, a2, p])[0]
    assert not decide([f, a2, p])[0]
    assert not decide([e, a2, p])[0]
    # Every holder answered: the full owner-quorum rule, as before.
    assert decide([m, a2, a1]) == (True, a2)
    assert decide([m, e, f]) == (True, m)
    assert decide([f, f, f]) == (True, None)
    # Two holders (a small ring): both must agree.
    assert not decide([a2, p])[0]
    assert decide([a2, a2]) == (True, a2)


class Slow:
    """Make a holder's ``dht_fetch`` hang until :meth:`release`; tracks whether one hangs."""

    def __init__(self, r: DhtRing, holder: PeerRef) -> None:
        self.gate = asyncio.Event()
        self.in_flight = 0
        node = r.dhts[holder.id]
        real = ring_handler(node.chord, node)

        async def slow(caller: PeerRef | None, method: str, params: dict[str, Any]) -> Any:
            if method != "dht_fetch":
                return await real(caller, method, params)
            self.in_flight += 1
            try:
                await self.gate.wait()
            finally:
                self.in_flight -= 1
            return await real(caller, method, params)

        r.ring.net.set_handler(holder.address, slow)

    def release(self) -> None:
        """Let the held calls answer."""
        self.gate.set()


def test_a_slow_holder_does_not_delay_the_get() -> None:
    async def main() -> None:
        r = DhtRing(32, seed=21)
        owner, reader = r.live()[3], r.live()[20]
        res = await owner.put("slow-key", b"value", ttl=3600)
        assert res.stored_on == 3
        slow = Slow(r, res.holders[0])
        rec = await reader.get("slow-key")
        assert rec is not None and rec.value == b"value"
        # Answered by the two others while the nearest holder still holds its reply (before,
        # the read waited for it until the call's timeout).
        assert slow.in_flight == 1
        slow.release()

    run_virtual(main())


def test_a_liar_cannot_win_while_an_honest_holder_is_slow() -> None:
    # One holder serves the attacker's record at once, one honest holder is slow: the fast
    # honest holder and the liar disagree, so the read waits for the slow one and keeps the
    # real owner's record.
    async def main() -> None:
        r = DhtRing(32, seed=22)
        owner, reader = r.live()[4], r.live()[25]
        res = await owner.put("contested", b"genuine", ttl=3600)
        assert res.stored_on == 3
        squat = Record.create(MALLORY, b"contested", b"attacker", 1 << 62, int(clock()) + 3600)
        liar = r.dhts[res.holders[0].id]
        real = ring_handler(liar.chord, liar)

        async def lying(caller: PeerRef | None, method: str, params: dict[str, Any]) -> Any:
            if method == "dht_fetch":
                return {"rec": squat.to_wire()}
            return await real(caller, method, params)

        r.ring.net.set_handler(res.holders[0].address, lying)
        slow = Slow(r, res.holders[2])
        get = asyncio.ensure_future(reader.get("contested"))
        while slow.in_flight == 0:  # (the slow holder has been asked)
            await asyncio.sleep(0.01)
        # Virtual time, well past the replies of the two others (latency ≤ 0.05 s each way)
        # and before the slow call's timeout (1 s).
        await asyncio.sleep(0.5)
        assert not get.done()
        slow.release()
        rec = await get
        assert rec is not None and rec.value == b"genuine"

    run_virtual(main())
