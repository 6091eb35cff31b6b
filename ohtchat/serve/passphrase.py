"""Where a headless node finds the store passphrase: never on the command line.

In order: ``--passphrase-file``, the environment variable ``OHTCHAT_PASSPHRASE`` (removed
from the environment once read, so child processes do not inherit it, and its value wiped
from the process's initial environment block, so ``/proc/PID/environ`` no longer shows it),
or a systemd
credential (``LoadCredential=ohtchat-passphrase:…`` puts it in
``$CREDENTIALS_DIRECTORY/ohtchat-passphrase``).
"""

from __future__ import annotations

import ctypes
import os
import stat
from collections.abc import MutableMapping
from pathlib import Path

from ohtchat.i18n import _

ENV_VAR = "OHTCHAT_PASSPHRASE"
CREDENTIAL_NAME = "ohtchat-passphrase"
MAX_BYTES = 4096


class PassphraseError(Exception):
    """No passphrase source was given, or the one given is unusable."""


def read_passphrase(
    file: Path | None = None, environ: MutableMapping[str, str] | None = None
) -> tuple[str, str]:
    """The passphrase and a description of where it came from (for the log, never the value).

    One trailing newline of a file is dropped (``echo secret > file`` works); an empty
    passphrase is refused.
    """
    env = os.environ if environ is None else environ
    if file is not None:
        return _from_file(Path(file).expanduser(), "--passphrase-file"), f"file {file}"
    if ENV_VAR in env:
        if env is os.environ:
            _wipe_initial_value(ENV_VAR)
        value = env.pop(ENV_VAR)
        return _check(value, f"${ENV_VAR}"), f"${ENV_VAR}"
    cred_dir = env.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        path = Path(cred_dir) / CREDENTIAL_NAME
        if path.exists():
            return (
                _from_file(path, _("systemd credential")),
                f"systemd credential {CREDENTIAL_NAME}",
            )
    raise PassphraseError(
        _(
            "no passphrase: use --passphrase-file FILE, the environment variable {variable}, "
            "or a systemd credential named {credential}"
        ).format(variable=ENV_VAR, credential=CREDENTIAL_NAME)
    )


def _wipe_initial_value(name: str) -> None:
    """Overwrite the value of ``name`` where the kernel shows it (``/proc/PID/environ`` reads
    the environment block the process started with; unsetting a variable does not touch it).

    ``getenv`` points into that block while the variable is still set; its bytes are zeroed in
    place. Best effort: without a C library (not Linux/glibc-like) nothing happens.
    """
    try:
        libc = ctypes.CDLL(None)
        getenv = libc.getenv
    except (OSError, AttributeError):
        return
    getenv.restype = ctypes.c_void_p
    getenv.argtypes = [ctypes.c_char_p]
    address = getenv(name.encode())
    if address:
        ctypes.memset(address, 0, len(ctypes.string_at(address)))


def _from_file(path: Path, what: str) -> str:
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise PassphraseError(
                _("{source} {path} is not a regular file").format(source=what, path=path)
            )
        if st.st_size > MAX_BYTES:
            raise PassphraseError(
                _("{source} {path} is larger than {limit} bytes").format(
                    source=what, path=path, limit=MAX_BYTES
                )
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise PassphraseError(
            _("cannot read {source} {path}: {reason}").format(
                source=what, path=path, reason=exc.strerror or exc
            )
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PassphraseError(
            _("{source} {path} is not UTF-8 text").format(source=what, path=path)
        ) from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    return _check(text, f"{what} {path}")


def _check(value: str, where: str) -> str:
    if not value:
        raise PassphraseError(_("the passphrase from {source} is empty").format(source=where))
    return value
