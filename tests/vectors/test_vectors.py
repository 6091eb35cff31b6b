"""The committed vectors (docs/vectors/) match the code, both ways; a flipped byte fails."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ohtchat.wire.envelope import PROTOCOL_VERSION
from tests.vectors import generate
from tests.vectors.generate import FAMILIES, Family

BY_NAME = {f.name: f for f in FAMILIES}
IDS = [f.name for f in FAMILIES]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_regenerated_vectors_equal_committed(family: Family) -> None:
    assert family.path.exists(), "run: python -m tests.vectors.generate --write"
    fresh = family.render()
    assert family.path.read_text(encoding="utf-8") == fresh, (
        f"{family.path.name} drifted from the code; review, then "
        "python -m tests.vectors.generate --write"
    )


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_committed_vectors_verify(family: Family) -> None:
    doc = family.load()
    assert doc["protocol_version"] == PROTOCOL_VERSION
    assert doc["vectors"] and all(v["description"].startswith("docs/") for v in doc["vectors"])
    family.check(doc)


def flip(doc: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    """A copy of ``doc`` with one byte of the hex string at ``path`` XOR-ed with 0x01."""
    out = copy.deepcopy(doc)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    raw = bytearray.fromhex(parent[path[-1]])
    raw[len(raw) // 2] ^= 0x01
    parent[path[-1]] = raw.hex()
    return out


def fails(check: Callable[[dict[str, Any]], None], doc: dict[str, Any]) -> bool:
    """True when ``check`` rejects ``doc`` (a mismatch, or a production error such as a
    signature, AEAD or decoding failure)."""
    try:
        check(doc)
    except Exception:
        return True
    return False


TAMPERED = [
    ("identity", (0, "outputs", "node_id")),
    ("identity", (2, "inputs", "seed")),
    ("certificate", (0, "outputs", "certificate")),
    ("certificate", (1, "inputs", "node_public")),
    ("kem", (0, "outputs", "ciphertext")),
    ("kem", (0, "outputs", "mlkem_shared")),
    ("kem", (1, "inputs", "mlkem_m")),
    ("seal", (0, "outputs", "box")),
    ("seal", (1, "outputs", "key")),
    ("handshake", (0, "outputs", "hs1")),
    ("handshake", (0, "outputs", "hs3")),
    ("handshake", (0, "outputs", "hs4")),
    ("handshake", (0, "outputs", "hs4_frame")),
    ("handshake", (0, "outputs", "sig_r")),
    ("handshake", (0, "outputs", "k_r2i")),
    ("handshake", (0, "inputs", "responder", "encapsulation", "mlkem_m")),
    ("frames", (2, "outputs", "frame")),
    ("frames", (0, "inputs", "key")),
    ("dht", (0, "outputs", "record")),
    ("dht", (1, "outputs", "signature")),
    ("dht", (2, "outputs", "value")),
    ("ringcast", (0, "outputs", "params")),
    ("ringcast", (1, "outputs", "signed_body")),
    ("mailbox", (0, "outputs", "box")),
    ("mailbox", (0, "outputs", "sealed_plaintext")),
    ("mailbox", (1, "outputs", "marker")),
    ("ratchet", (0, "outputs", "bundle")),
    ("ratchet", (1, "outputs", "message")),
    ("ratchet", (1, "outputs", "sk")),
    ("ratchet", (1, "outputs", "responder_state")),
    ("ratchet", (1, "inputs", "randomness", "mlkem_encaps_m", 0)),
    ("ratchet", (2, "outputs", "steps", 0, "message")),
    ("ratchet", (2, "inputs", "sender_state")),
    ("ratchet", (3, "outputs", "skipped_key")),
    ("ratchet", (3, "outputs", "steps", 0, "enc_header")),
    ("ratchet", (3, "outputs", "receiver_states", 0)),
    ("ratchet", (4, "inputs", "account_public_b")),
    ("files", (0, "outputs", "item")),
    ("files", (0, "outputs", "sha256")),
    ("files", (1, "outputs", "reply")),
    ("files", (2, "outputs", "local_id")),
]


@pytest.mark.parametrize(
    ("name", "path"), TAMPERED, ids=[f"{n}-{'.'.join(map(str, p))}" for n, p in TAMPERED]
)
def test_one_flipped_byte_fails_the_check(name: str, path: tuple[Any, ...]) -> None:
    family = BY_NAME[name]
    doc = family.load()
    family.check(doc)  # the untouched vector passes...
    tampered = flip(doc, ("vectors", *path))
    assert fails(family.check, tampered)  # ...and one flipped byte does not


def test_a_stale_committed_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = BY_NAME["frames"]
    fresh = family.render()
    stale = generate.render(flip(family.load(), ("vectors", 0, "outputs", "payload")))
    monkeypatch.setattr(generate, "VECTORS_DIR", tmp_path)
    (tmp_path / "frames.json").write_text(stale, encoding="utf-8")
    report = generate.compare(family, fresh)
    assert report[0] == "frames.json: differs" and any(line.startswith("-") for line in report)
    (tmp_path / "frames.json").write_text(fresh, encoding="utf-8")
    assert generate.compare(family, fresh) == []


def test_the_production_package_never_imports_kyber_py() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "ohtchat").rglob("*.py"))
        if "kyber" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
