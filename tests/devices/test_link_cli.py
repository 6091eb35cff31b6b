"""``ohtchat cmd --json /link`` on a served node and ``ohtchat link CODE`` in another process:
the new device prints the digits, the served node's user confirms them, the link exits 0."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import pytest

from tests.serve.served import cmd_async, free_port, memory_node

pytestmark = pytest.mark.slow


async def test_ohtchat_link_process_links_to_a_served_node(tmp_path):
    with memory_node(tmp_path, "alice", "friends") as alice:
        code = await cmd_async(alice, "/link")
        assert code["ok"] and code["data"]["code"].startswith("ohtchat-link:"), code
        address = (await cmd_async(alice, "/status"))["data"]["address"]
        env = {k: v for k, v in os.environ.items() if k != "OHTCHAT_PASSPHRASE"}
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "ohtchat.cli", "link", code["data"]["code"]),
            *("--memory", "--transport", "tcp", "--listen", f"127.0.0.1:{free_port()}"),
            *("--bootstrap", address, "--name", "laptop", "--data-dir", str(tmp_path / "l")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            assert proc.stdout is not None
            digits = None
            while digits is None:
                line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
                assert line, (await proc.stderr.read()).decode() if proc.stderr else "ended"
                found = re.search(r"Verification: (\d{3}) (\d{3})", line)
                digits = found.group(1) + found.group(2) if found else None
            confirmed = await cmd_async(alice, f"/link confirm {digits}")
            assert confirmed["ok"], confirmed
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err.decode()
            assert "Linked" in out.decode()
            devices = await cmd_async(alice, "/devices")
            assert sorted(d["name"] for d in devices["data"]["devices"]) == ["alice", "laptop"]
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
