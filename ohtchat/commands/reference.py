"""The command reference of docs/commands.md, generated from the command table.

``python -m ohtchat.commands.reference`` rewrites the generated part of docs/commands.md
(between the two marker lines); a test fails when the file and the table disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ohtchat.commands.helptext import usage
from ohtchat.commands.spec import ArgKind, by_group
from ohtchat.i18n import using_language

BEGIN = "<!-- BEGIN GENERATED REFERENCE: python -m ohtchat.commands.reference -->"
END = "<!-- END GENERATED REFERENCE -->"

_KIND_WORDS = {
    ArgKind.TEXT: "one word (quote it to include spaces)",
    ArgKind.INT: "a whole number",
    ArgKind.ID: "an id, a unique hex prefix (4+ digits) of one, or a name (see IDs above)",
    ArgKind.ADDRESS: "a `.onion` address, `HOST:PORT`, or an in-memory node name",
    ArgKind.REST: "the rest of the line, verbatim",
}


def markdown_reference() -> str:
    """The reference section (English), one table per command group."""
    out: list[str] = []
    with using_language("en"):
        for group, specs in by_group():
            out += [
                f"### {group.title}",
                "",
                "| Command | Description | Example |",
                "|---|---|---|",
            ]
            for spec in specs:
                alias = "".join(f" (alias `/{a}`)" for a in spec.aliases)
                # A "|" splits a table cell even inside a code span unless escaped.
                shown = usage(spec.name).replace("|", "\\|")
                out.append(f"| `{shown}`{alias} | {spec.summary} | `{spec.example}` |")
            out.append("")
        out += ["### Argument kinds", "", "| Kind | Accepts |", "|---|---|"]
        out += [f"| `{kind.value}` | {words} |" for kind, words in _KIND_WORDS.items()]
    return "\n".join(out)


def splice(document: str) -> str:
    """``document`` with the text between the markers replaced by the current reference."""
    head, sep, tail = document.partition(BEGIN)
    if not sep or END not in tail:
        raise ValueError("reference markers not found")
    return f"{head}{BEGIN}\n{markdown_reference()}\n{END}{tail.partition(END)[2]}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the reference in the given file (default: docs/commands.md)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "docs" / "commands.md"
    path.write_text(splice(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
