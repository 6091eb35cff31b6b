"""Vectors of docs/protocol.md §19 (File transfer): the ``file_offer`` item as it is encrypted
inside the ratchet, the chunking and SHA-256 of a small file, the ``file_get`` / ``file_end``
params and the chunk reply, the receiver's local id of a transfer, and safe names."""

from __future__ import annotations

import hashlib
from typing import Any

from ohtchat.chat.envelopes import ChatItem
from ohtchat.crypto.keys import AccountKey
from ohtchat.files import protocol
from ohtchat.files.names import sanitize_name
from ohtchat.files.offer import MIN_CHUNK, FileOffer
from ohtchat.files.records import incoming_id
from ohtchat.wire.envelope import Fields, pack, unpack
from tests.vectors.crypto_vectors import Doc, expect, unhex
from tests.vectors.fixed import fixed_bytes

#: The file of the vector: 9 000 fixed bytes in chunks of 4096 (so a short last chunk).
FILE_SIZE = 9_000
CHUNK = MIN_CHUNK
#: Offered names and what a receiver makes of them (``sanitize_name``).
NAMES = [
    "holiday photo.jpg",
    "../../etc/passwd",
    "..\\..\\evil.dll",
    ".bashrc",
    "invoice\u202egnp.exe",
    "a\nb\x00c.txt",
    "CON.txt",
    "..",
]


def offer_item(sender: AccountKey, recipient: AccountKey, data: bytes) -> ChatItem:
    """The ``file_offer`` item alice encrypts for bob."""
    offer = FileOffer(
        fixed_bytes("file transfer id", 16).hex(),
        "holiday photo.jpg",
        len(data),
        hashlib.sha256(data).digest(),
        CHUNK,
    )
    extra = {"name": "alice", "file": offer.to_wire()}
    return ChatItem("file_offer", offer.transfer_id, recipient.account_id, 1_700_000_200.0,
                    offer.name, extra)  # fmt: skip


def build_files() -> Doc:
    """The vectors of §19."""
    sender = AccountKey(fixed_bytes("file sender account"))
    recipient = AccountKey(fixed_bytes("file recipient account"))
    data = fixed_bytes("file content", FILE_SIZE)
    item = offer_item(sender, recipient, data)
    offer = FileOffer.from_wire(item.extra["file"])
    chunks = [
        {"offset": o, "length": offer.chunk_length(o)} for o in range(0, offer.size, offer.chunk)
    ]
    last = chunks[-1]
    get = protocol.get_params(offer.transfer_id, last["offset"], last["length"])
    reply = protocol.chunk_reply(last["offset"], data[last["offset"] :])
    end = protocol.end_params(offer.transfer_id, "done")
    vectors: list[dict[str, Any]] = [
        {
            "description": "docs/protocol.md §19.1: the file_offer item (the plaintext the "
            "ratchet encrypts, §12.4) and the file it offers, in chunks",
            "inputs": {
                "sender_account_seed": sender.seed.hex(),
                "recipient_account_seed": recipient.seed.hex(),
                "file": data.hex(),
                "chunk": CHUNK,
            },
            "outputs": {
                "sha256": offer.sha256.hex(),
                "item": pack(item.body()).hex(),
                "chunks": chunks,
            },
        },
        {
            "description": "docs/protocol.md §19.3: file_get params for the last chunk, its "
            "reply, and file_end",
            "inputs": {"transfer_id": offer.transfer_id, "file": data.hex()},
            "outputs": {
                "file_get": pack(get).hex(),
                "reply": pack(reply).hex(),
                "file_end": pack(end).hex(),
            },
        },
        {
            "description": "docs/protocol.md §19.4: the receiver's local id of the transfer "
            "(not on the wire)",
            "inputs": {"sender": sender.account_id, "transfer_id": offer.transfer_id},
            "outputs": {"local_id": incoming_id(sender.account_id, offer.transfer_id)},
        },
        {
            "description": "docs/protocol.md §19.5: offered names and the safe names a "
            "receiver stores them under",
            "inputs": {"names": NAMES},
            "outputs": {"safe": [sanitize_name(n) for n in NAMES]},
        },
    ]
    return {"description": "docs/protocol.md §19: file transfer", "vectors": vectors}


def check_files(doc: Doc) -> None:
    """Recompute every output from the inputs with the production code."""
    offer_v, wire_v, local_v, names_v = doc["vectors"]
    i, o = offer_v["inputs"], offer_v["outputs"]
    sender = AccountKey(unhex(i, "sender_account_seed"))
    recipient = AccountKey(unhex(i, "recipient_account_seed"))
    data = unhex(i, "file")
    expect("sha256", hashlib.sha256(data).hexdigest(), o["sha256"])
    item = offer_item(sender, recipient, data)
    expect("item", pack(item.body()).hex(), o["item"])
    body = unpack(unhex(o, "item"))
    parsed = ChatItem.from_fields(Fields(body, "item"))
    offer = FileOffer.from_wire(parsed.extra["file"])
    expect("offer sha256", offer.sha256.hex(), o["sha256"])
    chunks = [{"offset": c, "length": offer.chunk_length(c)} for c in range(0, offer.size, CHUNK)]
    expect("chunks", chunks, o["chunks"])
    i, o = wire_v["inputs"], wire_v["outputs"]
    data = unhex(i, "file")
    tid, offset, length = protocol.parse_get(Fields(unpack(unhex(o, "file_get")), "p"))
    expect("file_get id", tid, i["transfer_id"])
    expect("file_get", pack(protocol.get_params(tid, offset, length)).hex(), o["file_get"])
    got_offset, chunk = protocol.parse_chunk(Fields(unpack(unhex(o, "reply")), "r"))
    expect("reply", (got_offset, chunk), (offset, data[offset : offset + length]))
    expect("file_end", pack(protocol.end_params(tid, "done")).hex(), o["file_end"])
    i, o = local_v["inputs"], local_v["outputs"]
    expect("local_id", incoming_id(i["sender"], i["transfer_id"]), o["local_id"])
    expect(
        "safe", [sanitize_name(n) for n in names_v["inputs"]["names"]], names_v["outputs"]["safe"]
    )
