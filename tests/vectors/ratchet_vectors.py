"""Vectors of docs/protocol.md §15 (the double ratchet): a prekey bundle, an initial message,
a reply that turns the ratchet, two messages delivered out of order, a safety number.

Each vector is computed twice: by the production code (``ohtchat.ratchet`` with the fixed
randomness of :class:`~tests.vectors.ratchet_spec.Draws`) and from the text of the spec
(:mod:`tests.vectors.ratchet_spec`); the builder requires both to agree byte for byte. States
travel between vectors as their exact serialized bytes (§15.7), so each vector starts from
inputs it lists itself. ``check_ratchet`` recomputes every output from the inputs and decrypts
the committed messages with the production code.
"""

from __future__ import annotations

from typing import Any

from ohtchat.crypto.keys import AccountKey
from ohtchat.ratchet import PrekeyBundle, Session, safety_number
from ohtchat.ratchet.bundle import PREKEY_LABEL
from ohtchat.ratchet.safety import account_digits
from ohtchat.ratchet.state import RatchetState
from tests.vectors import ratchet_spec as spec
from tests.vectors.crypto_vectors import Doc, expect, unhex
from tests.vectors.fixed import KemSeeds, fixed_bytes

SECTION = "docs/protocol.md §15 (Double ratchet)"


def hexed(obj: Any) -> Any:
    """Bytes (also inside lists and maps) as lowercase hex."""
    if isinstance(obj, bytes):
        return obj.hex()
    if isinstance(obj, list):
        return [hexed(x) for x in obj]
    if isinstance(obj, dict):
        return {k: hexed(v) for k, v in obj.items()}
    return obj


def agree(name: str, production: bytes, from_spec: bytes) -> bytes:
    """The production value, after checking the spec computes the same."""
    if production != from_spec:
        raise AssertionError(f"{name}: ohtchat.ratchet and the text of §15 disagree")
    return production


def parties(inp: dict[str, Any]) -> tuple[AccountKey, AccountKey, Any]:
    """Initiator and responder account keys and the responder's prekey, from the inputs."""
    return (
        AccountKey(unhex(inp, "initiator_account_seed")),
        AccountKey(unhex(inp, "responder_account_seed")),
        KemSeeds.from_json(inp["responder_prekey"]).key_pair(),
    )


# --------------------------------------------------------------------------- computations


def bundle_outputs(inp: dict[str, Any]) -> dict[str, Any]:
    """Vector 1: the responder's bundle."""
    account = AccountKey(unhex(inp, "account_seed"))
    prekey = KemSeeds.from_json(inp["prekey"]).key_pair()
    bundle = PrekeyBundle.sign(account, prekey)
    assert PrekeyBundle.from_bytes(bundle.to_bytes()) == bundle
    return hexed(
        {
            "account_public": account.public,
            "kem_public": prekey.public,
            "signature_label": PREKEY_LABEL,
            "signature": bundle.signature,
            "prekey_id": agree("prekey id", bundle.prekey_id, spec.sha3(prekey.public)[:8]),
            "bundle": bundle.to_bytes(),
        }
    )


def initial_outputs(inp: dict[str, Any]) -> dict[str, Any]:
    """Vector 2: the initiator's first message, and the responder accepting it."""
    alice, bob, prekey = parties(inp)
    draws = spec.Draws.from_json(inp["randomness"])
    rnd = draws.randomness()
    session = Session.initiate(alice, PrekeyBundle.sign(bob, prekey), randomness=rnd)
    start = RatchetState.from_bytes(session.to_bytes())
    plaintext = unhex(inp, "plaintext")
    message = session.encrypt(plaintext)
    rnd.done()
    x = spec.pqxdh(
        alice.seed, alice.public, bob.public, prekey.public, draws.x25519[0], draws.encaps[0]
    )
    agree("handshake id", session.handshake_id, x["handshake_id"])
    agree("root key after PQXDH", start.rk, x["sk"])
    agree(
        "header keys after PQXDH", (start.nhks or b"") + (start.nhkr or b""), x["hk_i"] + x["hk_r"]
    )
    rest = spec.Draws(draws.x25519[1:], draws.keygen, draws.encaps[1:])
    sent = spec.send_chain(start, rest, [plaintext])
    agree("message", message, sent["steps"][0]["message"])
    b, text = Session.accept(bob, prekey, message)
    expect("plaintext read by the responder", text, plaintext)
    steps = sent.pop("steps")
    return hexed(
        {
            **x,
            **sent,
            **steps[0],
            "initiator_state": session.to_bytes(),
            "responder_state": b.to_bytes(),
        }
    )


