"""A separate process for the two-process test: accept sessions over TCP, echo each frame.

Prints ``READY <host:port> <onion>`` on stdout once listening. Run as
``python tests/session/echo_peer.py``.
"""

import asyncio
import sys
import time

from ohtchat.crypto.keys import AccountKey
from ohtchat.session.identity import NodeIdentity
from ohtchat.session.session import accept
from ohtchat.transport.tcp import TcpTransport


async def main() -> None:
    me = NodeIdentity.create(AccountKey(), int(time.time()))

    async def on_stream(stream):
        session = await accept(stream, me)
        while (frame := await session.recv_raw()) is not None:
            await session.send_raw(b"echo:" + frame + b" from " + session.peer.onion.encode())

    listener = await TcpTransport().listen(on_stream, "127.0.0.1:0")
    print("READY", listener.address, me.onion, flush=True)
    await asyncio.sleep(120)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
