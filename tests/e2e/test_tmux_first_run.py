"""Plain ``ohtchat``, started as a new user starts it, in a real terminal (tmux).

A fresh data dir: the first-run screen creates the account, then the client's main screen
opens on an in-process node; quitting ends the program with status 0. Started again, the same
command asks to unlock and opens the client again. Every screen read waits (bounded).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ohtchat.store import Store
from tests.e2e.test_tmux_whisper import NETWORK_DEADLINE, screen, tmux, wait_screen
from tests.serve.test_ring_e2e import _free_ports
from tests.waiting import eventually

pytestmark = pytest.mark.slow
PASSPHRASE = "a long enough passphrase"


def _start(session: str, data_dir: Path, status_file: Path) -> None:
    """``ohtchat`` in a new tmux session; its exit status lands in ``status_file``."""
    port = _free_ports(1)[0]
    argv = (
        f"{sys.executable} -m ohtchat.cli --data-dir {data_dir} --transport tcp"
        f" --listen 127.0.0.1:{port}; echo $? > {status_file}; sleep 600"
    )
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", argv)


def cursor_row(session: str) -> int:
    """The terminal cursor's row: Textual puts it in the focused input."""
    return int(tmux("display-message", "-p", "-t", session, "#{cursor_y}").strip() or -1)


async def _quit_and_check_status(session: str, status_file: Path) -> None:
    tmux("send-keys", "-t", session, "C-q")
    status = await eventually(
        lambda: status_file.is_file() and status_file.read_text().strip(),
        f"{session} exited",
        NETWORK_DEADLINE,
        step=0.3,
    )
    assert status == "0", screen(session)


async def test_plain_ohtchat_creates_the_account_then_opens_the_client(tmp_path: Path) -> None:
    data_dir = tmp_path / "alice"
    status = tmp_path / "status"
    try:
        _start("first", data_dir, status)
        await wait_screen("first", "Create account")
        # The name field has the focus; Tab moves to each passphrase field. Each step is seen
        # on the screen before the next key, as a user would look before typing on.
        tmux("send-keys", "-t", "first", "Alice")
        await wait_screen("first", "Alice")
        dots = "•" * len(PASSPHRASE)
        for field in (1, 2):
            # Keys typed right after Tab can reach the field Tab leaves (the focus moves after
            # they are read), so each field is typed into only once the terminal cursor, which
            # follows the focused input, has moved to it.
            row = cursor_row("first")
            tmux("send-keys", "-t", "first", "Tab")
            await eventually(lambda r=row: cursor_row("first") > r, f"focus on field {field}")
            tmux("send-keys", "-t", "first", "-l", PASSPHRASE)
            try:
                await eventually(
                    lambda f=field: screen("first").count(dots) >= f,
                    f"passphrase field {field} filled",
                    step=0.3,
                )
            except AssertionError as err:
                raise AssertionError(f"{err}\n{screen('first')}") from None
        tmux("send-keys", "-t", "first", "Enter")
        await wait_screen("first", "No conversation open", NETWORK_DEADLINE)
        assert Store.exists(data_dir)
        # The client runs on a live node: /status answers from it (its last lines fit).
        tmux("send-keys", "-t", "first", "-l", "/status")
        tmux("send-keys", "-t", "first", "Enter")
        await wait_screen("first", "Transport: tcp; tor: off")
        await _quit_and_check_status("first", status)

        status.unlink()
        _start("again", data_dir, status)
        await wait_screen("again", "Unlock ohtchat")
        tmux("send-keys", "-t", "again", "-l", PASSPHRASE)
        await wait_screen("again", "•" * len(PASSPHRASE))
        tmux("send-keys", "-t", "again", "Enter")
        await wait_screen("again", "No conversation open", NETWORK_DEADLINE)
        await _quit_and_check_status("again", status)
    finally:
        tmux("kill-server")


def test_plain_ohtchat_without_the_client_fails_with_a_hint(tmp_path: Path) -> None:
    # With the TUI package hidden, the command says what to do and exits non-zero.
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n.startswith('ohtchat.tui') "
        "else real(n, *a)\n"
        "from ohtchat.cli import main\n"
        f"sys.exit(main(['--data-dir', {str(tmp_path)!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "ohtchat console" in done.stderr
