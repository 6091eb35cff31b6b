"""File transfers between real chat nodes on virtual time: an offer travels in the ratchet and
waits in the mailbox; the bytes are pulled, resumed after the sender restarts, verified; a
lying sender ends in ``failed`` with nothing presented as done."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ohtchat.files import protocol
from ohtchat.files.records import incoming_id
from ohtchat.files.service import FileTransfers
from ohtchat.session.identity import PeerIdentity
from ohtchat.store import MessageState
from ohtchat.wire.envelope import Fields
from tests.chat.virtual import ChatNet, simulate
from tests.files.virtual_files import attach, sha256


def make_file(folder: Path, name: str, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def test_a_file_arrives_verified_and_byte_identical(tmp_path: Path) -> None:
    src = make_file(tmp_path / "alice", "photo.jpg", 1_000_003)

    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob")
        a_files = attach(alice, tmp_path / "a-in")
        b_files = attach(bob, tmp_path / "b-in")
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        assert alice.store.get_message(out.transfer_id).state is MessageState.DELIVERED
        local = incoming_id(alice.id, out.transfer_id)
        t = await net.until(lambda: b_files._transfers.get(local), "bob has the offer")
        assert (t.state, t.name, t.size) == ("offered", "photo.jpg", src.stat().st_size)
        assert bob.texts(alice.id) == ["photo.jpg"]  # shown in the conversation
        b_files.accept(t)
        await net.until(lambda: t.state == "done", "bob received the file")
        assert Path(t.path) == tmp_path / "b-in" / "photo.jpg"
        assert sha256(Path(t.path)) == sha256(src)
        assert [p.name for p in (tmp_path / "b-in").iterdir()] == ["photo.jpg"]  # no .part
        await net.until(lambda: out.state == "done", "alice hears it is done")
        states = [d["state"] for d in bob.bus.of("file") if d["id"] == local]
        assert states[0] == "offered" and states[-1] == "done" and "receiving" in states
        await a_files.stop()
        await b_files.stop()

    simulate(scenario)


def test_an_offer_to_an_offline_contact_waits_in_the_mailbox(tmp_path: Path) -> None:
    src = make_file(tmp_path / "alice", "notes.txt", 70_000)

    async def scenario(net: ChatNet) -> None:
        alice, bob, carol = await net.ring("alice", "bob", "carol")
        a_files = attach(alice, tmp_path / "a-in")
        await net.stop(bob)
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        assert alice.store.get_message(out.transfer_id).state is MessageState.QUEUED
        bob = await net.restart(bob, carol)
        b_files = attach(bob, tmp_path / "b-in")
        local = incoming_id(alice.id, out.transfer_id)
        t = await net.until(lambda: b_files._transfers.get(local), "bob picks the offer up")
        b_files.accept(t)
        await net.until(lambda: t.state == "done", "bob received the file")
        assert sha256(Path(t.path)) == sha256(src)
        await net.until(
            lambda: alice.store.get_message(out.transfer_id).state is MessageState.DELIVERED,
            "the pickup is receipted",
        )
        await a_files.stop()
        await b_files.stop()

    simulate(scenario)


def test_resume_after_the_sender_restarts(tmp_path: Path) -> None:
    src = make_file(tmp_path / "alice", "big.bin", 3 * 1024 * 1024 + 17)
    served: list[int] = []

    class Counting(FileTransfers):
        async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> Any:
            if method == protocol.FILE_GET:
                served.append(params.data["offset"])
            return await super().handle_rpc(peer, method, params)

    async def scenario(net: ChatNet) -> None:
        alice, bob, carol = await net.ring("alice", "bob", "carol")
        a_files = attach(alice, tmp_path / "a-in", rate=256 * 1024, cls=Counting)
        b_files = attach(bob, tmp_path / "b-in", checkpoint=256 * 1024)
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        local = incoming_id(alice.id, out.transfer_id)
        t = await net.until(lambda: b_files._transfers.get(local), "bob has the offer")
        b_files.accept(t)
        await net.until(lambda: t.done >= 1024 * 1024, "a third arrived")
        await a_files.stop()
        await net.stop(alice)  # the sender goes away mid-transfer
        verified = t.done
        await net.advance(30)
        assert t.state == "receiving"  # waiting for the sender, not failed
        served.clear()
        alice = await net.restart(alice, carol)
        a_files = attach(alice, tmp_path / "a-in", cls=Counting)
        await net.until(lambda: t.state == "done", "bob received the file")
        assert sha256(Path(t.path)) == sha256(src)
        # The pulls after the restart start at (about) the verified length, not at 0.
        assert min(served) >= verified - 256 * 1024 - 64 * 1024 > 0
        await a_files.stop()
        await b_files.stop()

    simulate(scenario)


class Liar(FileTransfers):
    """A sender that lies: ``mode`` says how."""

    mode = "hash"

    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> Any:
        reply = await super().handle_rpc(peer, method, params)
        if method != protocol.FILE_GET:
            return reply
        offset, data = reply["offset"], reply["data"]
        if self.mode == "hash" and offset == 0:
            data = bytes([data[0] ^ 1]) + data[1:]
        elif self.mode == "extra" and len(data) < 64 * 1024:
            data = data + b"more"  # the last chunk runs past the offered size
        elif self.mode == "order" and offset == 64 * 1024:
            offset = 0
        return {"offset": offset, "data": data}


def run_liar(tmp_path: Path, mode: str) -> str:
    src = make_file(tmp_path / "alice", "lie.bin", 200_000)
    Liar.mode = mode

    async def scenario(net: ChatNet) -> str:
        alice, bob = await net.ring("alice", "bob")
        a_files = attach(alice, tmp_path / "a-in", cls=Liar)
        b_files = attach(bob, tmp_path / "b-in")
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        local = incoming_id(alice.id, out.transfer_id)
        t = await net.until(lambda: b_files._transfers.get(local), "bob has the offer")
        b_files.accept(t)
        await net.until(lambda: t.final, "the transfer ends")
        assert t.state == "failed" and t.path == ""
        assert b_files.view(t).path == ""
        assert list((tmp_path / "b-in").iterdir()) == []  # nothing partial left or shown
        await a_files.stop()
        await b_files.stop()
        return str(t.error)

    return simulate(scenario)


def test_a_wrong_hash_fails(tmp_path: Path) -> None:
    assert run_liar(tmp_path, "hash") == "hash_mismatch"


def test_an_extra_chunk_fails(tmp_path: Path) -> None:
    assert run_liar(tmp_path, "extra") == "past_end"


def test_a_chunk_out_of_order_fails(tmp_path: Path) -> None:
    assert run_liar(tmp_path, "order") == "out_of_order"


def test_resume_after_the_receiver_restarts(tmp_path: Path) -> None:
    src = make_file(tmp_path / "alice", "big.bin", 2 * 1024 * 1024 + 5)

    async def scenario(net: ChatNet) -> None:
        alice, bob, carol = await net.ring("alice", "bob", "carol")
        a_files = attach(alice, tmp_path / "a-in", rate=256 * 1024)
        b_files = attach(bob, tmp_path / "b-in", checkpoint=256 * 1024)
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        local = incoming_id(alice.id, out.transfer_id)
        t = await net.until(lambda: b_files._transfers.get(local), "bob has the offer")
        b_files.accept(t)
        await net.until(lambda: t.done >= 600 * 1024, "some arrived")
        await b_files.stop()
        await net.stop(bob)
        bob = await net.restart(bob, carol)
        b_files = attach(bob, tmp_path / "b-in", checkpoint=256 * 1024)
        t2 = b_files._transfers[local]  # read back from the store
        assert t2.state == "receiving" and 0 < t2.done < t2.size
        await net.until(lambda: t2.state == "done", "bob resumed and received the file")
        assert sha256(Path(t2.path)) == sha256(src)
        await a_files.stop()
        await b_files.stop()

    simulate(scenario)


def test_only_the_recipient_may_pull(tmp_path: Path) -> None:
    src = make_file(tmp_path / "alice", "secret.txt", 10_000)

    async def scenario(net: ChatNet) -> None:
        alice, bob, carol = await net.ring("alice", "bob", "carol")
        a_files = attach(alice, tmp_path / "a-in")
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        params = protocol.get_params(out.transfer_id, 0, 4096)
        try:
            await carol.pool.request(alice.address, alice.onion, protocol.FILE_GET, params, 10)
        except Exception as exc:  # the sender refuses: the file was not offered to carol
            assert "unknown" in str(exc)
        else:
            raise AssertionError("carol pulled a file offered to bob")
        await a_files.stop()

    simulate(scenario)


def test_size_limit_and_quota_per_sender(tmp_path: Path) -> None:
    src = make_file(tmp_path / "alice", "f.bin", 5000)

    async def scenario(net: ChatNet) -> None:
        alice, bob = await net.ring("alice", "bob")
        a_files = attach(alice, tmp_path / "a-in")
        b_files = attach(bob, tmp_path / "b-in", max_size=4999)
        [out] = await a_files.offer_file([(bob.id, bob.id)], src)
        t = await net.until(
            lambda: b_files._transfers.get(incoming_id(alice.id, out.transfer_id)), "offer"
        )
        assert (t.state, t.error) == ("failed", "too_large")
        # The quota: 16 pending offers per sender; the 17th is refused.
        small = make_file(tmp_path / "alice", "s.bin", 10)
        outs = [o for _ in range(17) for o in await a_files.offer_file([(bob.id, bob.id)], small)]
        ids = [incoming_id(alice.id, o.transfer_id) for o in outs]
        await net.until(lambda: all(i in b_files._transfers for i in ids), "all offers")
        states = [(b_files._transfers[i].state, b_files._transfers[i].error) for i in ids]
        assert states == [("offered", "")] * 16 + [("failed", "quota")]
        await a_files.stop()
        await b_files.stop()

    simulate(scenario)
