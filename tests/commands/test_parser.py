"""The command parser: typed arguments, verbatim rest-of-line, and nothing but UsageError."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ohtchat.commands import (
    COMMANDS,
    ArgKind,
    Command,
    PlainText,
    UnknownCommand,
    UsageError,
    help_text,
    parse,
    usage,
)
from ohtchat.commands.lexer import LexError, lex, quote
from ohtchat.crypto.keys import NodeKey

ONION = NodeKey().onion  # a valid v3 address with a real checksum


def test_plain_text_and_escaped_slash() -> None:
    assert parse("hello /world") == PlainText("hello /world")
    assert parse("//shrug") == PlainText("/shrug")
    assert parse("   ").is_empty
    assert parse("").is_empty


def test_rest_of_line_is_verbatim() -> None:
    cmd = parse("/whisper alice   two  spaces \"and quotes' \\n ")
    assert cmd == Command("whisper", {"id": "alice", "message": "two  spaces \"and quotes' \\n"})


def test_rest_in_the_middle_takes_everything_but_the_last_word() -> None:
    cmd = parse('/verify bob I  wrote "this" c2lnbmF0dXJl')
    assert cmd.args == {"id": "bob", "message": 'I  wrote "this"', "signature": "c2lnbmF0dXJl"}


def test_quoted_words_and_command_case() -> None:
    assert parse('/GET "shopping list"').args == {"key": "shopping list"}
    assert parse("/put 'a b' c  d").args == {"key": "a b", "value": "c  d"}
    assert parse("/set a\\ b x").args == {"key": "a b", "value": "x"}


def test_optional_arguments_prefer_the_stricter_kind() -> None:
    assert parse("/history").args == {"conversation": None, "count": None}
    assert parse("/history 50").args == {"conversation": None, "count": 50}
    assert parse("/history alice").args == {"conversation": "alice", "count": None}
    assert parse("/history alice 20").args == {"conversation": "alice", "count": 20}
    with pytest.raises(UsageError, match="at most 100000"):
        parse("/history alice 100001")


def test_choices_and_defaults() -> None:
    assert parse("/tor").args == {"action": "status"}
    assert parse("/tor STOP").args == {"action": "stop"}
    assert parse("/webui start").args == {"action": "start"}
    with pytest.raises(UsageError, match="start, stop, status"):
        parse("/tor restart")


def test_ids_are_normalized() -> None:
    full = "AB" * 32
    assert parse(f"/lookup {full}").args["id"] == full.lower()
    assert parse("/lookup 0xDEADbeef").args["id"] == "deadbeef"
    assert parse('/rm "Alice Liddell"').args["id"] == "Alice Liddell"
    with pytest.raises(UsageError, match="not a valid id"):
        parse("/rm " + quote("bad\x00id"))
    with pytest.raises(UsageError):
        parse("/rm " + "a" * 201)


def test_addresses() -> None:
    assert parse(f"/connect {ONION.upper()}").args["address"] == ONION
    assert parse(f"/ping {ONION.removesuffix('.onion')}:80").args["address"] == f"{ONION}:80"
    assert parse("/connect LocalHost:9001").args["address"] == "localhost:9001"
    assert parse("/connect [::1]:9001").args["address"] == "[::1]:9001"
    assert parse("/connect node-3").args["address"] == "node-3"
    broken = ONION[:5] + ("a" if ONION[5] != "a" else "b") + ONION[6:]
    for bad, why in [
        (broken, "checksum"),
        ("host:0", "port"),
        ("host:70000", "port"),
        ("host:x", "HOST:PORT"),
        ("a/b", "onion address or HOST:PORT"),
    ]:
        with pytest.raises(UsageError, match=why):
            parse(f"/connect {bad}")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("/whisper alice", "Missing MESSAGE."),
        ("/whisper", "Missing ID."),
        ("/verify bob SIG", "Missing MESSAGE."),
        ("/peers now", "/peers takes no arguments."),
        ("/tor start now", "/tor takes at most 1 argument. Unexpected: now"),
        ("/history a 1 2", "/history takes at most 2 arguments."),
        ('/get "open', "Unterminated quote."),
        ('/get ""', "KEY is empty."),
        ("/history alice x", "N must be a whole number."),
    ],
)
def test_usage_errors_name_the_problem(line: str, reason: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(line)
    assert reason in info.value.reason
    assert str(info.value).endswith(f"Usage: {usage(info.value.command)}")


def test_unknown_commands_suggest_close_names() -> None:
    with pytest.raises(UnknownCommand) as info:
        parse("/whipser alice hi")
    assert info.value.suggestions == ["whisper"]
    assert "Did you mean /whisper?" in str(info.value)
    with pytest.raises(UnknownCommand) as info:
        parse("/del x")
    assert info.value.suggestions[:2] == ["delete", "delaccount"]
    with pytest.raises(UnknownCommand) as info:
        parse("/zzzzzz")
    assert info.value.suggestions == []
    assert "/help" in str(info.value)
    with pytest.raises(UsageError, match="Empty command"):
        parse("/ whisper")


def test_help_text_lists_every_command_and_details_one() -> None:
    text = help_text()
    for spec in COMMANDS:
        assert usage(spec.name) in text
    detail = help_text("msg")
    assert detail.startswith("/whisper ID MESSAGE")
    assert "/w" in detail and "Example: /whisper" in detail
    with pytest.raises(UnknownCommand):
        help_text("nosuch")


def test_lexer_spans_and_quote_round_trip() -> None:
    tokens, end = lex('a "b c"d  e', limit=2)
    assert [t.value for t in tokens] == ["a", "b cd"]
    assert end == 8
    with pytest.raises(LexError):
        lex("'unterminated")
    for word in ["", "x", "a b", 'q"uote', "back\\slash", "it's", "\x1c"]:
        assert [t.value for t in lex(quote(word))[0]] == [word]


_LINES = st.one_of(
    st.text(),
    st.builds(
        lambda name, tail: f"/{name}{tail}",
        st.sampled_from([s.name for s in COMMANDS] + ["w", "?", "x", ""]),
        st.lists(st.sampled_from([*" \t\"'\\/aZ09:.-_\n\x00é", ONION, "0x", "ab" * 32])).map(
            "".join
        ),
    ),
)


@settings(max_examples=400, deadline=None)
@given(_LINES)
def test_parse_never_raises_anything_but_usage_error(line: str) -> None:
    try:
        result = parse(line)
    except UsageError as exc:
        assert exc.reason
        return
    assert isinstance(result, Command | PlainText)
    if isinstance(result, Command):
        for value in result.args.values():
            assert value is None or isinstance(value, str | int)


def _value(arg, after_rest: bool) -> st.SearchStrategy:
    if arg.choices:
        return st.sampled_from(arg.choices)
    if arg.kind is ArgKind.INT:
        return st.integers(arg.minimum or -(10**6), arg.maximum or 10**6)
    if arg.kind is ArgKind.ADDRESS:
        return st.sampled_from([ONION, "127.0.0.1:9001", "[::1]:1", "node-7"])
    if arg.kind is ArgKind.ID or after_rest:
        return st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
    if arg.kind is ArgKind.REST:
        return st.text(min_size=1).map(str.strip).filter(bool)
    return st.text(min_size=1)


@st.composite
def _valid_call(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    spec = draw(st.sampled_from(COMMANDS))
    args: dict[str, object] = {}
    words = []
    rest = spec.rest_index
    for i, arg in enumerate(spec.args):
        value = draw(_value(arg, rest is not None and i > rest))
        args[arg.name] = value
        words.append(value if arg.kind is ArgKind.REST else quote(str(value)))
    return f"/{spec.name} " + " ".join(words), args


@settings(max_examples=300, deadline=None)
@given(_valid_call())
def test_formatted_calls_parse_back_to_their_arguments(call) -> None:
    line, args = call
    parsed = parse(line)
    assert isinstance(parsed, Command)
    assert parsed.args == args
