"""Hypothesis drives the handshake state machines with arbitrary and near-valid input."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ohtchat.session.handshake import Initiator, Responder
from ohtchat.wire import envelope
from ohtchat.wire.errors import ProtocolError
from tests.conftest import make_identity

ALICE, BOB = make_identity(), make_identity()

# Values that are sometimes the right type and size, so examples get past the first checks.
field_values = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([32, 64, 144, 1120, 1216]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    st.text(max_size=70),
    st.just(BOB.onion),
    st.just(ALICE.onion),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.booleans(),
    st.none(),
)
bodies = st.dictionaries(
    st.sampled_from(["onion", "cookie", "kem", "ct", "cert", "sig", "x"]), field_values, max_size=6
)
envelopes = st.builds(
    lambda t, b: envelope.encode(t, b), st.sampled_from(["hs1", "hs2", "hs3", "hs4", "req"]), bodies
)
payloads = st.one_of(st.binary(max_size=200), envelopes)


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payloads, min_size=1, max_size=3), st.booleans())
def test_state_machines_raise_only_protocol_errors(messages, as_initiator):
    """No exception but the protocol's own escapes; every call returns (no hang)."""
    machine = Initiator(ALICE, BOB.onion, time.time) if as_initiator else Responder(BOB, time.time)
    if as_initiator:
        machine.start()
    for msg in messages:
        try:
            machine.receive(msg)
        except ProtocolError:
            return
    assert machine.result is None  # arbitrary input never completes a handshake
