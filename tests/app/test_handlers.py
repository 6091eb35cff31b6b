"""The node's handlers on real in-memory nodes: one reference rule in every command, the
explicit conversation, and a context made per call (the current stack after /newonions)."""

from __future__ import annotations

from ohtchat.api.views import MessageList, StatusView
from tests.app.nodes import RING_DEADLINE, memory_ring, settle


async def test_every_command_resolves_references_alike() -> None:
    async with memory_ring(["alice", "bob"]) as (alice, bob):
        b_id = bob.account.account_id
        assert (await alice.execute(f"/request {b_id} hi")).ok  # bob becomes contact "bob"
        cid = (await alice.execute("/channel club")).data["channel_id"]
        # The contact by name, by prefix (any case, 0x) and by id, in several commands.
        for ref in ("bob", "BOB", f"0x{b_id[:6].upper()}", b_id):
            w = await alice.execute(f"/whisper {ref} hi")
            assert w.ok and w.data["conversation"] == b_id, (ref, w.text)
            h = await alice.execute(f"/history {ref}")
            assert h.data["conversation"] == b_id, ref
        assert (await alice.execute(f"/history {cid[:6]}")).data["conversation"] == cid
        assert (await alice.execute("/channelcast club hi")).data["conversation"] == cid
        # Unknown and wrong-kind references fail with the scope's message.
        nobody = await alice.execute("/whisper nobody hi")
        assert nobody.data["error"] == "not_found"
        assert "no single contact matches 'nobody'" in nobody.text
        assert "no channel 'bob'" in (await alice.execute("/leave bob")).text
        assert "no channel 'bob'" in (await alice.execute("/channelcast bob hi")).text
        # A channel called like a contact: plain text cannot tell, /whisper and /leave can.
        other = (await alice.execute("/channel bob")).data["channel_id"]
        ambiguous = await alice.execute("hi", conversation="bob")
        assert ambiguous.data["error"] == "ambiguous", ambiguous.text
        assert {c["id"] for c in ambiguous.data["candidates"]} == {b_id, other}
        assert (await alice.execute("/whisper bob hi")).data["conversation"] == b_id
        assert (await alice.execute("/leave bob")).data["channel_id"] == other
        # /rm takes contacts only; then the name is gone.
        assert (await alice.execute("/rm bob")).data["account_id"] == b_id
        assert (await alice.execute("/rm bob")).data["error"] == "not_found"


async def test_account_commands_take_local_and_remote_references() -> None:
    async with memory_ring(["alice", "bob"]) as (alice, bob):
        a_id = alice.account.account_id
        assert (await bob.execute(f"/add {a_id}")).ok  # alice is bob's contact "alice"
        signed = await alice.execute("/sign alice I wrote this")  # a local account by name
        sig = signed.data["signature"]
        assert (await bob.execute(f"/verify alice I wrote this {sig}")).data["valid"]
        assert (await alice.execute(f"/verify {a_id[:8]} I wrote this {sig}")).data["valid"]
        ct = (await bob.execute("/encrypt alice for alice only")).data["ciphertext"]
        assert (await alice.execute(f"/decrypt {a_id[:5]} {ct}")).data["plaintext"] == (
            "for alice only"
        )
        # /sign and /decrypt need a key of this store: a contact will not do.
        refused = await bob.execute("/sign alice not mine")
        assert refused.data["error"] == "not_found"
        assert "no single local account matches 'alice'" in refused.text
        assert (await alice.execute("/generate work")).ok
        assert (await alice.execute("/delaccount WORK")).ok  # a name, ignoring case


async def test_lookup_by_account_reference_or_handle() -> None:
    async with memory_ring(["alice", "bob"]) as (alice, bob):
        b_id = bob.account.account_id
        by_id = await alice.execute(f"/lookup {b_id}")
        assert by_id.ok and by_id.data["account"]["onion"] == bob.identity.onion
        assert (await alice.execute(f"/add {b_id}")).ok
        by_name = await alice.execute("/lookup bob")  # now a contact: its id is looked up
        assert by_name.data["account"]["account_id"] == b_id
        await bob.chat.claim_handle("bobby")
        by_handle = await alice.execute("/lookup bobby")  # names nothing here: a handle
        assert by_handle.ok and by_handle.data["account_id"] == b_id
        assert (await alice.execute("/lookup nosuchhandle")).data["error"] == "chat"


