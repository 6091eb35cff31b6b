"""First-run and unlock screens hand their values back to the caller."""

from __future__ import annotations

from textual.widgets import Button, Input, Static

from ohtchat.tui.app import SetupApp
from ohtchat.tui.screens.setup import FirstRunResult, UnlockResult

from .pilots import until


async def fill(pilot, selector: str, value: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.value = value


async def test_first_run_validates_then_returns_the_values() -> None:
    app = SetupApp(first_run=True)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        error = app.screen.query_one("#setup-error", Static)
        await pilot.click("#setup-ok")
        await until(pilot, lambda: "display name" in str(error.render()), "no name refused")
        await fill(pilot, "#setup-name", "Alice")
        await fill(pilot, "#setup-pass", "short")
        app.screen.query_one("#setup-ok", Button).press()  # a click <0.2 s after a click is ignored
        await until(
            pilot, lambda: "at least 8 characters" in str(error.render()), "short one refused"
        )
        await fill(pilot, "#setup-pass", "correct horse")
        await fill(pilot, "#setup-pass2", "correct horsE")
        app.screen.query_one("#setup-ok", Button).press()  # a click <0.2 s after a click is ignored
        await until(pilot, lambda: "differ" in str(error.render()), "different ones refused")
        await fill(pilot, "#setup-pass2", "correct horse")
        app.screen.query_one("#setup-pass2", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.return_value is not None, "the screen's result")
    assert app.return_value == FirstRunResult("Alice", "correct horse")


async def test_first_run_escape_returns_none() -> None:
    app = SetupApp(first_run=True)
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.press("escape")
        await until(pilot, lambda: app.return_code is not None, "the app exited")
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
        error = app.screen.query_one("#setup-error", Static)
        await until(pilot, lambda: "1 failed attempt" in str(error.render()), "wrong refused")
        assert field.value == ""
        await pilot.press(*"open sesame", "enter")
        await until(pilot, lambda: app.return_value is not None, "the screen's result")
    assert tried == ["wrong", "open sesame"]
    assert app.return_value == UnlockResult("open sesame")
