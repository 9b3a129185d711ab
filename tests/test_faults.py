"""Faults as data: the text form, merging, seeded delays and the frame plan (no sockets)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from mockserver import SSEEncoder
from mockserver.faults import Delay, FaultError, Faults, Frame, apply, break_frame


def frames(count: int, *, done: bool = False) -> list[Frame]:
    encoder = SSEEncoder()
    out = [Frame(encoder.encode({"type": "e", "sequence_number": n})) for n in range(count)]
    if done:
        out.append(Frame(encoder.done(), event=False))
    return out


def numbers(plan_frames: tuple[Frame, ...]) -> list[int]:
    found = []
    for frame in plan_frames:
        data = frame.data.split(b"data:", 1)[1].strip()
        found.append(json.loads(data)["sequence_number"])
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("close_after=3", Faults(close_after=3)),
        ("reset_after=0", Faults(reset_after=0)),
        ("stall_after=2; first_byte_delay=0.5", Faults(stall_after=2, first_byte_delay=0.5)),
        ("byte_at_a_time, byte_delay=0.001", Faults(byte_at_a_time=True, byte_delay=0.001)),
        (
            "fail_times=2;fail_status=429;retry_after=1",
            Faults(fail_times=2, fail_status=429, retry_after=1.0),
        ),
        ("duplicate=4 ; reorder=5", Faults(duplicate=4, reorder=5)),
        ("malformed_at=1", Faults(malformed_at=1)),
        (
            "event_delay=uniform(0.01, 0.05); seed=7",
            Faults(event_delay=Delay("uniform", 0.01, 0.05), seed=7),
        ),
        ("event_delay=0.02", Faults(event_delay=Delay("fixed", 0.02))),
        ("", Faults()),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_the_text_form_parses(text: str, expected: Faults) -> None:
    assert Faults.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("close_afterr=3", "unknown fault 'close_afterr'"),
        ("close_after=-1", "close_after must be a whole number >= 0"),
        ("close_after", "close_after needs a value"),
        ("close_after=x", "close_after must be a whole number, got 'x'"),
        ("malformed_at=0", "malformed_at must be a whole number >= 1"),
        ("fail_status=404", "fail_status must be 429, 500 or 503"),
        ("first_byte_delay=soon", "first_byte_delay must be a number of seconds"),
        ("first_byte_delay=1e9", "first_byte_delay must be from 0 to 600 seconds"),
        ("event_delay=uniform(0.5,0.1)", "the low end is above the high end"),
        ("event_delay=exponential(1,2)", "exponential takes 1 number(s)"),
        ("event_delay=nan", "event_delay must be a finite number"),
        ("byte_at_a_time=maybe", "byte_at_a_time must be true or false"),
    ],
)
def test_bad_text_says_which_item_and_why(text: str, says: str) -> None:
    with pytest.raises(FaultError, match=says.replace("(", r"\(").replace(")", r"\)")):
        Faults.parse(text)


def test_merge_lets_the_higher_source_override_only_what_it_sets() -> None:
    server = Faults(first_byte_delay=1.0, close_after=5)
    header = Faults(close_after=2)
    merged = server.merge(header)
    assert merged == Faults(first_byte_delay=1.0, close_after=2)
    assert server.merge(None) is server
    assert Faults().merge(Faults()) == Faults()


def test_zero_is_a_fault_and_not_nothing() -> None:
    assert Faults(reset_after=0)
    assert Faults(close_after=0).cut == (0, "close")
    assert not Faults()
    assert not Faults(byte_at_a_time=False)


def test_only_fail_faults_leave_the_body_alone() -> None:
    assert not Faults(fail_times=2, fail_status=429, retry_after=1).shapes_body
    assert Faults(fail_times=2, first_byte_delay=0.1).shapes_body


@given(st.builds(Faults, close_after=st.none() | st.integers(0, 50), reset_after=st.none() | st.integers(0, 50),
                 stall_after=st.none() | st.integers(0, 50), duplicate=st.none() | st.integers(1, 50),
                 reorder=st.none() | st.integers(1, 50), malformed_at=st.none() | st.integers(1, 50),
                 fail_times=st.none() | st.integers(0, 5), byte_at_a_time=st.none() | st.booleans(),
                 seed=st.none() | st.integers(0, 2**32)))  # fmt: skip
def test_the_text_form_round_trips(faults: Faults) -> None:
    note(str(faults))
    assert Faults.parse(str(faults)) == faults


@given(
    st.sampled_from(["uniform(0.01,0.2)", "exponential(0.05)", "normal(0.1,0.05)"]),
    st.integers(0, 2**32),
)
def test_random_delays_repeat_with_the_seed_and_stay_in_range(text: str, seed: int) -> None:
    faults = Faults(event_delay=Delay.parse(text), seed=seed)
    first = [f.delay for f in apply(frames(30), faults).frames]
    again = [f.delay for f in apply(frames(30), faults).frames]
    assert first == again
    assert first[0] == 0.0  # nothing before the first event: that is first_byte_delay
    assert all(0.0 <= d <= 600 for d in first)
    if text.startswith("uniform"):
        assert all(0.01 <= d <= 0.2 for d in first[1:])


def test_another_seed_gives_other_delays() -> None:
    delay = Delay.parse("uniform(0,1)")
    one = [f.delay for f in apply(frames(10), Faults(event_delay=delay, seed=1)).frames]
    two = [f.delay for f in apply(frames(10), Faults(event_delay=delay, seed=2)).frames]
    assert one != two


@given(st.integers(0, 30), st.integers(0, 40), st.sampled_from(["close", "reset", "stall"]))
def test_a_cut_sends_exactly_the_first_n_events(total: int, n: int, how: str) -> None:
    plan = apply(frames(total, done=True), Faults.from_mapping({f"{how}_after": n}))
    assert numbers(plan.frames) == list(range(min(n, total)))
    assert plan.end == how
    assert all(f.event for f in plan.frames)  # no [DONE] after a cut


def test_the_earliest_cut_wins() -> None:
    plan = apply(frames(10), Faults(close_after=6, stall_after=4, reset_after=8))
    assert (len(plan.frames), plan.end) == (4, "stall")


def test_without_faults_the_frames_pass_unchanged() -> None:
    original = frames(5, done=True)
    plan = apply(original, Faults())
    assert list(plan.frames) == original
    assert plan.end == "eof"


@given(st.integers(1, 20), st.integers(1, 25))
def test_duplicate_sends_event_n_twice(total: int, n: int) -> None:
    got = numbers(apply(frames(total), Faults(duplicate=n)).frames)
    expected = list(range(total))
    if n <= total:
        expected.insert(n, n - 1)
    assert got == expected


@given(st.integers(1, 20), st.integers(1, 25))
def test_reorder_swaps_event_n_with_the_next(total: int, n: int) -> None:
    got = numbers(apply(frames(total), Faults(reorder=n)).frames)
    expected = list(range(total))
    if n < total:
        expected[n - 1], expected[n] = expected[n], expected[n - 1]
    assert got == expected


@given(st.integers(1, 20), st.integers(1, 25))
def test_malformed_breaks_exactly_event_n(total: int, n: int) -> None:
    plan = apply(frames(total), Faults(malformed_at=n))
    broken = []
    for index, frame in enumerate(plan.frames, start=1):
        try:
            json.loads(frame.data.split(b"data:", 1)[1])
        except ValueError:
            broken.append(index)
    assert broken == ([n] if n <= total else [])


@given(st.binary(max_size=200))
def test_break_frame_never_leaves_a_parseable_payload_longer_than_it_was(data: bytes) -> None:
    out = break_frame(data)
    assert len(out) <= max(len(data), 1)


def test_to_json_shows_the_set_fields_only() -> None:
    faults = Faults(close_after=2, event_delay=Delay.parse("exponential(0.1)"))
    assert faults.to_json() == {"event_delay": "exponential(0.1)", "close_after": 2}


def test_mockserver_public_names_are_exactly_all() -> None:
    import types

    import mockserver

    public = {
        name
        for name, value in vars(mockserver).items()
        if name.isidentifier()
        and not name.startswith("_")
        and not isinstance(value, types.ModuleType)
    }
    public -= {"annotations"}
    assert public == set(mockserver.__all__)
