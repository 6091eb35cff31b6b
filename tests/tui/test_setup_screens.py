"""First-run and unlock screens hand their values back to the caller."""

from __future__ import annotations

from textual.widgets import Button, Input, Static

from ohtchat.tui.app import SetupApp
from ohtchat.tui.screens.setup import FirstRunResult, UnlockResult


async def fill(pilot, selector: str, value: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.value = value


async def test_first_run_validates_then_returns_the_values() -> None:
    app = SetupApp(first_run=True)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        error = app.screen.query_one("#setup-error", Static)
        await pilot.click("#setup-ok")
        await pilot.pause()
        assert "display name" in str(error.render())
        await fill(pilot, "#setup-name", "Alice")
        await fill(pilot, "#setup-pass", "short")
        app.screen.query_one("#setup-ok", Button).press()  # a click <0.2 s after a click is ignored
        await pilot.pause()
        assert "at least 8 characters" in str(error.render())
        await fill(pilot, "#setup-pass", "correct horse")
        await fill(pilot, "#setup-pass2", "correct horsE")
        app.screen.query_one("#setup-ok", Button).press()  # a click <0.2 s after a click is ignored
        await pilot.pause()
        assert "differ" in str(error.render())
        await fill(pilot, "#setup-pass2", "correct horse")
        app.screen.query_one("#setup-pass2", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_value == FirstRunResult("Alice", "correct horse")


async def test_first_run_escape_returns_none() -> None:
    app = SetupApp(first_run=True)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value is None


async def test_unlock_retries_until_the_checker_accepts() -> None:
    tried: list[str] = []

    async def check(passphrase: str) -> bool:
        tried.append(passphrase)
        return passphrase == "open sesame"

    app = SetupApp(first_run=False, account="alice", check=check)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#unlock-pass", Input)
        field.focus()
        await pilot.press(*"wrong", "enter")
        await pilot.pause()
        assert "1 failed attempt" in str(app.screen.query_one("#setup-error", Static).render())
        assert field.value == ""
        await pilot.press(*"open sesame", "enter")
        await pilot.pause()
    assert tried == ["wrong", "open sesame"]
    assert app.return_value == UnlockResult("open sesame")
