"""The Textual application and the entry points the demo and ``--attach`` call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Any

from textual.app import App

from ohtchat.api.backend import Backend
from ohtchat.i18n import _, set_language
from ohtchat.tui.results import NOTIFY_MODES
from ohtchat.tui.screens.main import MainScreen
from ohtchat.tui.screens.setup import FirstRunResult, FirstRunScreen, UnlockResult, UnlockScreen

THEMES = {"dark": "textual-dark", "light": "textual-light"}
"""Short theme names accepted by ``--theme`` (any Textual theme name works too)."""


def theme_name(theme: str | None) -> str:
    """The Textual theme for ``dark``/``light`` (default dark) or a Textual theme name."""
    return THEMES.get(theme or "dark", theme or "textual-dark")


class OhtchatApp(App[None]):
    """The full-screen client of one node, reached through ``backend``."""

    TITLE = "ohtchat"
    ENABLE_COMMAND_PALETTE = False  # Ctrl-P is "previous conversation" here

    def __init__(
        self,
        backend: Backend,
        *,
        theme: str | None = None,
        tz: tzinfo | None = None,
        notify: str = "bell",
    ) -> None:
        super().__init__()
        if notify not in NOTIFY_MODES:
            raise ValueError(f"notify must be one of {', '.join(NOTIFY_MODES)}")
        self.backend = backend
        self.tz = tz
        self.notify_mode = notify
        self.theme = theme_name(theme)

    def on_mount(self) -> None:
        """Show the main screen."""
        self.title = _("ohtchat")
        self.push_screen(MainScreen(self.backend, tz=self.tz, notify=self.notify_mode))

    @property
    def main(self) -> MainScreen:
        """The main screen (for tests and the demo)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("the main screen is not shown")


def run_tui(
    backend: Backend,
    *,
    lang: str | None = None,
    theme: str | None = None,
    notify: str = "bell",
) -> None:
    """Run the client full-screen until the user quits (``/quit``, Ctrl-Q).

    ``lang`` (``--lang``) or the environment's locale picks the language; ``theme`` is
    ``dark`` (default), ``light`` or a Textual theme name.
    """
    set_language(lang)
    OhtchatApp(backend, theme=theme, notify=notify).run()


SetupResult = FirstRunResult | UnlockResult


class SetupApp(App[SetupResult | None]):
    """A small app showing only the first-run or the unlock screen; exits with its result."""

    TITLE = "ohtchat"
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        first_run: bool,
        *,
        account: str = "",
        check: Callable[[str], Awaitable[bool]] | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.first_run = first_run
        self.account = account
        self.check = check
        self.theme = theme_name(theme)

    def on_mount(self) -> None:
        """Show the screen; its dismissal ends the app."""
        screen: Any = FirstRunScreen() if self.first_run else UnlockScreen(self.account, self.check)
        self.push_screen(screen, self.exit)


def run_setup(
    first_run: bool,
    *,
    account: str = "",
    check: Callable[[str], Awaitable[bool]] | None = None,
    lang: str | None = None,
    theme: str | None = None,
) -> SetupResult | None:
    """Ask for a new account (``first_run``) or the passphrase; None when the user quits.

    The caller starts the node with the returned values, then calls :func:`run_tui`.
    """
    set_language(lang)
    return SetupApp(first_run, account=account, check=check, theme=theme).run()
