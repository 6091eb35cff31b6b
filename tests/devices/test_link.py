"""Link codes: encoding, typo detection, one-time proofs bound to the session, the
verification string, expiry and voiding (docs/devices.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ohtchat.devices import (
    CODE_PREFIX,
    LINK_TTL,
    MAX_ATTEMPTS,
    DeviceError,
    LinkCode,
    LinkRefused,
    PendingLink,
    link_proof,
    verification_string,
)

KEY = bytes(range(32))
NODE = b"\x07" * 32
BINDING = b"\x42" * 32


def test_a_code_round_trips_as_typed() -> None:
    code = LinkCode.new(KEY)
    text = str(code)
    assert text.startswith(CODE_PREFIX) and text == text.lower()
    assert len(text) == len(CODE_PREFIX) + 80  # 50 bytes = 80 base32 digits, no padding
    assert LinkCode.parse(f"  {text.upper().replace('OHTCHAT-LINK:', CODE_PREFIX)}\n") == code
    assert LinkCode.new(KEY).secret != code.secret


@given(st.binary(min_size=16, max_size=16), st.integers(0, 79), st.sampled_from("abcdefgh234567"))
def test_any_changed_character_is_caught_or_names_another_code(
    secret: bytes, pos: int, char: str
) -> None:
    code = LinkCode(KEY, secret)
    text = str(code)
    at = len(CODE_PREFIX) + pos
    mutated = text[:at] + char + text[at + 1 :]
    if mutated == text:
        return
    try:
        other = LinkCode.parse(mutated)
    except DeviceError:
        return
    assert other != code  # 80 digits carry exactly 400 bits: no digit is padding


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ohtchat-link:",
        "hello",
        CODE_PREFIX + "1!",
        CODE_PREFIX + "a" * 79,
        CODE_PREFIX + "a" * 81,
    ],
)
def test_malformed_codes_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(DeviceError):
        LinkCode.parse(text)


def test_a_proof_passes_once_and_yields_the_shared_verification_string() -> None:
    code = LinkCode.new(KEY)
    pending = PendingLink(code, created=1000.0)
    proof = link_proof(code.secret, BINDING, NODE)
    sas = pending.check(proof, BINDING, NODE, now=1000.0 + LINK_TTL)
    assert sas == verification_string(code.secret, BINDING)
    assert len(sas) == 7 and sas[3] == " " and sas.replace(" ", "").isdigit()
    with pytest.raises(LinkRefused) as replay:
        pending.check(proof, BINDING, NODE, now=1001.0)
    assert replay.value.reason == "used"


def test_a_proof_is_bound_to_the_session_and_the_node_key() -> None:
    code = LinkCode.new(KEY)
    proof = link_proof(code.secret, BINDING, NODE)
    for binding, node in ((b"\x43" * 32, NODE), (BINDING, b"\x08" * 32)):
        pending = PendingLink(code, created=0.0)
        with pytest.raises(LinkRefused) as exc:
            pending.check(proof, binding, node, now=1.0)
        assert exc.value.reason == "bad_proof"
    # Another session's verification string differs (a third party sees other digits).
    assert verification_string(code.secret, BINDING) != verification_string(
        code.secret, b"\x43" * 32
    )


def test_an_expired_code_and_a_code_voided_by_guessing_are_refused() -> None:
    code = LinkCode.new(KEY)
    good = link_proof(code.secret, BINDING, NODE)
    late = PendingLink(code, created=0.0)
    with pytest.raises(LinkRefused) as exc:
        late.check(good, BINDING, NODE, now=LINK_TTL + 0.5)
    assert exc.value.reason == "expired"
    guessed = PendingLink(code, created=0.0)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(LinkRefused):
            guessed.check(b"\x00" * 32, BINDING, NODE, now=1.0)
    with pytest.raises(LinkRefused) as exc:
        guessed.check(good, BINDING, NODE, now=1.0)  # even the right proof, now
    assert exc.value.reason == "voided"
