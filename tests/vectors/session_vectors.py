"""Vectors of docs/protocol.md §3–6: a whole handshake and encrypted frames.

The handshake runs the production :class:`Initiator` and :class:`Responder` against each other
with :class:`~tests.vectors.fixed.FixedRandomness`; the frames come from the production
:class:`ChannelCipher`. ``check_*`` replays the committed bytes through the same code.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Any

from ohtchat.crypto.keys import AccountKey, NodeKey, verify_signature
from ohtchat.session.channel import ChannelCipher
from ohtchat.session.handshake import (
    LABEL,
    SIG_INITIATOR,
    SIG_RESPONDER,
    HandshakeResult,
    Initiator,
    Responder,
)
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.session import HANDSHAKE_MAX_FRAME
from ohtchat.wire import envelope
from ohtchat.wire.frames import FrameDecoder, encode_frame
from tests.vectors.crypto_vectors import Doc, expect, sha3, unhex
from tests.vectors.fixed import EncapsSeeds, FixedRandomness, KemSeeds, fixed_bytes

#: The handshake's clock: certificates are checked at this Unix time.
HANDSHAKE_NOW = 1_700_000_100
CERT_ISSUED = 1_700_000_000
CERT_LIFETIME = 365 * 86400


# ------------------------------------------------------------------------- handshake (§5)


def side_inputs(label: str) -> dict[str, Any]:
    """One side's identity and fixed randomness, as vector inputs."""
    return {
        "account_seed": fixed_bytes(label + " account").hex(),
        "node_seed": fixed_bytes(label + " node").hex(),
        "cert_issued": CERT_ISSUED,
        "cert_expires": CERT_ISSUED + CERT_LIFETIME,
        "cookie": fixed_bytes(label + " cookie").hex(),
        "kem": KemSeeds.named(label + " kem").to_json(),
        "encapsulation": EncapsSeeds.named(label + " encaps").to_json(),
    }


def identity_of(side: dict[str, Any]) -> NodeIdentity:
    """The node identity of a side's inputs (its certificate issued at ``cert_issued``)."""
    account = AccountKey(unhex(side, "account_seed"))
    node = NodeKey(unhex(side, "node_seed"))
    cert = account.certify(
        node.public, side["cert_issued"], side["cert_expires"] - side["cert_issued"]
    )
    return NodeIdentity(node, cert)


def randomness_of(side: dict[str, Any]) -> FixedRandomness:
    """The fixed randomness of a side's inputs."""
    return FixedRandomness(
        unhex(side, "cookie"),
        KemSeeds.from_json(side["kem"]),
        EncapsSeeds.from_json(side["encapsulation"]),
    )


def machines(inputs: dict[str, Any]) -> tuple[Initiator, Responder]:
    """The production state machines of both sides, with the vector's randomness."""
    now = float(inputs["now"])
    ini, res = inputs["initiator"], inputs["responder"]
    return (
        Initiator(identity_of(ini), inputs["dialled"], lambda: now, randomness=randomness_of(ini)),
        Responder(identity_of(res), lambda: now, randomness=randomness_of(res)),
    )


