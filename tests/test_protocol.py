"""events_from_response / response_from_events: the one function each way, as properties."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import schemas
from mockserver import events_from_response, response_from_events
from mockserver.protocol import split_text
from mockserver.synth import CallPlan, IdSource, Plan, render

from .grammar import check_stream

text = st.text(max_size=120)
results = st.lists(
    st.fixed_dictionaries(
        {"title": st.text(max_size=30), "url": st.just("https://example.com/x.jpg")}
    ),
    max_size=12,
).map(lambda rs: tuple({**r, "index": i} for i, r in enumerate(rs, start=1)))
calls = st.lists(
    st.builds(
        CallPlan,
        img_idx=st.integers(0, 5),
        status=st.sampled_from(["completed", "failed"]),
        results=results,
    ),
    max_size=3,
)
plans = st.builds(
    Plan,
    model=st.sampled_from(["qwen3.5-plus", "qwen3.5-flash"]),
    tools=st.just(({"type": "image_search"},)),
    tool_choice=st.just("auto"),
    prompt_text=text,
    image_count=st.integers(0, 3),
    calls=calls.map(tuple),
    reasoning=st.lists(text, max_size=2).map(tuple),
    text=text,
    status=st.sampled_from(["completed", "incomplete"]),
)


def _response(plan: Plan) -> dict[str, Any]:
    if plan.status == "incomplete":
        from dataclasses import replace

        plan = replace(plan, incomplete_reason="max_output_tokens")
    return render(plan, IdSource("fixed"), 1771165743)


@given(plans, st.integers(1, 50))
def test_any_response_expands_into_a_valid_grammatical_stream(plan: Plan, size: int) -> None:
    response = _response(plan)
    schemas.validator("response").validate(response)
    events = events_from_response(response, size)
    note(json.dumps([e["type"] for e in events]))
    for event in events:
        schemas.validator("stream_event").validate(event)
    assert check_stream(events) == response


@given(plans, st.integers(1, 50))
def test_round_trip_is_stable(plan: Plan, size: int) -> None:
    response = _response(plan)
    assert response_from_events(events_from_response(response, size)) == response


@given(st.text(), st.integers(1, 64))
def test_split_text_pieces_add_up(value: str, size: int) -> None:
    pieces = split_text(value, size)
    assert "".join(pieces) == value
    assert all(1 <= len(p) <= size for p in pieces) or pieces == [""]


def test_split_text_refuses_zero() -> None:
    with pytest.raises(ValueError, match="size must be positive"):
        split_text("abc", 0)


def test_response_from_events_without_terminal_event_fails() -> None:
    response = _response(Plan("qwen3.5-plus", (), "auto", "", 0, text="hi"))
    with pytest.raises(ValueError, match="no terminal event"):
        response_from_events(events_from_response(response)[:-1])


def test_added_image_search_item_has_no_output_and_is_in_progress() -> None:
    plan = Plan(
        "qwen3.5-plus", ({"type": "image_search"},), "auto", "", 1, calls=(CallPlan(0),), text="t"
    )
    events = events_from_response(_response(plan))
    (added,) = [e for e in events if e["type"] == "response.output_item.added"
                and e["item"]["type"] == "image_search_call"]  # fmt: skip
    assert added["item"]["status"] == "in_progress" and "output" not in added["item"]
    created = events[0]["response"]
    assert created["model"] == "" and created["output"] == [] and created["status"] == "queued"


def test_unknown_item_types_pass_through() -> None:
    response = _response(Plan("qwen3.5-plus", (), "auto", "", 0, text="t"))
    response["output"].insert(
        0, {"type": "web_extractor_call", "id": "msg_x", "status": "completed"}
    )
    events = events_from_response(response)
    assert [e["type"] for e in events[2:4]] == [
        "response.output_item.added",
        "response.output_item.done",
    ]
    assert check_stream(events) == response
