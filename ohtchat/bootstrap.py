"""Set up a fresh machine (virtualenv, packages, Debian's tor) and run the demo or the tests.

Standard library only: this runs before anything is installed. The README's two commands are

    python3 -m ohtchat.bootstrap demo     # set everything up, start the demo
    python3 -m ohtchat.bootstrap test     # set everything up, run lint, types and the test suite

Every Python package comes from ``requirements.lock``: exact versions with their sha256 hashes,
installed with ``pip --require-hashes``, so a clone installs the same bytes today and in a month.
The lock is refreshed on purpose, never implicitly, by

    python3 -m ohtchat.bootstrap lock     # re-resolve pyproject.toml's ranges with uv
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".ohtchat-installed"
LOCK = ROOT / "requirements.lock"
LOCK_COMMAND = "python3 -m ohtchat.bootstrap lock"
# The resolver that writes the lock. Pinned here for the first lock; afterwards the lock pins it
# (it is a dev dependency), so refreshing the lock uses the uv the lock itself names.
UV_FIRST = "uv==0.13.9"
# The oldest Python the lock must install on (pyproject's requires-python).
LOCK_PYTHON = "3.11"


def _say(msg: str) -> None:
    print(f"[ohtchat setup] {msg}", file=sys.stderr, flush=True)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_install(*packages: str) -> bool:
    """Install Debian packages when we are root; return False (with advice) otherwise."""
    if not shutil.which("apt-get"):
        _say(f"apt-get not found: install {' '.join(packages)} with your package manager")
        return False
    if not _is_root():
        _say(f"missing {' '.join(packages)}: run `sudo apt-get install -y {' '.join(packages)}`")
        return False
    _say(f"installing {' '.join(packages)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run(["apt-get", "install", "-y", "-qq", *packages], env=env, check=False)
    return done.returncode == 0


def ensure_venv() -> None:
    """Create ``.venv`` (installing python3-venv first on a bare Debian if needed)."""
    if (BIN / "python").exists():
        return
    _say(f"creating virtualenv {VENV.name}/")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (subprocess.CalledProcessError, OSError):
        # Debian's python3 ships without ensurepip until python3-venv is installed.
        shutil.rmtree(VENV, ignore_errors=True)
        minor = f"python3.{sys.version_info.minor}-venv"
        if not _apt_install("python3-venv", minor) and not _apt_install("python3-venv"):
            sys.exit("cannot create a virtualenv: install python3-venv")
        venv.EnvBuilder(with_pip=True).create(VENV)


def _pip(*args: str) -> None:
    cmd = [str(BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*cmd, *args], check=True, cwd=ROOT)


def lock_entries(text: str) -> dict[str, str]:
    """Map each locked package name (lower case) to its whole entry, continuation lines and all."""
    entries: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name = line.split("==", 1)[0].strip().lower()
            entries[name] = line + "\n"
        elif name and line.startswith(" "):
            entries[name] += line + "\n"
    return entries


def _stamp() -> bytes:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest().encode()


def ensure_packages() -> None:
    """Install exactly what ``requirements.lock`` names, hashes checked; then ohtchat, editable.

    A changed lock rebuilds the virtualenv from scratch, so nothing an older lock installed
    lingers. Packages that ship only as source (stem) are built with the locked setuptools
    (no build isolation), so no unpinned build tool is fetched either.
    """
    if not LOCK.is_file():
        sys.exit(f"{LOCK.name} is missing: run `{LOCK_COMMAND}`")
    if STAMP.exists() and STAMP.read_bytes() == _stamp():
        return
    if STAMP.exists():
        _say(f"{LOCK.name} changed: rebuilding {VENV.name}/")
        shutil.rmtree(VENV)
        ensure_venv()
    _say(f"installing Python packages from {LOCK.name} (hashes checked)")
    setuptools = lock_entries(LOCK.read_text(encoding="utf-8")).get("setuptools")
    if setuptools is None:
        sys.exit(f"{LOCK.name} does not pin setuptools: run `{LOCK_COMMAND}`")
    build_lock = VENV / "build.lock"
    build_lock.write_text(setuptools, encoding="utf-8")
    _pip("--require-hashes", "-r", str(build_lock))
    _pip("--require-hashes", "--no-build-isolation", "-r", str(LOCK))
    _pip("--no-deps", "--no-build-isolation", "-e", str(ROOT))
    STAMP.write_bytes(_stamp())


def refresh_lock(extra: list[str]) -> int:
    """Re-resolve pyproject.toml (runtime + dev extras) into ``requirements.lock`` with uv.

    Extra arguments go to ``uv pip compile`` (``--upgrade-package babel``, say); by default the
    versions already locked are kept where they still satisfy pyproject.toml.
    """
    ensure_venv()
    uv = BIN / "uv"
    if not uv.exists():
        locked = lock_entries(LOCK.read_text(encoding="utf-8")) if LOCK.is_file() else {}
        if pinned := locked.get("uv"):
            build_lock = VENV / "uv.lock.txt"
            build_lock.write_text(pinned, encoding="utf-8")
            _pip("--require-hashes", "--no-deps", "-r", str(build_lock))
        else:
            _pip(UV_FIRST)
    cmd = [
        str(uv), "pip", "compile", "pyproject.toml", "--extra", "dev",
        "--generate-hashes", "--universal", "--python-version", LOCK_PYTHON,
        "--custom-compile-command", LOCK_COMMAND, "--quiet", "-o", LOCK.name, *extra,
    ]  # fmt: skip
    _say(f"$ uv {' '.join(cmd[1:])}")
    return subprocess.run(cmd, cwd=ROOT, check=False).returncode


def ensure_tor(required: bool) -> None:
    """Make Debian's tor (with tor-gencert) available."""
    if shutil.which("tor") and shutil.which("tor-gencert"):
        return
    if not _apt_install("tor") and required:
        sys.exit("tor is required: `sudo apt-get install -y tor`")


def run_tests(extra: list[str]) -> int:
    """Lint, format check, types, the import contract, then the whole test suite."""
    steps = [
        [str(BIN / "ruff"), "check", "ohtchat", "tests", "bench"],
        [str(BIN / "ruff"), "format", "--check", "ohtchat", "tests", "bench"],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],
        [str(BIN / "python"), "-m", "pytest", *extra],
    ]
    for step in steps:
        _say("$ " + " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)))
        code = subprocess.run(step, cwd=ROOT, check=False).returncode
        if code != 0:
            return code
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``demo`` (default), ``test`` or ``lock``; extra arguments go to the job."""
    args = list(sys.argv[1:] if argv is None else argv)
    job = args.pop(0) if args else "demo"
    if job not in {"demo", "test", "lock"}:
        sys.exit("usage: python3 -m ohtchat.bootstrap [demo|test|lock] [ARGS...]")
    if job == "lock":
        return refresh_lock(args)
    ensure_venv()
    ensure_packages()
    ensure_tor(required=True)
    if job == "test":
        # The /webui browser test drives Debian's headless chromium; the terminal test runs
        # the real client in tmux. Both are part of the suite, so both must be there.
        missing = [p for p in ("chromium", "tmux") if not shutil.which(p)]
        if missing and not _apt_install(*missing):
            sys.exit(
                f"the tests need {' '.join(missing)}: `sudo apt-get install -y {' '.join(missing)}`"
            )
        return run_tests(args)
    os.execv(str(BIN / "ohtchat"), [str(BIN / "ohtchat"), "demo", *args])
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
