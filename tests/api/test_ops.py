"""Every console command has exactly one typed operation whose fields are its arguments."""

from __future__ import annotations

import dataclasses

import pytest

from ohtchat.api.ops import OPERATIONS, SendText, Whisper, operation
from ohtchat.commands.parser import Command, parse
from ohtchat.commands.spec import COMMANDS, ArgKind


def test_one_operation_per_command() -> None:
    assert set(OPERATIONS) == {s.name for s in COMMANDS}


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda s: s.name)
def test_operation_fields_are_the_command_arguments(spec: object) -> None:
    cls = OPERATIONS[spec.name]  # type: ignore[attr-defined]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert list(fields) == [a.name for a in spec.args]  # type: ignore[attr-defined]
    for arg in spec.args:  # type: ignore[attr-defined]
        f = fields[arg.name]
        assert (f.type == "int" or f.type.startswith("int ")) == (arg.kind is ArgKind.INT)
        has_default = f.default is not dataclasses.MISSING
        assert has_default == arg.optional
        if has_default:
            assert f.default == arg.default


@pytest.mark.parametrize(
    "line", ["/whisper bob hello there", "/history", "/history bob 20", "/tor", "/help put"]
)
def test_a_parsed_line_is_an_operation(line: str) -> None:
    parsed = parse(line)
    assert isinstance(parsed, Command)
    op = operation(parsed.name, parsed.args)
    assert op.command_name == parsed.name
    assert op.args() == parsed.args


def test_operations_refuse_malformed_arguments() -> None:
    assert operation("whisper", {"id": "bob", "message": "hi"}) == Whisper("bob", "hi")
    with pytest.raises(ValueError, match=r"whisper\.message: missing"):
        operation("whisper", {"id": "bob"})
    with pytest.raises(ValueError, match=r"history\.count: expected an integer"):
        operation("history", {"count": "5"})
    with pytest.raises(ValueError, match="no operation"):
        operation("selfdestruct", {})
    assert operation("", {"conversation": "ringcast", "text": "hi"}) == SendText("ringcast", "hi")
