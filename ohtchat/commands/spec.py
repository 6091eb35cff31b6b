"""The declarative table of every console command: group, arguments, help and an example.

The table is data (its shapes: :mod:`ohtchat.commands.model`): the parser, the completion,
``/help`` and docs/commands.md read it. Help texts are marked with ``N_`` and translated when
shown, so switching the language at runtime switches the help.

``/delete`` is the DHT's (``/delete KEY``, as in the seed's DHT group). The seed's ACCOUNT
``/delete`` is spelled ``/delaccount ID`` here: one name, one meaning, no guessing from the
shape of the argument (a DHT key may well look like an account id).
"""

from __future__ import annotations

from collections.abc import Iterator

from ohtchat.commands.model import ArgKind, ArgSpec, CommandSpec, Completion, Group, shape_problems
from ohtchat.commands.model import arg as _a
from ohtchat.commands.model import cmd as _cmd
from ohtchat.i18n import N_

__all__ = [
    "COMMANDS",
    "ArgKind",
    "ArgSpec",
    "CommandSpec",
    "Completion",
    "Group",
    "by_group",
    "command_names",
    "get_spec",
    "table_problems",
]


_T, _I, _ID, _AD, _R = ArgKind.TEXT, ArgKind.INT, ArgKind.ID, ArgKind.ADDRESS, ArgKind.REST
_C = Completion

# Metavars (shown in usage lines, translated).
KEY, VALUE, ID, ADDR = N_("KEY"), N_("VALUE"), N_("ID"), N_("ADDRESS")
MESSAGE, NAME = N_("MESSAGE"), N_("NAME")

_MSG = _a("message", _R, MESSAGE)
_ACTION = ("start", "stop", "status")
_LINK_ACTION = ("new", "confirm", "cancel", "status")


