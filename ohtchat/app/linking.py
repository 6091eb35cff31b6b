"""The existing device's side of linking a new device (``/link``; docs/devices.md).

One :class:`LinkHost` per node holds at most one pending code. The new device dials this node
and proves the code on its session (``link_request``); both screens then show the same
6-digit verification string, and this device's user types the digits the *new* device shows
(``/link confirm DIGITS``). Only then is the new node key certified and listed, and the
account bundle handed out, in parts, to the session that made the proof (``link_fetch``).

Every refusal is an :class:`~ohtchat.session.rpc.RpcError` with a stable code
(:data:`REFUSALS`); the local commands raise :class:`~ohtchat.commands.errors.CommandFailed`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ohtchat.api.constants import LINK_TOPIC
from ohtchat.api.events import LogEvent, NodeEvent
from ohtchat.api.views import LinkState
from ohtchat.app.stack import LINK_METHODS as LINK_METHODS  # what handle_rpc serves
from ohtchat.commands.errors import CommandFailed
from ohtchat.devices import LinkCode, LinkRefused, PendingLink
from ohtchat.devices.devicelist import MAX_NAME
from ohtchat.i18n import _
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import RpcError
from ohtchat.wire.envelope import Fields

#: Bytes of the bundle per ``link_fetch`` answer (a session frame holds 256 KiB).
PART_SIZE = 128 * 1024
#: The largest bundle a host hands out (so at most 64 parts).
MAX_BUNDLE = 8 * 1024 * 1024
#: The error codes of the link methods, and when they are sent.
REFUSALS = {
    "link_none": "no link code is pending on this device",
    "link_expired": "the link code expired",
    "link_used": "the link code was already used",
    "link_voided": "the link code is void after repeated bad proofs",
    "link_bad_proof": "the proof does not match the code and this session",
    "link_key": "node_pub is not the key this session authenticated",
    "link_session": "no valid proof was made on this session",
    "link_refused": "the user refused the device (wrong digits) or cancelled",
    "link_part": "no such part of the bundle",
}


def _refuse(code: str, detail: str = "") -> RpcError:
    return RpcError(code, detail or REFUSALS[code])


def sas_digits(text: str) -> str:
    """The digits of a verification string as typed (``123 456``, ``123-456``, ``123456``)."""
    return "".join(c for c in text if c.isdigit())


@dataclass
class LinkAttempt:
    """A new device that proved the code on one session, waiting for the user's confirmation."""

    binding: bytes
    node_public: bytes
    name: str
    sas: str
    #: Why it was refused (``""`` while it stands): ``sas`` (wrong digits) or ``cancelled``.
    refused: str = ""
    confirmed: bool = False
    #: The packed bundle in parts, once confirmed and certified; and its SHA3-256.
    parts: tuple[bytes, ...] = ()
    digest: bytes = b""
    #: Parts the new device has fetched (the attempt ends with the last one).
    fetched: int = 0


