"""Typed values that results and events carry: what a UI shows, as data.

Field names are the JSON keys of ``ohtchat cmd --json`` and of the control socket, so the
data of a result is exactly ``to_data(view)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    """Base of every typed result value (its class name is its JSON ``view`` tag)."""


@dataclass(frozen=True)
class PeerView:
    """A ring peer: 64 hex digits of node id, its onion address and how it is dialled."""

    id: str
    onion: str
    address: str


@dataclass(frozen=True)
class TorView:
    """The state of the node's tor: ``off``, ``starting``, ``ready``, ``stopped``, …"""

    state: str = "off"
    progress: int = 0
    summary: str = ""


@dataclass(frozen=True)
class StatusView(View):
    """``/status``: who and where this node is, and whether it is on the ring."""

    account_id: str
    name: str
    onion: str
    node_id: str
    address: str
    transport: str
    member: bool
    successor: PeerView | None
    predecessor: PeerView | None
    peers: int
    tor: TorView


@dataclass(frozen=True)
class Membership(View):
    """``/create`` and ``/connect``: the node's place on the ring afterwards."""

    member: bool
    successor: PeerView | None = None


@dataclass(frozen=True)
class ContactView:
    """One saved contact, with what the sidebar shows of it."""

    account_id: str
    name: str
    state: str
    presence: str
    unread: int
    fingerprint: str
    #: The pair's 60-digit safety number (docs/protocol.md §15.9), "" when the key is unknown.
    safety: str = ""
    #: Whether the user verified that safety number (``/verify-contact``).
    verified: bool = False


@dataclass(frozen=True)
class ContactList(View):
    """``/contacts``, sorted by name."""

    contacts: tuple[ContactView, ...]


@dataclass(frozen=True)
class ChannelView:
    """One channel this account is in."""

    channel_id: str
    name: str
    members: tuple[str, ...]
    unread: int = 0


@dataclass(frozen=True)
class ChannelList(View):
    """``/channels``, sorted by name."""

    channels: tuple[ChannelView, ...]


@dataclass(frozen=True)
class MessageView:
    """One message of a conversation, sent or received."""

    msg_id: str
    conversation: str
    sender: str
    sender_name: str
    text: str
    timestamp: float
    state: str
    outgoing: bool


@dataclass(frozen=True)
class MessageList(View):
    """``/history`` (of ``conversation``) and ``/search`` (``conversation`` empty), oldest first."""

    conversation: str
    messages: tuple[MessageView, ...]
    query: str = ""


@dataclass(frozen=True)
class MessageSent(View):
    """A message that left (or is queued for) ``conversation``, in delivery ``state``."""

    msg_id: str
    conversation: str
    state: str


@dataclass(frozen=True)
class FingerView:
    """Finger-table entries ``first``–``last`` (their common start) and the peer they use."""

    first: int
    last: int
    start: str
    peer: PeerView | None


@dataclass(frozen=True)
class FingerTable(View):
    """``/ftable``: the distinct fingers, in ring order."""

    fingers: tuple[FingerView, ...]


@dataclass(frozen=True)
class PeerList(View):
    """``/peers``: every verified peer this node knows."""

    peers: tuple[PeerView, ...]


@dataclass(frozen=True)
class ArgHelp:
    """One argument of a command, as ``/help`` describes it."""

    name: str
    kind: str
    optional: bool
    choices: tuple[str, ...]
    default: str | int | None
    completion: str


@dataclass(frozen=True)
class CommandHelp:
    """One console command: usage, localized help, aliases and an example."""

    name: str
    group: str
    group_title: str
    usage: str
    help: str
    aliases: tuple[str, ...]
    example: str
    args: tuple[ArgHelp, ...]


@dataclass(frozen=True)
class HelpIndex(View):
    """``/help`` (every command) or ``/help NAME`` (one)."""

    commands: tuple[CommandHelp, ...]


@dataclass(frozen=True)
class SettingChanged(View):
    """``/set KEY VALUE`` and ``/unset KEY`` (``value`` None): the setting now in force."""

    key: str
    value: str | None


@dataclass(frozen=True)
class FileView:
    """One file transfer (``/files``): ``state`` is offered, receiving (incoming) or sending
    (outgoing), then done, failed or cancelled; ``done`` counts the bytes moved so far;
    ``path`` is the received file once ``done`` (outgoing: the file offered)."""

    id: str
    conversation: str
    name: str
    size: int
    sha256: str
    state: str
    path: str
    done: int
    direction: str
    peer: str
    error: str = ""


@dataclass(frozen=True)
class FileList(View):
    """``/files``: every transfer, newest first."""

    files: tuple[FileView, ...]


@dataclass(frozen=True)
class QuitRequested(View):
    """``/quit``: the UI should end."""

    quit: bool = True


@dataclass(frozen=True)
class DeviceView:
    """One device of our account (``/devices``): ``node_id`` is 64 hex digits (shown as the
    first 8), ``added`` and ``expires`` (its certificate's end) are Unix times."""

    name: str
    node_id: str
    onion: str
    added: int
    expires: int
    this_device: bool


@dataclass(frozen=True)
class DeviceList(View):
    """``/devices``: our account's devices and how many node keys were revoked."""

    devices: tuple[DeviceView, ...]
    revoked: int


@dataclass(frozen=True)
class LinkState(View):
    """``/link``: the pending link on this device. ``state`` is ``none``, ``waiting`` (a code
    is out, no device yet), ``expired``, ``asked`` (a device proved the code: confirm its
    digits), ``refused`` (wrong digits or cancelled) or ``confirmed`` (the device is fetching
    the account); ``code`` is set when a new code was made, ``device`` names the device."""

    state: str
    code: str = ""
    expires: int = 0
    device: str = ""


#: Every view, by the tag it travels with.
VIEWS: dict[str, type[View]] = {
    cls.__name__: cls
    for cls in (
        StatusView,
        Membership,
        ContactList,
        ChannelList,
        MessageList,
        MessageSent,
        FingerTable,
        PeerList,
        HelpIndex,
        SettingChanged,
        QuitRequested,
        FileList,
        DeviceList,
        LinkState,
    )
}
