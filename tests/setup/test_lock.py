"""requirements.lock pins every dependency pyproject.toml names, with hashes, and is installed."""

from __future__ import annotations

import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ohtchat import bootstrap

ROOT = bootstrap.ROOT


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [
        *project["build-system"]["requires"],
        *project["project"]["dependencies"],
        *(r for extra in project["project"]["optional-dependencies"].values() for r in extra),
    ]
    return [Requirement(r) for r in names]


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) for every entry of the lock."""
    result = {}
    for name, entry in bootstrap.lock_entries(bootstrap.LOCK.read_text("utf-8")).items():
        first = entry.split("\\", 1)[0].split(";", 1)[0].strip()
        _, version = first.split("==", 1)
        hashes = [w.split("=", 1)[1] for w in entry.split() if w.startswith("--hash=")]
        result[canonicalize_name(name)] = (version.strip(), hashes)
    return result


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    locked = _locked()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in requirements.lock"
        version, _ = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} in the lock is outside pyproject's {requirement.specifier}"
        )


def test_every_locked_entry_has_sha256_hashes() -> None:
    locked = _locked()
    assert len(locked) > 20
    for name, (version, hashes) in locked.items():
        assert version and all(c not in version for c in "<>=*~"), name
        assert hashes, f"{name} has no hash"
        assert all(h.startswith("sha256:") and len(h) == 7 + 64 for h in hashes), name


def test_the_environment_is_what_the_lock_says() -> None:
    # Installed versions of everything the lock pins for this platform equal the pins.
    locked = _locked()
    entries = bootstrap.lock_entries(bootstrap.LOCK.read_text("utf-8"))
    checked = 0
    for name, (version, _) in locked.items():
        head = entries[name].split("\\", 1)[0]
        if ";" in head and not Requirement(head.strip()).marker.evaluate():  # type: ignore[union-attr]
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is locked but not installed: re-run the bootstrap")
        assert installed == version, f"{name}: installed {installed}, locked {version}"
        checked += 1
    assert checked > 20


def test_lock_entries_keeps_continuation_lines_with_their_package() -> None:
    text = "# header\na==1.0 \\\n    --hash=sha256:aa\n    # via b\nb==2 ; sys_platform == 'x' \\\n"
    text += "    --hash=sha256:bb\n"
    entries = bootstrap.lock_entries(text)
    assert list(entries) == ["a", "b"]
    assert "--hash=sha256:aa" in entries["a"] and "sha256:bb" not in entries["a"]
    assert entries["b"].startswith("b==2 ;")