def _lp(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def side_outputs(ident: NodeIdentity, rand: FixedRandomness) -> dict[str, str]:
    """The values one side derives from its inputs before any message."""
    pair = rand.kem_key_pair()
    return {
        "node_public": ident.node_key.public.hex(),
        "onion": ident.onion,
        "account_public": ident.cert.account_public.hex(),
        "certificate": ident.cert.to_bytes().hex(),
        "kem_public": pair.public.hex(),
        "kem_secret": pair.secret.hex(),
    }


def run(inputs: dict[str, Any]) -> tuple[list[bytes], HandshakeResult, HandshakeResult]:
    """``([hs1, hs2, hs3, hs4], initiator result, responder result)``."""
    i, r = machines(inputs)
    hs1 = i.start()
    hs2 = r.receive(hs1)
    assert hs2 is not None
    hs3 = i.receive(hs2)
    assert hs3 is not None
    hs4 = r.receive(hs3)
    assert hs4 is not None and i.receive(hs4) is None
    assert i.result is not None and r.result is not None
    return [hs1, hs2, hs3, hs4], i.result, r.result


def build_handshake() -> Doc:
    """handshake.json."""
    ini_in, res_in = side_inputs("handshake initiator"), side_inputs("handshake responder")
    ini_id, res_id = identity_of(ini_in), identity_of(res_in)
    ini_rand, res_rand = randomness_of(ini_in), randomness_of(res_in)
    inputs = {
        "now": HANDSHAKE_NOW,
        "dialled": res_id.onion,
        "initiator": ini_in,
        "responder": res_in,
    }
    msgs, i_res, r_res = run(inputs)
    bodies = [envelope.decode(m)[1].data for m in msgs]
    k_i, k_r = ini_rand.kem_key_pair().public, res_rand.kem_key_pair().public
    ct_i, s_i = res_rand.encapsulate(k_i)  # R encapsulates to I's key (hs2.ct)
    ct_r, s_r = ini_rand.encapsulate(k_r)  # I encapsulates to R's key (hs3.ct)
    parts = (ini_id.onion.encode(), res_id.onion.encode(), ini_rand.cookie(), res_rand.cookie())
    t_input = LABEL + struct.pack(">H", envelope.PROTOCOL_VERSION)
    t_input += b"".join(_lp(p) for p in (*parts, k_i, k_r, ct_i, ct_r))
    t = sha3(t_input)
    sig_i_msg = SIG_INITIATOR + t + sha3(ini_id.cert.to_bytes())
    sig_r_msg = SIG_RESPONDER + t + sha3(res_id.cert.to_bytes())
    prk = hmac.new(t, s_i + s_r, hashlib.sha256).digest()
    assert (bodies[1]["ct"], bodies[2]["ct"]) == (ct_i, ct_r)
    assert i_res.transcript == r_res.transcript == t, "transcript of docs/protocol.md §5"
    outputs: dict[str, Any] = {
        "initiator": side_outputs(ini_id, ini_rand),
        "responder": side_outputs(res_id, res_rand),
    }
    for n, (msg, body) in enumerate(zip(msgs, bodies, strict=True), 1):
        outputs[f"hs{n}"] = msg.hex()
        outputs[f"hs{n}_frame"] = encode_frame(msg, HANDSHAKE_MAX_FRAME).hex()
        if n == 2:
            outputs["ct_i"], outputs["s_i"] = ct_i.hex(), s_i.hex()
        if n == 3:
            outputs["ct_r"], outputs["s_r"] = ct_r.hex(), s_r.hex()
            outputs["transcript_input"], outputs["transcript"] = t_input.hex(), t.hex()
            outputs["sig_i_message"], outputs["sig_i"] = sig_i_msg.hex(), body["sig"].hex()
        if n == 4:
            outputs["sig_r_message"], outputs["sig_r"] = sig_r_msg.hex(), body["sig"].hex()
    outputs |= {
        "prk": prk.hex(),
        "k_i2r": i_res.send_key.hex(),
        "k_r2i": i_res.recv_key.hex(),
        "sid": i_res.session_id.hex(),
    }
    return {
        "description": "a whole handshake with fixed cookies, KEM key pairs and encapsulations",
        "vectors": [
            {
                "description": "docs/protocol.md §3 (Frames), §4 (Envelope), §5 (Handshake); "
                "the initiator dials the responder's onion address",
                "inputs": inputs,
                "outputs": outputs,
            }
        ],
    }


def check_handshake(doc: Doc) -> None:
    """Each side, fed the other's vector messages with the vector randomness, answers the
    vector bytes; signatures, transcript and keys check out."""
    for vec in doc["vectors"]:
        inputs, out = vec["inputs"], vec["outputs"]
        msgs = [unhex(out, f"hs{n}") for n in range(1, 5)]
        i, r = machines(inputs)
        # The responder answers the vector's hs1 and hs3 (verifying I's proof) with hs2, hs4;
        expect("hs2", (r.receive(msgs[0]) or b"").hex(), out["hs2"])
        expect("hs4", (r.receive(msgs[2]) or b"").hex(), out["hs4"])
        # the initiator sends hs1, answers hs2 with hs3 and accepts hs4 (R's proof).
        expect("hs1", i.start().hex(), out["hs1"])
        expect("hs3", (i.receive(msgs[1]) or b"").hex(), out["hs3"])
        expect("initiator done", i.receive(msgs[3]), None)
        assert i.result is not None and r.result is not None
        for n, msg in enumerate(msgs, 1):
            got = FrameDecoder(HANDSHAKE_MAX_FRAME).feed(unhex(out, f"hs{n}_frame"))
            expect(f"hs{n}_frame", got, [msg])
        t = unhex(out, "transcript")
        expect("transcript", sha3(unhex(out, "transcript_input")).hex(), out["transcript"])
        for res in (i.result, r.result):
            expect("transcript", res.transcript.hex(), out["transcript"])
            expect("sid", res.session_id.hex(), out["sid"])
        expect("k_i2r", (i.result.send_key, r.result.recv_key), (unhex(out, "k_i2r"),) * 2)
        expect("k_r2i", (i.result.recv_key, r.result.send_key), (unhex(out, "k_r2i"),) * 2)
        for side, label in (("initiator", "sig_i"), ("responder", "sig_r")):
            node_public = unhex(out[side], "node_public")
            verify_signature(node_public, unhex(out, label + "_message"), unhex(out, label))
            expect(label + "_message transcript", unhex(out, label + "_message")[-64:-32], t)
        prk = hmac.new(t, unhex(out, "s_i") + unhex(out, "s_r"), hashlib.sha256).digest()
        expect("prk", prk.hex(), out["prk"])
        k_i2r = hmac.new(prk, b"ohtchat v1 key i2r\x01", hashlib.sha256).digest()
        expect("k_i2r from prk", k_i2r.hex(), out["k_i2r"])


# ---------------------------------------------------------------------------- frames (§6)

FRAME_COUNTERS = (0, 1, 1 << 32)


def frame_plaintexts() -> list[tuple[str, bytes]]:
    """``(what, envelope bytes)`` sent at each of :data:`FRAME_COUNTERS`."""
    return [
        ("an RPC request: ping", envelope.encode("req", {"id": 1, "m": "ping", "p": {}})),
        ("an RPC result", envelope.encode("res", {"id": 1, "ok": True, "r": {"pong": True}})),
        (
            "a one-way message",
            envelope.encode("msg", {"m": "_hello", "p": {"addr": "127.0.0.1:9000"}}),
        ),
    ]


def build_frames() -> Doc:
    """frames.json: one direction's frames at counters 0, 1 and 2^32 under one key."""
    key = fixed_bytes("frames key")
    cipher = ChannelCipher(key, bytes(32))
    vectors = []
    for counter, (what, plaintext) in zip(FRAME_COUNTERS, frame_plaintexts(), strict=True):
        cipher.send_counter = counter
        payload = cipher.seal(plaintext)
        vectors.append(
            {
                "description": f"docs/protocol.md §6 (Encrypted frames), §3 (Frames): {what}",
                "inputs": {"key": key.hex(), "counter": counter, "plaintext": plaintext.hex()},
                "outputs": {
                    "nonce": (bytes(4) + struct.pack(">Q", counter)).hex(),
                    "aad": struct.pack(">Q", counter).hex(),
                    "payload": payload.hex(),
                    "frame": encode_frame(payload).hex(),
                },
            }
        )
    return {"description": "encrypted frames at counters 0, 1 and 2^32", "vectors": vectors}


def check_frames(doc: Doc) -> None:
    """Decode each frame, decrypt it with the channel code at its counter, re-encrypt it."""
    for vec in doc["vectors"]:
        inp, out = vec["inputs"], vec["outputs"]
        (payload,) = FrameDecoder().feed(unhex(out, "frame"))
        receiver = ChannelCipher(bytes(32), unhex(inp, "key"))
        receiver.recv_counter = inp["counter"]
        plaintext = receiver.open(payload)
        expect("plaintext", plaintext.hex(), inp["plaintext"])
        expect("payload", payload.hex(), out["payload"])
        envelope.decode(plaintext)
        sender = ChannelCipher(unhex(inp, "key"), bytes(32))
        sender.send_counter = inp["counter"]
        expect("payload", sender.seal(plaintext).hex(), out["payload"])
