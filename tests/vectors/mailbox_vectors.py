"""Vectors of docs/protocol.md §12.3, §12.4 and §10.2 (Mailboxes): a sealed mailbox item (the
signature covers the exact item bytes) carrying a whisper inside a ``ratchet`` item (the first
message of a session, from fixed randomness), deposited in its signed outer envelope with the
recipient's contact ticket (and, for comparison, unticketed with the sender's derived deposit
key), and the recipient's deletion marker.

The sealed plaintext comes from the production :func:`seal_item` (its signature is
deterministic, so opening any box it makes gives the same plaintext); the box around it is made
by the production :func:`kem.seal` with a fixed encapsulation.
"""

from __future__ import annotations

from typing import Any

from ohtchat.chat.envelopes import ITEM_LABEL, SEAL_AAD, ChatItem, open_item, seal_item
from ohtchat.crypto import kem
from ohtchat.crypto.keys import AccountKey, SigningKey, verify_signature
from ohtchat.dht.mailbox import DERIVE_LABEL, Deposit, MailboxItem, Ticket, ticket_message
from ohtchat.dht.record import DELETE_LABEL, DeleteMarker, item_id, mailbox_id
from ohtchat.ratchet import PrekeyBundle, Session
from ohtchat.wire.envelope import pack, unpack
from tests.vectors.crypto_vectors import Doc, expect, sha3, unhex
from tests.vectors.fixed import EncapsSeeds, KemSeeds, fixed_bytes
from tests.vectors.ratchet_spec import Draws

EXPIRES = 1_700_000_100 + 7 * 86400


#: The randomness of the ratchet message: ``ek``, ``Encaps(SPK_M)`` (initiate), then the first
#: turn's X25519 secret, ML-KEM key pair and encapsulation (encrypt).
RATCHET_DRAWS = Draws.named("mailbox ratchet", 2, 1, 2)


def ratchet_item(sender: AccountKey, recipient: AccountKey, prekey: kem.KemKeyPair) -> ChatItem:
    """The ``ratchet`` item carrying :func:`chat_item` in an initial message."""
    whisper = chat_item(recipient)
    bundle = PrekeyBundle.sign(recipient, prekey)
    session = Session.initiate(sender, bundle, randomness=RATCHET_DRAWS.randomness())
    message = session.encrypt(pack(whisper.body()))
    return ChatItem("ratchet", whisper.msg_id, whisper.to, whisper.sent_at, "", {"r": message})


def chat_item(recipient: AccountKey) -> ChatItem:
    """The whisper the vector carries."""
    return ChatItem(
        "whisper",
        fixed_bytes("mailbox msg id", 16).hex(),
        recipient.account_id,
        1_700_000_100.5,
        "hi bob, are you there?",
        {"name": "alice"},
    )