G = Group
COMMANDS: tuple[CommandSpec, ...] = (
    # CONFIG
    _cmd("config", G.CONFIG, N_("List configuration values"), "/config"),
    _cmd(
        "set",
        G.CONFIG,
        N_("Change a configuration value"),
        "/set notify.bell off",
        _a("key", _T, KEY, _C.CONFIG_KEY),
        _a("value", _R, VALUE),
    ),
    _cmd(
        "unset",
        G.CONFIG,
        N_("Reset a configuration value to its default"),
        "/unset notify.bell",
        _a("key", _T, KEY, _C.CONFIG_KEY),
    ),
    _cmd("save", G.CONFIG, N_("Save configuration values"), "/save"),
    # TOR
    _cmd(
        "tor",
        G.TOR,
        N_("Start or stop the Tor process, or show its state"),
        "/tor start",
        _a("action", _T, N_("ACTION"), choices=_ACTION, optional=True, default="status"),
    ),
    _cmd("newtor", G.TOR, N_("Obtain a new Tor identity (fresh circuits)"), "/newtor"),
    _cmd("newonions", G.TOR, N_("Obtain a new onion address for this node"), "/newonions"),
    # NETWORK
    _cmd("peers", G.NETWORK, N_("List all connected peers"), "/peers"),
    _cmd("successor", G.NETWORK, N_("Show the next node on the ring"), "/successor"),
    _cmd("predecessor", G.NETWORK, N_("Show the previous node on the ring"), "/predecessor"),
    _cmd("ftable", G.NETWORK, N_("Show the finger table"), "/ftable"),
    _cmd("create", G.NETWORK, N_("Create a new ring"), "/create"),
    _cmd(
        "connect",
        G.NETWORK,
        N_("Join the ring containing the node at ADDRESS"),
        "/connect 127.0.0.1:9001",
        _a("address", _AD, ADDR, _C.PEER),
    ),
    _cmd(
        "lookup",
        G.NETWORK,
        N_("Find the onion address of the account with ID"),
        "/lookup 3fa4c0de",
        _a("id", _ID, ID, _C.KNOWN_ACCOUNT),
    ),
    _cmd(
        "ping",
        G.NETWORK,
        N_("Ping a node and show the round-trip time"),
        "/ping 127.0.0.1:9001",
        _a("address", _AD, ADDR, _C.PEER),
    ),
    _cmd(
        "ringcast",
        G.NETWORK,
        N_("Send a message to every node on the ring"),
        "/ringcast hi all",
        _MSG,
    ),
    # DHT
    _cmd(
        "put",
        G.DHT,
        N_("Store a value under a key in the DHT"),
        "/put greeting hello world",
        _a("key", _T, KEY),
        _a("value", _R, VALUE),
    ),
    _cmd(
        "get", G.DHT, N_("Fetch the value stored under a key"), "/get greeting", _a("key", _T, KEY)
    ),
    _cmd(
        "delete",
        G.DHT,
        N_("Delete a key and its value from the DHT (accounts: /delaccount)"),
        "/delete greeting",
        _a("key", _T, KEY),
    ),
    # WEBUI
    _cmd(
        "webui",
        G.WEBUI,
        N_("Start or stop the web interface, or show its address"),
        "/webui start",
        _a("action", _T, N_("ACTION"), choices=_ACTION, optional=True, default="status"),
    ),
    # ACCOUNT
    _cmd("accounts", G.ACCOUNT, N_("List all local accounts"), "/accounts"),
    _cmd(
        "generate",
        G.ACCOUNT,
        N_("Generate a new account key pair"),
        "/generate Alice Liddell",
        _a("name", _R, NAME, optional=True),
    ),
    _cmd(
        "delaccount",
        G.ACCOUNT,
        N_("Delete a local account key pair"),
        "/delaccount 3fa4c0de",
        _a("id", _ID, ID, _C.ACCOUNT),
    ),
    _cmd(
        "sign",
        G.ACCOUNT,
        N_("Sign a message with a local account key"),
        "/sign 3fa4c0de I wrote this",
        _a("id", _ID, ID, _C.ACCOUNT),
        _MSG,
    ),
    _cmd(
        "verify",
        G.ACCOUNT,
        N_("Verify a message's signature against an account key"),
        "/verify 3fa4c0de I wrote this 9f8e7d6c5b4a",
        _a("id", _ID, ID, _C.KNOWN_ACCOUNT),
        _MSG,
        _a("signature", _T, N_("SIGNATURE")),
    ),
    _cmd(
        "encrypt",
        G.ACCOUNT,
        N_("Encrypt a message to an account key"),
        "/encrypt 3fa4c0de meet at noon",
        _a("id", _ID, ID, _C.KNOWN_ACCOUNT),
        _MSG,
    ),
    _cmd(
        "decrypt",
        G.ACCOUNT,
        N_("Decrypt a message with a local account key"),
        "/decrypt 3fa4c0de bWVldCBhdCBub29u",
        _a("id", _ID, ID, _C.ACCOUNT),
        _a("ciphertext", _R, N_("CIPHERTEXT")),
    ),
    # CONTACTS
    _cmd("contacts", G.CONTACTS, N_("List all saved contacts"), "/contacts"),
    _cmd(
        "request",
        G.CONTACTS,
        N_("Ask the account with ID to add you to its contacts"),
        "/request 3fa4c0de hi, it's Bob",
        _a("id", _ID, ID),
        _a("message", _R, MESSAGE, optional=True),
    ),
    _cmd(
        "add",
        G.CONTACTS,
        N_("Add an account to your contacts"),
        "/add 3fa4c0de",
        _a("id", _ID, ID),
    ),
    _cmd(
        "rm",
        G.CONTACTS,
        N_("Remove a contact"),
        "/rm alice",
        _a("id", _ID, ID, _C.CONTACT),
    ),
    _cmd(
        "safety",
        G.CONTACTS,
        N_("Show the safety number you share with a contact, to compare with theirs"),
        "/safety alice",
        _a("id", _ID, ID, _C.CONTACT),
    ),
    _cmd(
        "verify-contact",
        G.CONTACTS,
        N_("Mark a contact verified after comparing the safety number with theirs"),
        "/verify-contact alice",
        _a("id", _ID, ID, _C.CONTACT),
    ),
    _cmd(
        "whisper",
        G.CONTACTS,
        N_("Send a private message to a contact"),
        "/whisper alice see you at 8",
        _a("id", _ID, ID, _C.CONTACT),
        _MSG,
        aliases=("msg", "w"),
    ),
    _cmd(
        "contactcast",
        G.CONTACTS,
        N_("Send a message to all contacts"),
        "/contactcast hello friends",
        _MSG,
    ),
    # CHANNELS
    _cmd("channels", G.CHANNELS, N_("List all known channels"), "/channels"),
    _cmd(
        "channel",
        G.CHANNELS,
        N_("Create a new channel"),
        "/channel book club",
        _a("name", _R, NAME, optional=True),
    ),
    _cmd(
        "join",
        G.CHANNELS,
        N_("Join the channel with ID"),
        "/join 7c1e9a2b",
        _a("id", _ID, ID, _C.CHANNEL),
    ),
    _cmd(
        "leave",
        G.CHANNELS,
        N_("Leave the channel with ID"),
        "/leave 7c1e9a2b",
        _a("id", _ID, ID, _C.CHANNEL),
    ),
    _cmd(
        "channelcast",
        G.CHANNELS,
        N_("Send a message to all members of a channel"),
        "/channelcast 7c1e9a2b meeting moved to 9",
        _a("id", _ID, ID, _C.CHANNEL),
        _MSG,
    ),
    # FILES
    _cmd(
        "send",
        G.FILES,
        N_("Offer a file to a contact, or to each member of a channel"),
        "/send alice ~/pictures/cat.jpg",
        _a("id", _ID, ID, _C.CONVERSATION),
        _a("path", _R, N_("PATH")),
        aliases=("file",),
    ),
    _cmd("files", G.FILES, N_("List file transfers with their state and progress"), "/files"),
    _cmd(
        "accept",
        G.FILES,
        N_("Accept an offered file: it is downloaded, verified, then saved"),
        "/accept 5d41",
        _a("id", _ID, ID),
    ),
    _cmd(
        "cancel",
        G.FILES,
        N_("Cancel a file transfer"),
        "/cancel 5d41",
        _a("id", _ID, ID),
    ),
    # DEVICES
    _cmd(
        "link",
        G.DEVICES,
        N_("Link a new device: make a code, confirm the digits it shows, or cancel"),
        "/link confirm 123456",
        _a("action", _T, N_("ACTION"), choices=_LINK_ACTION, optional=True, default="new"),
        _a("digits", _T, N_("DIGITS"), optional=True),
    ),
    _cmd(
        "joinlink",
        G.DEVICES,
        N_("Make this fresh node a device of your account, with a code from /link"),
        "/joinlink ohtchat-link:abcd laptop",
        _a("code", _T, N_("CODE")),
        _a("name", _T, N_("NAME"), optional=True),
    ),
    _cmd("devices", G.DEVICES, N_("List your account's devices"), "/devices"),
    _cmd(
        "unlink",
        G.DEVICES,
        N_("Remove a device (name or node id prefix) from your account"),
        "/unlink laptop",
        _a("device", _T, N_("DEVICE")),
    ),
    # GENERAL
    _cmd(
        "status",
        G.GENERAL,
        N_("Show your account, node address, ring position and Tor state"),
        "/status",
    ),
    _cmd(
        "history",
        G.GENERAL,
        N_("Show the latest N messages of a conversation"),
        "/history alice 50",
        _a("conversation", _ID, N_("CONVERSATION"), _C.CONVERSATION, optional=True),
        _a("count", _I, "N", optional=True, minimum=1, maximum=100_000),
    ),
    _cmd(
        "fetchhistory",
        G.GENERAL,
        N_("Receive past messages from another device of your account (end-to-end encrypted)"),
        "/fetchhistory laptop 5000",
        _a("device", _T, N_("DEVICE"), optional=True),
        _a("limit", _I, N_("LIMIT"), optional=True, minimum=1, maximum=100_000),
    ),
    _cmd(
        "search",
        G.GENERAL,
        N_("Search the message history"),
        "/search pizza",
        _a("text", _R, N_("TEXT")),
    ),
    _cmd(
        "help",
        G.GENERAL,
        N_("Show all commands, or the details of one"),
        "/help whisper",
        _a("command", _T, N_("COMMAND"), _C.COMMAND, optional=True),
        aliases=("?",),
    ),
    _cmd("quit", G.GENERAL, N_("Quit ohtchat"), "/quit", aliases=("exit",)),
)

_BY_NAME: dict[str, CommandSpec] = {}
for _spec in COMMANDS:
    for _n in (_spec.name, *_spec.aliases):
        if _n in _BY_NAME:
            raise RuntimeError(f"duplicate command name /{_n}")  # a table bug, caught at import
        _BY_NAME[_n] = _spec


def get_spec(name: str) -> CommandSpec | None:
    """The command called ``name`` (case-insensitive, aliases resolved), or None."""
    return _BY_NAME.get(name.lower().removeprefix("/"))


def command_names(include_aliases: bool = False) -> list[str]:
    """Command names in table order (aliases appended when asked)."""
    names = [s.name for s in COMMANDS]
    if include_aliases:
        names += [a for s in COMMANDS for a in s.aliases]
    return names


def by_group() -> Iterator[tuple[Group, list[CommandSpec]]]:
    """The commands of each group, groups in display order."""
    for group in Group:
        specs = [s for s in COMMANDS if s.group is group]
        if specs:
            yield group, specs


def table_problems() -> list[str]:
    """Shape rules the parser relies on, broken by the table (the suite asserts none)."""
    return shape_problems(COMMANDS)
