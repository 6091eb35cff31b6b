"""Where accounts are: our presence record and handle in the DHT, and cached lookups of others'."""

from __future__ import annotations

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.devices import DEVICES_TTL, device_key
from ohtchat.chat.errors import ChatError
from ohtchat.chat.ports import Names, Now, Sleep
from ohtchat.chat.presence import (
    PRESENCE_TTL,
    DhtApi,
    Presence,
    PresenceError,
    handle_key,
    parse_presence,
    presence_key,
    sign_prekey,
)
from ohtchat.crypto.keys import account_id

#: Pauses (seconds) before asking the DHT again for a presence record it did not return.
LOOKUP_RETRIES = (0.5, 1.5)
#: How long (seconds) a looked-up presence is used before the DHT is asked again.
PRESENCE_CACHE = 60.0


class PresenceDirectory:
    """Presence records and handles of one account, in the DHT."""

    def __init__(
        self,
        account: LocalAccount,
        dht: DhtApi,
        names: Names,
        *,
        advertise: str,
        now: Now,
        sleep: Sleep,
        cache_for: float = PRESENCE_CACHE,
    ) -> None:
        self.account = account
        self.dht = dht
        self.names = names
        self.advertise = advertise
        self.now = now
        self.sleep = sleep
        self.cache_for = cache_for
        self._cache: dict[str, tuple[float, Presence]] = {}

    async def publish(self) -> None:
        """Publish (or refresh) our presence record."""
        acct = self.account
        ident = acct.identity(int(self.now()))
        p = Presence(
            acct.account_id,
            acct.key.public,
            acct.name,
            ident.onion,
            self.advertise,
            acct.kem.public,
            self.now(),
        )
        value = p.to_value(ident.cert.to_bytes(), sign_prekey(acct.key.sign, acct.kem.public))
        # The account's record (the device that wrote last) and this device's own record,
        # which peers use to deliver to every device (docs/devices.md).
        await self.dht.put(presence_key(acct.account_id), value, PRESENCE_TTL)
        # The device record lives as long as the device list: a device offline for days is
        # still found, so peers leave its copy of each item in the mailbox for it.
        device = device_key(acct.account_id, acct.node_key.public)
        await self.dht.put(device, value, DEVICES_TTL)

    async def lookup(self, acct_id: str, fresh: bool = False) -> Presence:
        """The verified presence of an account (:class:`ChatError` if none).

        Cached for ``cache_for`` seconds, so a conversation costs one DHT lookup, not one
        per message; a failed delivery drops the cache entry (the peer may have moved).
        """
        cached = self._cache.get(acct_id)
        if cached is not None and not fresh and self.now() - cached[0] < self.cache_for:
            return cached[1]
        record = await self.dht.get(presence_key(acct_id))
        for pause in LOOKUP_RETRIES:
            if record is not None:
                break
            # While the ring converges (a node just joined) a lookup can reach a node that does
            # not hold the record yet; ask again shortly before concluding there is none.
            await self.sleep(pause)
            record = await self.dht.get(presence_key(acct_id))
        if record is None:
            raise ChatError(f"no presence record for {acct_id[:16]}…")
        try:
            p = parse_presence(acct_id, record.owner, record.value, self.now())
        except PresenceError as exc:
            raise ChatError(str(exc)) from exc
        self.names.learn(acct_id, p.name)
        self._cache[acct_id] = (self.now(), p)
        return p

    def forget(self, acct_id: str) -> None:
        """Drop the cached presence of ``acct_id``."""
        self._cache.pop(acct_id, None)

    async def claim_handle(self, handle: str) -> None:
        """Claim ``handle`` (first come): ``handle:<SHA3(name)>`` → our account id."""
        await self.dht.put(handle_key(handle), self.account.account_id.encode(), PRESENCE_TTL)

    async def lookup_handle(self, handle: str) -> str:
        """The account id a handle belongs to (:class:`ChatError` if unclaimed)."""
        record = await self.dht.get(handle_key(handle))
        if record is None:
            raise ChatError(f"nobody has claimed the handle {handle!r}")
        acct = str(record.value.decode(errors="replace"))
        if account_id(record.owner) != acct:
            raise ChatError("the handle record is not owned by the account it names")
        return acct
