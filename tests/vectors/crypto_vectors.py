"""Vectors of docs/protocol.md §1–2: identities, node certificates, the hybrid KEM, sealed boxes.

Each ``build_*`` makes a vector file's content by calling the production code with fixed
inputs (intermediates the production code does not expose are computed from the spec and
cross-checked against its outputs). Each ``check_*`` re-checks a loaded file against the
production code in the verifying direction and raises :class:`AssertionError` on a mismatch.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from types import SimpleNamespace
from typing import Any

import nacl.bindings as sodium

from ohtchat.chat.accounts import decrypt_text
from ohtchat.crypto import kem
from ohtchat.crypto.ids import id_hex, node_id
from ohtchat.crypto.keys import (
    CERT_LABEL,
    AccountKey,
    NodeCertificate,
    NodeKey,
    account_id,
    verify_signature,
)
from ohtchat.crypto.onion import expanded_secret_key, pubkey_from_onion
from tests.vectors.fixed import (
    EncapsSeeds,
    KemSeeds,
    check_mlkem_agrees,
    fixed_bytes,
    mlkem_encaps,
)

Doc = dict[str, Any]
#: The AAD ``/encrypt`` seals with (ohtchat/chat/accounts.py).
ENCRYPT_AAD = b"ohtchat /encrypt"


def sha3(data: bytes) -> bytes:
    """SHA3-256."""
    return hashlib.sha3_256(data).digest()


def unhex(obj: dict[str, Any], name: str) -> bytes:
    """A hex field of a vector as bytes."""
    return bytes.fromhex(obj[name])


def expect(name: str, got: object, want: object) -> None:
    """:class:`AssertionError` naming the field unless ``got == want``."""
    if got != want:
        raise AssertionError(f"{name}: production code gives {got!r}, the vector says {want!r}")


# --------------------------------------------------------------------------- identity (§1)

#: RFC 8032 §7.1 TEST 1, so an implementer can first check plain ed25519.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")


def identity_vector(seed: bytes, note: str) -> Doc:
    """Seed → public key → onion address, node id (and account id, the same hash)."""
    key = NodeKey(seed)
    checksum = sha3(b".onion checksum" + key.public + b"\x03")[:2]
    return {
        "description": f"docs/protocol.md §1 (Identities): {note}",
        "inputs": {"seed": seed.hex()},
        "outputs": {
            "public_key": key.public.hex(),
            "expanded_secret_key": expanded_secret_key(seed).hex(),
            "add_onion_key_blob": key.add_onion_blob,
            "onion_checksum": checksum.hex(),
            "onion_address": key.onion,
            "node_id": id_hex(node_id(key.public)),
            "account_id": account_id(key.public),
        },
    }


def build_identity() -> Doc:
    """identity.json."""
    return {
        "description": "ed25519 seed → public key → onion address, node id, account id",
        "vectors": [
            identity_vector(RFC8032_SEED, "the seed of RFC 8032 §7.1 TEST 1"),
            identity_vector(bytes(32), "an all-zero seed"),
            identity_vector(fixed_bytes("identity 3"), "a random-looking seed"),
        ],
    }


def check_identity(doc: Doc) -> None:
    """Re-derive every identity from its seed; parse every onion address back to its key."""
    for vec in doc["vectors"]:
        out = vec["outputs"]
        key = NodeKey(unhex(vec["inputs"], "seed"))
        expect("public_key", key.public.hex(), out["public_key"])
        expect("onion pubkey", pubkey_from_onion(out["onion_address"]).hex(), out["public_key"])
        expect("onion_address", key.onion, out["onion_address"])
        expect("node_id", id_hex(node_id(unhex(out, "public_key"))), out["node_id"])
        expect("account_id", account_id(unhex(out, "public_key")), out["account_id"])
        expect("add_onion_key_blob", key.add_onion_blob, out["add_onion_key_blob"])
        blob = base64.b64decode(out["add_onion_key_blob"].removeprefix("ED25519-V3:"))
        expect("expanded_secret_key", blob.hex(), out["expanded_secret_key"])


# ------------------------------------------------------------------------ certificate (§1)


def certificate_vector(label: str, issued: int, expires: int) -> Doc:
    """An account certifies a node key from ``issued`` to ``expires``."""
    account = AccountKey(fixed_bytes(label + " account"))
    node_public = NodeKey(fixed_bytes(label + " node")).public
    cert = account.certify(node_public, issued, expires - issued)
    signed = CERT_LABEL + account.public + node_public + struct.pack(">QQ", issued, expires)
    return {
        "description": "docs/protocol.md §1 (Identities: node certificate)",
        "inputs": {
            "account_seed": account.seed.hex(),
            "node_public": node_public.hex(),
            "issued": issued,
            "expires": expires,
        },
        "outputs": {
            "account_public": account.public.hex(),
            "account_id": account.account_id,
            "signed_message": signed.hex(),
            "signature": cert.signature.hex(),
            "certificate": cert.to_bytes().hex(),
        },
    }


def build_certificate() -> Doc:
    """certificate.json."""
    return {
        "description": "node certificates: A ‖ N ‖ issued u64 ‖ expires u64 ‖ Sign_A(...), 144 B",
        "vectors": [
            certificate_vector("certificate 1", 1_700_000_000, 1_700_000_000 + 365 * 86400),
            certificate_vector("certificate 2", 0, (1 << 64) - 1),
        ],
    }


def check_certificate(doc: Doc) -> None:
    """Parse and verify each certificate; re-sign it from the account seed."""
    for vec in doc["vectors"]:
        inp, out = vec["inputs"], vec["outputs"]
        raw = unhex(out, "certificate")
        cert = NodeCertificate.from_bytes(raw)
        cert.verify(unhex(inp, "node_public"), inp["issued"])
        expect("issued/expires", (cert.issued, cert.expires), (inp["issued"], inp["expires"]))
        verify_signature(cert.account_public, unhex(out, "signed_message"), cert.signature)
        account = AccountKey(unhex(inp, "account_seed"))
        expect("account_public", account.public.hex(), out["account_public"])
        again = account.certify(cert.node_public, inp["issued"], inp["expires"] - inp["issued"])
        expect("certificate", again.to_bytes().hex(), out["certificate"])


# ------------------------------------------------------------------------------ KEM (§2)


def key_pair_json(seeds: KemSeeds) -> dict[str, str]:
    """The parts of a fixed hybrid key pair (the ML-KEM parts as FIPS 203 ``ek`` / ``dk``)."""
    pair = seeds.key_pair()
    return {
        "x25519_public": pair.public[: kem.X_PK].hex(),
        "mlkem_public": pair.public[kem.X_PK :].hex(),
        "mlkem_secret": pair.secret[kem.X_SK : kem.X_SK + kem.M_SK].hex(),
        "public_key": pair.public.hex(),
        "secret_key": pair.secret.hex(),
    }


def kem_vector(label: str) -> Doc:
    """One key pair and one encapsulation to it, with every value the combiner hashes."""
    seeds, enc = KemSeeds.named(label + " recipient"), EncapsSeeds.named(label + " sender")
    pair = seeds.key_pair()
    ciphertext, shared = enc.encapsulator()(pair.public)
    pk_x, pk_m = pair.public[: kem.X_PK], pair.public[kem.X_PK :]
    ct_x, ct_m = ciphertext[: kem.X_PK], ciphertext[kem.X_PK :]
    ss_x = bytes(sodium.crypto_scalarmult(enc.e, pk_x))
    ct_m_again, ss_m = mlkem_encaps(enc.m)(pk_m)
    assert ct_m_again == ct_m, "kem.encapsulate did not use the injected ML-KEM encapsulation"
    check_mlkem_agrees(pair.secret[kem.X_SK : kem.X_SK + kem.M_SK], ct_m, ss_m)
    combiner = kem.LABEL + ss_m + ss_x + ct_x + pk_x + sha3(ct_m) + sha3(pk_m)
    assert sha3(combiner) == shared, "combiner of docs/protocol.md §2 disagrees with kem.py"
    return {
        "description": "docs/protocol.md §2 (Hybrid KEM): key pair and Encapsulate",
        "inputs": {**seeds.to_json(), **enc.to_json()},
        "outputs": {
            **key_pair_json(seeds),
            "x25519_ephemeral_public": ct_x.hex(),
            "x25519_shared": ss_x.hex(),
            "mlkem_ciphertext": ct_m.hex(),
            "mlkem_shared": ss_m.hex(),
            "sha3_mlkem_ciphertext": sha3(ct_m).hex(),
            "sha3_mlkem_public": sha3(pk_m).hex(),
            "combiner_input": combiner.hex(),
            "ciphertext": ciphertext.hex(),
            "shared_secret": shared.hex(),
        },
    }


def build_kem() -> Doc:
    """kem.json."""
    return {
        "description": "hybrid KEM X25519 + ML-KEM-768 with fixed randomness",
        "vectors": [kem_vector("kem 1"), kem_vector("kem 2")],
    }


def check_kem(doc: Doc) -> None:
    """Decapsulate each vector ciphertext with the vector secret key; cross-check ML-KEM."""
    for vec in doc["vectors"]:
        inp, out = vec["inputs"], vec["outputs"]
        secret, ciphertext = unhex(out, "secret_key"), unhex(out, "ciphertext")
        expect("shared_secret", kem.decapsulate(secret, ciphertext).hex(), out["shared_secret"])
        expect("public_key", kem.KemKeyPair.from_secret(secret).public.hex(), out["public_key"])
        check_mlkem_agrees(
            unhex(out, "mlkem_secret"), unhex(out, "mlkem_ciphertext"), unhex(out, "mlkem_shared")
        )
        expect("combiner", sha3(unhex(out, "combiner_input")).hex(), out["shared_secret"])
        pair = KemSeeds.from_json(inp).key_pair()
        expect("key pair from seeds", pair.secret.hex(), out["secret_key"])
        again, _ = EncapsSeeds.from_json(inp).encapsulator()(pair.public)
        expect("ciphertext", again.hex(), out["ciphertext"])


# ------------------------------------------------------------------------ sealed box (§2)


def seal_vector(label: str, plaintext: bytes, aad: bytes, note: str) -> Doc:
    """A sealed box to a fixed key pair with a fixed encapsulation."""
    seeds, enc = KemSeeds.named(label + " recipient"), EncapsSeeds.named(label + " sender")
    pair = seeds.key_pair()
    box = kem.seal(pair.public, plaintext, aad, encaps=enc.encapsulator())
    kem_ct, shared = enc.encapsulator()(pair.public)
    key = sha3(b"ohtchat seal v1\x00" + shared + sha3(kem_ct))
    return {
        "description": f"docs/protocol.md §2 (Sealed box): {note}",
        "inputs": {
            "recipient": seeds.to_json(),
            "encapsulation": enc.to_json(),
            "plaintext": plaintext.hex(),
            "aad": aad.hex(),
        },
        "outputs": {
            "public_key": pair.public.hex(),
            "secret_key": pair.secret.hex(),
            "kem_ciphertext": kem_ct.hex(),
            "shared_secret": shared.hex(),
            "key": key.hex(),
            "aead_nonce": bytes(12).hex(),
            "aead_aad": (bytes([kem.SEAL_VERSION]) + aad).hex(),
            "box": box.hex(),
            "box_base64": base64.b64encode(box).decode(),
        },
    }


def build_seal() -> Doc:
    """seal.json."""
    return {
        "description": "sealed boxes (/encrypt, mailbox items) with fixed randomness",
        "vectors": [
            seal_vector(
                "seal 1", "grüße from ohtchat".encode(), ENCRYPT_AAD, "/encrypt of a UTF-8 text"
            ),
            seal_vector("seal 2", b"", b"", "empty plaintext, empty AAD"),
        ],
    }


def check_seal(doc: Doc) -> None:
    """Open each box with the vector secret key; ``/encrypt`` boxes through decrypt_text."""
    for vec in doc["vectors"]:
        inp, out = vec["inputs"], vec["outputs"]
        secret, box, aad = unhex(out, "secret_key"), unhex(out, "box"), unhex(inp, "aad")
        expect("plaintext", kem.open_sealed(secret, box, aad).hex(), inp["plaintext"])
        expect("box kem ciphertext", box[1 : 1 + kem.CIPHERTEXT_SIZE].hex(), out["kem_ciphertext"])
        expect(
            "kem secret",
            kem.decapsulate(secret, unhex(out, "kem_ciphertext")).hex(),
            out["shared_secret"],
        )
        body = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
            box[1 + kem.CIPHERTEXT_SIZE :], unhex(out, "aead_aad"), bytes(12), unhex(out, "key")
        )
        expect("AEAD with the vector key", bytes(body).hex(), inp["plaintext"])
        if aad == ENCRYPT_AAD:
            account = SimpleNamespace(kem=kem.KemKeyPair.from_secret(secret))
            text = decrypt_text(account, out["box_base64"])  # type: ignore[arg-type]
            expect("/decrypt", text.encode().hex(), inp["plaintext"])
