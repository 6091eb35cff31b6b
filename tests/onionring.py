"""Options for in-process nodes that each run their own tor and onion service on the private
Tor network (the ``testnet`` fixture): timers fast enough for a test, timeouts long enough for
onion circuits on a loaded machine."""

from __future__ import annotations

from pathlib import Path

from ohtchat.app.node import NodeOptions
from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.tor.testnet import Testnet

ONION_CHORD = ChordConfig(
    successors=4,
    rpc_timeout=20.0,
    lookup_timeout=60.0,
    stabilize_interval=1.0,
    check_predecessor_interval=2.0,
    fix_fingers_interval=0.5,
)


def onion_options(
    testnet: Testnet, name: str, bootstrap: list[str], data: Path | None = None
) -> NodeOptions:
    """A node named ``name`` on the private network, joining through ``bootstrap`` (onion
    addresses); in memory, or with a store in ``data`` (created if missing) to restart it."""
    return NodeOptions(
        memory=data is None,
        data_dir=data,
        create_if_missing=True,
        transport="onion",
        tor_testnet=testnet.dir,
        bootstrap=bootstrap,
        name=name,
        chord=ONION_CHORD,
        dht=DhtConfig(rpc_timeout=20.0, maintain_interval=3.0),
        heartbeat_interval=5.0,
        mailbox_interval=3.0,
        join_retry=2.0,
        deliver_timeout=30.0,
        tor_monitor_interval=1.0,
    )
