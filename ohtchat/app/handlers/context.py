"""What a command handler works with: the node's pieces as they are when the command runs.

The node makes a :class:`Context` for every call, so a handler always sees the current network
stack (``/newonions`` replaces it), the current configuration (SIGHUP reloads it) and the
conversation the user has open, passed explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ohtchat.api.views import StatusView
from ohtchat.app.linking import LinkHost
from ohtchat.app.linking_bundle import Bundle
from ohtchat.app.options import NodeOptions
from ohtchat.app.resolve import Directory, Ref, Scope, resolve
from ohtchat.app.stack import NodeStack
from ohtchat.app.tor import TorController
from ohtchat.chat.accounts import Accounts, LocalAccount
from ohtchat.chat.service import ChatService
from ohtchat.chord.node import ChordNode
from ohtchat.chord.service import ChordService
from ohtchat.config import Config
from ohtchat.dht.node import Dht
from ohtchat.ringcast.node import Ringcast
from ohtchat.session.identity import NodeIdentity
from ohtchat.store import Store


class NodeControl(Protocol):
    """What a handler may ask of the node itself (implemented by
    :class:`~ohtchat.app.node.ChatNode`)."""

    def status_view(self) -> StatusView:
        """Who and where the node is now (``/status``)."""
        ...

    async def rotate_onion(self) -> NodeIdentity:
        """A new node key and stack (``/newonions``); the new identity."""
        ...

    @property
    def linking(self) -> LinkHost:
        """``/link`` on this device: the pending code and the device answering it."""
        ...

    async def adopt_account(self, adopted: LocalAccount, bundle: Bundle) -> NodeIdentity:
        """Run as the account a linked device received (``/joinlink``); the new identity."""
        ...


@dataclass(frozen=True)
class Context:
    """The node's pieces for one call, and the conversation the user has open."""

    node: NodeControl
    stack: NodeStack
    store: Store
    accounts: Accounts
    config: Config
    options: NodeOptions
    tor: TorController | None
    conversation: str | None = None

    @property
    def account(self) -> LocalAccount:
        """The account the node runs as."""
        return self.stack.spec.account

    @property
    def identity(self) -> NodeIdentity:
        """The node identity of the current stack."""
        return self.stack.spec.identity

    @property
    def chat(self) -> ChatService:
        """The chat service of the current stack."""
        return self.stack.chat

    @property
    def ring(self) -> ChordService:
        """The ring operations of the current stack."""
        return self.stack.ring

    @property
    def chord(self) -> ChordNode:
        """The Chord node of the current stack."""
        return self.stack.chord

    @property
    def dht(self) -> Dht:
        """The DHT of the current stack."""
        return self.stack.dht

    @property
    def ringcast(self) -> Ringcast:
        """Ringcast of the current stack."""
        return self.stack.ringcast

    def directory(self) -> Directory:
        """The local accounts, contacts and channels references are resolved against."""
        return Directory.of(self.accounts.all(), self.store.contacts(), self.store.channels())

    def resolve(self, ref: str, scope: Scope = Scope.CONVERSATION) -> Ref:
        """What ``ref`` names (see :mod:`ohtchat.app.resolve`)."""
        return resolve(ref, self.directory(), scope)

    def local_account(self, account_id: str) -> LocalAccount | None:
        """The local account with ``account_id``, if it is one."""
        return next((a for a in self.accounts.all() if a.account_id == account_id), None)
