"""Console command handlers for a :class:`~ohtchat.app.node.ChatNode`: ring, DHT, status,
config and tor. Chat commands (accounts, contacts, whispers, channels, history) are in
:mod:`ohtchat.app.handlers.chat`. Every handler returns localized text plus JSON-able data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from ohtchat.api.codec import to_data
from ohtchat.api.results import CommandResult
from ohtchat.api.views import (
    FingerTable,
    FingerView,
    Membership,
    PeerList,
    QuitRequested,
    SettingChanged,
)
from ohtchat.app.stack import peer_view
from ohtchat.chat.accounts import AccountError
from ohtchat.chat.channels import ChannelError
from ohtchat.chat.presence import PresenceError
from ohtchat.chat.service import ChatError
from ohtchat.chord.errors import ChordError
from ohtchat.chord.rpc import PeerRef
from ohtchat.commands import (
    Command,
    CommandFailed,
    Completion,
    NotFound,
    Unavailable,
)
from ohtchat.config import ConfigError
from ohtchat.crypto.ids import short_id
from ohtchat.dht.errors import DhtError
from ohtchat.i18n import _, ngettext
from ohtchat.store import StoreError

if TYPE_CHECKING:
    from ohtchat.app.node import ChatNode

Handler = Callable[[Command], Awaitable[CommandResult]]


def peer_data(p: PeerRef | None) -> dict[str, Any] | None:
    """A peer as JSON-able data."""
    return None if p is None else {"id": f"{p.id:064x}", "onion": p.onion, "address": p.address}


def peer_text(p: PeerRef | None) -> str:
    """A peer as one short line."""
    return _("(none)") if p is None else f"{short_id(p.id)}  {p.onion}  {p.address}"


def register_all(node: ChatNode) -> None:
    """Register every command handler on ``node.dispatcher`` (once: handlers look up the node's
    services when they run, so a rebuilt network stack needs no re-registration)."""
    from ohtchat.app.handlers.chat import chat_handlers

    d = node.dispatcher
    for err, code in (
        (ChordError, "ring"),
        (DhtError, "dht"),
        (ChatError, "chat"),
        (ChannelError, "channel"),
        (AccountError, "account"),
        (PresenceError, "presence"),
        (ConfigError, "config"),
        (StoreError, "store"),
        (TimeoutError, "timeout"),
    ):
        d.add_known_error(err, code)
    for name, handler in [*ring_handlers(node).items(), *chat_handlers(node).items()]:
        d.register(name, handler)


def ring_handlers(node: ChatNode) -> dict[str, Handler]:
    """Handlers of the NETWORK, DHT, CONFIG, TOR groups and /status, /quit."""

    async def status(cmd: Command) -> CommandResult:
        view = node.status_view()
        data = to_data(view)
        lines = [
            _("Account: {name} ({id})").format(name=data["name"], id=data["account_id"]),
            _("Onion: {onion}").format(onion=data["onion"]),
            _("Node id: {id}").format(id=data["node_id"]),
            _("Ring member: {member}; peers: {peers}").format(
                member=_("yes") if data["member"] else _("no"), peers=data["peers"]
            ),
            _("Successor: {peer}").format(peer=peer_text(node.ring.info().successor)),
            _("Predecessor: {peer}").format(peer=peer_text(node.ring.info().predecessor)),
            _("Transport: {transport}; tor: {tor}").format(
                transport=data["transport"], tor=data["tor"]["state"]
            ),
        ]
        return CommandResult.success("\n".join(lines), view)

    async def peers(cmd: Command) -> CommandResult:
        ps = node.ring.peers()
        return CommandResult.success(
            "\n".join(peer_text(p) for p in ps) or _("No peers known."),
            PeerList(tuple(v for p in ps if (v := peer_view(p)) is not None)),
        )

    async def successor(cmd: Command) -> CommandResult:
        p = node.ring.successor()
        return CommandResult.success(peer_text(p), successor=peer_data(p))

    async def predecessor(cmd: Command) -> CommandResult:
        p = node.ring.predecessor()
        return CommandResult.success(peer_text(p), predecessor=peer_data(p))

    async def ftable(cmd: Command) -> CommandResult:
        rows = node.ring.ftable()
        text = "\n".join(f"{r.first:3d}-{r.last:3d}  {peer_text(r.peer)}" for r in rows)
        view = FingerTable(
            tuple(FingerView(r.first, r.last, f"{r.start:064x}", peer_view(r.peer)) for r in rows)
        )
        return CommandResult.success(text or _("The finger table is empty."), view)

    async def create(cmd: Command) -> CommandResult:
        if node.chord.member:
            raise CommandFailed(_("Already in a ring."), code="ring")
        await node.ring.create()
        return CommandResult.success(_("Created a new ring."), Membership(True))

    async def connect(cmd: Command) -> CommandResult:
        info = await node.ring.connect(cmd.args["address"])
        return CommandResult.success(
            _("Joined the ring; successor {peer}.").format(peer=peer_text(info.successor)),
            Membership(info.member, peer_view(info.successor)),
        )

    async def lookup(cmd: Command) -> CommandResult:
        ident = str(cmd.args["id"])
        if len(ident) == 64:
            info = await node.ring.lookup(ident)
            with_presence: dict[str, Any] = {}
            try:
                p = await node.chat.lookup(ident)
                with_presence = {
                    "account": {
                        "account_id": ident,
                        "name": p.name,
                        "onion": p.onion,
                        "address": p.address,
                    }
                }
            except ChatError:
                pass
            text = _("Owner of {key}: {peer} ({hops} hops)").format(
                key=short_id(info.key), peer=peer_text(info.owner), hops=info.hops
            )
            if with_presence:
                text += "\n" + _("Account {name} is at {onion}").format(
                    name=with_presence["account"]["name"], onion=with_presence["account"]["onion"]
                )
            return CommandResult.success(
                text, owner=peer_data(info.owner), hops=info.hops, **with_presence
            )
        acct = await node.chat.lookup_handle(ident)
        return CommandResult.success(
            _("Handle {handle} belongs to {id}").format(handle=ident, id=acct), account_id=acct
        )

    async def ping(cmd: Command) -> CommandResult:
        info = await node.ring.ping(cmd.args["address"])
        return CommandResult.success(
            _("{peer} answered in {ms} ms").format(
                peer=peer_text(info.peer), ms=round(info.seconds * 1000)
            ),
            peer=peer_data(info.peer),
            seconds=info.seconds,
        )

    async def ringcast(cmd: Command) -> CommandResult:
        res = await node.ringcast.broadcast(
            {"text": cmd.args["message"], "name": node.account.name}
        )
        return CommandResult.success(
            ngettext(
                "Ringcast sent to {n} branch.", "Ringcast sent to {n} branches.", res.children
            ).format(n=res.children),
            msg_id=res.msg_id.hex(),
            children=res.children,
            reached=res.reached,
        )

    async def put(cmd: Command) -> CommandResult:
        res = await node.dht.put(cmd.args["key"], str(cmd.args["value"]).encode())
        stored = getattr(res, "stored_on", 0)
        return CommandResult.success(
            ngettext("Stored on {n} node.", "Stored on {n} nodes.", stored).format(n=stored),
            stored_on=stored,
        )

    async def get(cmd: Command) -> CommandResult:
        rec = await node.dht.get(cmd.args["key"])
        if rec is None:
            raise NotFound(_("No value under {key}.").format(key=cmd.args["key"]))
        value = rec.value.decode(errors="replace")
        return CommandResult.success(value, key=cmd.args["key"], value=value, seq=rec.seq)

    async def delete(cmd: Command) -> CommandResult:
        n = await node.dht.delete(cmd.args["key"])
        return CommandResult.success(
            ngettext("Deleted on {n} node.", "Deleted on {n} nodes.", n).format(n=n), deleted_on=n
        )

    async def config(cmd: Command) -> CommandResult:
        items = node.config.items()
        return CommandResult.success(
            "\n".join(f"{k} = {v!r}" for k, v in items) or _("No settings."), config=dict(items)
        )

    async def set_(cmd: Command) -> CommandResult:
        key, value = str(cmd.args["key"]), str(cmd.args["value"])
        node.config.set(key, _parse_value(value))
        return CommandResult.success(_("Set {key}.").format(key=key), SettingChanged(key, value))

    async def unset(cmd: Command) -> CommandResult:
        if not node.config.unset(cmd.args["key"]):
            raise NotFound(_("{key} is not set.").format(key=cmd.args["key"]))
        key = str(cmd.args["key"])
        return CommandResult.success(_("Unset {key}.").format(key=key), SettingChanged(key, None))

    async def save(cmd: Command) -> CommandResult:
        if node.options.memory or node.options.data_dir is None:
            raise Unavailable(_("Nothing is saved in --memory mode."))
        node.config.save()
        return CommandResult.success(_("Settings saved."))

    async def tor(cmd: Command) -> CommandResult:
        if node.tor is None:
            raise Unavailable(
                _("This node does not use tor (transport {t}).").format(t=node.options.transport)
            )
        action = cmd.args.get("action") or "status"
        if action == "status":
            info = await node.tor.info()
            return CommandResult.success("\n".join(f"{k}: {v}" for k, v in info.items()), **info)
        if action == "stop":
            await node.tor.stop_on_purpose()
            return CommandResult.success(_("Tor stopped."))
        await node.tor.start_again()
        return CommandResult.success(_("Tor started."))

    async def newtor(cmd: Command) -> CommandResult:
        if node.tor is None:
            raise Unavailable(
                _("This node does not use tor (transport {t}).").format(t=node.options.transport)
            )
        await node.tor.new_identity()
        return CommandResult.success(_("New circuits requested."))

    async def newonions(cmd: Command) -> CommandResult:
        old = node.identity.onion
        onion = await node.rotate_onion()
        return CommandResult.success(
            _("New onion address {onion} (was {old}); rejoining the ring.").format(
                onion=onion, old=old
            ),
            onion=onion,
            previous=old,
            node_id=f"{node.identity.node_id:064x}",
        )

    async def quit_(cmd: Command) -> CommandResult:
        return CommandResult.success(_("Goodbye."), QuitRequested())

    return {
        "status": status,
        "peers": peers,
        "successor": successor,
        "predecessor": predecessor,
        "ftable": ftable,
        "create": create,
        "connect": connect,
        "lookup": lookup,
        "ping": ping,
        "ringcast": ringcast,
        "put": put,
        "get": get,
        "delete": delete,
        "config": config,
        "set": set_,
        "unset": unset,
        "save": save,
        "tor": tor,
        "newtor": newtor,
        "newonions": newonions,
        "quit": quit_,
    }


def _parse_value(text: str) -> str | int | float | bool:
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


class NodeCompletions:
    """Completion values from a node's store and ring."""

    def __init__(self, node: ChatNode) -> None:
        self.node = node

    def candidates(self, kind: Completion) -> Iterable[str]:
        """Values for one argument kind."""
        store = self.node.store
        contacts = [c.name for c in store.contacts()] + [c.account_id for c in store.contacts()]
        channels = [c.name for c in store.channels()] + [c.channel_id for c in store.channels()]
        accounts = [a.name for a in self.node.accounts.all()]
        table: dict[Completion, list[str]] = {
            Completion.ACCOUNT: accounts,
            Completion.CONTACT: contacts,
            Completion.KNOWN_ACCOUNT: accounts + contacts,
            Completion.CHANNEL: channels,
            Completion.CONVERSATION: contacts + channels,
            Completion.CONFIG_KEY: [k for k, _v in self.node.config.items()],
            Completion.PEER: [p.address for p in self.node.ring.peers()],
        }
        return table.get(kind, [])


def completions(node: ChatNode) -> NodeCompletions:
    """The completion source of a node."""
    return NodeCompletions(node)