class LinkHost:
    """The pending code of this node and the device that answered it."""

    def __init__(
        self, publish: Callable[[NodeEvent], object], now: Callable[[], float] = time.time
    ) -> None:
        self._publish = publish
        self._now = now
        self.pending: PendingLink | None = None
        self.attempt: LinkAttempt | None = None
        self.linked_count = 0

    # ------------------------------------------------------------------ the local user
    def new_code(self, node_public: bytes) -> LinkCode:
        """A fresh one-time code for this node's key (any earlier code is dropped)."""
        code = LinkCode.new(node_public)
        self.pending = PendingLink(code, self._now())
        self.attempt = None
        return code

    def expires(self) -> float:
        """When the pending code expires (0 without one)."""
        return 0.0 if self.pending is None else self.pending.created + self.pending.ttl

    def _expired(self) -> bool:
        return self.pending is None or self._now() > self.expires()

    def state(self) -> LinkState:
        """What ``/link status`` shows."""
        a, exp = self.attempt, int(self.expires())
        if self.pending is None:
            return LinkState("none")
        if a is None:
            return LinkState("expired" if self._expired() else "waiting", expires=exp)
        if a.refused:
            return LinkState("refused", expires=exp, device=a.name)
        return LinkState("confirmed" if a.confirmed else "asked", expires=exp, device=a.name)

    def cancel(self) -> bool:
        """Drop the pending code and the device waiting on it; whether there was one."""
        had = self.pending is not None
        if self.attempt is not None and not self.attempt.confirmed:
            self.attempt.refused = "cancelled"
        self.pending = None
        return had

    def confirm(self, digits: str) -> LinkAttempt:
        """Check the digits the new device shows against ours (constant time).

        Returns the attempt to certify; a mismatch refuses the device for good (the code stays
        used) and raises :class:`CommandFailed`, as does a missing or expired attempt.
        """
        a = self.attempt
        if self.pending is None or a is None or a.refused:
            raise CommandFailed(_("No device is waiting to be linked."), code="link_none")
        if a.confirmed:
            raise CommandFailed(_("This device is already confirmed."), code="link_used")
        if self._expired():
            raise CommandFailed(_("The link code expired: run /link again."), code="link_expired")
        typed = sas_digits(digits)
        if len(typed) != 6:
            raise CommandFailed(
                _("Type the 6 digits the new device shows: /link confirm 123456"), code="usage"
            )
        if not hmac.compare_digest(typed.encode(), sas_digits(a.sas).encode()):
            a.refused = "sas"
            raise CommandFailed(
                _(
                    "The digits do not match: the device was refused (someone else may have "
                    "used the code). Run /link again for a new code."
                ),
                code="link_sas",
            )
        a.confirmed = True
        return a

    def deliver(self, bundle: bytes) -> None:
        """Hand the packed bundle to the confirmed device (it fetches it in parts)."""
        a = self.attempt
        if a is None or not a.confirmed or a.refused:
            raise CommandFailed(_("No confirmed device to send the account to."), code="link_none")
        if len(bundle) > MAX_BUNDLE:
            a.refused = "too_large"
            raise CommandFailed(
                _("The account is too large to link ({n} bytes).").format(n=len(bundle)),
                code="link_too_large",
            )
        a.parts = tuple(bundle[i : i + PART_SIZE] for i in range(0, len(bundle), PART_SIZE))
        a.digest = hashlib.sha3_256(bundle).digest()

    def fail(self, reason: str) -> None:
        """Refuse the confirmed device after all (certifying it failed)."""
        if self.attempt is not None:
            self.attempt.refused = reason

    # ------------------------------------------------------------------ RPC
    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        """``link_request`` and ``link_fetch`` (see docs: linking protocol)."""
        if method == "link_request":
            return self._request(peer, params)
        if method == "link_fetch":
            return self._fetch(peer, params)
        raise RpcError("unknown_method", method[:64])

    def _request(self, peer: PeerIdentity, params: Fields) -> dict[str, Any]:
        node_pub = params.bytes_("node_pub", 32)
        name = params.str_("name", MAX_NAME).strip()
        proof = params.bytes_("proof", 32)
        pending = self.pending
        if pending is None:
            raise _refuse("link_none")
        if node_pub != peer.node_public:
            raise _refuse("link_key")
        if pending.used and self.attempt is not None and self.attempt.binding == peer.binding:
            raise _refuse("link_used", "this session already made its proof: poll link_fetch")
        try:
            sas = pending.check(proof, peer.binding, peer.node_public, self._now())
        except LinkRefused as exc:
            raise _refuse(f"link_{exc.reason}", str(exc)) from exc
        name = "".join(c for c in name if c.isprintable()) or "device"
        self.attempt = LinkAttempt(peer.binding, peer.node_public, name, sas)
        short = peer.onion[:16]
        # Our own digits are not shown: the user must read them off the new device and type
        # them here, or the comparison that defeats a man in the middle is only a copy.
        text = _(
            "Device {name} ({onion}…) wants to link to this account. Type the 6 digits it "
            "shows: /link confirm DIGITS (or /link cancel if it shows none)."
        ).format(name=name, onion=short)
        self._publish(LogEvent("warning", text, LINK_TOPIC))
        return {"status": "pending", "expires": int(self.expires())}

    def _fetch(self, peer: PeerIdentity, params: Fields) -> dict[str, Any]:
        part = params.int_("part", 0, MAX_BUNDLE // PART_SIZE) if params.has("part") else 0
        a = self.attempt
        if a is None:
            raise _refuse("link_none" if self.pending is None else "link_session")
        if not hmac.compare_digest(a.binding, peer.binding) or a.node_public != peer.node_public:
            raise _refuse("link_session")
        if a.refused:
            raise _refuse("link_refused", f"refused: {a.refused}")
        if not a.parts:
            if self._expired():
                raise _refuse("link_expired")
            return {"status": "pending", "expires": int(self.expires())}
        if part >= len(a.parts):
            raise _refuse("link_part")
        a.fetched = max(a.fetched, part + 1)
        result = {
            "status": "linked",
            "part": part,
            "parts": len(a.parts),
            "digest": a.digest,
            "data": a.parts[part],
        }
        if a.fetched == len(a.parts):
            # Everything was handed out: the attempt and its code end here.
            self.attempt, self.pending = None, None
            self.linked_count += 1
        return result
