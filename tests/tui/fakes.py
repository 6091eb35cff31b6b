"""A test double of a node: the real Dispatcher and EventBus over in-memory chat state.

Not a node: no network, no crypto. Whispers between two ``FakeBackend`` on one ``FakeNet``
arrive as ``message`` events on the other, so the client's flows can be driven end to end.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.events import NodeEvent
from ohtchat.api.ops import Operation, SendText
from ohtchat.api.results import CommandResult
from ohtchat.commands import (
    Command,
    Completion,
    Dispatcher,
    NotFound,
    PlainText,
    StaticCompletions,
    complete,
)
from tests.events import publish

T0 = 1_700_000_000.0  # a fixed clock: 2023-11-14 22:13:20 UTC


@dataclass
class FakeNet:
    """Connects fake nodes by account id."""

    nodes: dict[str, FakeBackend] = field(default_factory=dict)
    clock: itertools.count[int] = field(default_factory=lambda: itertools.count())

    def now(self) -> float:
        """A strictly increasing fake time (one minute per call)."""
        return T0 + 60 * next(self.clock)


class FakeBackend:
    """A :class:`~ohtchat.api.backend.Backend` over dictionaries."""

    def __init__(self, net: FakeNet, account_id: str, name: str, online: bool = True) -> None:
        self.net, self.account_id, self.name, self.online = net, account_id, name, online
        net.nodes[account_id] = self
        self.bus = EventBus()
        self.contacts: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        self.tor: dict[str, Any] = {"state": "running", "progress": 100, "summary": "Done"}
        self.executed: list[tuple[str, str | None]] = []
        self.member = True  # on a ring (what /status says)
        self.dispatcher = Dispatcher(reraise_unexpected=True)
        self.dispatcher.set_plain_text_handler(self._plain)
        for name in (
            "status",
            "contacts",
            "channels",
            "history",
            "search",
            "peers",
            "ftable",
            "whisper",
            "add",
            "request",
            "rm",
            "channel",
            "channelcast",
            "ringcast",
            "quit",
        ):
            self.dispatcher.register(name, getattr(self, f"_{name}"))
        self._conversation: str | None = None
        self._ids = itertools.count(1)

    # ---- Backend ------------------------------------------------------------------------
    async def execute(self, line: str, conversation: str | None = None) -> CommandResult:
        self.executed.append((line, conversation))
        self._conversation = conversation
        return await self.dispatcher.execute(line)

    async def call(self, op: Operation) -> CommandResult:
        if isinstance(op, SendText):
            self._conversation = op.conversation
            return await self.dispatcher.dispatch(PlainText(op.text))
        return await self.dispatcher.dispatch(Command(op.command_name, op.args()))

    def events(self) -> AsyncIterator[NodeEvent]:
        return self.bus.subscribe()

    async def complete(self, line: str, cursor: int) -> list[str]:
        contacts = [c["name"] for c in self.contacts.values()]
        channels = [c["name"] for c in self.channels.values()]
        source = StaticCompletions(
            {
                Completion.CONTACT: contacts,
                Completion.CHANNEL: channels,
                Completion.CONVERSATION: contacts + channels,
                Completion.KNOWN_ACCOUNT: contacts,
            }
        )
        return complete(line, cursor, source)

    # ---- helpers for tests ----------------------------------------------------------------
    def befriend(self, other: FakeBackend, presence: str = "online") -> None:
        self.contacts[other.account_id] = {
            "account_id": other.account_id,
            "name": other.name,
            "state": "added",
            "presence": presence,
            "unread": 0,
            "fingerprint": other.account_id[:16],
        }

    def add_channel(self, channel_id: str, name: str, members: list[str]) -> None:
        self.channels[channel_id] = {
            "channel_id": channel_id,
            "name": name,
            "members": members,
            "unread": 0,
        }

    def store(
        self, conversation: str, sender: FakeBackend, text: str, **extra: Any
    ) -> dict[str, Any]:
        msg = {
            "msg_id": f"{self.account_id[:4]}-{next(self._ids)}",
            "conversation": conversation,
            "sender": sender.account_id,
            "sender_name": sender.name,
            "text": text,
            "timestamp": self.net.now(),
            "state": "delivered",
            "outgoing": sender is self,
            **extra,
        }
        self.messages.append(msg)
        return msg

    def resolve(self, word: str) -> str:
        for cid, c in [*self.contacts.items(), *self.channels.items()]:
            if word in (cid, c["name"]) or (len(word) >= 4 and cid.startswith(word)):
                return cid
        raise NotFound(f"no contact or channel {word}")

    # ---- handlers -------------------------------------------------------------------------
    async def _status(self, cmd: Command) -> CommandResult:
        return CommandResult.success(
            f"{self.name} {self.account_id[:8]}",
            account_id=self.account_id,
            name=self.name,
            onion="abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion",
            node_id="9" * 64,
            member=self.member,
            successor={"id": "c0ffee" + "0" * 58},
            predecessor={"id": "beef00" + "0" * 58},
            peers=len(self.net.nodes) - 1,
            tor=self.tor,
            transport="tcp",
        )

    async def _contacts(self, cmd: Command) -> CommandResult:
        return CommandResult.success(
            "\n".join(c["name"] for c in self.contacts.values()),
            contacts=list(self.contacts.values()),
        )

    async def _channels(self, cmd: Command) -> CommandResult:
        return CommandResult.success(
            "\n".join(c["name"] for c in self.channels.values()),
            channels=list(self.channels.values()),
        )

    async def _history(self, cmd: Command) -> CommandResult:
        word = cmd.args.get("conversation") or self._conversation
        if not word:
            raise NotFound("no conversation")
        cid = self.resolve(str(word))
        n = int(cmd.args.get("count") or 50)
        msgs = [m for m in self.messages if m["conversation"] == cid][-n:]
        return CommandResult.success(f"{len(msgs)} messages", conversation=cid, messages=msgs)

    async def _search(self, cmd: Command) -> CommandResult:
        text = str(cmd.args["text"]).casefold()
        found = [m for m in self.messages if text in m["text"].casefold()]
        return CommandResult.success(f"{len(found)} found", messages=found)

    async def _peers(self, cmd: Command) -> CommandResult:
        peers = [
            {"id": n.account_id, "onion": f"{n.name.lower()}.onion", "address": "127.0.0.1:9"}
            for n in self.net.nodes.values()
            if n is not self
        ]
        return CommandResult.success(f"{len(peers)} peers", peers=peers)

    async def _ftable(self, cmd: Command) -> CommandResult:
        peer = {"id": "c0ffee" + "0" * 58, "onion": "carol.onion", "address": "127.0.0.1:9003"}
        fingers = [{"first": 0, "last": 250, "start": f"{i:064x}", "peer": peer} for i in (1, 2)]
        return CommandResult.success("2 fingers", fingers=fingers)

    async def _send(self, cid: str, text: str) -> CommandResult:
        msg = self.store(cid, self, text, state="sending")
        publish(self.bus, "message", **msg)
        peer = self.net.nodes.get(cid)
        members = self.channels[cid]["members"] if cid in self.channels else []
        targets = [peer] if peer else [self.net.nodes[m] for m in members if m in self.net.nodes]
        state = "queued"
        for node in targets:
            if node is self or not node.online:
                continue
            if self.account_id not in node.contacts and cid not in node.channels:
                continue
            received = node.store(cid if cid in self.channels else self.account_id, self, text)
            received["outgoing"] = False
            publish(node.bus, "message", **received)
            state = "delivered"
        msg["state"] = state
        publish(self.bus, "message_state", msg_id=msg["msg_id"], conversation=cid, state=state)
        return CommandResult.success("", msg_id=msg["msg_id"], state="sending")

    async def _whisper(self, cmd: Command) -> CommandResult:
        cid = self.resolve(str(cmd.args["id"]))
        if cid not in self.contacts:
            raise NotFound("not a contact")
        return await self._send(cid, str(cmd.args["message"]))

    async def _channelcast(self, cmd: Command) -> CommandResult:
        return await self._send(self.resolve(str(cmd.args["id"])), str(cmd.args["message"]))

    async def _plain(self, item: PlainText) -> CommandResult:
        if self._conversation is None:
            raise NotFound("no conversation")
        return await self._send(self._conversation, item.text)

    async def _ringcast(self, cmd: Command) -> CommandResult:
        for node in self.net.nodes.values():
            if node is not self:
                publish(
                    node.bus,
                    "log",
                    level="info",
                    text=f"ringcast from {self.name}: {cmd.args['message']}",
                )
        return CommandResult.success(f"ringcast sent to {len(self.net.nodes) - 1} nodes")

    async def _add(self, cmd: Command) -> CommandResult:
        other = self.net.nodes.get(str(cmd.args["id"]))
        if other is None:
            raise NotFound(f"unknown account {cmd.args['id']}")
        self.befriend(other)
        publish(self.bus, "contact", account_id=other.account_id, name=other.name, state="added")
        return CommandResult.success(f"added {other.name}")

    async def _request(self, cmd: Command) -> CommandResult:
        """Like the node: the contact becomes pending; the request text is sent like a
        whisper (stored on both sides)."""
        other = self.net.nodes.get(str(cmd.args["id"]))
        if other is None:
            raise NotFound(f"unknown account {cmd.args['id']}")
        self.befriend(other)
        self.contacts[other.account_id]["state"] = "pending"
        publish(self.bus, "contact", account_id=other.account_id, name=other.name, state="pending")
        if cmd.args.get("message"):
            await self._send(other.account_id, str(cmd.args["message"]))
        return CommandResult.success(
            f"Contact request to {other.name}: delivered.",
            account_id=other.account_id,
            state="delivered",
        )

    async def _rm(self, cmd: Command) -> CommandResult:
        cid = self.resolve(str(cmd.args["id"]))
        self.contacts.pop(cid)
        return CommandResult.success("removed")

    async def _channel(self, cmd: Command) -> CommandResult:
        cid = f"{len(self.channels) + 1:02d}" + "a" * 62
        self.add_channel(cid, str(cmd.args.get("name") or "unnamed"), [self.account_id])
        return CommandResult.success(f"created {cid[:8]}", channel_id=cid)

    async def _quit(self, cmd: Command) -> CommandResult:
        return CommandResult.success("bye")


def pair() -> tuple[FakeNet, FakeBackend, FakeBackend]:
    """Alice and Bob, contacts of each other, with a channel and a short history."""
    net = FakeNet()
    alice = FakeBackend(net, "a1" * 32, "alice")
    bob = FakeBackend(net, "b2" * 32, "bob")
    alice.befriend(bob)
    bob.befriend(alice)
    members = [alice.account_id, bob.account_id]
    for node in (alice, bob):
        node.add_channel("c3" * 32, "book club", members)
    alice.store(bob.account_id, bob, "hi alice", outgoing=False)
    alice.store(bob.account_id, alice, "hello bob, pizza tonight?")
    alice.store(bob.account_id, bob, "sure", outgoing=False)
    alice.store("c3" * 32, bob, "welcome to the book club", outgoing=False)
    return net, alice, bob
