"""Every operation a UI can ask of a node, typed: one dataclass per console command.

A console line is parsed (``ohtchat.commands``) into the operation of its command, with the
fields named as the command's arguments; a UI can also build the operation itself and never
touch command text. :class:`SendText` is the plain line typed into an open conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ohtchat.api import device_ops  # noqa: F401  (defines the device operations: see OPERATIONS)
from ohtchat.api.channel_ops import ChannelCast as ChannelCast
from ohtchat.api.channel_ops import CreateChannel as CreateChannel
from ohtchat.api.channel_ops import JoinChannel as JoinChannel
from ohtchat.api.channel_ops import LeaveChannel as LeaveChannel
from ohtchat.api.channel_ops import ListChannels as ListChannels  # re-exported
from ohtchat.api.codec import from_data
from ohtchat.api.file_ops import AcceptFile as AcceptFile
from ohtchat.api.file_ops import CancelFile as CancelFile
from ohtchat.api.file_ops import ListFiles as ListFiles
from ohtchat.api.file_ops import SendFile as SendFile  # re-exported
from ohtchat.api.operation import Operation as Operation  # the base, re-exported


@dataclass(frozen=True)
class SendText(Operation):
    """Plain text typed into ``conversation``: a contact, a channel or the ringcast."""

    conversation: str
    text: str


@dataclass(frozen=True)
class ListConfig(Operation):
    """``/config``: list configuration values."""

    command_name: ClassVar[str] = "config"


@dataclass(frozen=True)
class SetConfig(Operation):
    """``/set``: change a configuration value."""

    command_name: ClassVar[str] = "set"
    key: str
    value: str


@dataclass(frozen=True)
class UnsetConfig(Operation):
    """``/unset``: reset a configuration value to its default."""

    command_name: ClassVar[str] = "unset"
    key: str


@dataclass(frozen=True)
class SaveConfig(Operation):
    """``/save``: save configuration values."""

    command_name: ClassVar[str] = "save"


@dataclass(frozen=True)
class TorControl(Operation):
    """``/tor``: start or stop the Tor process, or show its state."""

    command_name: ClassVar[str] = "tor"
    action: str = "status"


@dataclass(frozen=True)
class NewTor(Operation):
    """``/newtor``: obtain a new Tor identity (fresh circuits)."""

    command_name: ClassVar[str] = "newtor"


@dataclass(frozen=True)
class NewOnions(Operation):
    """``/newonions``: obtain a new onion address for this node."""

    command_name: ClassVar[str] = "newonions"


@dataclass(frozen=True)
class ListPeers(Operation):
    """``/peers``: list all connected peers."""

    command_name: ClassVar[str] = "peers"


@dataclass(frozen=True)
class GetSuccessor(Operation):
    """``/successor``: show the next node on the ring."""

    command_name: ClassVar[str] = "successor"


@dataclass(frozen=True)
class GetPredecessor(Operation):
    """``/predecessor``: show the previous node on the ring."""

    command_name: ClassVar[str] = "predecessor"


@dataclass(frozen=True)
class FingerTableOp(Operation):
    """``/ftable``: show the finger table."""

    command_name: ClassVar[str] = "ftable"


@dataclass(frozen=True)
class CreateRing(Operation):
    """``/create``: create a new ring."""

    command_name: ClassVar[str] = "create"


@dataclass(frozen=True)
class Connect(Operation):
    """``/connect``: join the ring containing the node at ADDRESS."""

    command_name: ClassVar[str] = "connect"
    address: str


@dataclass(frozen=True)
class Lookup(Operation):
    """``/lookup``: find the onion address of the account with ID."""

    command_name: ClassVar[str] = "lookup"
    id: str


@dataclass(frozen=True)
class Ping(Operation):
    """``/ping``: ping a node and show the round-trip time."""

    command_name: ClassVar[str] = "ping"
    address: str


@dataclass(frozen=True)
class RingCast(Operation):
    """``/ringcast``: send a message to every node on the ring."""

    command_name: ClassVar[str] = "ringcast"
    message: str


@dataclass(frozen=True)
class Put(Operation):
    """``/put``: store a value under a key in the DHT."""

    command_name: ClassVar[str] = "put"
    key: str
    value: str


@dataclass(frozen=True)
class Get(Operation):
    """``/get``: fetch the value stored under a key."""

    command_name: ClassVar[str] = "get"
    key: str


@dataclass(frozen=True)
class Delete(Operation):
    """``/delete``: delete a key and its value from the DHT (accounts: /delaccount)."""

    command_name: ClassVar[str] = "delete"
    key: str


@dataclass(frozen=True)
class WebUi(Operation):
    """``/webui``: start or stop the web interface, or show its address."""

    command_name: ClassVar[str] = "webui"
    action: str = "status"


@dataclass(frozen=True)
class ListAccounts(Operation):
    """``/accounts``: list all local accounts."""

    command_name: ClassVar[str] = "accounts"


@dataclass(frozen=True)
class GenerateAccount(Operation):
    """``/generate``: generate a new account key pair."""

    command_name: ClassVar[str] = "generate"
    name: str | None = None


@dataclass(frozen=True)
class DeleteAccount(Operation):
    """``/delaccount``: delete a local account key pair."""

    command_name: ClassVar[str] = "delaccount"
    id: str


@dataclass(frozen=True)
class Sign(Operation):
    """``/sign``: sign a message with a local account key."""

    command_name: ClassVar[str] = "sign"
    id: str
    message: str


@dataclass(frozen=True)
class Verify(Operation):
    """``/verify``: verify a message's signature against an account key."""

    command_name: ClassVar[str] = "verify"
    id: str
    message: str
    signature: str


