"""A fixed, typed stand-in for a node, ONLY for the snapshot tests (``test_snapshots.py``).

Why not a real node: a snapshot compares every cell of the screen, and a real node draws
random account and node ids, onion addresses and wall-clock timestamps, so no two runs would
draw the same screen. Every other client test drives real nodes (``nodes.py``).

It answers exactly the typed operations the client makes while a snapshot is taken (status,
lists, history, help, finger table) with fixed views, and refuses everything else: it has no
behaviour to get wrong, so it cannot hide a difference from the real node.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ohtchat.api.bus import EventBus
from ohtchat.api.codec import from_data
from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import (
    FingerTableOp,
    GetHistory,
    GetStatus,
    Help,
    ListChannels,
    ListContacts,
    Operation,
)
from ohtchat.api.results import CommandResult
from ohtchat.api.views import (
    ChannelList,
    ChannelView,
    CommandHelp,
    ContactList,
    ContactView,
    FingerTable,
    FingerView,
    HelpIndex,
    MessageList,
    MessageView,
    PeerView,
    StatusView,
    TorView,
)
from ohtchat.commands.helptext import describe
from ohtchat.commands.spec import COMMANDS

T0 = 1_700_000_000.0  # a fixed clock: 2023-11-14 22:13:20 UTC
ALICE, BOB, CLUB = "a1" * 32, "b2" * 32, "c3" * 32
ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
CAROL = PeerView("c0ffee" + "0" * 58, "carol.onion", "127.0.0.1:9003")
DAVE = PeerView("beef00" + "0" * 58, "dave.onion", "127.0.0.1:9004")
READY = TorView("running", 100, "Done")


@dataclass
class SnapshotBackend:
    """One account's fixed view of its node (see the module docstring)."""

    account_id: str
    name: str
    contacts: tuple[ContactView, ...]
    channels: tuple[ChannelView, ...]
    messages: tuple[MessageView, ...] = ()
    tor: TorView = READY
    bus: EventBus = field(default_factory=EventBus)

    def status(self) -> StatusView:
        return StatusView(
            self.account_id, self.name, ONION, "9" * 64, "127.0.0.1:9001", "tcp", True,
            CAROL, DAVE, 1, self.tor,
        )  # fmt: skip

    async def call(self, op: Operation) -> CommandResult:
        match op:
            case GetStatus():
                return CommandResult.success("", self.status())
            case ListContacts():
                return CommandResult.success("", ContactList(self.contacts))
            case ListChannels():
                return CommandResult.success("", ChannelList(self.channels))
            case GetHistory(conversation=str(cid), count=int(count)):
                shown = [m for m in self.messages if m.conversation == cid][-count:]
                return CommandResult.success("", MessageList(cid, tuple(shown)))
            case Help(command=None):
                described = (from_data(CommandHelp, describe(spec)) for spec in COMMANDS)
                return CommandResult.success("", HelpIndex(tuple(described)))
            case FingerTableOp():
                fingers = tuple(FingerView(0, 250, f"{i:064x}", CAROL) for i in (1, 2))
                return CommandResult.success("", FingerTable(fingers))
        raise AssertionError(f"a snapshot does not need {op!r}")

    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        raise AssertionError(f"a snapshot types no command line ({line!r})")

    def events(self) -> AsyncIterator[NodeEvent]:
        return self.bus.subscribe()

    async def complete(self, line: str, cursor: int) -> list[str]:
        return []


def _message(n: int, conversation: str, sender: str, name: str, text: str) -> MessageView:
    return MessageView(
        f"a1a1-{n}", conversation, sender, name, text, T0 + 60 * (n - 1), "delivered",
        sender == ALICE,
    )  # fmt: skip


def _contact(account_id: str, name: str) -> ContactView:
    return ContactView(account_id, name, "accepted", "online", 0, account_id[:16])


def alice(tor: TorView = READY) -> SnapshotBackend:
    """Alice: Bob is her contact, both are in "book club"; a short history with each."""
    return SnapshotBackend(
        ALICE,
        "alice",
        (_contact(BOB, "bob"),),
        (ChannelView(CLUB, "book club", (ALICE, BOB)),),
        (
            _message(1, BOB, BOB, "bob", "hi alice"),
            _message(2, BOB, ALICE, "alice", "hello bob, pizza tonight?"),
            _message(3, BOB, BOB, "bob", "sure"),
            _message(4, CLUB, BOB, "bob", "welcome to the book club"),
        ),
        tor,
    )
