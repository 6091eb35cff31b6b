"""Child of the crash test: append messages forever, printing each id once it is stored.

Usage: ``python crash_child.py DATA_DIR PASSPHRASE PREFIX COMPACT_EVERY``. The parent
SIGKILLs this process at a random moment; every id printed must survive.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ohtchat.store import KdfParams, Message, MessageState, Store


def main() -> None:
    data_dir, passphrase, prefix, compact_every = sys.argv[1:5]
    every = int(compact_every)
    if Store.exists(Path(data_dir)):
        store = Store.open(Path(data_dir), passphrase, compact_every=every)
    else:
        store = Store.create(
            Path(data_dir), passphrase, kdf=KdfParams.minimum(), compact_every=every
        )
    print("ready", flush=True)
    for i in range(1_000_000):
        msg_id = f"{prefix}-{i}"
        conv = f"conv-{i % 5}"
        state = MessageState.SENDING if i % 4 == 0 else MessageState.RECEIVED
        store.append_message(Message(msg_id, conv, "crash", f"body of {msg_id}", float(i), state))
        # Print only after append_message returned: from here on it must survive.
        print(msg_id, flush=True)
        # Mix in the other kinds of change so they are killed midway too.
        if i % 4 == 0:
            store.update_message_state(msg_id, MessageState.DELIVERED)
        if i % 9 == 0:
            store.mark_read(conv)
        if i % 13 == 0:
            store.put_replica(msg_id.encode(), b"r" * (i % 200))


if __name__ == "__main__":
    main()
