"""Which session a full pool evicts, and which pending handshake a full queue drops (pure)."""

from __future__ import annotations

from collections.abc import Callable

from ohtchat.session.admission import FIRST_FRAME_READ, PendingHandshake, PendingHandshakes
from ohtchat.session.eviction import SessionInfo, choose_victim, seniors


def _s(
    onion: str,
    *,
    inbound: bool = True,
    last: float = 0.0,
    first: float | None = None,
    busy: int = 0,
) -> SessionInfo:
    return SessionInfo(onion, inbound, last, first, busy)


def test_a_fresh_idle_session_goes_before_a_used_one_even_a_quieter_one() -> None:
    talking = _s("talker", last=10.0, first=5.0)
    fresh = _s("fresh", last=100.0)
    assert choose_victim([talking, fresh], keep=(), senior_share=0) == "fresh"


def test_within_a_class_the_least_recently_used_goes() -> None:
    sessions = [_s("a", last=30.0), _s("b", last=10.0), _s("c", last=20.0)]
    assert choose_victim(sessions, keep=(), senior_share=0) == "b"


def test_kept_sessions_are_never_evicted() -> None:
    sessions = [_s("finger", last=0.0), _s("other", last=50.0, first=1.0, busy=3)]
    assert choose_victim(sessions, keep={"finger"}, senior_share=0) == "other"
    assert choose_victim(sessions[:1], keep={"finger"}, senior_share=0) is None
    assert choose_victim([], keep=(), senior_share=0) is None


def test_sessions_with_requests_in_flight_go_last_when_avoidable() -> None:
    busy = _s("busy", last=1.0, first=1.0, busy=1)
    idle = _s("idle", last=9.0, first=8.0)
    assert choose_victim([busy, idle], keep=(), senior_share=0) == "idle"
    assert choose_victim([busy], keep=(), senior_share=0) == "busy"


def test_sessions_we_dialled_go_after_every_inbound_one() -> None:
    ours = _s("ours", inbound=False, last=0.0)
    theirs = _s("theirs", last=99.0, first=1.0, busy=2)
    assert choose_victim([ours, theirs], keep=(), senior_share=0) == "theirs"


def test_a_flood_of_used_sessions_cannot_displace_the_seniors() -> None:
    # The honest peer talked first, long ago; the flood's sessions were each used since.
    honest = _s("honest", last=1.0, first=1.0)
    flood = [_s(f"x{i}", last=100.0 + i, first=100.0 + i) for i in range(20)]
    sessions = [honest, *flood]
    assert seniors(sessions, 2) == {"honest", "x0"}
    assert choose_victim(sessions, keep=(), senior_share=2) == "x1"
    assert choose_victim(sessions, keep=(), senior_share=0) == "honest"  # plain LRU would


def test_the_slowest_pending_handshake_is_dropped_first() -> None:
    dropped: list[str] = []
    queue = PendingHandshakes(cap=2)

    def entry(name: str, t: float) -> PendingHandshake:
        return PendingHandshake(t, drop=lambda: dropped.append(name))

    old_but_advanced = entry("advanced", 0.0)
    assert queue.admit(old_but_advanced) == []
    queue.advance(old_but_advanced, FIRST_FRAME_READ)
    silent = entry("silent", 1.0)
    assert queue.admit(silent) == []
    newer = entry("newer", 2.0)
    assert queue.admit(newer) == [silent]
    assert dropped == ["silent"] and silent.dropped and queue.dropped == 1
    assert len(queue) == 2
    queue.remove(newer)
    queue.remove(newer)  # idempotent
    assert len(queue) == 1


def test_a_zero_cap_drops_the_newcomer_itself() -> None:
    queue = PendingHandshakes(cap=0)
    me = PendingHandshake(0.0, drop=lambda: None)
    assert queue.admit(me) == [me] and me.dropped


def _appender(calls: list[int], i: int) -> Callable[[], None]:
    return lambda: calls.append(i)


def test_drop_all_marks_and_drops_everything() -> None:
    queue = PendingHandshakes(cap=4)
    calls: list[int] = []
    entries = [PendingHandshake(float(i), drop=_appender(calls, i)) for i in range(3)]
    for e in entries:
        queue.admit(e)
    queue.drop_all()
    assert sorted(calls) == [0, 1, 2] and all(e.dropped for e in entries) and len(queue) == 0
