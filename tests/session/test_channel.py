"""Encrypted frames: tampering, truncation, oversize, replay and reordering end the session."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ohtchat.session.channel import ChannelCipher
from ohtchat.wire.errors import (
    FrameTooLarge,
    MalformedMessage,
    OutOfOrderFrame,
    ReplayedFrame,
    TamperedFrame,
    TruncatedFrame,
)
from ohtchat.wire.frames import FrameDecoder, encode_frame

KEY_A, KEY_B = b"a" * 32, b"b" * 32


def pair() -> tuple[ChannelCipher, ChannelCipher]:
    return ChannelCipher(KEY_A, KEY_B), ChannelCipher(KEY_B, KEY_A)


def test_round_trip_in_order():
    a, b = pair()
    for i in range(5):
        assert b.open(a.seal(f"m{i}".encode())) == f"m{i}".encode()
        assert a.open(b.seal(b"back")) == b"back"


def test_tampered_frame():
    a, b = pair()
    frame = bytearray(a.seal(b"hello"))
    frame[-3] ^= 0x40
    with pytest.raises(TamperedFrame):
        b.open(bytes(frame))


def test_tampered_counter_is_caught_by_aad():
    a, b = pair()
    a.seal(b"zero")  # b never sees frame 0
    frame = bytearray(a.seal(b"one"))
    frame[7] = 0  # claim counter 0
    with pytest.raises(TamperedFrame):
        b.open(bytes(frame))


def test_replayed_frame():
    a, b = pair()
    f0 = a.seal(b"once")
    b.open(f0)
    with pytest.raises(ReplayedFrame):
        b.open(f0)


def test_out_of_order_frame():
    a, b = pair()
    a.seal(b"first")
    second = a.seal(b"second")
    with pytest.raises(OutOfOrderFrame):
        b.open(second)


def test_short_frame():
    _, b = pair()
    with pytest.raises(MalformedMessage):
        b.open(b"\x00" * 10)


def test_frame_decoder_limits():
    dec = FrameDecoder(max_size=16)
    assert dec.feed(encode_frame(b"abc", 16) + encode_frame(b"", 16)) == [b"abc", b""]
    with pytest.raises(FrameTooLarge):
        FrameDecoder(max_size=16).feed(b"\x00\x00\x00\x11")
    with pytest.raises(FrameTooLarge):
        encode_frame(b"x" * 17, 16)
    partial = FrameDecoder(max_size=16)
    assert partial.feed(b"\x00\x00\x00\x05ab") == []
    with pytest.raises(TruncatedFrame):
        partial.eof()


@settings(max_examples=10_000, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=1, max_value=7))
def test_frame_decoder_and_cipher_never_raise_foreign_errors(data, split):
    """Arbitrary bytes → payloads, or the protocol's own errors; nothing else, no hang."""
    from ohtchat.wire.errors import ProtocolError

    dec = FrameDecoder(max_size=32)
    _, b = pair()
    try:
        for i in range(0, len(data), split):
            for payload in dec.feed(data[i : i + split]):
                b.open(payload)
        dec.eof()
    except ProtocolError:
        pass