def item_vector() -> Doc:
    """A whisper from alice sealed into bob's mailbox."""
    sender = AccountKey(fixed_bytes("mailbox sender account"))
    recipient = AccountKey(fixed_bytes("mailbox recipient account"))
    seeds, enc = KemSeeds.named("mailbox recipient prekey"), EncapsSeeds.named("mailbox seal")
    pair = seeds.key_pair()
    item = ratchet_item(sender, recipient, pair)
    plaintext = kem.open_sealed(pair.secret, seal_item(sender, pair.public, item), SEAL_AAD)
    box = kem.seal(pair.public, plaintext, SEAL_AAD, encaps=enc.encapsulator())
    kem_ct, shared = enc.encapsulator()(pair.public)
    item_bytes = pack(item.body())
    inner = unpack(plaintext)
    assert inner["b"] == item_bytes, "seal_item signs other bytes than msgpack(item)"
    mbox = mailbox_id(recipient.account_id)
    ticket_key = SigningKey(fixed_bytes("mailbox ticket key"))
    ticket = Ticket.issue(recipient, ticket_key.public)
    deposit = MailboxItem.create(Deposit(ticket_key, ticket), mbox, box, EXPIRES)
    derived = Deposit.derived(sender, mbox)
    open_deposit = MailboxItem.create(derived, mbox, box, EXPIRES)
    return {
        "description": "docs/protocol.md §12.1, §12.3 (Chat items, mailbox), §2 (Sealed box), "
        "docs/dht.md (Mailboxes), §12.4 and §15 (the ratchet item): a sealed whisper",
        "inputs": {
            "sender_account_seed": sender.seed.hex(),
            "recipient_account_seed": recipient.seed.hex(),
            "recipient_prekey": seeds.to_json(),
            "inner_item": chat_item(recipient).body(),
            "ratchet_randomness": RATCHET_DRAWS.to_json(),
            "encapsulation": enc.to_json(),
            "expires": EXPIRES,
            "ticket_key_seed": ticket_key.seed.hex(),
        },
        "outputs": {
            "sender_public": sender.public.hex(),
            "recipient_account_id": recipient.account_id,
            "recipient_kem_public": pair.public.hex(),
            "recipient_kem_secret": pair.secret.hex(),
            "inner_item_bytes": pack(chat_item(recipient).body()).hex(),
            "ratchet_message": item.extra["r"].hex(),
            "item": {**item.body(), "extra": {"r": item.extra["r"].hex()}},
            "item_bytes": item_bytes.hex(),
            "signed_message": (ITEM_LABEL + item_bytes).hex(),
            "sig": inner["sig"].hex(),
            "sealed_plaintext": plaintext.hex(),
            "seal_aad": SEAL_AAD.hex(),
            "kem_ciphertext": kem_ct.hex(),
            "shared_secret": shared.hex(),
            "seal_key": sha3(b"ohtchat seal v1\x00" + shared + sha3(kem_ct)).hex(),
            "box": box.hex(),
            "item_id": item_id(box).hex(),
            "mailbox_id": mbox.hex(),
            "ticket_public": ticket_key.public.hex(),
            "ticket_signed_message": ticket_message(mbox, ticket_key.public).hex(),
            "ticket_signature": ticket.signature.hex(),
            "deposit_signed_message": deposit.signed_bytes().hex(),
            "deposit_signature": deposit.signature.hex(),
            "mailbox_item": pack(deposit.to_wire()).hex(),
            "derived_deposit_seed": derived.key.seed.hex(),
            "open_deposit_signed_message": open_deposit.signed_bytes().hex(),
            "open_mailbox_item": pack(open_deposit.to_wire()).hex(),
        },
    }


def marker_vector(deleted: bytes) -> Doc:
    """Bob deletes the item above from his mailbox."""
    recipient = AccountKey(fixed_bytes("mailbox recipient account"))
    marker = DeleteMarker.create(recipient, deleted, EXPIRES)
    return {
        "description": "docs/dht.md (Mailboxes: deletion marker) of the item above",
        "inputs": {
            "account_seed": recipient.seed.hex(),
            "item_id": deleted.hex(),
            "expires": EXPIRES,
        },
        "outputs": {
            "account_public": recipient.public.hex(),
            "mailbox_id": marker.mailbox.hex(),
            "signed_message": (DELETE_LABEL + marker.mailbox + deleted).hex(),
            "signature": marker.signature.hex(),
            "marker": pack(marker.to_wire()).hex(),
        },
    }


def build_mailbox() -> Doc:
    """mailbox.json."""
    item = item_vector()
    return {
        "description": "a sealed mailbox item (a whisper in a ratchet item) and its deletion "
        "marker",
        "vectors": [item, marker_vector(unhex(item["outputs"], "item_id"))],
    }


def check_item(inp: dict[str, Any], out: dict[str, Any]) -> None:
    """Open the box with the production :func:`open_item`; compare every value."""
    box = unhex(out, "box")
    sender, item = open_item(unhex(out, "recipient_kem_secret"), box)
    expect("sender", sender.hex(), out["sender_public"])
    expect("item", {**item.body(), "extra": {"r": item.extra["r"].hex()}}, out["item"])
    expect("ratchet_message", item.extra["r"].hex(), out["ratchet_message"])
    # The recipient accepts the initial message and reads the whisper's exact bytes.
    recipient = AccountKey(unhex(inp, "recipient_account_seed"))
    prekey = kem.KemKeyPair.from_secret(secret := unhex(out, "recipient_kem_secret"))
    _, plain = Session.accept(recipient, prekey, item.extra["r"])
    expect("inner_item_bytes", plain.hex(), out["inner_item_bytes"])
    expect("inner_item", unpack(plain), inp["inner_item"])
    expect(
        "sealed_plaintext", kem.open_sealed(secret, box, SEAL_AAD).hex(), out["sealed_plaintext"]
    )
    inner = unpack(unhex(out, "sealed_plaintext"))
    expect("inner keys", sorted(inner), ["b", "from", "sig", "v"])
    expect("b", inner["b"].hex(), out["item_bytes"])
    verify_signature(sender, unhex(out, "signed_message"), inner["sig"])
    expect("signed_message", (ITEM_LABEL + inner["b"]).hex(), out["signed_message"])
    expect(
        "kem secret",
        kem.decapsulate(secret, unhex(out, "kem_ciphertext")).hex(),
        out["shared_secret"],
    )
    check_deposits(inp, out)
    expect("mailbox_id", mailbox_id(out["recipient_account_id"]).hex(), out["mailbox_id"])
    # The production sealer (OS randomness) puts exactly the vector's plaintext in its box.
    sender_key = AccountKey(unhex(inp, "sender_account_seed"))
    public = kem.KemKeyPair.from_secret(secret).public
    again = seal_item(sender_key, public, item)
    expect(
        "seal_item plaintext",
        kem.open_sealed(secret, again, SEAL_AAD).hex(),
        out["sealed_plaintext"],
    )


