"""The shapes of the console command table (:mod:`ohtchat.commands.spec`): command groups,
argument kinds and completions, and the specs of commands and their arguments."""

from __future__ import annotations

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
    DEVICES = N_("Devices")
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


def arg(
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
    """One argument of a command's spec."""
    return ArgSpec(name, kind, metavar, optional, choices, default, completion, minimum, maximum)


def cmd(
    name: str,
    group: Group,
    help: str,
    example: str,
    *args: ArgSpec,
    aliases: tuple[str, ...] = (),
) -> CommandSpec:
    """One command's spec."""
    return CommandSpec(name, group, help, example, tuple(args), aliases)


def shape_problems(commands: tuple[CommandSpec, ...]) -> list[str]:
    """How ``commands`` break the shape rules the parser relies on (empty when none).

    At most one rest-of-line argument; arguments before it are required; arguments after it
    are required single words (taken from the end of the line); optional arguments come last.
    """
    problems = []
    for spec in commands:
        rest = spec.rest_index
        kinds = [a.kind for a in spec.args]
        if kinds.count(ArgKind.REST) > 1:
            problems.append(f"/{spec.name}: more than one rest argument")
        seen_optional = False
        for i, a in enumerate(spec.args):
            if seen_optional and not a.optional:
                problems.append(f"/{spec.name}: required {a.name} after an optional argument")
            seen_optional |= a.optional
            if rest is not None and i != rest and a.optional:
                problems.append(f"/{spec.name}: optional {a.name} beside a rest argument")
            if rest is not None and i > rest and a.kind not in (ArgKind.TEXT, ArgKind.ID):
                problems.append(f"/{spec.name}: {a.name} after the rest must be a word")
    return problems
