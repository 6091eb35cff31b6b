"""Names: what to call an account, and which account a user's reference means."""

from __future__ import annotations

import contextlib

from ohtchat.chat.accounts import LocalAccount
from ohtchat.chat.errors import ChatError
from ohtchat.store import Store

#: Longest display name kept.
MAX_NAME = 64


class NameBook:
    """Display names (contact name, else the name an account calls itself, else a short id)
    and reference resolution, for one local account."""

    def __init__(self, store: Store, account: LocalAccount) -> None:
        self.store = store
        self.account = account
        #: The names accounts gave themselves (unverified, like any chat nickname).
        self.claimed: dict[str, str] = {}

    def learn(self, acct_id: str, name: object, *, replace: bool = True) -> None:
        """Remember the name ``acct_id`` calls itself (ignored unless a non-blank string);
        with ``replace`` False, only if none is known yet."""
        if not isinstance(name, str) or not name.strip():
            return
        if replace or acct_id not in self.claimed:
            self.claimed[acct_id] = name.strip()[:MAX_NAME]

    def name_of(self, acct_id: str) -> str:
        """A display name for an account: contact name, presence name or a short id."""
        if acct_id == self.account.account_id:
            return self.account.name
        with contextlib.suppress(KeyError):
            return self.store.get_contact(acct_id).name
        return self.claimed.get(acct_id, acct_id[:12])

    def resolve(self, ref: str) -> str:
        """An account id from a full id, a unique id prefix, or a contact name."""
        ref = ref.strip()
        low = ref.lower().removeprefix("0x")
        if len(low) == 64 and all(c in "0123456789abcdef" for c in low):
            return low
        matches = [
            c.account_id
            for c in self.store.contacts()
            if c.name == ref or c.account_id.startswith(low)
        ]
        if len(set(matches)) != 1:
            raise ChatError(f"no single contact matches {ref!r}: use the full account id")
        return matches[0]