async def test_history_follows_the_explicit_conversation() -> None:
    async with memory_ring(["alice", "bob", "carol"]) as (alice, bob, carol):
        b_id, c_id = bob.account.account_id, carol.account.account_id
        assert (await alice.execute("to bob", conversation=b_id)).ok
        assert (await alice.execute("to carol", conversation=c_id)).ok
        for conv, text in ((b_id, "to bob"), (c_id, "to carol")):
            result = await alice.execute("/history", conversation=conv)
            assert isinstance(result.view, MessageList)
            assert result.view.conversation == conv
            assert [m.text for m in result.view.messages] == [text]
        # An argument wins over the open conversation; none at all: the latest one.
        named = await alice.execute(f"/history {b_id}", conversation=c_id)
        assert named.data["conversation"] == b_id
        assert (await alice.execute("/history")).data["conversation"] == c_id


async def test_handlers_see_the_stack_of_the_moment() -> None:
    """/newonions swaps the whole stack; the next calls get a context with the new one."""
    async with memory_ring(["alice", "bob"]) as nodes:
        alice = nodes[0]
        old = alice.identity
        rotated = await alice.execute("/newonions")
        assert rotated.ok, rotated.text
        assert rotated.data["previous"] == old.onion != rotated.data["onion"]
        assert rotated.data["onion"] == alice.identity.onion
        await alice.ready(RING_DEADLINE)
        await settle(nodes)
        status = await alice.execute("/status")
        assert isinstance(status.view, StatusView)
        assert status.view.onion == alice.identity.onion
        assert status.view.node_id == rotated.data["node_id"] == f"{alice.chord.me.id:064x}"
        assert alice.context().stack is alice.stack
        b_id = nodes[1].account.account_id
        assert (await alice.execute("after", conversation=b_id)).data["state"] == "delivered"


async def test_safety_numbers_verify_contact_and_a_changed_number_warns() -> None:
    import dataclasses

    from ohtchat.api.events import LogEvent, NodeEvent

    async with memory_ring(["alice", "bob"]) as (alice, bob):
        a_id, b_id = alice.account.account_id, bob.account.account_id
        assert (await alice.execute(f"/request {b_id} hi")).ok
        assert (await bob.execute(f"/add {a_id}")).ok
        mine = await alice.execute("/safety bob")
        theirs = await bob.execute("/safety alice")
        assert mine.ok and not mine.data["verified"] and "/verify-contact bob" in mine.text
        number = mine.data["safety"]
        assert number == theirs.data["safety"] and len(number.replace(" ", "")) == 60
        assert " ".join(number.split()[:6]) in mine.text  # shown in two lines of 6 groups
        verified = await alice.execute("/verify-contact bob")
        assert verified.ok and verified.data == {
            "account_id": b_id,
            "safety": number,
            "verified": True,
        }
        assert (await alice.execute("/safety bob")).data["verified"]
        (row,) = (await alice.execute("/contacts")).data["contacts"]
        assert row["safety"] == number and row["verified"] is True
        assert (await alice.execute("/verify-contact nobody")).data["error"] == "not_found"
        # The verified number no longer matches bob's key: a loud warning, unverified.
        events: list[NodeEvent] = []
        alice.bus.publish = lambda e, orig=alice.bus.publish: (events.append(e), orig(e))[1]  # type: ignore[method-assign]
        contact = alice.store.get_contact(b_id)
        alice.store.put_contact(dataclasses.replace(contact, verified="2" * 60))
        assert (await bob.execute("/whisper alice after the change")).ok
        warnings = [e for e in events if isinstance(e, LogEvent) and e.level == "warning"]
        assert len(warnings) == 1 and "safety number" in warnings[0].text
        assert not (await alice.execute("/safety bob")).data["verified"]
