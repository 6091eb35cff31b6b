"""The status bar: tor state (a progress bar while bootstrapping), own onion, ring, delivery."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from ohtchat.api.views import PeerView, TorView
from ohtchat.i18n import _, format_number, ngettext
from ohtchat.tui.model import ChatModel, RingState
from ohtchat.tui.text import clean, short_id, short_onion, state_name


def tor_label(tor: TorView) -> str:
    """The localized one-word state of tor (from a tor event or the status)."""
    state = tor.state
    if state == "stopped":
        return _("Tor stopped")
    if state in ("starting", "bootstrapping"):
        return _("Tor starting")
    if state in ("running", "ready"):
        return _("Tor ready")
    if state == "failed":
        return _("Tor failed")
    if state == "off" or not state:
        return _("no Tor")
    return _("Tor: {state}").format(state=clean(state))


def bootstrapping(tor: TorView) -> bool:
    """True while tor is starting and reports a progress below 100 %."""
    return tor.state in ("starting", "bootstrapping") and tor.progress < 100


def ring_text(ring: RingState) -> str:
    """``pred ← me → succ · 3 peers`` in short ids, localized."""
    pred = _peer_short(ring.predecessor)
    succ = _peer_short(ring.successor)
    peer_words = ngettext("{n} peer", "{n} peers", ring.peers).format(n=format_number(ring.peers))
    member = ring.member if ring.member is not None else bool(pred or succ)
    if not member:
        return _("not on a ring") + " · " + peer_words
    return f"{pred or '—'} ← · → {succ or '—'} · {peer_words}"


def _peer_short(peer: PeerView | None) -> str:
    if peer is None:
        return ""
    return short_id(clean(peer.id or peer.onion or peer.address))


class StatusBar(Horizontal):
    """One line at the bottom; :meth:`show` redraws it from the model."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $primary-background; color: $text; }
    StatusBar > Static { width: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #status-tor { text-style: bold; }
    StatusBar > ProgressBar { width: 24; }
    StatusBar > ProgressBar Bar { width: 14; }
    StatusBar > #status-ring { width: 1fr; min-width: 8; }
    """

    def compose(self) -> ComposeResult:
        """Tor state, bootstrap bar, onion, ring (shortened with … when the line is full),
        and the last delivery state."""
        yield Static(id="status-tor")
        yield ProgressBar(total=100, show_eta=False, id="status-progress")
        yield Static(id="status-onion")
        yield Static(id="status-ring")
        yield Static(id="status-delivery")

    def show(self, model: ChatModel) -> None:
        """Redraw from the model."""
        tor = model.tor
        self.query_one("#status-tor", Static).update(tor_label(tor))
        bar = self.query_one("#status-progress", ProgressBar)
        bar.display = bootstrapping(tor)
        if bar.display:
            bar.update(progress=float(tor.progress))
        onion = clean(model.status.onion) if model.status is not None else ""
        self.query_one("#status-onion", Static).update(short_onion(onion) if onion else "")
        self.query_one("#status-ring", Static).update(ring_text(model.ring))
        delivery = ""
        if model.last_sent is not None:
            delivery = _("last message: {state}").format(state=state_name(model.last_sent[1]))
        self.query_one("#status-delivery", Static).update(delivery)
