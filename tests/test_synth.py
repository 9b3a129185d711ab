"""The synthesizer and request checks as pure functions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import schemas
from mockserver import MockConfig
from mockserver.errors import RequestError
from mockserver.request import check_depth, check_image_url, decode_body, parse_request
from mockserver.synth import IdSource, count_tokens, make_results, plan_for, render

from .support import search_body


@given(st.text(min_size=1, max_size=200), st.integers(), st.integers(0, 100))
def test_results_are_deterministic_valid_and_capped(url: str, seed: int, count: int) -> None:
    first = make_results(url, seed, count)
    assert first == make_results(url, seed, count)
    assert len(first) == count
    schemas.validator("image_results").validate(list(first))


def test_results_never_exceed_100() -> None:
    assert len(make_results("u", 0, 1000)) == 100


@given(st.text(max_size=50), st.integers(0, 10))
def test_input_tokens_grow_with_results(url: str, seed: int) -> None:
    config = MockConfig()
    request = parse_request(search_body([f"https://example.com/{seed}.jpg"]), config)
    plan = plan_for(request, seed)
    from dataclasses import replace

    fewer = replace(plan, calls=tuple(replace(c, results=c.results[:1]) for c in plan.calls))
    more = replace(
        plan, calls=tuple(replace(c, results=make_results(url, seed, 50)) for c in plan.calls)
    )
    usage_fewer = render(fewer, IdSource("k"), 0)["usage"]
    usage_more = render(more, IdSource("k"), 0)["usage"]
    assert usage_more["input_tokens"] > usage_fewer["input_tokens"]
    for usage in (usage_fewer, usage_more):
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert usage["x_details"][0]["total_tokens"] == usage["total_tokens"]


def test_fixed_id_source_repeats_and_random_does_not() -> None:
    assert IdSource("a").uuid() == IdSource("a").uuid()
    assert IdSource().uuid() != IdSource().uuid()
    assert IdSource("a").item().startswith("msg_")


@given(st.text(max_size=300))
def test_count_tokens_is_monotone_in_appending(text: str) -> None:
    assert count_tokens(text + "x") >= count_tokens(text) >= 0


def test_decode_body_errors_say_why() -> None:
    with pytest.raises(RequestError, match="line 1 column 2"):
        decode_body(b"{x")
    with pytest.raises(RequestError, match="nested deeper than 64"):
        check_depth(json.loads("[" * 65 + "]" * 65))
    check_depth(json.loads("[" * 64 + "]" * 64))


@given(st.binary(max_size=200))
def test_decode_body_never_raises_anything_but_request_error(raw: bytes) -> None:
    try:
        body = decode_body(raw)
    except RequestError as exc:
        assert exc.status == 400 and exc.message
    else:
        assert isinstance(body, dict)


@given(st.text(max_size=200))
def test_image_url_check_never_raises_anything_but_request_error(url: str) -> None:
    try:
        check_image_url("image_url", url)
    except RequestError as exc:
        assert exc.status == 400 and "image_url" in exc.message


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a.png", "http://127.0.0.1:8000/x.jpg", "HTTPS://EXAMPLE.COM/A.PNG",
     "data:image/jpeg;base64,/9j/4AAQ", "data:image/PNG;base64,iVBORw0KGgo="],
)  # fmt: skip
def test_accepted_image_urls(url: str) -> None:
    check_image_url("image_url", url)


def test_thinking_switches() -> None:
    config = MockConfig()
    on: dict[str, Any] = search_body()
    assert parse_request(on, config).thinking
    assert not parse_request({**on, "enable_thinking": False}, config).thinking
    assert not parse_request({**on, "reasoning": {"effort": "none"}}, config).thinking
    assert parse_request({**on, "reasoning": {"effort": "high"}}, config).thinking


def test_tool_choice_none_means_no_search() -> None:
    request = parse_request({**search_body(), "tool_choice": "none"}, MockConfig())
    assert plan_for(request, 0).calls == ()
