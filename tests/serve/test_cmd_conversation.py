"""``ohtchat cmd --conversation C TEXT`` against a served node: plain text goes to C, the
ringcast conversation included (a ringcast)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.serve.served import cmd_json, memory_node
from tests.waiting import eventually_sync


def say(data_dir: Path, conversation: str, text: str) -> dict[str, Any]:
    """``ohtchat cmd --json --conversation CONVERSATION TEXT``: the node's JSON answer."""
    argv = [sys.executable, "-m", "ohtchat.cli", "cmd", "--json", "--data-dir", str(data_dir)]
    argv += ["--conversation", conversation, text]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    out: dict[str, Any] = json.loads(proc.stdout)
    assert (proc.returncode == 0) == out["ok"], (proc.returncode, out)
    return out


def history(data_dir: Path, conversation: str) -> list[str]:
    reply = cmd_json(data_dir, f"/history {conversation}")
    assert reply["ok"], reply
    return [m["text"] for m in reply["data"]["messages"]]


def test_cmd_sends_plain_text_to_the_ringcast_and_to_a_channel(short_tmp: Path) -> None:
    with memory_node(short_tmp, "Solo", "book club") as data:
        ring = say(data, "ringcast", "hi ring")
        assert ring["ok"], ring
        assert ring["data"]["msg_id"] and ring["data"]["children"] == 0  # alone on its ring
        # The node keeps its own ringcast in the ringcast conversation.
        eventually_sync(lambda: history(data, "ringcast") == ["hi ring"], "the ringcast kept")
        club = say(data, "book club", "hi club")
        assert club["ok"] and club["data"]["members"] == {}, club
        assert history(data, "'book club'") == ["hi club"]
        nobody = say(data, "nobody", "hi?")
        assert nobody["data"]["error"] == "not_found", nobody
