"""Pilot tests that need the fake backend: states a real node on loopback TCP cannot produce.

The main flows (first run, unlock, whispers, contacts, ringcast, channels, every command
group, wrong arguments, tables, search, completion, keyboard and mouse) run against real
nodes in ``test_real_nodes.py``.
"""

from __future__ import annotations

from textual.widgets import ProgressBar

from tests.events import publish

from .conftest import SIZE, make_app
from .fakes import FakeBackend
from .pilots import settle, static_text, until


async def test_tor_bootstrap_progress_bar(nodes: tuple[FakeBackend, FakeBackend]) -> None:
    """Tor bootstrap progress only exists on onion nodes, and a private tor network takes far
    too long to start for a client test: the fake backend sends the ``tor`` events instead."""
    alice, _bob = nodes
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.main.query_one(ProgressBar)
        await until(pilot, lambda: static_text(app, "#status-tor") == "Tor ready", "the status")
        assert not bar.display
        # An event published before the client subscribed would never reach it.
        await until(pilot, lambda: alice.bus.subscribers == 1, "the client follows the events")
        publish(alice.bus, "tor", state="bootstrapping", progress=40, summary="Loading")
        await until(pilot, lambda: bar.display and bar.progress == 40, "the progress bar")
        assert static_text(app, "#status-tor") == "Tor starting"
        publish(alice.bus, "tor", state="running", progress=100, summary="Done")
        await until(pilot, lambda: not bar.display, "the progress bar hidden")
        assert static_text(app, "#status-tor") == "Tor ready"
