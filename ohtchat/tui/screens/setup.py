"""First run (create an account) and unlock: screens that hand their values to the caller.

The caller starts the node with what these screens return; they never touch a backend
except through the optional ``check`` callback of :class:`UnlockScreen`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from ohtchat.devices import DeviceError, LinkCode
from ohtchat.i18n import _, ngettext

MIN_PASSPHRASE = 8
"""Shortest passphrase accepted for a new account."""

MAX_NAME = 64
"""Longest display name accepted."""


@dataclass(frozen=True)
class FirstRunResult:
    """What the first-run screen collected: the new account's display name and passphrase,
    and a link code when the user links this device to an account they have elsewhere (the
    name then names this device)."""

    name: str
    passphrase: str
    link_code: str = ""


@dataclass(frozen=True)
class UnlockResult:
    """The passphrase that unlocked the store."""

    passphrase: str


_CSS = """
#setup-box { width: 72; height: auto; border: round $primary; padding: 0 2; background: $panel; }
#setup-box > Label { margin-top: 0; }
#setup-box > Input { margin: 0; }
#setup-box > .setup-title { text-style: bold; color: $accent; margin: 0; }
#setup-error { color: $error; height: auto; }
#setup-buttons { height: auto; align-horizontal: right; }
#setup-buttons > Button { margin-left: 2; }
"""


class FirstRunScreen(Screen[FirstRunResult | None]):
    """Welcome a new user: display name, passphrase twice; dismisses with the values."""

    DEFAULT_CSS = "FirstRunScreen { align: center middle; overflow-y: auto; }\n" + _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "quit_setup", show=False)]

    def compose(self) -> ComposeResult:
        """The welcome text and the form."""
        with Vertical(id="setup-box"):
            yield Static(_("Welcome to ohtchat"), classes="setup-title")
            yield Static(
                _(
                    "Chat privately over Tor: no servers, no phone numbers. Your account is a "
                    "key pair created on this computer and kept encrypted with your passphrase."
                )
            )
            yield Label(_("Display name (what your contacts see)"))
            yield Input(placeholder=_("e.g. Alice"), max_length=MAX_NAME, id="setup-name")
            yield Label(_("Passphrase (at least {n} characters)").format(n=MIN_PASSPHRASE))
            yield Input(password=True, id="setup-pass")
            yield Label(_("Passphrase again"))
            yield Input(password=True, id="setup-pass2")
            # No label of its own (the form must fit a 30-line terminal): the placeholder says it.
            yield Input(
                placeholder=_("Link code (optional: to use an account from another device)"),
                id="setup-link",
            )
            yield Static("", id="setup-error")
            with Horizontal(id="setup-buttons"):
                yield Button(_("Quit"), id="setup-quit")
                yield Button(_("Create account"), variant="primary", id="setup-ok")

    def validate(self) -> FirstRunResult | str:
        """The form's values, or the localized reason they are not acceptable."""
        name = self.query_one("#setup-name", Input).value.strip()
        first = self.query_one("#setup-pass", Input).value
        second = self.query_one("#setup-pass2", Input).value
        if not name:
            return _("Please choose a display name.")
        if any(not c.isprintable() for c in name):
            return _("The display name contains characters that cannot be shown.")
        if len(first) < MIN_PASSPHRASE:
            return ngettext(
                "The passphrase needs at least {n} character.",
                "The passphrase needs at least {n} characters.",
                MIN_PASSPHRASE,
            ).format(n=MIN_PASSPHRASE)
        if first != second:
            return _("The two passphrases differ.")
        code = self.query_one("#setup-link", Input).value.strip()
        if code:
            try:
                LinkCode.parse(code)
            except DeviceError as exc:
                return _("The link code is not valid: {error}").format(error=exc)
        return FirstRunResult(name, first, code)

    @on(Button.Pressed, "#setup-ok")
    @on(Input.Submitted)
    def submit(self, event: Button.Pressed | Input.Submitted) -> None:
        """Enter in the last field or the button: dismiss with the values if they are valid."""
        last = ("setup-pass2", "setup-link")
        if isinstance(event, Input.Submitted) and event.input.id not in last:
            self.focus_next()
            return
        outcome = self.validate()
        if isinstance(outcome, str):
            self.query_one("#setup-error", Static).update(outcome)
            return
        self.dismiss(outcome)

    @on(Button.Pressed, "#setup-quit")
    def action_quit_setup(self) -> None:
        """Leave without an account."""
        self.dismiss(None)


Checker = Callable[[str], Awaitable[bool]]


class UnlockScreen(Screen[UnlockResult | None]):
    """Ask for the passphrase; ``check`` (if given) verifies it before dismissing."""

    DEFAULT_CSS = "UnlockScreen { align: center middle; overflow-y: auto; }\n" + _CSS
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "quit_setup", show=False)]

    def __init__(self, account: str = "", check: Checker | None = None) -> None:
        super().__init__()
        self.account = account
        self.check = check
        self.failures = 0

    def compose(self) -> ComposeResult:
        """The passphrase field."""
        with Vertical(id="setup-box"):
            yield Static(_("Unlock ohtchat"), classes="setup-title")
            if self.account:
                yield Static(_("Account: {name}").format(name=self.account))
            yield Label(_("Passphrase"))
            yield Input(password=True, id="unlock-pass")
            yield Static("", id="setup-error")
            with Horizontal(id="setup-buttons"):
                yield Button(_("Quit"), id="setup-quit")
                yield Button(_("Unlock"), variant="primary", id="setup-ok")

    @on(Button.Pressed, "#setup-ok")
    @on(Input.Submitted)
    async def submit(self) -> None:
        """Verify (when a checker is set) and dismiss with the passphrase."""
        field = self.query_one("#unlock-pass", Input)
        passphrase = field.value
        error = self.query_one("#setup-error", Static)
        if not passphrase:
            error.update(_("Please type your passphrase."))
            return
        if self.check is not None and not await self.check(passphrase):
            self.failures += 1
            field.value = ""
            error.update(
                ngettext(
                    "Wrong passphrase ({n} failed attempt).",
                    "Wrong passphrase ({n} failed attempts).",
                    self.failures,
                ).format(n=self.failures)
            )
            return
        self.dismiss(UnlockResult(passphrase))

    @on(Button.Pressed, "#setup-quit")
    def action_quit_setup(self) -> None:
        """Leave without unlocking."""
        self.dismiss(None)
