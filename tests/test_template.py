"""The answer cache: cached answers are the uncached ones, with fresh ids and times."""

from __future__ import annotations

import json

import pytest

from mockserver.template import MarkerIds, Markers, Miss, Template, TemplateCache

from .conftest import MockClientFactory
from .support import AUTH, LEGACY_PATH, event_payloads, search_body

SCENARIOS = ["default", "doc_example", "max_results", "unicode", "rate_limited", "rate_limited_200"]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_cached_answers_equal_uncached_ones(
    mock_client: MockClientFactory, scenario: str, stream: bool
) -> None:
    fixed = {"fixed_ids": True, "created_at": 1771165743}
    cached = await mock_client(**fixed)
    uncached = await mock_client(cache_size=0, **fixed)
    headers = {**AUTH, "X-Mock-Scenario": scenario}
    body = search_body(stream=stream)
    answers = []
    for client in (cached, cached, cached, uncached):
        resp = await client.post(LEGACY_PATH, json=body, headers=headers)
        # the request id is fresh per request, even with fixed ids
        data = (await resp.read()).replace(resp.headers["x-request-id"].encode(), b"RID")
        answers.append((resp.status, resp.headers["Content-Type"], data))
    assert answers[0] == answers[1] == answers[2] == answers[3]


async def test_cached_answers_get_fresh_ids_times_and_request_ids(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client()
    seen = []
    for _ in range(3):
        resp = await client.post(LEGACY_PATH, json=search_body(stream=True), headers=AUTH)
        events = event_payloads(await resp.read())
        final = events[-1]["response"]
        assert events[0]["response"]["id"] == final["id"]
        assert final["output"][1]["id"].startswith("msg_")
        assert abs(final["created_at"] - events[0]["response"]["created_at"]) == 0
        seen.append((resp.headers["x-request-id"], final["id"], final["output"][0]["id"]))
    assert len({s[0] for s in seen}) == len({s[1] for s in seen}) == len({s[2] for s in seen}) == 3
    error = await client.post(
        LEGACY_PATH, json=search_body(), headers={**AUTH, "X-Mock-Scenario": "rate_limited"}
    )
    again = await client.post(
        LEGACY_PATH, json=search_body(), headers={**AUTH, "X-Mock-Scenario": "rate_limited"}
    )
    for resp in (error, again):
        assert (await resp.json())["request_id"] == resp.headers["x-request-id"]
    assert error.headers["x-request-id"] != again.headers["x-request-id"]


def test_markers_split_and_fill() -> None:
    markers = Markers()
    ids = MarkerIds(markers)
    doc = {"id": ids.uuid(), "item": ids.item(), "again": "x" + markers.uuid(0)}
    doc["created_at"] = markers.created_at  # type: ignore[assignment]
    doc["rid"] = markers.request_id
    data = json.dumps(doc).encode()
    assert markers.found_in(data)
    assert not markers.found_in(b'{"model": "qwen3.5-plus"}')
    template = Template.build(
        data, markers, status=200, headers=(), stream=False, uuid_count=ids.count, id_key="key"
    )
    filled = json.loads(template.fill(1771165743, "req-1"))
    assert filled["id"] == filled["again"][1:] and filled["item"] == "msg_" + filled["item"][4:]
    assert filled["created_at"] == 1771165743 and filled["rid"] == "req-1"
    assert template.fill(1, "r") == template.fill(1, "r"), "fixed ids fill the same"


def test_cache_is_bounded_and_least_recently_used() -> None:
    cache = TemplateCache(2)
    a, b, c = (Template(200, (), False, (bytes([n]),), (), 0, None) for n in range(3))
    cache.put(("a",), a)
    cache.put(("b",), b)
    assert cache.get(("a",)) is a
    cache.put(("c",), c)
    assert cache.get(("b",)) is Miss.MISS and cache.get(("a",)) is a and cache.get(("c",)) is c
    cache.put(("faulty",), None)
    assert cache.get(("faulty",)) is None, "remembered as not cacheable"
    off = TemplateCache(0)
    off.put(("a",), a)
    assert off.get(("a",)) is Miss.MISS


async def test_faulty_answers_are_remembered_as_uncacheable(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    headers = {**AUTH, "X-Mock-Scenario": "malformed_event"}
    for _ in range(2):
        raw = await (
            await client.post(LEGACY_PATH, json=search_body(stream=True), headers=headers)
        ).read()
        bad = [
            e for e in raw.split(b"\n\n") if e.startswith(b"id:") and not e.rstrip().endswith(b"}")
        ]
        assert len(bad) == 1, "each answer carries its one malformed event"
