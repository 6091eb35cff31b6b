"""The virtualized message log: large histories, wrapping, states, paging."""

from __future__ import annotations

from datetime import UTC

from textual.app import App, ComposeResult

from ohtchat.api.views import MessageView
from ohtchat.tui.log import MessageLog
from ohtchat.tui.text import TimeFormatter

from .pilots import until


def msg(msg_id: str, text: str, *, name: str = "bob", **fields: object) -> MessageView:
    base: dict[str, object] = {
        "msg_id": msg_id,
        "conversation": "c1",
        "sender": "b",
        "sender_name": name,
        "text": text,
        "timestamp": 1_700_000_000.0,
        "state": "delivered",
        "outgoing": False,
    }
    return MessageView(**{**base, **fields})  # type: ignore[arg-type]


def messages(n: int, text: str = "message number {i}") -> list[MessageView]:
    return [
        msg(f"m{i}", text.format(i=i), timestamp=1_700_000_000.0 + i, outgoing=i % 2 == 0)
        for i in range(n)
    ]


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MessageLog(times=TimeFormatter(UTC))


async def test_hundred_thousand_messages_render_only_the_visible_ones() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(MessageLog)
        log.set_messages(messages(100_000))
        assert log.line_count == 100_000
        # At the newest: the scroll to the end waits for the next layout.
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y > 0, "at the end")
        assert len(log._strips) <= 40  # the first frame and the screenful at the end
        assert (
            "message number 99999" in log.render_line(log.scrollable_content_region.height - 1).text
        )
        log.scroll_to(y=50_000, animate=False, immediate=True)
        await pilot.pause()
        assert (
            log.render_line(0).text.endswith("message number 50000 ✓ ".rstrip() + " " * 0)
            or "message number 50000" in log.render_line(0).text
        )
        assert len(log._strips) <= 60  # three screenfuls, not 100 000 messages


async def test_long_messages_wrap_and_states_update() -> None:
    app = LogApp()
    async with app.run_test(size=(40, 10)) as pilot:
        log = app.query_one(MessageLog)
        log.set_messages(messages(3, "x" * 70 + "{i}"))

        def lines_per_message() -> int:
            width = log.scrollable_content_region.width
            return -(-(log.times.width + 1 + len("bob: ") + 71 + 2) // width)

        # Wrapped at the laid-out width (a pending resize re-wraps).
        await until(pilot, lambda: log.line_count == 3 * lines_per_message(), "wrapped")
        assert log.line_count > 3
        text = "".join(log.render_line(y).text for y in range(log.line_count))
        assert text.count("x") == 3 * 70
        assert log.update_state("m2", "failed")
        assert not log.update_state("nope", "failed")
        log.append(msg("m9", "new", name="me", outgoing=True, state="sending"))
        assert log.entries[-1].text == "new"
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y, "following the end")
        log.append(msg("m9", "new", name="me", outgoing=True, state="delivered"))
        assert len(log.entries) == 4 and log.entries[-1].state == "delivered"
        assert log.scroll_to_message("m0")
        await until(pilot, lambda: log.scroll_y == 0, "scrolled to m0")


async def test_control_characters_never_reach_the_terminal() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 5)) as pilot:
        log = app.query_one(MessageLog)
        log.set_messages([msg("x", "\x1b]0;pwned\x07hi", name="ev\x1bil")])
        await pilot.pause()
        line = log.render_line(0).text
        assert "\x1b" not in line and "\x07" not in line and "hi" in line
