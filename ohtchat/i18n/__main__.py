"""``python -m ohtchat.i18n update|check|init LANG|compile [DIR]``: catalog maintenance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ohtchat.i18n import tools


def main(argv: list[str] | None = None) -> int:
    """Run one maintenance action; returns the exit status (1 when ``check`` finds problems)."""
    parser = argparse.ArgumentParser(prog="python -m ohtchat.i18n", description=__doc__)
    parser.add_argument("--root", type=Path, default=tools.project_root(), help="source tree")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("update", help="re-extract the template and merge it into every catalog")
    sub.add_parser("check", help="fail unless the template is current and catalogs complete")
    init = sub.add_parser("init", help="create the catalog of a new language")
    init.add_argument("language")
    comp = sub.add_parser("compile", help="write .mo files (next to the .po, or under DIR)")
    comp.add_argument("out", nargs="?", type=Path)
    args = parser.parse_args(argv)
    root: Path = args.root
    if args.action in ("update", "init"):
        added = [args.language] if args.action == "init" else []
        for s in tools.update(root, add=added):
            print(
                f"{s.language}: {s.total} messages, {s.untranslated} untranslated, {s.fuzzy} fuzzy"
            )
        return 0
    if args.action == "compile":
        for path in tools.compile_catalogs(root, args.out):
            print(path)
        return 0
    problems = tools.check(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("catalogs are up to date and complete")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
