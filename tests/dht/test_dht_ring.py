"""The DHT on 64 simulated nodes under virtual time: placement, reads from everywhere,
failures, refusals, ownership, tombstones, hand-off on join, republish."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ohtchat.chord.rpc import PeerRef
from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import (
    Dht,
    DhtConfig,
    NotOwner,
    Record,
    RecordTooLarge,
    key_location,
    ring_handler,
)
from ohtchat.sim.loop import run_virtual
from tests.dht.simdht import DhtRing, clock
from tests.waiting import eventually


async def store_direct(src: Dht, peer: PeerRef, rec: Record) -> str | None:
    """Send one record straight to a holder (bypassing the client's own checks)."""
    reply = await src.chord.rpc(peer, "dht_store", {"recs": [rec.to_wire()]})
    res = reply["res"]
    assert isinstance(res, list) and len(res) == 1
    return res[0]


def test_put_and_get_from_every_node() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=1)
        nodes = r.live()
        for i, d in enumerate(nodes):
            res = await d.put(f"key-{i}", f"value-{i}".encode(), ttl=3600)
            assert res.stored_on == 3
            # Stored exactly on the key's successor and the next k-1 nodes.
            want = r.responsible(key_location(f"key-{i}".encode()))
            assert [p.id for p in res.holders] == want
            assert r.holders(f"key-{i}".encode()) == set(want)
        for i, d in enumerate(nodes):
            for j in (i, (i + 1) % 64, (i + 17) % 64, (i * 7 + 3) % 64):
                rec = await d.get(f"key-{j}")
                assert rec is not None and rec.value == f"value-{j}".encode()
                assert rec.owner == nodes[j].signer.public  # type: ignore[union-attr]
            assert await d.get(f"missing-{i}") is None

    run_virtual(main())


def test_record_survives_crash_of_k_minus_1_holders() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=2)
        writer = r.live()[5]
        keys = [f"durable-{i}".encode() for i in range(6)]
        for k in keys:
            await writer.put(k, b"v-" + k, ttl=3600)
        holders = {k: [p for p in r.responsible(key_location(k))] for k in keys}
        # Crash two of the three holders of every key (without notice).
        victims = {i for k in keys for i in holders[k][:2]} - {writer.me.id}
        for v in victims:
            r.crash(r.dhts[v])
        await r.heal()
        await r.maintain_all()
        for k in keys:
            assert r.holders(k) == set(r.responsible(key_location(k))), "not re-replicated"
        # Now the last original holder may go too: the new replicas carry the record.
        for k in keys:
            last = holders[k][2]
            if last != writer.me.id and last in r.ring.sorted_ids():
                r.crash(r.dhts[last])
        await r.heal()
        reader = r.live()[0]
        for k in keys:
            rec = await reader.get(k)
            assert rec is not None and rec.value == b"v-" + k

    run_virtual(main())


def test_forged_replayed_oversized_expired_future_records_are_refused() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=3, config=DhtConfig(rpc_timeout=1.0, max_value=1024))
        a, b = r.live()[0], r.live()[1]
        acct = a.signer
        assert acct is not None
        res = await a.put("mine", b"v2", ttl=3600)
        holder = res.holders[0]
        hdht = r.dhts[holder.id]
        now = int(clock())
        newest = await b.get("mine")
        assert newest is not None
        seq = newest.seq

        good = Record.create(acct, b"mine", b"v3", seq + 1, now + 3600)
        forged = Record(b"mine", b"evil", acct.public, seq + 2, now + 3600, False, good.signature)
        assert await store_direct(b, holder, forged) == "forged"
        replay = Record.create(acct, b"mine", b"old", seq - 1, now + 3600)
        assert await store_direct(b, holder, replay) == "stale"
        same_seq = Record.create(acct, b"mine", b"other", seq, now + 3600)
        assert await store_direct(b, holder, same_seq) == "stale"
        big = Record.create(acct, b"mine", b"x" * 2000, seq + 3, now + 3600)
        assert await store_direct(b, holder, big) == "too_large"
        old = Record.create(acct, b"mine", b"v", seq + 4, now - 1)
        assert await store_direct(b, holder, old) == "expired"
        far = Record.create(acct, b"mine", b"v", seq + 5, now + 30 * 24 * 3600)
        assert await store_direct(b, holder, far) == "future"
        thief = AccountKey(b"\x01" * 32)
        stolen = Record.create(thief, b"mine", b"mine now", seq + 6, now + 3600)
        assert await store_direct(b, holder, stolen) == "not_owner"
        for code in ("forged", "stale", "too_large", "expired", "future", "not_owner"):
            assert hdht.metrics.refused[code] >= 1, code
        assert hdht.metrics.refused["stale"] == 2
        # None of this changed what readers see.
        rec = await r.live()[9].get("mine")
        assert rec is not None and rec.value == b"v2" and rec.seq == seq
        # The client refuses oversized values itself, and another account cannot write.
        with pytest.raises(RecordTooLarge):
            await a.put("mine", b"x" * 2000)
        with pytest.raises(NotOwner):
            await b.put("mine", b"hijack")
        # The owner can overwrite (newer seq wins).
        await a.put("mine", b"v4", ttl=3600)
        rec = await b.get("mine")
        assert rec is not None and rec.value == b"v4" and rec.seq > seq

    run_virtual(main())