def turn_outputs(inp: dict[str, Any]) -> dict[str, Any]:
    """Vectors 3 and 4: the sender's state sends one or more messages on a new chain; the
    receiver reads them in ``delivery_order``."""
    draws = spec.Draws.from_json(inp["randomness"])
    rnd = draws.randomness()
    sender = Session.from_bytes(unhex(inp, "sender_state"), randomness=rnd)
    plaintexts = [bytes.fromhex(p) for p in inp["plaintexts"]]
    messages = [sender.encrypt(p) for p in plaintexts]
    rnd.done()
    sent = spec.send_chain(RatchetState.from_bytes(unhex(inp, "sender_state")), draws, plaintexts)
    for i, step in enumerate(sent["steps"]):
        agree(f"message {i}", messages[i], step["message"])
    receiver = Session.from_bytes(unhex(inp, "receiver_state"))
    states = []
    for i in inp["delivery_order"]:
        expect(f"message {i} read", receiver.decrypt(messages[i]), plaintexts[i])
        states.append(receiver.to_bytes())
    out = {**sent, "sender_state": sender.to_bytes(), "receiver_states": states}
    if inp["delivery_order"] == [1, 0]:
        st = RatchetState.from_bytes(states[0])
        skipped = st.skipped[(sent["header_key"], 0)]
        out["skipped_key"] = agree("skipped key", skipped, sent["steps"][0]["mk"])
    return hexed(out)


def safety_outputs(inp: dict[str, Any]) -> dict[str, Any]:
    """Vector 5: a safety number."""
    a, b = unhex(inp, "account_public_a"), unhex(inp, "account_public_b")
    return {
        "digits_a": account_digits(a),
        "digits_b": account_digits(b),
        "safety_number": safety_number(a, b),
    }


COMPUTE = {
    "bundle": bundle_outputs,
    "initial message": initial_outputs,
    "reply turning the ratchet": turn_outputs,
    "out of order": turn_outputs,
    "safety number": safety_outputs,
}


# --------------------------------------------------------------------------- the file


def vector(name: str, note: str, inputs: dict[str, Any]) -> Doc:
    """One vector: its inputs and the outputs computed from them."""
    return {
        "description": f"{SECTION}: {name}: {note}",
        "inputs": inputs,
        "outputs": COMPUTE[name](inputs),
    }


def build_ratchet() -> Doc:
    """ratchet.json."""
    bob_seed, alice_seed = fixed_bytes("ratchet bob account"), fixed_bytes("ratchet alice account")
    prekey = KemSeeds.named("ratchet bob prekey").to_json()
    bundle = vector(
        "bundle",
        "0x01 ‖ A ‖ kem_pub ‖ Sign_A(prefix ‖ kem_pub)",
        {"account_seed": bob_seed.hex(), "prekey": prekey},
    )
    first = vector(
        "initial message",
        "PQXDH, then the initiator's first chain (x25519: ek, then its ratchet key; mlkem "
        "encaps: ct0 to SPK_M, then the turn's ct to SPK_M)",
        {
            "initiator_account_seed": alice_seed.hex(),
            "responder_account_seed": bob_seed.hex(),
            "responder_prekey": prekey,
            "randomness": spec.Draws.named("ratchet alice 1", 2, 1, 2).to_json(),
            "plaintext": b"hello bob, this is the first message".hex(),
        },
    )
    reply = vector(
        "reply turning the ratchet",
        "the responder's first message: the sending half of its first turn",
        {
            "sender_state": first["outputs"]["responder_state"],
            "receiver_state": first["outputs"]["initiator_state"],
            "randomness": spec.Draws.named("ratchet bob 1", 1, 1, 1).to_json(),
            "plaintexts": [b"hi alice".hex()],
            "delivery_order": [0],
        },
    )
    late = vector(
        "out of order",
        "the initiator turns and sends two messages; the second arrives first (the first's "
        "key is skipped, kept, then used)",
        {
            "sender_state": reply["outputs"]["receiver_states"][0],
            "receiver_state": reply["outputs"]["sender_state"],
            "randomness": spec.Draws.named("ratchet alice 2", 1, 1, 1).to_json(),
            "plaintexts": [b"first of two".hex(), b"second of two".hex()],
            "delivery_order": [1, 0],
        },
    )
    safety = vector(
        "safety number",
        "the pair's 60 digits, the smaller account's 30 first",
        {
            "account_public_a": AccountKey(alice_seed).public.hex(),
            "account_public_b": AccountKey(bob_seed).public.hex(),
        },
    )
    return {
        "description": "post-quantum double ratchet with header encryption, fixed randomness",
        "vectors": [bundle, first, reply, late, safety],
    }


def check_ratchet(doc: Doc) -> None:
    """Recompute every output from its inputs; decrypt the committed messages."""
    for vec in doc["vectors"]:
        name = vec["description"].split(": ")[1]
        inp, out = vec["inputs"], vec["outputs"]
        fresh = COMPUTE[name](inp)
        for key, value in out.items():
            expect(f"{name}: {key}", fresh.get(key), value)
        expect(f"{name}: output keys", sorted(fresh), sorted(out))
        if name == "bundle":
            PrekeyBundle.from_bytes(unhex(out, "bundle"))
        elif name == "initial message":
            _, bob, prekey = parties(inp)
            text = Session.accept(bob, prekey, unhex(out, "message"))[1]
            expect("initial message read", text.hex(), inp["plaintext"])
        elif name != "safety number":
            receiver = Session.from_bytes(unhex(inp, "receiver_state"))
            for i in inp["delivery_order"]:
                text = receiver.decrypt(bytes.fromhex(out["steps"][i]["message"]))
                expect(f"message {i} read", text.hex(), inp["plaintexts"][i])
