"""Console command handlers for accounts, contacts, whispers, channels, history and search."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ohtchat.api.codec import to_data
from ohtchat.api.results import CommandResult
from ohtchat.api.views import ChannelList, ContactList, MessageList, MessageSent
from ohtchat.app.handlers.ring import Handler
from ohtchat.chat.accounts import decrypt_text, encrypt_text, verify_text
from ohtchat.chat.service import ChatError
from ohtchat.commands import Command, NotFound, PlainText
from ohtchat.i18n import _, format_datetime, ngettext
from ohtchat.store import Message

if TYPE_CHECKING:
    from ohtchat.app.node import ChatNode


def _state_text(state: str) -> str:
    return {
        "sending": _("sending"),
        "delivered": _("delivered"),
        "queued": _("queued for offline delivery"),
        "failed": _("failed"),
        "received": _("received"),
    }.get(state, state)


def _line(node: ChatNode, m: Message) -> str:
    when = format_datetime(m.timestamp, "short")
    return f"[{when}] <{node.chat.name_of(m.sender)}> {m.text}"


def chat_handlers(node: ChatNode) -> dict[str, Handler]:
    """Handlers of the ACCOUNT, CONTACTS and CHANNELS groups, /history and /search."""
    # Handlers read node.chat when they run: /newonions rebuilds the chat service.

    async def accounts(cmd: Command) -> CommandResult:
        active = node.account.name
        rows = [
            {
                "name": a.name,
                "account_id": a.account_id,
                "active": a.name == active,
                "onion": a.node_key.onion,
            }
            for a in node.accounts.all()
        ]
        text = "\n".join(
            f"{'*' if r['active'] else ' '} {r['name']}  {r['account_id']}" for r in rows
        )
        return CommandResult.success(text, accounts=rows)

    async def generate(cmd: Command) -> CommandResult:
        acct = node.accounts.generate(str(cmd.args.get("name") or ""))
        return CommandResult.success(
            _("Generated account {name} ({id}).").format(name=acct.name, id=acct.account_id),
            name=acct.name,
            account_id=acct.account_id,
        )

    async def delaccount(cmd: Command) -> CommandResult:
        acct = node.accounts.delete(str(cmd.args["id"]))
        return CommandResult.success(
            _("Deleted account {name}.").format(name=acct.name), account_id=acct.account_id
        )

    async def sign(cmd: Command) -> CommandResult:
        sig = node.accounts.sign(str(cmd.args["id"]), str(cmd.args["message"]))
        return CommandResult.success(sig, signature=sig)

    async def verify(cmd: Command) -> CommandResult:
        ref, text, sig = str(cmd.args["id"]), str(cmd.args["message"]), str(cmd.args["signature"])
        pub = await _account_public(node, ref)
        ok = verify_text(pub, text, sig)
        return CommandResult(
            ok,
            _("Valid signature.") if ok else _("Invalid signature."),
            {"valid": ok, **({} if ok else {"error": "invalid"})},
        )

    async def encrypt(cmd: Command) -> CommandResult:
        acct_id = _local_or_remote_id(node, str(cmd.args["id"]))
        local = [a for a in node.accounts.all() if a.account_id == acct_id]
        kem_pub = local[0].kem.public if local else (await node.chat.lookup(acct_id)).kem_pub
        ct = encrypt_text(kem_pub, str(cmd.args["message"]))
        return CommandResult.success(ct, ciphertext=ct)

    async def decrypt(cmd: Command) -> CommandResult:
        acct = node.accounts.find(str(cmd.args["id"]))
        text = decrypt_text(acct, str(cmd.args["ciphertext"]))
        return CommandResult.success(text, plaintext=text)

    async def contacts(cmd: Command) -> CommandResult:
        rows = node.chat.contacts.listing()
        text = "\n".join(
            f"{r.name:<20} {r.presence:<8} {r.state:<10} {r.account_id[:16]}…  [{r.fingerprint}]"
            for r in rows
        )
        return CommandResult.success(
            text or _("No contacts yet: /request ID MESSAGE."), ContactList(rows)
        )

    async def request(cmd: Command) -> CommandResult:
        contact, state = await node.chat.contacts.request(
            str(cmd.args["id"]), str(cmd.args.get("message") or "")
        )
        return CommandResult.success(
            _("Contact request to {name}: {state}.").format(
                name=contact.name, state=_state_text(str(state))
            ),
            account_id=contact.account_id,
            state=str(state),
        )

    async def add(cmd: Command) -> CommandResult:
        contact, state = await node.chat.contacts.add(str(cmd.args["id"]))
        return CommandResult.success(
            _("Added {name} ({state}).").format(name=contact.name, state=_state_text(str(state))),
            account_id=contact.account_id,
            contact_state=contact.state,
            state=str(state),
        )

    async def rm(cmd: Command) -> CommandResult:
        try:
            contact = node.chat.contacts.remove(str(cmd.args["id"]))
        except KeyError as exc:
            raise NotFound(_("No such contact.")) from exc
        return CommandResult.success(
            _("Removed {name}.").format(name=contact.name), account_id=contact.account_id
        )

    async def whisper(cmd: Command) -> CommandResult:
        msg = await node.chat.whisper(str(cmd.args["id"]), str(cmd.args["message"]))
        return _sent(node, msg)

    async def contactcast(cmd: Command) -> CommandResult:
        msgs = await node.chat.contacts.contactcast(str(cmd.args["message"]))
        states = {m.conversation: str(m.state) for m in msgs}
        return CommandResult.success(
            ngettext("Sent to {n} contact.", "Sent to {n} contacts.", len(msgs)).format(
                n=len(msgs)
            ),
            states=states,
        )

    async def channels(cmd: Command) -> CommandResult:
        rows = node.chat.channels.listing()
        text = "\n".join(f"{r.name:<20} {r.channel_id}  ({len(r.members)})" for r in rows)
        return CommandResult.success(
            text or _("No channels yet: /channel NAME."), ChannelList(rows)
        )

    async def channel(cmd: Command) -> CommandResult:
        ch = await node.chat.channels.create(str(cmd.args.get("name") or ""))
        return CommandResult.success(
            _("Created channel {name}: {id}").format(name=ch.name, id=ch.channel_id),
            channel_id=ch.channel_id,
            name=ch.name,
        )

    async def join(cmd: Command) -> CommandResult:
        ch = await node.chat.channels.join(str(cmd.args["id"]))
        return CommandResult.success(
            ngettext(
                "Joined {name} ({n} member).", "Joined {name} ({n} members).", len(ch.members)
            ).format(name=ch.name, n=len(ch.members)),
            channel_id=ch.channel_id,
            members=list(ch.members),
        )

    async def leave(cmd: Command) -> CommandResult:
        ch = await node.chat.channels.leave(str(cmd.args["id"]))
        return CommandResult.success(
            _("Left {name}.").format(name=ch.name), channel_id=ch.channel_id
        )

    async def channelcast(cmd: Command) -> CommandResult:
        msg, states = await node.chat.channels.cast(str(cmd.args["id"]), str(cmd.args["message"]))
        result = _sent(node, msg)
        return CommandResult(
            result.ok, result.text, {**result.data, "members": states}, result.view
        )

    async def history(cmd: Command) -> CommandResult:
        count = int(cmd.args.get("count") or 50)
        ref = cmd.args.get("conversation") or node.current_conversation
        try:
            conv, msgs = node.chat.history(str(ref) if ref else None, max(1, min(count, 1000)))
        except ChatError as exc:
            raise NotFound(str(exc)) from exc
        node.store.mark_read(conv)
        return CommandResult.success(
            "\n".join(_line(node, m) for m in msgs) or _("No messages."),
            MessageList(conv, tuple(node.chat.message_view(m) for m in msgs)),
        )

    async def search(cmd: Command) -> CommandResult:
        query = str(cmd.args["text"])
        msgs = node.store.search(query, limit=100)
        return CommandResult.success(
            "\n".join(_line(node, m) for m in msgs) or _("Nothing found."),
            MessageList("", tuple(node.chat.message_view(m) for m in msgs), query),
        )

    async def plain(item: PlainText) -> CommandResult:
        conv = node.current_conversation
        if not conv:
            raise NotFound(_("No conversation is open: use /whisper or /channelcast."))
        with contextlib.suppress(Exception):
            node.chat.channels.find(conv)
            msg, _states = await node.chat.channels.cast(conv, item.text)
            return _sent(node, msg)
        return _sent(node, await node.chat.whisper(conv, item.text))

    node.dispatcher.set_plain_text_handler(plain)
    return {
        "accounts": accounts,
        "generate": generate,
        "delaccount": delaccount,
        "sign": sign,
        "verify": verify,
        "encrypt": encrypt,
        "decrypt": decrypt,
        "contacts": contacts,
        "request": request,
        "add": add,
        "rm": rm,
        "whisper": whisper,
        "contactcast": contactcast,
        "channels": channels,
        "channel": channel,
        "join": join,
        "leave": leave,
        "channelcast": channelcast,
        "history": history,
        "search": search,
    }


def _sent(node: ChatNode, msg: Message) -> CommandResult:
    state = str(msg.state)
    data = to_data(node.chat.message_view(msg))
    if state == "failed":
        text = _("Message could not be sent: the recipient is unknown.")
        return CommandResult(False, text, {**data, "error": "undeliverable"})
    text = _("Message {state}.").format(state=_state_text(state))
    return CommandResult.success(text, MessageSent(msg.msg_id, msg.conversation, state), **data)


def _local_or_remote_id(node: ChatNode, ref: str) -> str:
    for a in node.accounts.all():
        if ref in (a.name, a.account_id) or a.account_id.startswith(ref.lower()):
            return a.account_id
    return node.chat.resolve(ref)


async def _account_public(node: ChatNode, ref: str) -> bytes:
    for a in node.accounts.all():
        if ref in (a.name, a.account_id) or a.account_id.startswith(ref.lower()):
            return a.key.public
    acct_id = node.chat.resolve(ref)
    with contextlib.suppress(KeyError):
        c = node.store.get_contact(acct_id)
        if c.account_public:
            return c.account_public
    return (await node.chat.lookup(acct_id)).account_pub
