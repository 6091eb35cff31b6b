"""The status bar follows tor's bootstrap, on a real node.

The main flows run against real nodes too: ``test_flows.py`` and ``test_typed_calls.py``
(in-process, memory network) and ``test_real_nodes.py`` (loopback TCP).
"""

from __future__ import annotations

from textual.widgets import ProgressBar

from ohtchat.api.events import TorEvent

from .conftest import SIZE, make_app
from .nodes import memory_ring
from .pilots import loaded, static_text, until


async def test_tor_bootstrap_progress_bar() -> None:
    """Tor bootstrap progress only exists on onion nodes, and a private tor network takes far
    too long to start for a client test: this node runs on the memory transport, and its
    event bus carries the ``TorEvent``s a node's tor controller publishes while tor starts."""
    async with memory_ring("alice") as (alice,):
        app = make_app(alice)
        async with app.run_test(size=SIZE) as pilot:
            await loaded(pilot, alice.bus)
            bar = app.main.query_one(ProgressBar)
            assert static_text(app, "#status-tor") == "no Tor"  # the real node: no tor
            assert not bar.display
            alice.bus.publish(TorEvent("bootstrapping", 40, "Loading"))
            await until(pilot, lambda: bar.display and bar.progress == 40, "the progress bar")
            assert static_text(app, "#status-tor") == "Tor starting"
            alice.bus.publish(TorEvent("running", 100, "Done"))
            await until(pilot, lambda: not bar.display, "the progress bar hidden")
            assert static_text(app, "#status-tor") == "Tor ready"
