"""Helpers for chat tests: real ChatNodes on TCP (loopback) in one process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ohtchat.chat.node import ChatNode, NodeOptions
from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.store import KdfParams

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


def options(
    data_dir: Path, name: str, bootstrap: list[str], listen: str | None = None
) -> NodeOptions:
    """Options for a fast test node on loopback TCP."""
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
        deliver_timeout=3.0,
    )


async def start_ring(base: Path, names: list[str]) -> list[ChatNode]:
    """Start one node per name; the first creates the ring, the others join through it."""
    first = await ChatNode.start(options(base / names[0], names[0], []), PASS)
    nodes = [first]
    for name in names[1:]:
        nodes.append(
            await ChatNode.start(options(base / name, name, [first.listener.address]), PASS)
        )
    await asyncio.gather(*(n.ready(30) for n in nodes))
    await settle(nodes)
    return nodes


async def settle(nodes: list[ChatNode], seconds: float = 2.0) -> None:
    """Let stabilization run, then republish presence so every record is on its true owners."""
    await asyncio.sleep(seconds)
    for n in nodes:
        await n.chat.publish_presence()


async def wait_for(predicate, timeout: float = 15.0, step: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    """Poll ``predicate()`` until true (fails the test after ``timeout`` seconds)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)
