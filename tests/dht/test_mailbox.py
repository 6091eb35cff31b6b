"""Mailboxes on 64 simulated nodes: any sender appends, the recipient fetches the union of
all replicas and deletes with its account key; forged deletions are refused."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from ohtchat.crypto.keys import AccountKey
from ohtchat.dht import (
    DeleteMarker,
    DhtConfig,
    QuotaExceeded,
    RecordTooLarge,
    StaleRecord,
    mailbox_id,
)
from ohtchat.dht.record import DELETE_LABEL
from ohtchat.sim.loop import run_virtual
from tests.dht.simdht import DhtRing, clock


def test_put_fetch_delete_and_forged_delete() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=11)
        nodes = r.live()
        me = nodes[7]
        acct = me.signer
        assert acct is not None
        items = [f"sealed box {i}".encode() for i in range(3)]
        for i, item in enumerate(items):
            res = await nodes[20 + i].mailbox_put(acct.account_id, item)
            assert res.stored_on == 3 and res.item_id == hashlib.sha3_256(item).digest()
        await nodes[30].mailbox_put(acct.account_id, items[0])  # a duplicate
        got = await nodes[50].mailbox_fetch(acct.account_id)
        assert got == sorted((hashlib.sha3_256(i).digest(), i) for i in items)

        ids = [iid for iid, _ in got]
        mbox = mailbox_id(acct.account_id)
        holders = [r.dhts[i] for i in r.responsible(int.from_bytes(mbox, "big"))]
        # Someone else signs a deletion: refused by every holder, counted as forged.
        thief = AccountKey(b"\x02" * 32)
        fake = DeleteMarker(mbox, ids[0], thief.public, thief.sign(DELETE_LABEL + mbox + ids[0]), 0)
        wrong_sig = DeleteMarker(mbox, ids[0], acct.public, b"\x00" * 64, 0)
        for h in holders:
            for m in (fake, wrong_sig):
                w = m.to_wire()
                w["e"] = int(clock()) + 3600
                reply = await nodes[30].chord.rpc(h.me, "dht_mbox_delete", {"dels": [w]})
                assert reply["res"] == ["forged"]
            assert h.metrics.refused["forged"] == 2
        assert len(await nodes[1].mailbox_fetch(acct.account_id)) == 3

        assert await me.mailbox_delete(acct, ids[:2]) == 3
        left = await nodes[2].mailbox_fetch(acct.account_id)
        assert left == [(ids[2], got[2][1])]
        # A deleted item cannot be delivered again.
        item0 = dict(got)[ids[0]]
        with pytest.raises(StaleRecord):
            await nodes[40].mailbox_put(acct.account_id, item0)

    run_virtual(main())


def test_deletion_reaches_a_replica_that_was_down() -> None:
    async def main() -> None:
        r = DhtRing(64, seed=12)
        nodes = r.live()
        acct = nodes[3].signer
        assert acct is not None
        res = await nodes[9].mailbox_put(acct.account_id, b"offline whisper")
        mbox = mailbox_id(acct.account_id)
        third = r.dhts[r.responsible(int.from_bytes(mbox, "big"))[2]]
        r.crash(third)
        assert await nodes[3].mailbox_delete(acct, [res.item_id]) == 2
        r.revive(third)
        # The revived replica still has the item; maintenance must not spread it back.
        assert res.item_id in third.holdings.items[mbox]
        await r.heal()
        await r.maintain_all()
        assert mbox not in third.holdings.items
        assert res.item_id in third.holdings.markers[mbox]
        assert await nodes[60].mailbox_fetch(acct.account_id) == []

    run_virtual(main())


def test_mailbox_limits_paging_and_sizes() -> None:
    async def main() -> None:
        cfg = DhtConfig(rpc_timeout=1.0, mailbox_max_items=8, mailbox_open_items=4)
        r = DhtRing(64, seed=13, config=cfg)
        nodes = r.live()
        acct = nodes[0].signer
        assert acct is not None
        big = [bytes([i]) * (60 * 1024) for i in range(4)]  # four pages' worth (> 160 KiB)
        for item in big:
            assert (await nodes[5].mailbox_put(acct.account_id, item)).stored_on == 3
        with pytest.raises(QuotaExceeded):  # the sender's share of the open pool
            await nodes[5].mailbox_put(acct.account_id, b"one too many")
        with pytest.raises(RecordTooLarge):
            await nodes[6].mailbox_put(acct.account_id, b"x" * (64 * 1024 + 1))
        got = await nodes[33].mailbox_fetch(acct.account_id)
        assert sorted(i for _, i in got) == sorted(big)
        # Items expire.
        await nodes[1].mailbox_put(nodes[1].signer.account_id, b"short", ttl=100)  # type: ignore[union-attr]
        await asyncio.sleep(200)
        assert await nodes[2].mailbox_fetch(nodes[1].signer.account_id) == []  # type: ignore[union-attr]

    run_virtual(main())


def test_a_large_mailbox_is_re_replicated_in_chunks() -> None:
    async def main() -> None:
        cfg = DhtConfig(
            rpc_timeout=1.0, mailbox_max_items=1000, mailbox_open_items=999, mailbox_key_items=999
        )
        r = DhtRing(16, seed=14, config=cfg)
        nodes = r.live()
        acct = nodes[0].signer
        assert acct is not None
        for i in range(600):  # more than one dht_have request (512 digests) holds
            await nodes[i % 16].mailbox_put(acct.account_id, f"item {i}".encode())
        mbox = mailbox_id(acct.account_id)
        loc = int.from_bytes(mbox, "big")
        first = r.dhts[r.responsible(loc)[0]]
        r.crash(first)
        await r.heal()
        await r.maintain_all()
        for pid in r.responsible(loc):
            assert len(r.dhts[pid].holdings.items[mbox]) == 600
        assert len(await nodes[5].mailbox_fetch(acct.account_id)) == 600

    run_virtual(main())
