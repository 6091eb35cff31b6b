"""How a node is run: the options shared by the TUI, ``--serve``, the demo and the tests, and
opening (or creating) its encrypted store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ohtchat.chord.config import ChordConfig
from ohtchat.dht.config import DhtConfig
from ohtchat.store import KdfParams, Store
from ohtchat.transport.memory import MemoryNetwork

#: The conversation that collects every ringcast this node saw (its own included).
RINGCAST_CONVERSATION = "ringcast"


class NodeError(Exception):
    """The node cannot start as configured."""


@dataclass
class NodeOptions:
    """How to run a node (shared by the TUI, ``--serve`` and the tests)."""

    data_dir: Path | None = None
    memory: bool = False
    transport: str = "onion"  # "onion", "tcp" or "memory"
    listen: str | None = None
    bootstrap: list[str] = field(default_factory=list)
    name: str = ""
    tor_testnet: Path | None = None
    tor_control: str | None = None
    lang: str | None = None
    create_if_missing: bool = False
    memory_network: MemoryNetwork | None = None
    chord: ChordConfig | None = None
    dht: DhtConfig | None = None
    kdf: KdfParams | None = None
    heartbeat_interval: float = 30.0
    mailbox_interval: float = 60.0
    join_retry: float = 10.0
    deliver_timeout: float = 20.0
    tor_monitor_interval: float = 5.0
    #: Sessions (Tor circuits) that carried nothing this long are closed, except those to ring
    #: neighbours and fingers; swept every quarter of it.
    session_idle_timeout: float = 600.0


def open_store(options: NodeOptions, passphrase: str) -> Store:
    """The node's store: in memory, opened with ``passphrase``, or created when allowed."""
    if options.memory:
        return Store.memory()
    if options.data_dir is None:
        raise NodeError("a data directory is needed (or --memory)")
    if Store.exists(options.data_dir):
        return Store.open(options.data_dir, passphrase)
    if not options.create_if_missing:
        raise NodeError(f"no ohtchat data in {options.data_dir}: pass --name to create an account")
    options.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return Store.create(options.data_dir, passphrase, kdf=options.kdf)
