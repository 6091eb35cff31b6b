"""Pilot tests that need the fake backend: states a real node on loopback TCP cannot produce.

The main flows (first run, unlock, whispers, contacts, ringcast, channels, every command
group, wrong arguments, tables, search, completion, keyboard and mouse) run against real
nodes in ``test_real_nodes.py``.
"""

from __future__ import annotations

from textual.widgets import ProgressBar

from .conftest import SIZE, make_app
from .fakes import FakeBackend
from .pilots import settle, static_text


async def test_tor_bootstrap_progress_bar(nodes: tuple[FakeBackend, FakeBackend]) -> None:
    """Tor bootstrap progress only exists on onion nodes, and a private tor network takes far
    too long to start for a client test: the fake backend sends the ``tor`` events instead."""
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.main.query_one(ProgressBar)
        assert not bar.display
        assert static_text(app, "#status-tor") == "Tor ready"
        alice.bus.publish("tor", state="bootstrapping", progress=40, summary="Loading")
        await settle(pilot)
        assert bar.display and bar.progress == 40
        assert static_text(app, "#status-tor") == "Tor starting"
        alice.bus.publish("tor", state="running", progress=100, summary="Done")
        await settle(pilot)
        assert not bar.display
        assert static_text(app, "#status-tor") == "Tor ready"
