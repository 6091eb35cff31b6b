"""The message queries agree with a brute-force model on random data."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ohtchat.store import Message, MessageState, Store

WORDS = ["alpha", "beta", "Gamma", "delta", "ALPHABET", "ß", "ss"]

messages = st.lists(
    st.tuples(
        st.integers(0, 3),  # conversation
        st.integers(0, 2),  # sender
        st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join),
        st.integers(0, 30),  # timestamp (ties on purpose)
        st.booleans(),  # received?
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    messages,
    st.one_of(st.none(), st.sampled_from(["alpha", "beta gamma", "SS", "zzz"])),
    st.one_of(st.none(), st.sampled_from(["s0", "s1"])),
    st.one_of(st.none(), st.sampled_from(["c0", "c1"])),
    st.one_of(st.none(), st.integers(0, 30)),
    st.one_of(st.none(), st.integers(0, 30)),
    st.integers(1, 50),
)
def test_search_history_unread_match_model(rows, text, sender, conv, since, until, limit):
    store = Store.memory(compact_every=5)
    model = []
    for i, (c, s, body, ts, received) in enumerate(rows):
        state = MessageState.RECEIVED if received else MessageState.DELIVERED
        m = Message(f"m{i}", f"c{c}", f"s{s}", body, float(ts), state)
        store.append_message(m)
        model.append(m)
    newest_first = sorted(model, key=lambda m: (m.timestamp, m.msg_id), reverse=True)
    terms = text.casefold().split() if text else []
    expected = [
        m
        for m in newest_first
        if all(t in m.text.casefold() for t in terms)
        and (sender is None or m.sender == sender)
        and (conv is None or m.conversation == conv)
        and (since is None or m.timestamp >= since)
        and (until is None or m.timestamp < until)
    ][:limit]
    got = store.search(
        text, sender=sender, conversation=conv, since=since, until=until, limit=limit
    )
    assert got == expected
    for c in {m.conversation for m in model}:
        conv_msgs = [m for m in newest_first if m.conversation == c]
        assert store.history(c, limit=limit) == conv_msgs[:limit]
    unread: dict[str, int] = {}
    for m in model:
        if m.state is MessageState.RECEIVED:
            unread[m.conversation] = unread.get(m.conversation, 0) + 1
    assert store.unread_counts() == unread
