"""Helpers for chat tests: real ChatNodes on TCP (loopback) in one process.

Nothing here sleeps for a result: :func:`settle` waits (bounded) until the ring is exact and
every presence record can be found, so tests read ring and DHT state only once it is there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ohtchat.app.node import ChatNode, NodeOptions
from ohtchat.chat.presence import parse_presence, presence_key
from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.store import KdfParams
from tests.waiting import eventually

FAST_CHORD = ChordConfig(
    successors=4,
    rpc_timeout=3.0,
    lookup_timeout=15.0,
    stabilize_interval=0.3,
    check_predecessor_interval=0.5,
    fix_fingers_interval=0.2,
)
FAST_DHT = DhtConfig(rpc_timeout=3.0, maintain_interval=1.0)
PASS = "correct horse battery staple"
# Ring convergence (stabilization rounds on a loaded machine) gets a longer deadline.
RING_DEADLINE = 90.0


def options(
    data_dir: Path, name: str, bootstrap: list[str], listen: str | None = None, **changes: Any
) -> NodeOptions:
    """Options for a fast test node on loopback TCP (``changes`` override fields)."""
    return replace(_fast_options(data_dir, name, bootstrap, listen), **changes)


def _fast_options(
    data_dir: Path, name: str, bootstrap: list[str], listen: str | None
) -> NodeOptions:
    return NodeOptions(
        data_dir=data_dir,
        transport="tcp",
        listen=listen,
        bootstrap=bootstrap,
        name=name,
        create_if_missing=True,
        chord=FAST_CHORD,
        dht=FAST_DHT,
        kdf=KdfParams.minimum(),
        heartbeat_interval=0.5,
        mailbox_interval=0.5,
        join_retry=0.5,
        # A stopped peer refuses the connection at once; this only bounds a slow receipt on a
        # loaded machine, which must not turn a delivery into a mailbox fallback.
        deliver_timeout=10.0,
    )


async def start_ring(base: Path, names: list[str], **changes: Any) -> list[ChatNode]:
    """Start one node per name; the first creates the ring, the others join through it.

    ``changes`` override option fields on every node. Returns once the ring is exact and every
    node finds every presence (see :func:`settle`).
    """
    first = await ChatNode.start(options(base / names[0], names[0], [], **changes), PASS)
    nodes = [first]
    for name in names[1:]:
        seed = [first.listener.address]
        nodes.append(await ChatNode.start(options(base / name, name, seed, **changes), PASS))
    for n in nodes:
        await n.ready(RING_DEADLINE)
    await settle(nodes)
    return nodes


def ring_problems(nodes: list[ChatNode]) -> list[str]:
    """How the live ring of ``nodes`` differs from the exact one (empty when it is exact):
    every successor list is the next ``min(r, n - 1)`` ids, every predecessor the previous id."""
    ids = sorted(n.chord.me.id for n in nodes)
    count = len(ids)
    problems = []
    for n in nodes:
        me, st = n.chord.me.id, n.chord.state
        i = ids.index(me)
        want = [ids[(i + k) % count] for k in range(1, min(FAST_CHORD.successors, count - 1) + 1)]
        got = [p.id for p in st.successors]
        pred = st.predecessor.id if st.predecessor is not None else None
        want_pred = ids[i - 1] if count > 1 else None
        off = [
            what
            for what, ok in (
                ("not a member", n.chord.member),
                (f"successors {len(got)}/{len(want)} not exact", got == want),
                ("predecessor not exact", pred == want_pred),
            )
            if not ok
        ]
        if off:
            problems.append(f"{n.account.name}: {', '.join(off)}")
    return problems


def ring_is_exact(nodes: list[ChatNode]) -> bool:
    """True when the ring of ``nodes`` is exact; else AssertionError naming the nodes off."""
    problems = ring_problems(nodes)
    assert not problems, problems
    return True


async def presence_of(node: ChatNode, acct_id: str) -> Any:
    """The presence record of ``acct_id`` as ``node`` finds it in the DHT now (no cache used
    or filled), or ``None``."""
    try:
        record = await node.dht.get(presence_key(acct_id))
    except Exception:  # the DHT's own errors (unavailable, ...): not found yet
        return None
    if record is None:
        return None
    return parse_presence(acct_id, record.owner, record.value, node.chat.now())


async def finds(node: ChatNode, acct_id: str, onion: str) -> bool:
    """Whether ``node`` finds ``acct_id``'s presence naming ``onion`` in the DHT."""
    p = await presence_of(node, acct_id)
    return p is not None and p.onion == onion


async def settle(nodes: list[ChatNode]) -> None:
    """Wait until the ring of ``nodes`` (the live ones) is exact, republish every presence so
    each record is on its true owners, then wait until every node finds every presence."""
    names = ", ".join(n.account.name for n in nodes)
    await eventually(lambda: ring_is_exact(nodes), f"exact ring of {names}", RING_DEADLINE)
    for n in nodes:
        await n.chat.publish_presence()
    missing = {(a, b) for a in nodes for b in nodes if a is not b}

    async def all_found() -> bool:
        for a, b in sorted(missing, key=lambda pair: (pair[0].account.name, pair[1].account.name)):
            if await finds(a, b.account.account_id, b.identity.onion):
                missing.discard((a, b))
        assert not missing, [f"{a.account.name} -> {b.account.name}" for a, b in missing]
        return True

    await eventually(all_found, f"presences found among {names}", RING_DEADLINE)
