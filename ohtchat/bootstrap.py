"""Set up a fresh machine (virtualenv, packages, Debian's tor) and run the demo or the tests.

Standard library only: this runs before anything is installed. The README's two commands are

    python3 -m ohtchat.bootstrap demo     # set everything up, start the demo
    python3 -m ohtchat.bootstrap test     # set everything up, run lint, types and the test suite
"""

from __future__ import annotations

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


def ensure_packages() -> None:
    """pip-install the project (editable, with dev extras) unless pyproject is unchanged."""
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    if STAMP.exists() and STAMP.read_bytes() == pyproject:
        return
    _say("installing Python packages")
    pip = [str(BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_bytes(pyproject)


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
    """Entry point: ``demo`` (default) or ``test``; extra arguments go to the job."""
    args = list(sys.argv[1:] if argv is None else argv)
    job = args.pop(0) if args else "demo"
    if job not in {"demo", "test"}:
        sys.exit("usage: python3 -m ohtchat.bootstrap [demo|test] [ARGS...]")
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
