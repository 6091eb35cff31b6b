"""The declarative table of every console command: group, arguments, help and an example.

The table is data, not code: the parser, the completion, ``/help`` and docs/commands.md all
read it. Help texts are marked with ``N_`` and translated when shown, so switching the
language at runtime switches the help.

``/delete`` is the DHT's (``/delete KEY``, as in the seed's DHT group). The seed's ACCOUNT
``/delete`` is spelled ``/delaccount ID`` here: one name, one meaning, no guessing from the
shape of the argument (a DHT key may well look like an account id).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from ohtchat.i18n import N_, _


class Group(Enum):
    """The command groups of ``/help``, in display order; values are translatable titles."""

    CONFIG = N_("Configuration")
    TOR = N_("Tor")
    NETWORK = N_("Network")
    DHT = N_("DHT")
    WEBUI = N_("Web UI")
    ACCOUNT = N_("Accounts")
    CONTACTS = N_("Contacts")
    CHANNELS = N_("Channels")
    FILES = N_("Files")
    GENERAL = N_("General")

    @property
    def title(self) -> str:
        """The localized group title."""
        return _(self.value)


class ArgKind(Enum):
    """How an argument is read and checked."""

    TEXT = "text"  # one word; quote it to include spaces
    INT = "int"  # a decimal integer, optionally bounded
    ID = "id"  # an account/contact/channel id, a unique hex prefix, or a local name
    ADDRESS = "address"  # a v3 .onion address, HOST:PORT, or an in-memory node name
    REST = "rest"  # the rest of the line, verbatim (spaces and quotes kept)


class Completion(Enum):
    """What Tab offers for an argument; a :class:`CompletionSource` supplies the values."""

    NONE = "none"
    COMMAND = "command"
    ACCOUNT = "account"  # local accounts
    CONTACT = "contact"  # saved contacts
    KNOWN_ACCOUNT = "known_account"  # local accounts and contacts
    CHANNEL = "channel"  # known channels
    CONVERSATION = "conversation"  # contacts and channels
    CONFIG_KEY = "config_key"
    PEER = "peer"  # addresses of known peers


@dataclass(frozen=True)
class ArgSpec:
    """One argument: ``name`` keys the parsed dict; ``metavar`` is shown (translated)."""

    name: str
    kind: ArgKind
    metavar: str
    optional: bool = False
    choices: tuple[str, ...] = ()
    default: str | int | None = None
    completion: Completion = Completion.NONE
    minimum: int | None = None
    maximum: int | None = None

    @property
    def shown(self) -> str:
        """The localized placeholder: ``start|stop`` for choices, else the metavar."""
        return "|".join(self.choices) if self.choices else _(self.metavar)


@dataclass(frozen=True)
class CommandSpec:
    """One console command."""

    name: str
    group: Group
    help: str  # N_-marked English; translate with ``_()`` when shown
    example: str
    args: tuple[ArgSpec, ...] = ()
    aliases: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> str:
        """The localized one-line help."""
        return _(self.help)

    @property
    def rest_index(self) -> int | None:
        """The position of the rest-of-line argument, if any."""
        for i, arg in enumerate(self.args):
            if arg.kind is ArgKind.REST:
                return i
        return None


def _a(
    name: str,
    kind: ArgKind,
    metavar: str,
    completion: Completion = Completion.NONE,
    *,
    optional: bool = False,
    choices: tuple[str, ...] = (),
    default: str | int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> ArgSpec:
    return ArgSpec(name, kind, metavar, optional, choices, default, completion, minimum, maximum)


_T, _I, _ID, _AD, _R = ArgKind.TEXT, ArgKind.INT, ArgKind.ID, ArgKind.ADDRESS, ArgKind.REST
_C = Completion

# Metavars (shown in usage lines, translated).
KEY, VALUE, ID, ADDR = N_("KEY"), N_("VALUE"), N_("ID"), N_("ADDRESS")
MESSAGE, NAME = N_("MESSAGE"), N_("NAME")

_MSG = _a("message", _R, MESSAGE)
_ACTION = ("start", "stop", "status")


def _cmd(
    name: str,
    group: Group,
    help: str,
    example: str,
    *args: ArgSpec,
    aliases: tuple[str, ...] = (),
) -> CommandSpec:
    return CommandSpec(name, group, help, example, tuple(args), aliases)


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
    """Shape rules the parser relies on; the test suite asserts this is empty.

    At most one rest-of-line argument; arguments before it are required; arguments after it
    are required single words (taken from the end of the line); optional arguments come last.
    """
    problems = []
    for spec in COMMANDS:
        rest = spec.rest_index
        kinds = [a.kind for a in spec.args]
        if kinds.count(ArgKind.REST) > 1:
            problems.append(f"/{spec.name}: more than one rest argument")
        seen_optional = False
        for i, arg in enumerate(spec.args):
            if seen_optional and not arg.optional:
                problems.append(f"/{spec.name}: required {arg.name} after an optional argument")
            seen_optional |= arg.optional
            if rest is not None and i != rest and arg.optional:
                problems.append(f"/{spec.name}: optional {arg.name} beside a rest argument")
            if rest is not None and i > rest and arg.kind not in (ArgKind.TEXT, ArgKind.ID):
                problems.append(f"/{spec.name}: {arg.name} after the rest must be a word")
    return problems
