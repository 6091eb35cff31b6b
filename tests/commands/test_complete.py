"""Tab completion: command names, choices, and values from the completion source."""

from ohtchat.commands import (
    Completion,
    StaticCompletions,
    apply_completion,
    common_prefix,
    complete,
    completion_context,
)

SOURCE = StaticCompletions(
    {
        Completion.CONTACT: ["alice", "albert", "bob", "Alice Liddell"],
        Completion.ACCOUNT: ["3fa4c0de", "3fb00000"],
        Completion.CHANNEL: ["7c1e9a2b", "books"],
        Completion.CONFIG_KEY: ["notify.bell", "notify.desktop", "theme"],
        Completion.CONVERSATION: ["alice", "books"],
        Completion.PEER: ["127.0.0.1:9001"],
    }
)


def _complete(line: str, cursor: int | None = None) -> list[str]:
    return complete(line, len(line) if cursor is None else cursor, SOURCE)


def test_command_names() -> None:
    assert _complete("/wh") == ["/whisper"]
    assert _complete("/DEL") == ["/delete", "/delaccount"]
    assert "/help" in _complete("/")
    assert _complete("/zz") == []


def test_arguments_by_kind() -> None:
    assert _complete("/whisper al") == ["alice", "albert", "Alice Liddell"]
    assert _complete("/w B") == ["bob"]
    assert _complete("/sign 3fa") == ["3fa4c0de"]
    assert _complete("/join ") == ["7c1e9a2b", "books"]
    assert _complete("/set notify.") == ["notify.bell", "notify.desktop"]
    assert _complete("/history b") == ["books"]
    assert _complete("/connect 127") == ["127.0.0.1:9001"]
    assert _complete("/tor st") == ["start", "stop", "status"]
    assert _complete("/help whi") == ["whisper"]


def test_nothing_to_complete() -> None:
    assert _complete("hello al") == []  # plain text
    assert _complete("/whisper alice hel") == []  # inside the message
    assert _complete("/ringcast al") == []  # the message is the first argument
    assert _complete("/peers x") == []  # no arguments at all
    assert _complete("/get k") == []  # DHT keys are not enumerable
    assert _complete("/nosuch a") == []
    assert _complete("//wh") == []


def test_cursor_in_the_middle_and_open_quotes() -> None:
    line = "/whisper al hello"
    assert complete(line, len("/whisper al"), SOURCE) == ["alice", "albert", "Alice Liddell"]
    assert _complete('/rm "Alice L') == ["Alice Liddell"]
    ctx = completion_context('/rm "Alice L', 12)
    assert ctx is not None and ctx.start == 4 and ctx.prefix == "Alice L"


def test_apply_completion() -> None:
    assert apply_completion("/wh", 3, "/whisper") == ("/whisper ", 9)
    assert apply_completion("/whisper al", 11, "alice") == ("/whisper alice ", 15)
    assert apply_completion("/rm Al", 6, "Alice Liddell") == ('/rm "Alice Liddell" ', 20)
    assert apply_completion("/whisper al hi", 11, "alice") == ("/whisper alice hi", 14)


def test_common_prefix() -> None:
    assert common_prefix(["notify.bell", "notify.desktop"]) == "notify."
    assert common_prefix(["x"]) == "x"
    assert common_prefix([]) == ""
