"""The command table: complete against the seed, consistent, and every example parses."""

from pathlib import Path

import pytest

from ohtchat.commands import COMMANDS, ArgKind, Command, Group, UsageError, get_spec, parse, usage
from ohtchat.commands.reference import BEGIN, END, markdown_reference, splice
from ohtchat.commands.spec import command_names, table_problems

ROOT = Path(__file__).resolve().parents[2]

# The seed console's commands (ACCOUNT's /delete is /delaccount), plus the additions (FILES).
SEED = {
    Group.CONFIG: ["config", "set", "unset", "save"],
    Group.TOR: ["tor", "newtor", "newonions"],
    Group.NETWORK: [
        "peers", "successor", "predecessor", "ftable", "create", "connect", "lookup", "ping",
        "ringcast",
    ],
    Group.DHT: ["put", "get", "delete"],
    Group.WEBUI: ["webui"],
    Group.ACCOUNT: ["accounts", "generate", "delaccount", "sign", "verify", "encrypt", "decrypt"],
    Group.CONTACTS: [
        "contacts", "request", "add", "rm", "safety", "verify-contact", "whisper", "contactcast",
    ],
    Group.CHANNELS: ["channels", "channel", "join", "leave", "channelcast"],
    Group.FILES: ["send", "files", "accept", "cancel"],
    Group.DEVICES: ["link", "joinlink", "devices", "unlink"],
    Group.GENERAL: ["status", "history", "fetchhistory", "search", "help", "quit"],
}  # fmt: skip


def test_table_has_exactly_the_seed_commands_in_their_groups() -> None:
    assert {g: [s.name for s in COMMANDS if s.group is g] for g in Group} == SEED


def test_table_shape_rules_hold() -> None:
    assert table_problems() == []
    assert len(set(command_names(include_aliases=True))) == len(command_names(True))


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda s: s.name)
def test_example_parses_to_its_command(spec) -> None:
    parsed = parse(spec.example)
    assert isinstance(parsed, Command)
    assert parsed.name == spec.name
    assert set(parsed.args) == {a.name for a in spec.args}
    for arg in spec.args:
        if not arg.optional:
            assert parsed.args[arg.name] not in (None, "")


def _wrong_arity_line(spec) -> str | None:
    """A call with the wrong number of arguments, or None when every count is valid."""
    if any(not a.optional for a in spec.args):
        return f"/{spec.name}"  # missing a required argument
    if spec.rest_index is None:
        return f"/{spec.name} " + " ".join(["7"] * (len(spec.args) + 1))  # one too many
    return None  # only an optional rest-of-line: any count fits


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda s: s.name)
def test_wrong_arity_reports_the_usage_line(spec) -> None:
    line = _wrong_arity_line(spec)
    if line is None:
        assert spec.name in ("generate", "channel")
        return
    with pytest.raises(UsageError) as info:
        parse(line)
    assert info.value.command == spec.name
    assert info.value.usage_line == usage(spec.name)
    assert usage(spec.name) in str(info.value)
    assert info.value.reason


def test_aliases_resolve_to_their_command() -> None:
    assert get_spec("w").name == "whisper"
    assert get_spec("MSG").name == "whisper"
    assert get_spec("/exit").name == "quit"
    assert get_spec("?").name == "help"
    assert get_spec("nosuch") is None


def test_rest_arguments_are_never_followed_by_free_text() -> None:
    for spec in COMMANDS:
        kinds = [a.kind for a in spec.args]
        if ArgKind.REST in kinds:
            after = spec.args[kinds.index(ArgKind.REST) + 1 :]
            assert all(not a.optional for a in after)


def test_docs_reference_is_generated_from_the_table() -> None:
    doc = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert BEGIN in doc and END in doc
    assert splice(doc) == doc, "run: python -m ohtchat.commands.reference"
    for spec in COMMANDS:
        assert f"`/{spec.name}" in markdown_reference()