def test_reader_ignores_a_forging_replica_and_takes_the_newest() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=4)
        a = r.live()[3]
        res = await a.put("contested", b"genuine", ttl=3600)
        liar = r.dhts[res.holders[0].id]
        real = ring_handler(liar.chord, liar)

        async def lying(caller: PeerRef | None, method: str, params: dict[str, Any]) -> Any:
            reply = await real(caller, method, params)
            if method == "dht_fetch" and reply.get("rec"):
                rec = dict(reply["rec"])
                rec["v"], rec["s"] = b"tampered", rec["s"] + 1000  # newer-looking, bad sig
                return {"rec": rec}
            return reply

        r.ring.net.set_handler(liar.me.address, lying)
        reader = r.live()[40]
        rec = await reader.get("contested")
        assert rec is not None and rec.value == b"genuine"
        # (the read may settle on the two honest holders before the liar's reply is checked)
        await eventually(lambda: reader.metrics.bad_replies == 1, "the forged reply counted")

    run_virtual(main())


def test_tombstones_delete_and_block_older_versions() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=5)
        a, b = r.live()[10], r.live()[50]
        await a.put("temp", b"one", ttl=3600)
        first = await b.get("temp")
        assert first is not None
        with pytest.raises(NotOwner):
            await b.delete("temp")  # not b's record
        assert await a.delete("temp") == 3
        assert await b.get("temp") is None
        tomb = r.dhts[r.responsible(key_location(b"temp"))[0]].holdings.records[b"temp"]
        assert tomb.tombstone and tomb.value == b"" and tomb.seq > first.seq
        # Re-sending the old record (a replay) does not resurrect it.
        for pid in r.responsible(key_location(b"temp")):
            peer = r.dhts[pid].me
            assert await store_direct(b, peer, first) == "stale"
        assert await b.get("temp") is None
        # Ownership survives the deletion; the owner may write again.
        with pytest.raises(NotOwner):
            await b.put("temp", b"squat")
        await a.put("temp", b"two", ttl=3600)
        again = await b.get("temp")
        assert again is not None and again.value == b"two"

    run_virtual(main())


def test_hand_off_on_join_moves_records_to_the_new_node() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=6)
        newcomer = r.ring.new_node()  # not in the ring yet: find a key it will own
        ids = r.ring.sorted_ids()
        pred = max((i for i in ids if i < newcomer.me.id), default=ids[-1])
        key = r.owner_arc_key(newcomer.me.id, pred)
        writer = r.live()[0]
        await writer.put(key, b"moves", ttl=3600)
        before = set(r.responsible(key_location(key)))
        assert r.holders(key) == before
        # Maintenance runs on timers (virtual time); the newcomer joins, the ring settles.
        for d in r.live():
            d.start()
        ndht = r.attach(newcomer)
        ndht.start()
        await newcomer.join(r.live()[1].chord.me)
        assert await r.ring.rounds_until(True, 20) is not None
        after = r.responsible(key_location(key))
        assert after[0] == newcomer.me.id
        # The successor saw its predecessor change and handed over early, well before
        # any periodic pass (those come after maintain_interval·(1 - jitter) = 45 s).
        await asyncio.sleep(2 * r.config.handoff_poll * (1 + r.config.jitter))
        assert key in ndht.holdings.records
        await asyncio.sleep(3 * r.config.maintain_interval)
        assert r.holders(key) == set(after), "old third replica should have handed off"
        dropped = (before - set(after)).pop()
        assert r.dhts[dropped].metrics.handed_off >= 1
        rec = await r.live()[30].get(key)
        assert rec is not None and rec.value == b"moves"
        await r.stop()

    run_virtual(main())


def test_owner_republishes_before_expiry_and_forgotten_records_expire() -> None:
    async def main() -> None:
        cfg = DhtConfig(rpc_timeout=1.0, maintain_interval=60.0, max_ttl=7200, default_ttl=600)
        r = DhtRing(64, seed=7, config=cfg)
        a, b = r.live()[20], r.live()[21]
        first = await a.put("alive", b"kept", ttl=600)
        await b.put("orphan", b"lost", ttl=600)
        b.own.clear()  # b forgets it wrote the record: nobody republishes it
        for d in r.live():
            d.start()
        await asyncio.sleep(2000)  # more than three lifetimes of the record
        rec = await r.live()[0].get("alive")
        assert rec is not None and rec.value == b"kept" and rec.seq > first.seq
        assert a.metrics.republished >= 3
        assert await r.live()[0].get("orphan") is None
        assert sum(d.metrics.purged for d in r.live()) >= 3
        assert not r.holders(b"orphan")
        await r.stop()

    run_virtual(main())
