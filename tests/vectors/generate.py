"""Build the test vectors of docs/vectors/ from the production code with fixed inputs.

    python -m tests.vectors.generate            # compare with the committed files (diff, exit 1)
    python -m tests.vectors.generate --write    # rewrite docs/vectors/*.json

Every file is ``{"description", "protocol_version", "vectors": [{"description", "inputs",
"outputs"}]}``; bytes are lowercase hex. docs/protocol.md ("Test vectors") describes the fields.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ohtchat.wire.envelope import PROTOCOL_VERSION
from tests.vectors import (
    crypto_vectors,
    device_vectors,
    file_vectors,
    mailbox_vectors,
    ratchet_vectors,
    record_vectors,
    session_vectors,
)

Doc = dict[str, Any]
VECTORS_DIR = Path(__file__).resolve().parents[2] / "docs" / "vectors"


class Family:
    """One vector file: how to build it and how to check a loaded copy."""

    def __init__(self, name: str, build: Callable[[], Doc], check: Callable[[Doc], None]) -> None:
        self.name = name
        self.build = build
        self.check = check

    @property
    def path(self) -> Path:
        """Where the committed file lives."""
        return VECTORS_DIR / f"{self.name}.json"

    def render(self) -> str:
        """The file's text, freshly built (and checked) from the production code."""
        body = self.build()
        doc = {
            "description": body["description"],
            "protocol_version": PROTOCOL_VERSION,
            "vectors": body["vectors"],
        }
        text = render(doc)
        self.check(json.loads(text))
        return text

    def load(self) -> Doc:
        """The committed file."""
        loaded: Doc = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded


def render(doc: Doc) -> str:
    """Pretty-printed JSON in the builders' key order, with a trailing newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


FAMILIES = (
    Family("identity", crypto_vectors.build_identity, crypto_vectors.check_identity),
    Family("certificate", crypto_vectors.build_certificate, crypto_vectors.check_certificate),
    Family("kem", crypto_vectors.build_kem, crypto_vectors.check_kem),
    Family("seal", crypto_vectors.build_seal, crypto_vectors.check_seal),
    Family("handshake", session_vectors.build_handshake, session_vectors.check_handshake),
    Family("frames", session_vectors.build_frames, session_vectors.check_frames),
    Family("dht", record_vectors.build_dht, record_vectors.check_dht),
    Family("ringcast", record_vectors.build_ringcast, record_vectors.check_ringcast),
    Family("mailbox", mailbox_vectors.build_mailbox, mailbox_vectors.check_mailbox),
    Family("ratchet", ratchet_vectors.build_ratchet, ratchet_vectors.check_ratchet),
    Family("devices", device_vectors.build_devices, device_vectors.check_devices),
    Family("files", file_vectors.build_files, file_vectors.check_files),
)


def compare(family: Family, fresh: str, max_lines: int = 40) -> list[str]:
    """Summary and diff lines of a committed file against its fresh text (empty: identical)."""
    if not family.path.exists():
        return [f"{family.path.name}: missing"]
    old = family.path.read_text(encoding="utf-8")
    if old == fresh:
        return []
    diff = list(
        difflib.unified_diff(
            old.splitlines(), fresh.splitlines(), f"committed/{family.path.name}", "fresh", n=1
        )
    )
    shown = [line[:160] for line in diff[:max_lines]]
    more = [f"… {len(diff) - max_lines} more diff lines"] if len(diff) > max_lines else []
    return [f"{family.path.name}: differs", *shown, *more]


def main(argv: list[str] | None = None) -> int:
    """Compare (default) or rewrite (``--write``) every vector file; 1 when any differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/vectors/*.json")
    args = parser.parse_args(argv)
    drift = False
    for family in FAMILIES:
        fresh = family.render()
        report = compare(family, fresh)
        if args.write:
            if report:
                VECTORS_DIR.mkdir(parents=True, exist_ok=True)
                family.path.write_text(fresh, encoding="utf-8")
            print(f"{family.path.name}: {'written' if report else 'unchanged'}")
            continue
        drift = drift or bool(report)
        print("\n".join(report) if report else f"{family.path.name}: up to date")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
