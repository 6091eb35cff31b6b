"""File transfers in the client: an offer is announced, ``/files`` shows the transfers with a
progress bar, ``a`` accepts from the screen, the row follows the events to ``done`` and Enter
shows where the received file is; ``c`` cancels. Real nodes on a memory network."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import DataTable

from ohtchat.api.ops import SendFile
from ohtchat.api.views import FileView
from ohtchat.tui.files import FilesScreen, Transfers, bar, eta_text

from .conftest import SIZE, Friends, make_app
from .nodes import ok
from .pilots import console_has, loaded, type_line, until


def view(done: int, state: str = "receiving") -> FileView:
    return FileView("ab" * 16, "c", "f.bin", 1000, "00", state, "", done, "in", "p")


def test_rate_and_eta_follow_the_events() -> None:
    transfers = Transfers()
    transfers.update(view(0), 10.0)
    t = transfers.update(view(200), 11.0)
    assert t.rate == 200 and t.eta == 4.0
    t = transfers.update(view(1000, "done"), 12.0)
    assert t.rate == 0 and t.eta is None
    assert eta_text(65) == "1:05" and eta_text(3600) == "1:00:00" and eta_text(None) == ""
    assert str(bar(500, 1000, 10)) == "█████░░░░░  50%"


async def test_accept_and_watch_a_file_from_the_screen(friends: Friends, tmp_path: Path) -> None:
    alice, bob = friends.alice, friends.bob
    for node, name in ((alice, "alice-in"), (bob, "bob-in")):
        node.config.set("files.dir", str(tmp_path / name))
    src = tmp_path / "cat.jpg"
    src.write_bytes(os.urandom(300_000))
    app = make_app(alice)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, alice.bus)
        await ok(bob, SendFile(alice.account.account_id, str(src)))
        await until(pilot, lambda: console_has(app, "offers cat.jpg"), "the offer is announced")
        await type_line(pilot, "/files")
        screen = await until(
            pilot, lambda: app.screen if isinstance(app.screen, FilesScreen) else None, "/files"
        )
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 1, "one transfer")
        await pilot.press("a")  # accept the offer under the cursor
        target = tmp_path / "alice-in" / "cat.jpg"

        def row_done() -> bool:
            cells = [str(c) for c in table.get_row_at(0)]
            return "done" in cells and str(target) in cells and "100%" in " ".join(cells)

        await until(pilot, row_done, "the row follows the transfer to done")
        assert target.read_bytes() == src.read_bytes()
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.main, "the view closed")
        await until(pilot, lambda: console_has(app, "Saved as", str(target)), "the path shown")

        # A second offer, cancelled from the screen: nothing is saved.
        dog = tmp_path / "dog.jpg"
        dog.write_bytes(os.urandom(1000))
        await ok(bob, SendFile(alice.account.account_id, str(dog)))
        await until(pilot, lambda: console_has(app, "offers dog.jpg"), "the second offer")
        await type_line(pilot, "/files")
        screen = await until(
            pilot, lambda: app.screen if isinstance(app.screen, FilesScreen) else None, "/files"
        )
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2, "two transfers")
        row = next(i for i in range(2) if "dog.jpg" in map(str, table.get_row_at(i)))
        table.move_cursor(row=row)
        await pilot.press("c")
        await until(
            pilot, lambda: "cancelled" in map(str, table.get_row_at(row)), "the offer cancelled"
        )
        assert not (tmp_path / "alice-in" / "dog.jpg").exists()
        await pilot.press("ctrl+q")
