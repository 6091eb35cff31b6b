"""File transfers of one account: offers out and in, the pulls, serving, records and events.

The receiver drives: after ``/accept`` it pulls ``file_get`` ranges from the sender's node over
the authenticated session, ``window`` requests in flight (so the Tor round trip does not
throttle it), takes them strictly in order (:class:`~ohtchat.files.receiver.Receiver`),
writes them to the ``.part`` file and, every ``checkpoint`` bytes, syncs the file and records
the verified length, from which a restart or a dropped connection resumes. A sender that is
away is waited for (backoff); a lying one ends the transfer ``failed``. The sender serves only
the account it offered to, from the file as offered (:class:`~ohtchat.files.sender.Source`).

Collaborators are injected (the session pool's ``request``, where an account's node is, how an
offer is sent as a chat item, the settings, the clock), so the service runs on virtual time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from ohtchat.api.bus import EventBus
from ohtchat.api.events import FileEvent
from ohtchat.api.views import FileView
from ohtchat.crypto.keys import account_id
from ohtchat.files import protocol
from ohtchat.files.errors import TransferFailed
from ohtchat.files.names import sanitize_name
from ohtchat.files.offer import DEFAULT_CHUNK, FileOffer
from ohtchat.files.ports import FileSettings, Locate, Offload, Requester, SendOffer
from ohtchat.files.receiver import PartFile
from ohtchat.files.records import (
    CANCELLED,
    DONE,
    FAILED,
    OFFERED,
    PREFIX,
    RECEIVING,
    SENDING,
    Transfer,
    incoming_id,
    new_transfer_id,
    part_path,
    setting_key,
)
from ohtchat.files.sender import Source
from ohtchat.session.identity import PeerIdentity
from ohtchat.session.rpc import RpcError
from ohtchat.store import Store
from ohtchat.wire.envelope import Fields, pack, unpack
from ohtchat.wire.errors import MalformedMessage

log = logging.getLogger(__name__)

#: RPC error codes of the sender that end a transfer (anything else is retried).
FATAL_CODES = frozenset({"unknown", "changed", "cancelled", "bad_request", "past_end"})


class FileTransfers:
    """Every transfer of one account (outgoing and incoming)."""

    def __init__(
        self,
        me: str,
        store: Store,
        bus: EventBus,
        *,
        requester: Requester,
        locate: Locate,
        send_offer: SendOffer,
        settings: Callable[[], FileSettings],
        now: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        window: int = 16,
        checkpoint: int = 1024 * 1024,
        timeout: float = 60.0,
        max_backoff: float = 10.0,
        offload: Offload = asyncio.to_thread,
    ) -> None:
        self.me = me
        self.store = store
        self.bus = bus
        self.requester = requester
        self.locate = locate
        self.send_offer = send_offer
        self.settings = settings
        self.now = now
        self.sleep = sleep
        self.window = window
        self.checkpoint = checkpoint
        self.timeout = timeout
        self.max_backoff = max_backoff
        #: Runs blocking file work (hashing, re-hashing, the final verify) off the event loop;
        #: virtual-time tests run it inline, so no real-time wait lets virtual time race ahead.
        self.offload = offload
        self._transfers: dict[str, Transfer] = {}
        self._pulls: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_event: dict[str, float] = {}
        #: Incoming transfers being verified and renamed (in a thread): not cancellable then,
        #: or the file could appear after the transfer was shown as cancelled.
        self._finishing: set[str] = set()
        self._upload_free = 0.0  # when the upload limit lets the next chunk go
        self._load()

    # ------------------------------------------------------------------ records
    def _load(self) -> None:
        prefix = f"{PREFIX}{self.me}."
        for key, blob in self.store.settings().items():
            if key.startswith(prefix) and isinstance(blob, bytes):
                with contextlib.suppress(MalformedMessage):
                    t = Transfer.from_record(unpack(blob))
                    if t is not None:
                        self._transfers[t.local_id] = t

    def _save(self, t: Transfer, *, event: bool = True) -> None:
        self.store.set_setting(setting_key(self.me, t.local_id), pack(t.to_record()))
        if event:
            self._publish(t)

    def _publish(self, t: Transfer, progress: bool = False) -> None:
        now = self.now()
        if progress and now - self._last_event.get(t.local_id, 0.0) < 0.25:
            return
        self._last_event[t.local_id] = now
        self.bus.publish(FileEvent.of(self.view(t)))

    def view(self, t: Transfer) -> FileView:
        """A transfer as UIs see it."""
        return t.view()

    def transfers(self) -> list[Transfer]:
        """Every transfer, newest first."""
        return sorted(self._transfers.values(), key=lambda t: t.created, reverse=True)

    def find(self, ref: str) -> Transfer:
        """The transfer whose local id is ``ref`` or starts with it (≥ 4 hex digits);
        ``KeyError`` if none or several."""
        ref = ref.lower()
        if ref in self._transfers:
            return self._transfers[ref]
        hits = [t for k, t in self._transfers.items() if len(ref) >= 4 and k.startswith(ref)]
        if len(hits) != 1:
            raise KeyError(ref)
        return hits[0]

    # ------------------------------------------------------------------ lifetime
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` until :meth:`stop`."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start(self) -> None:
        """Resume every incoming transfer that was receiving (after a restart)."""
        for t in self._transfers.values():
            if t.direction == "in" and t.state == RECEIVING:
                self._start_pull(t)

    async def stop(self) -> None:
        """Stop pulls and background work (records stay for the next start)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ sending
    async def offer_file(self, recipients: list[tuple[str, str]], path: Path) -> list[Transfer]:
        """Offer the file at ``path`` to each ``(account, conversation)``: hashed once, one
        transfer per recipient, each offer sent as a chat item; the transfers."""
        settings = self.settings()
        source, digest = await self.offload(Source.snapshot, path, settings.max_size)
        name = sanitize_name(path.name)
        out = []
        for to, conversation in recipients:
            offer = FileOffer(new_transfer_id(), name, source.size, digest, DEFAULT_CHUNK)
            t = Transfer(
                offer.transfer_id, offer.transfer_id, "out", to, conversation, name,
                source.size, digest, offer.chunk, OFFERED, path=str(source.path),
                mtime_ns=source.mtime_ns, created=self.now(),
            )  # fmt: skip
            self._transfers[t.local_id] = t
            self._save(t)
            state = await self.send_offer(to, conversation, offer)
            if state == "failed":
                self._end(t, FAILED, "undeliverable")
            out.append(t)
        return out

    async def _serve_get(self, caller: str, params: Fields) -> dict[str, Any]:
        tid, offset, length = protocol.parse_get(params)
        t = self._transfers.get(tid)
        if t is None or t.direction != "out" or t.peer != caller:
            raise RpcError("unknown", "no such transfer for you")
        if t.state in (CANCELLED, FAILED):
            raise RpcError("cancelled", f"the transfer is {t.state}")
        if offset % t.chunk or length > t.chunk:
            raise RpcError("bad_request", "req.p: 'offset'/'length' do not fit the chunk size")
        try:
            data = Source(Path(t.path), t.size, t.mtime_ns).read(offset, length)
        except TransferFailed as exc:
            if exc.reason == "changed":
                self._end(t, FAILED, "changed")
            raise RpcError(exc.reason, exc.detail) from exc
        await self._throttle(len(data))
        if t.state == OFFERED:
            t.state = SENDING
            self._save(t)
        if offset + len(data) > t.done:
            t.done = offset + len(data)
            self._publish(t, progress=True)
        return protocol.chunk_reply(offset, data)

    async def _throttle(self, n: int) -> None:
        rate = self.settings().rate
        if rate <= 0:
            return
        now = self.now()
        self._upload_free = max(self._upload_free, now) + n / rate
        if self._upload_free > now:
            await self.sleep(self._upload_free - now)

    # ------------------------------------------------------------------ receiving
    def on_offer(self, sender: str, offer_obj: object) -> Transfer | None:
        """An authenticated offer from ``sender`` (inside a ratchet item): recorded as
        ``offered`` (or ``failed`` with the reason when it is over a limit); a repeated offer
        is ignored. ``None`` when the offer is malformed."""
        try:
            offer = FileOffer.from_wire(offer_obj)
        except TransferFailed as exc:
            log.info("dropping a file offer from %s: %s", sender[:12], exc)
            return None
        local = incoming_id(sender, offer.transfer_id)
        if local in self._transfers:
            return self._transfers[local]
        t = Transfer(
            local, offer.transfer_id, "in", sender, sender, sanitize_name(offer.name),
            offer.size, offer.sha256, offer.chunk, OFFERED, created=self.now(),
        )  # fmt: skip
        settings = self.settings()
        pending = [
            p.size
            for p in self._transfers.values()
            if p.direction == "in" and p.peer == sender and not p.final
        ]
        try:
            offer.check_size(settings.max_size)
            settings.quota.admit(offer.size, pending)
        except TransferFailed as exc:
            t.state, t.error = FAILED, exc.reason
        self._transfers[local] = t
        self._save(t)
        return t

    def accept(self, t: Transfer) -> None:
        """Start receiving an offered file."""
        if t.direction != "in" or t.state != OFFERED:
            raise TransferFailed("unknown", f"the transfer is {t.direction}/{t.state}")
        t.state = RECEIVING
        self._save(t)
        self._start_pull(t)

    async def cancel(self, t: Transfer) -> None:
        """Cancel a transfer that has not ended; the peer is told (best effort)."""
        if t.final:
            raise TransferFailed("unknown", f"the transfer is already {t.state}")
        if t.local_id in self._finishing:
            raise TransferFailed("unknown", "the file is being verified and saved")
        task = self._pulls.pop(t.local_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if t.direction == "in":
            part_path(self.settings().folder, t).unlink(missing_ok=True)
        self._end(t, CANCELLED, "cancelled")

    def _end(self, t: Transfer, state: str, reason: str = "") -> None:
        t.state, t.error = state, "" if state in (DONE, CANCELLED) else reason
        self._save(t)
        self.spawn(self._tell_end(t, state, reason))

    async def _tell_end(self, t: Transfer, state: str, reason: str) -> None:
        with contextlib.suppress(Exception):  # the peer may be away: only a courtesy
            address, onion = await self.locate(t.peer, False)
            params = protocol.end_params(t.transfer_id, state, reason)
            await self.requester.request(address, onion, protocol.FILE_END, params, self.timeout)

    def _start_pull(self, t: Transfer) -> None:
        if t.local_id not in self._pulls:
            task = self.spawn(self._pull(t))
            self._pulls[t.local_id] = task
            task.add_done_callback(lambda _: self._pulls.pop(t.local_id, None))

    async def _pull(self, t: Transfer) -> None:
        """Receive ``t`` until it is done or fails, waiting out an absent sender."""
        backoff = 0.5
        fresh = False
        while t.state == RECEIVING:
            try:
                address, onion = await self.locate(t.peer, fresh)
                await self._pull_once(t, address, onion)
                return
            except TransferFailed as exc:
                part_path(self.settings().folder, t).unlink(missing_ok=True)
                self._end(t, CANCELLED if exc.reason == "cancelled" else FAILED, exc.reason)
                return
            except RpcError as exc:
                if exc.code in FATAL_CODES:
                    state = CANCELLED if exc.code == "cancelled" else FAILED
                    part_path(self.settings().folder, t).unlink(missing_ok=True)
                    self._end(t, state, exc.code)
                    return
                log.info("file %s: %s; trying again", t.local_id[:8], exc)
            except Exception as exc:  # lost session, timeout, no presence yet: wait, retry
                log.info("file %s: %s; trying again", t.local_id[:8], exc)
            fresh = True
            await self.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _pull_once(self, t: Transfer, address: str, onion: str) -> None:
        folder = self.settings().folder
        part, rx = await self.offload(PartFile.open, part_path(folder, t), t.offer, t.done)
        pending: collections.deque[asyncio.Task[Fields]] = collections.deque()
        finishing = False
        try:
            if rx.expected != t.done:
                t.done = rx.expected
                self._save(t, event=False)
            issued = rx.expected
            synced = rx.expected
            while not rx.complete:
                while len(pending) < self.window and issued < t.size:
                    length = t.offer.chunk_length(issued)
                    params = protocol.get_params(t.transfer_id, issued, length)
                    call = self.requester.request(
                        address, onion, protocol.FILE_GET, params, self.timeout
                    )
                    pending.append(asyncio.ensure_future(call))
                    issued += length
                reply = await pending.popleft()
                try:
                    offset, data = protocol.parse_chunk(reply)
                except MalformedMessage as exc:
                    raise TransferFailed("bad_reply", str(exc)) from exc
                rx.take(offset, data)
                part.write(offset, data)
                t.done = rx.expected
                if t.done - synced >= self.checkpoint:
                    part.sync()
                    synced = t.done
                    self._save(t, event=False)
                self._publish(t, progress=True)
            finishing = True  # the part file is the finisher's now (it closes it)
            self._finishing.add(t.local_id)
            try:
                final = await self.offload(part.finish, rx, folder, t.name)
            finally:
                self._finishing.discard(t.local_id)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if not finishing:
                part.close()
        t.path = str(final)
        self._end(t, DONE)

    # ------------------------------------------------------------------ serving
    async def handle_rpc(self, peer: PeerIdentity, method: str, params: Fields) -> dict[str, Any]:
        """``file_get`` / ``file_end`` from an authenticated peer account."""
        caller = account_id(peer.account_public)
        if method == protocol.FILE_GET:
            return await self._serve_get(caller, params)
        tid, state, reason = protocol.parse_end(params)
        t = self._transfers.get(tid) or self._transfers.get(incoming_id(caller, tid))
        if t is None or t.peer != caller or t.final:
            return {}
        if t.direction == "out":
            t.state, t.error = state, "" if state in (DONE, CANCELLED) else reason
            self._save(t)
        elif state == CANCELLED:  # the sender cancelled: stop pulling
            task = self._pulls.pop(t.local_id, None)
            if task is not None:
                task.cancel()
            part_path(self.settings().folder, t).unlink(missing_ok=True)
            t.state, t.error = CANCELLED, ""
            self._save(t)
        return {}
