"""The first-run screen's link code field: checked before the screen returns it."""

from __future__ import annotations

from textual.widgets import Button, Input, Static

from ohtchat.crypto.keys import NodeKey
from ohtchat.devices import LinkCode
from ohtchat.tui.app import SetupApp
from ohtchat.tui.screens.setup import FirstRunResult

from .pilots import until


async def test_first_run_returns_a_valid_link_code_and_refuses_a_mistyped_one() -> None:
    code = str(LinkCode.new(NodeKey().public))
    app = SetupApp(first_run=True)
    async with app.run_test(size=(90, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#setup-name", Input).value = "laptop"
        screen.query_one("#setup-pass", Input).value = "correct horse"
        screen.query_one("#setup-pass2", Input).value = "correct horse"
        screen.query_one("#setup-link", Input).value = code[:-1] + ("a" if code[-1] != "a" else "b")
        screen.query_one("#setup-ok", Button).press()
        error = screen.query_one("#setup-error", Static)
        await until(pilot, lambda: "link code" in str(error.render()), "a bad code refused")
        assert app.return_value is None
        screen.query_one("#setup-link", Input).value = code
        screen.query_one("#setup-link", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.return_value is not None, "the screen's result")
    assert app.return_value == FirstRunResult("laptop", "correct horse", code)
