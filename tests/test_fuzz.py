"""Requests drawn from the request schema never get a 5xx or a schema-invalid answer."""

from __future__ import annotations

import json
import json as _json
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import schemas

from .grammar import check_stream
from .support import AUTH, LEGACY_PATH, ThreadedMock, decode_events, search_body

SCENARIO_NAMES = st.sampled_from(
    [None, "default", "zero_results", "max_results", "unicode", "doc_example"]
)


@dataclass
class Answer:
    status: int
    headers: Message
    content: bytes


class Poster:
    """A minimal blocking HTTP client (stdlib), one connection per request."""

    def __init__(self, root: str) -> None:
        self.root = root

    def post(self, path: str, *, json: Any, headers: dict[str, str]) -> Answer:
        data = _json.dumps(json).encode()
        request = urllib.request.Request(
            self.root + path, data=data, method="POST",
            headers={**headers, "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read())


@pytest.fixture(scope="module")
def http(shared_mock: ThreadedMock) -> Poster:
    return Poster(shared_mock.url)


def _check_answer(response: Answer, stream: bool) -> None:
    assert response.status < 500, response.content
    assert response.headers["x-request-id"]
    if response.status != 200:
        schemas.validator("error").validate(_json.loads(response.content))
    elif stream and response.headers["content-type"].startswith("text/event-stream"):
        events = [_json.loads(e.data) for e in decode_events(response.content)]
        for event in events:
            schemas.validator("stream_event").validate(event)
        check_stream(events)
    else:
        schemas.validator("response").validate(_json.loads(response.content))


REQUESTS = from_schema(schemas.load("request"))


def _schema_drawn(http: Poster, body: dict[str, Any], scenario: str | None) -> None:
    note(json.dumps(body, ensure_ascii=False)[:2000])
    headers = {**AUTH} if scenario is None else {**AUTH, "X-Mock-Scenario": scenario}
    response = http.post(LEGACY_PATH, json=body, headers=headers)
    _check_answer(response, bool(body.get("stream")))


# Drawing from this schema costs about 80 ms an example (hypothesis-jsonschema), so the fast
# tier runs 40 and the slow tier 400 (about a minute).
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=REQUESTS, scenario=SCENARIO_NAMES)
def test_schema_drawn_requests(http: Poster, body: dict[str, Any], scenario: str | None) -> None:
    _schema_drawn(http, body, scenario)


@pytest.mark.slow
@pytest.mark.timeout(600)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=REQUESTS, scenario=SCENARIO_NAMES)
def test_schema_drawn_requests_at_length(
    http: Poster, body: dict[str, Any], scenario: str | None
) -> None:
    _schema_drawn(http, body, scenario)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "model",
    "input",
    "tools",
    "stream",
    "tool_choice",
    "max_output_tokens",
    "enable_thinking",
    "reasoning",
]


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(FIELDS), value=json_values, stream=st.booleans())
def test_one_field_replaced_by_anything(http: Poster, field: str, value: Any, stream: bool) -> None:
    body = {**search_body(stream=stream), field: value}
    note(json.dumps(body, ensure_ascii=False))
    _check_answer(http.post(LEGACY_PATH, json=body, headers=AUTH), bool(body.get("stream") is True))


@settings(max_examples=100, deadline=None)
@given(
    part=st.dictionaries(
        st.sampled_from(["type", "image_url", "text", "detail"]), json_values, max_size=4
    )
)
def test_any_content_part(http: Poster, part: dict[str, Any]) -> None:
    body = search_body()
    body["input"][0]["content"].append(part)
    _check_answer(http.post(LEGACY_PATH, json=body, headers=AUTH), False)
