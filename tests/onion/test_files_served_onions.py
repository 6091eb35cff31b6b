"""Issue 15's "done when": ``/send`` of a 50 MB file between two ``ohtchat --serve`` nodes over
onion services (each with its own tor on the private network) arrives byte-identical although
the sender and then the receiver are killed (SIGKILL) mid-transfer and started again; checked
through ``ohtchat cmd --json`` only."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohtchat.tor.testnet import Testnet
from tests.files.served_files import hub_pair, survives_kills

pytestmark = [pytest.mark.tor, pytest.mark.slow]

SIZE = 50 * 1000 * 1000
#: A restart over Tor: a new tor bootstraps, publishes the onion service, rejoins the ring.
DEADLINE = 300.0
#: The sender's upload limit, so both kills land mid-transfer (the network carries ~3-4 MiB/s).
RATE = 2 * 1024 * 1024
ONION = """\
[chord]
stabilize_interval = 1.0
fix_fingers_interval = 0.5
check_predecessor_interval = 2.0
rpc_timeout = 20.0
lookup_timeout = 60.0

[dht]
rpc_timeout = 20.0
maintain_interval = 3.0

[node]
heartbeat_interval = 5.0
mailbox_interval = 3.0
join_retry = 2.0
deliver_timeout = 30.0

[files]
dir = "{folder}"
rate = {rate}
"""


async def test_fifty_megabytes_over_onions_survive_killing_either_side(
    testnet: Testnet, tmp_path: Path
) -> None:
    async with hub_pair(
        tmp_path, testnet=testnet.dir, rate=RATE, config=ONION, deadline=DEADLINE
    ) as (alice, bob):
        await survives_kills(alice, bob, tmp_path, SIZE, DEADLINE)
