"""Session exhaustion by hostile peers (issue 19, item 1), over real TCP.

The attacker is built from the project's own modules: it runs the real handshake
(:func:`ohtchat.session.session.initiate`) from fresh identities, which cost nothing, or opens
connections and feeds them a byte at a time (slow-loris). The honest peers are ordinary
:class:`SessionPool` s. Before the fix a full pool refused every new session, so the flood
locked honest peers out, and slow handshakes held the slots a new handshake waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ohtchat.session.identity import NodeIdentity
from ohtchat.session.pool import MAX_REPLACED, REPLACED_GRACE, SessionPool
from ohtchat.session.rpc import RpcConnection
from ohtchat.session.session import Session, initiate
from ohtchat.sim.loop import run_virtual
from ohtchat.transport.base import ByteStream, StreamClosed
from ohtchat.transport.memory import MemoryNetwork
from ohtchat.transport.tcp import TcpTransport
from ohtchat.wire.envelope import Fields
from ohtchat.wire.errors import HandshakeFailed
from ohtchat.wire.frames import HEADER
from tests.conftest import make_identity
from tests.waiting import eventually

MAX_SESSIONS = 16
FLOOD = MAX_SESSIONS + 8


async def _echo(peer: Any, method: str, params: Fields) -> dict[str, Any]:
    return {"n": params.int_("n")}


async def _node(me: NodeIdentity, **options: Any) -> tuple[SessionPool, str]:
    pool = SessionPool(TcpTransport(), me, _echo, **options)
    await pool.listen("127.0.0.1:0")
    assert pool.listen_address is not None
    return pool, pool.listen_address


async def _attacker_session(address: str, onion: str) -> Session | None:
    """One authenticated session from a fresh identity (``None`` if the node refused it)."""
    stream = await TcpTransport().connect(address)
    try:
        return await initiate(stream, make_identity(), onion, timeout=10)
    except HandshakeFailed:  # refused (busy): what the old pool answered past max_sessions
        return None


async def _talk(pool: SessionPool, address: str, onion: str, n: int) -> int:
    result = await pool.request(address, onion, "echo", {"n": n}, timeout=10)
    return result.int_("n")


async def test_a_flood_of_fresh_idle_identities_cannot_lock_honest_peers_out(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    node, address = await _node(bob, max_sessions=MAX_SESSIONS)
    talking = SessionPool(TcpTransport(), alice, _echo)
    newcomer = SessionPool(TcpTransport(), make_identity(), _echo)
    flood: list[Session | None] = []
    try:
        assert await _talk(talking, address, bob.onion, 1) == 1
        before = talking.sessions()
        flood = [await _attacker_session(address, bob.onion) for _ in range(FLOOD)]
        assert len(node.sessions()) <= MAX_SESSIONS
        # A new honest peer still gets a session and an answer...
        assert await _talk(newcomer, address, bob.onion, 2) == 2
        # ...and the peer that was talking before the flood kept its session.
        assert await _talk(talking, address, bob.onion, 3) == 3
        assert talking.sessions() == before and not before[0].closed
        assert alice.onion in {c.peer.onion for c in node.sessions()}
        assert node.evicted >= FLOOD + 2 - MAX_SESSIONS
        assert "busy" not in node.refused
    finally:
        for session in flood:
            if session is not None:
                await session.close()
        for pool in (talking, newcomer, node):
            await pool.close()


async def test_a_flood_of_used_sessions_cannot_push_out_a_peer_that_was_talking(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    # Each attacking session makes a request, so it is "used" too, and more recently than the
    # honest peer: least-recently-used eviction alone would push the honest peer out.
    node, address = await _node(bob, max_sessions=MAX_SESSIONS)
    talking = SessionPool(TcpTransport(), alice, _echo)
    newcomer = SessionPool(TcpTransport(), make_identity(), _echo)
    flood: list[RpcConnection] = []
    try:
        assert await _talk(talking, address, bob.onion, 1) == 1
        before = talking.sessions()
        for i in range(FLOOD):
            session = await _attacker_session(address, bob.onion)
            assert session is not None, "the node refused a session instead of evicting one"
            conn = RpcConnection(session, _echo)
            conn.start()
            flood.append(conn)
            assert (await conn.request("echo", {"n": i}, timeout=10)).int_("n") == i
        assert await _talk(newcomer, address, bob.onion, 2) == 2
        assert await _talk(talking, address, bob.onion, 3) == 3
        assert talking.sessions() == before and not before[0].closed
        # The flood ate its own sessions: room was made by evicting attacking ones.
        evicted = FLOOD + 2 - MAX_SESSIONS
        await eventually(lambda: sum(c.closed for c in flood) >= evicted, "flood sessions evicted")
        assert node.evicted == evicted
    finally:
        for conn in flood:
            await conn.close()
        for pool in (talking, newcomer, node):
            await pool.close()


async def _slow_loris(stream: ByteStream) -> None:
    """Announce a 2000-byte handshake frame, then send it one byte every half second, until
    the node hangs up."""
    with contextlib.suppress(StreamClosed, ConnectionError):
        await stream.write(HEADER.pack(2000))
        while True:
            try:
                data = await asyncio.wait_for(stream.read(64), 0.5)
            except TimeoutError:
                await stream.write(b"\x00")
                continue
            if not data:
                return  # dropped by the node


async def test_slow_loris_connections_cannot_hold_off_an_honest_handshake(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    # The node's whole-handshake limit is long here: before the fix, 16 slow handshakes held
    # every handshake slot that long, and the honest one below waited behind them.
    node, address = await _node(bob, handshake_timeout=120)
    cap = 64  # the pool's default max_pending
    count = cap + 6
    honest = SessionPool(TcpTransport(), alice, _echo)
    streams = [await TcpTransport().connect(address) for _ in range(count)]
    lorises = [asyncio.ensure_future(_slow_loris(s)) for s in streams]
    try:
        await eventually(
            lambda: node.pending_handshakes + node.refused.get("dropped", 0) >= count,
            "every slow connection accepted",
        )
        assert node.pending_handshakes <= cap
        assert node.refused.get("dropped", 0) >= count - cap
        # The honest handshake neither waits for a slot nor is dropped (it is the newest).
        assert await _talk(honest, address, bob.onion, 7) == 7
        # The rest of the slow connections are dropped at the first-frame deadline.
        await eventually(lambda: all(t.done() for t in lorises), "every slow-loris dropped")
        assert node.pending_handshakes == 0
        assert node.refused.get("HandshakeTimeout", 0) >= cap - 1
    finally:
        for task in lorises:
            task.cancel()
        for s in streams:
            await s.close()
        await honest.close()
        await node.close()


async def _until_closed(stream: ByteStream) -> None:
    with contextlib.suppress(StreamClosed, ConnectionError):
        while await stream.read(64):
            pass


def test_silent_connections_are_dropped_by_the_cap_and_the_first_frame_deadline(
    alice: NodeIdentity, bob: NodeIdentity
) -> None:
    """On virtual time and the in-memory network: deadlines pass without waiting for them."""

    async def main() -> None:
        net = MemoryNetwork()
        node = SessionPool(net.transport("b"), bob, _echo, max_pending=2, first_frame_timeout=10)
        await node.listen("b")
        honest = SessionPool(net.transport("a"), alice, _echo)
        silent = [await net.transport(f"s{i}").connect("b") for i in range(3)]
        watchers = [asyncio.ensure_future(_until_closed(s)) for s in silent]
        try:
            await eventually(lambda: node.refused.get("dropped") == 1, "one over the cap")
            assert await _talk(honest, "b", bob.onion, 5) == 5  # drops one more, not itself
            assert node.refused["dropped"] == 2
            start = asyncio.get_running_loop().time()
            await eventually(lambda: all(w.done() for w in watchers), "all silent ones gone")
            assert asyncio.get_running_loop().time() - start <= 10 + 1
            assert node.refused["HandshakeTimeout"] == 1 and node.pending_handshakes == 0
        finally:
            for s in silent:
                await s.close()
            await honest.close()
            await node.close()

    run_virtual(main())


async def test_one_identity_reconnecting_cannot_pile_up_replaced_sessions(
    bob: NodeIdentity,
) -> None:
    # Each new session from the same peer replaces the previous one, which used to stay open
    # 30 s for calls in flight, however many there were: a way around max_sessions.
    node, address = await _node(bob, max_sessions=MAX_SESSIONS)
    attacker = make_identity()
    sessions: list[Session] = []
    try:
        for _ in range(MAX_REPLACED + 16):
            stream = await TcpTransport().connect(address)
            sessions.append(await initiate(stream, attacker, bob.onion, timeout=10))
        watchers = [asyncio.ensure_future(_until_closed(s.stream)) for s in sessions]
        # Well before the 30 s grace: the ones over MAX_REPLACED were closed at once.
        await eventually(
            lambda: sum(w.done() for w in watchers) >= len(sessions) - MAX_REPLACED - 1,
            "replaced sessions over the cap closed",
            timeout=REPLACED_GRACE / 3,
        )
        assert len(node.sessions()) == 1
    finally:
        for session in sessions:
            await session.close()
        await node.close()