@dataclass(frozen=True)
class Encrypt(Operation):
    """``/encrypt``: encrypt a message to an account key."""

    command_name: ClassVar[str] = "encrypt"
    id: str
    message: str


@dataclass(frozen=True)
class Decrypt(Operation):
    """``/decrypt``: decrypt a message with a local account key."""

    command_name: ClassVar[str] = "decrypt"
    id: str
    ciphertext: str


@dataclass(frozen=True)
class ListContacts(Operation):
    """``/contacts``: list all saved contacts."""

    command_name: ClassVar[str] = "contacts"


@dataclass(frozen=True)
class RequestContact(Operation):
    """``/request``: ask the account with ID to add you to its contacts."""

    command_name: ClassVar[str] = "request"
    id: str
    message: str | None = None


@dataclass(frozen=True)
class AddContact(Operation):
    """``/add``: add an account to your contacts."""

    command_name: ClassVar[str] = "add"
    id: str


@dataclass(frozen=True)
class RemoveContact(Operation):
    """``/rm``: remove a contact."""

    command_name: ClassVar[str] = "rm"
    id: str


@dataclass(frozen=True)
class SafetyNumber(Operation):
    """``/safety``: show the safety number shared with a contact."""

    command_name: ClassVar[str] = "safety"
    id: str


@dataclass(frozen=True)
class VerifyContact(Operation):
    """``/verify-contact``: mark a contact verified under its current safety number."""

    command_name: ClassVar[str] = "verify-contact"
    id: str


@dataclass(frozen=True)
class Whisper(Operation):
    """``/whisper``: send a private message to a contact."""

    command_name: ClassVar[str] = "whisper"
    id: str
    message: str


@dataclass(frozen=True)
class ContactCast(Operation):
    """``/contactcast``: send a message to all contacts."""

    command_name: ClassVar[str] = "contactcast"
    message: str


@dataclass(frozen=True)
class GetStatus(Operation):
    """``/status``: show your account, node address, ring position and Tor state."""

    command_name: ClassVar[str] = "status"


@dataclass(frozen=True)
class GetHistory(Operation):
    """``/history``: show the latest N messages of a conversation."""

    command_name: ClassVar[str] = "history"
    conversation: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class FetchHistory(Operation):
    """``/fetchhistory``: receive past messages from another device of this account."""

    command_name: ClassVar[str] = "fetchhistory"
    device: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Search(Operation):
    """``/search``: search the message history."""

    command_name: ClassVar[str] = "search"
    text: str


@dataclass(frozen=True)
class Help(Operation):
    """``/help``: show all commands, or the details of one."""

    command_name: ClassVar[str] = "help"
    command: str | None = None


@dataclass(frozen=True)
class Quit(Operation):
    """``/quit``: quit ohtchat."""

    command_name: ClassVar[str] = "quit"


#: Every operation with a console command, by command name (those of sibling modules such as
#: :mod:`ohtchat.api.device_ops` too: they subclass the same :class:`Operation`).
OPERATIONS: dict[str, type[Operation]] = {
    cls.command_name: cls for cls in Operation.__subclasses__() if cls.command_name
}


def operation(name: str, args: dict[str, Any]) -> Operation:
    """The operation of command ``name`` with ``args``; ``ValueError`` on an unknown name or
    a malformed argument (it names the field)."""
    if name == "":
        return from_data(SendText, args)
    cls = OPERATIONS.get(name)
    if cls is None:
        raise ValueError(f"no operation {name!r}")
    return from_data(cls, args, where=name)
