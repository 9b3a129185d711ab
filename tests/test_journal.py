"""The request journal: what it keeps, what it masks, how it is bounded, what it measures."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import MockServer
from mockserver.journal import BODY_KEEP_BYTES, Journal, mask_headers

from .support import AUTH, SEED_IMAGE, post_raw, search_body


def test_every_field_of_a_streamed_request(imgsearch_mock: MockServer) -> None:
    client = imgsearch_mock.openai(default_headers={"X-Trace": "t-1"})
    events = list(
        client.responses.create(
            model="qwen3.5-plus",
            input=search_body()["input"],
            tools=[{"type": "image_search"}],
            stream=True,
        )
    )
    client.close()
    entry = imgsearch_mock.requests.last
    assert entry.method == "POST"
    assert entry.path.endswith("/compatible-mode/v1/responses")
    assert entry.headers["Authorization"] == "Bearer REDACTED"
    assert entry.header("x-trace") == "t-1"
    assert entry.body["model"] == "qwen3.5-plus" and entry.body["stream"] is True
    assert (entry.scenario, entry.status, entry.stream) == ("default", 200, True)
    assert entry.events_sent == len(events)
    assert not entry.disconnected and entry.disconnected_after is None
    assert entry.done
    assert 0 <= entry.first_byte <= entry.duration
    assert entry.request_id and entry.id >= 1


def test_secrets_never_enter_the_journal(imgsearch_mock: MockServer) -> None:
    key = "sk-0123456789abcdef0123456789abcdef"
    client = imgsearch_mock.openai(api_key=key, default_headers={"X-Api-Key": key})
    client.responses.create(
        model="qwen3.5-plus",
        input=search_body(text=f"my key is {key}")["input"],
        tools=[{"type": "image_search"}],
        extra_query={"api_key": key},
    )
    client.close()
    entry = imgsearch_mock.requests.last
    assert key not in json.dumps(entry.to_json())
    assert entry.query == {"api_key": "REDACTED"}
    assert entry.header("x-api-key") == "REDACTED"


def test_mask_headers_keeps_the_scheme_and_masks_every_secret_name() -> None:
    masked = mask_headers(
        {"Authorization": "Bearer sk-x", "Cookie": "a=b", "X-Token": "t", "Accept": "*/*"}
    )
    assert masked == {
        "Authorization": "Bearer REDACTED",
        "Cookie": "REDACTED",
        "X-Token": "REDACTED",
        "Accept": "*/*",
    }


def test_the_journal_is_a_ring_of_the_newest_entries() -> None:
    journal = Journal(3)
    for n in range(10):
        journal.close(journal.open(f"r{n}", "POST", "/p", {}))
    kept = journal.entries()
    assert [e.request_id for e in kept] == ["r7", "r8", "r9"]
    assert [e.id for e in kept] == [8, 9, 10]
    off = Journal(0)
    off.close(off.open("r", "POST", "/p", {}))
    assert off.entries() == []


@given(st.lists(st.integers(0, 10), max_size=50), st.integers(1, 8))
def test_the_ring_never_holds_more_than_its_size(ops: list[int], size: int) -> None:
    journal = Journal(size)
    for n in ops:
        entry = journal.open(str(n), "POST", "/", {})
        if n % 3:
            journal.close(entry)
    assert len(journal.entries(settle=0)) <= size


def test_a_large_body_is_kept_with_long_strings_shortened(imgsearch_mock: MockServer) -> None:
    image = "data:image/png;base64," + "A" * (BODY_KEEP_BYTES * 4)
    client = imgsearch_mock.openai()
    client.responses.create(
        model="qwen3.5-plus",
        input=[{"role": "user", "content": [{"type": "input_image", "image_url": image}]}],
        tools=[{"type": "image_search"}],
    )
    client.close()
    body = imgsearch_mock.requests.last.body
    kept = body["input"][0]["content"][0]["image_url"]
    assert kept.startswith("data:image/png;base64,AAA")
    assert kept.endswith(f"...({len(image)} characters)")
    assert len(json.dumps(body)) < 1024


def test_a_body_that_is_not_json_is_journaled_as_none_with_its_status(
    imgsearch_mock: MockServer,
) -> None:
    status, _ = post_raw(
        imgsearch_mock.base_url + "/responses",
        b"{not json",
        {**AUTH, "Content-Type": "application/json"},
    )
    assert status == 400
    entry = imgsearch_mock.requests.last
    assert (entry.body, entry.status) == (None, 400)


async def test_a_client_that_leaves_mid_stream_is_journaled_with_the_event_count(
    imgsearch_mock: MockServer,
) -> None:
    imgsearch_mock.use(faults="event_delay=0.02")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            imgsearch_mock.base_url + "/responses", json=search_body(stream=True), headers=AUTH
        ) as resp,
    ):
        received = b""
        while received.count(b"\n\n") < 5:
            received += await resp.content.readany()
    # The session is closed: the server notices on its next write.
    for _ in range(100):
        entry = imgsearch_mock.requests.last
        if entry.done:
            break
        await asyncio.sleep(0.02)
    assert entry.disconnected
    assert 5 <= entry.disconnected_after < 74
    assert entry.events_sent == entry.disconnected_after


def test_requests_filter_by_request_and_journal_fields(imgsearch_mock: MockServer) -> None:
    client = imgsearch_mock.openai(max_retries=0)
    tools = [{"type": "image_search"}]
    client.responses.create(model="qwen3.5-plus", input=search_body()["input"], tools=tools)
    client.responses.create(model="qwen3.5-flash", input="hello", tools=[])
    imgsearch_mock.queue("server_error")
    with pytest.raises(Exception, match="500"):
        client.responses.create(model="qwen3.5-plus", input="hi", tools=[])
    client.close()
    requests = imgsearch_mock.requests
    assert len(requests.where(model="qwen3.5-plus")) == 2
    assert len(requests.where(model="qwen3.5-plus", stream=False, status=200)) == 1
    assert [e.body["model"] for e in requests.where(status=500)] == ["qwen3.5-plus"]
    assert len(requests.where(image_url=SEED_IMAGE)) == 1
    assert len(requests.where(text="hello")) == 1
    assert len(requests.where(lambda e: e.body["model"].endswith("flash"))) == 1
    assert requests.where(scenario="server_error").last.status == 500


def test_last_on_an_empty_journal_says_so(imgsearch_mock: MockServer) -> None:
    with pytest.raises(AssertionError, match="no request"):
        _ = imgsearch_mock.requests.last