def check_deposits(inp: dict[str, Any], out: dict[str, Any]) -> None:
    """The outer envelopes: decode, verify, and sign again with the production code."""
    wire = MailboxItem.from_wire(unpack(unhex(out, "mailbox_item")))
    wire.verify()
    expect(
        "mailbox item",
        (wire.mailbox.hex(), wire.data.hex(), wire.expires),
        (out["mailbox_id"], out["box"], inp["expires"]),
    )
    expect("item_id", wire.item_id.hex(), out["item_id"])
    expect("signer", wire.signer.hex(), out["ticket_public"])
    assert wire.ticket is not None, "the vector's deposit carries a ticket"
    recipient = AccountKey(unhex(inp, "recipient_account_seed"))
    expect("ticket account", wire.ticket.account.hex(), recipient.public.hex())
    verify_signature(recipient.public, unhex(out, "ticket_signed_message"), wire.ticket.signature)
    expect("ticket_signature", wire.ticket.signature.hex(), out["ticket_signature"])
    expect("deposit_signed_message", wire.signed_bytes().hex(), out["deposit_signed_message"])
    verify_signature(wire.signer, unhex(out, "deposit_signed_message"), wire.signature)
    ticket_key = SigningKey(unhex(inp, "ticket_key_seed"))
    ticket = Ticket.issue(recipient, ticket_key.public)
    again = MailboxItem.create(Deposit(ticket_key, ticket), wire.mailbox, wire.data, wire.expires)
    expect("mailbox_item", pack(again.to_wire()).hex(), out["mailbox_item"])
    # Unticketed: the sender's derived deposit key for this mailbox.
    sender = AccountKey(unhex(inp, "sender_account_seed"))
    seed = sha3(DERIVE_LABEL + sender.seed + wire.mailbox)
    expect("derived_deposit_seed", seed.hex(), out["derived_deposit_seed"])
    plain = MailboxItem.from_wire(unpack(unhex(out, "open_mailbox_item")))
    plain.verify()
    expect("open signer", plain.signer.hex(), SigningKey(seed).public.hex())
    expect("open ticket", plain.ticket, None)
    expect("open signed", plain.signed_bytes().hex(), out["open_deposit_signed_message"])
    redo = MailboxItem.create(
        Deposit.derived(sender, plain.mailbox), plain.mailbox, plain.data, plain.expires
    )
    expect("open_mailbox_item", pack(redo.to_wire()).hex(), out["open_mailbox_item"])


def check_marker(inp: dict[str, Any], out: dict[str, Any]) -> None:
    """Decode and verify the marker with the production decoder."""
    marker = DeleteMarker.from_wire(unpack(unhex(out, "marker")))
    marker.verify()
    expect("marker", (marker.item_id.hex(), marker.expires), (inp["item_id"], inp["expires"]))
    expect("mailbox_id", marker.mailbox.hex(), out["mailbox_id"])
    verify_signature(marker.account, unhex(out, "signed_message"), marker.signature)
    again = DeleteMarker.create(
        AccountKey(unhex(inp, "account_seed")), marker.item_id, marker.expires
    )
    expect("signature", again.signature.hex(), out["signature"])


def check_mailbox(doc: Doc) -> None:
    """Check the sealed item, then the deletion marker."""
    item, marker = doc["vectors"]
    check_item(item["inputs"], item["outputs"])
    check_marker(marker["inputs"], marker["outputs"])
