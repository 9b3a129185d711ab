"""Each fault provokes its documented behaviour in our client and in the OpenAI Python SDK.

The table is in the README ("Faults"); these tests are its proof. They use the package's own
pytest plugin (the ``imgsearch_mock`` fixture and the ``imgsearch`` marker).
"""

from __future__ import annotations

import json
import time
from typing import Any

import openai
import pytest

from client import (
    APIConnectionError,
    APITimeoutError,
    ProtocolError,
    RateLimitError,
    ServerError,
    StreamError,
    Timeout,
)
from mockserver import MockServer

from .support import AUTH, SEED_IMAGE, post_raw

pytestmark = pytest.mark.filterwarnings(
    # The SDK's responses.stream() helper warns while serialising a tool type it does not know.
    "ignore:Pydantic serializer warnings:UserWarning"
)

INPUT = [
    {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Find similar images"},
            {"type": "input_image", "image_url": SEED_IMAGE},
        ],
    }
]
TOOLS: Any = [{"type": "image_search"}]
# The default scenario's stream for INPUT has this many events (checked below).
EVENTS = 74


def sdk_stream(mock: MockServer, **options: Any) -> list[Any]:
    """Events the SDK yields before it raises; the exception is attached as ``.error``."""
    client = mock.openai(**options)
    seen: list[Any] = []
    try:
        for event in client.responses.create(
            model="qwen3.5-plus", input=INPUT, tools=TOOLS, stream=True
        ):
            seen.append(event)
    except Exception as exc:
        return [*seen, exc]
    finally:
        client.close()
    return seen


def sdk_json(mock: MockServer, **options: Any) -> Any:
    client = mock.openai(**options)
    try:
        return client.responses.create(model="qwen3.5-plus", input=INPUT, tools=TOOLS)
    except Exception as exc:
        return exc
    finally:
        client.close()


async def ours_stream(mock: MockServer, **options: Any) -> list[Any]:
    """Events our client yields before it raises; the exception comes last."""
    seen: list[Any] = []
    async with mock.client(**options) as client:
        try:
            async with client.stream(SEED_IMAGE, "Find similar images") as stream:
                async for event in stream:
                    seen.append(event)
                seen.append(await stream.final())
        except Exception as exc:
            seen.append(exc)
    return seen


async def ours_json(mock: MockServer, **options: Any) -> Any:
    async with mock.client(**options) as client:
        try:
            return await client.search(SEED_IMAGE, "Find similar images")
        except Exception as exc:
            return exc


def test_the_unfaulted_stream_has_the_event_count_the_tests_assume(
    imgsearch_mock: MockServer,
) -> None:
    events = sdk_stream(imgsearch_mock)
    assert len(events) == EVENTS
    assert events[-1].type == "response.completed"


# -- close_after: a torn stream ----------------------------------------------------------------


@pytest.mark.imgsearch(faults={"close_after": 3})
def test_close_after_sdk_yields_n_events_then_a_connection_error(
    imgsearch_mock: MockServer,
) -> None:
    *events, error = sdk_stream(imgsearch_mock, max_retries=0)
    assert [e.sequence_number for e in events] == [0, 1, 2]
    assert isinstance(error, openai.APIConnectionError)
    # The SDK's HTTP library (httpx, or httpx2 in the newest SDKs) names the torn body.
    assert type(error.__cause__).__name__ == "RemoteProtocolError"
    entry = imgsearch_mock.requests.last
    assert (entry.events_sent, entry.faults) == (3, "close_after=3")


@pytest.mark.imgsearch(faults="close_after=3")
async def test_close_after_ours_yields_n_events_then_a_connection_error(
    imgsearch_mock: MockServer,
) -> None:
    *events, error = await ours_stream(imgsearch_mock, max_retries=0)
    assert [e.sequence_number for e in events] == [0, 1, 2]
    assert isinstance(error, APIConnectionError)
    assert "the connection broke reading the stream" in str(error)


@pytest.mark.imgsearch(faults="close_after=3")
async def test_close_after_on_json_truncates_the_body_and_both_clients_retry(
    imgsearch_mock: MockServer,
) -> None:
    ours = await ours_json(imgsearch_mock, max_retries=1, retry_backoff=0.01)
    assert isinstance(ours, APIConnectionError)
    sdk = sdk_json(imgsearch_mock, max_retries=1)
    assert isinstance(sdk, openai.APIConnectionError)
    assert len(imgsearch_mock.requests) == 4  # two attempts each


# -- reset_after: RST ----------------------------------------------------------------------------


@pytest.mark.imgsearch(faults="reset_after=2")
async def test_reset_after_n_events_ends_both_clients_streams_with_a_connection_error(
    imgsearch_mock: MockServer,
) -> None:
    *events, error = sdk_stream(imgsearch_mock, max_retries=0)
    assert len(events) <= 2  # an RST may discard what the client had not read yet
    assert isinstance(error, openai.APIConnectionError)
    *ours, mine = await ours_stream(imgsearch_mock, max_retries=0)
    assert len(ours) <= 2
    assert isinstance(mine, APIConnectionError)


@pytest.mark.imgsearch(faults="reset_after=0")
async def test_reset_before_the_headers_is_retried_then_raised_by_both_clients(
    imgsearch_mock: MockServer,
) -> None:
    error = sdk_json(imgsearch_mock, max_retries=1)
    assert isinstance(error, openai.APIConnectionError)
    mine = await ours_json(imgsearch_mock, max_retries=1, retry_backoff=0.01)
    assert isinstance(mine, APIConnectionError)
    assert "reset" in str(mine).lower()
    assert len(imgsearch_mock.requests) == 4


# -- malformed_at ----------------------------------------------------------------------------------


@pytest.mark.imgsearch(faults="malformed_at=3")
async def test_malformed_event_sdk_raises_a_json_error_and_ours_a_protocol_error(
    imgsearch_mock: MockServer,
) -> None:
    *events, error = sdk_stream(imgsearch_mock)
    assert len(events) == 2
    assert isinstance(error, ValueError)  # json.JSONDecodeError: the SDK does not wrap it
    *ours, mine = await ours_stream(imgsearch_mock)
    assert len(ours) == 2
    assert isinstance(mine, ProtocolError)
    assert "not valid JSON" in str(mine)


@pytest.mark.imgsearch(faults="malformed_at=1")
async def test_malformed_json_body_fails_both_clients_parsing(imgsearch_mock: MockServer) -> None:
    assert isinstance(await ours_json(imgsearch_mock), ProtocolError)
    assert isinstance(sdk_json(imgsearch_mock), ValueError)


# -- stall_after: the client's idle timeout ---------------------------------------------------------


@pytest.mark.imgsearch(faults="stall_after=2")
async def test_stall_needs_the_idle_timeout_of_both_clients(imgsearch_mock: MockServer) -> None:
    started = time.monotonic()
    *events, error = sdk_stream(imgsearch_mock, max_retries=0, timeout=0.5)
    assert len(events) == 2
    assert isinstance(error, openai.APITimeoutError)
    *ours, mine = await ours_stream(imgsearch_mock, max_retries=0, timeout=Timeout(idle=0.5))
    assert len(ours) == 2
    assert isinstance(mine, APITimeoutError)
    assert time.monotonic() - started < 10
    entries = imgsearch_mock.requests
    assert [(e.disconnected, e.disconnected_after) for e in entries] == [(True, 2), (True, 2)]


# -- byte_at_a_time ----------------------------------------------------------------------------


@pytest.mark.imgsearch(faults="byte_at_a_time")
async def test_one_byte_at_a_time_changes_nothing_for_correct_decoders(
    imgsearch_mock: MockServer,
) -> None:
    events = sdk_stream(imgsearch_mock)
    assert len(events) == EVENTS
    assert events[-1].type == "response.completed"
    ours = await ours_stream(imgsearch_mock)
    assert len(ours) == EVENTS + 1  # and the final response
    assert ours[-1].status == "completed"
    assert not isinstance(await ours_json(imgsearch_mock), Exception)
    assert sdk_json(imgsearch_mock).status == "completed"


# -- delays ------------------------------------------------------------------------------------


@pytest.mark.imgsearch(faults="first_byte_delay=0.4")
async def test_first_byte_delay_trips_a_shorter_timeout_and_passes_a_longer_one(
    imgsearch_mock: MockServer,
) -> None:
    assert isinstance(sdk_json(imgsearch_mock, max_retries=0, timeout=0.1), openai.APITimeoutError)
    mine = await ours_json(imgsearch_mock, max_retries=0, timeout=Timeout(idle=0.1))
    assert isinstance(mine, APITimeoutError)
    assert sdk_json(imgsearch_mock, timeout=5).status == "completed"
    assert imgsearch_mock.requests.last.first_byte >= 0.4


@pytest.mark.imgsearch(faults="event_delay=uniform(0.002,0.004); seed=11")
async def test_event_delays_pace_the_stream_for_both_clients(imgsearch_mock: MockServer) -> None:
    started = time.monotonic()
    assert len(sdk_stream(imgsearch_mock)) == EVENTS
    assert time.monotonic() - started >= 0.002 * (EVENTS - 1)
    started = time.monotonic()
    assert len(await ours_stream(imgsearch_mock)) == EVENTS + 1
    assert time.monotonic() - started >= 0.002 * (EVENTS - 1)


# -- fail_times: retries ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_failing_the_first_k_attempts_is_retried_to_success(
    imgsearch_mock: MockServer, status: int
) -> None:
    imgsearch_mock.use(faults=f"fail_times=2; fail_status={status}; retry_after=0.01")
    assert sdk_json(imgsearch_mock).status == "completed"
    assert [(e.status, e.attempt) for e in imgsearch_mock.requests] == [
        (status, 1),
        (status, 2),
        (200, 3),
    ]
    imgsearch_mock.reset()
    imgsearch_mock.use(faults=f"fail_times=2; fail_status={status}; retry_after=0.01")
    events = await ours_stream(imgsearch_mock, retry_backoff=0.01)
    assert events[-1].status == "completed"
    assert [e.status for e in imgsearch_mock.requests] == [status, status, 200]


@pytest.mark.imgsearch(faults="fail_times=3; fail_status=429; retry_after=0.01")
async def test_more_failures_than_retries_reach_the_caller_as_the_status_error(
    imgsearch_mock: MockServer,
) -> None:
    assert isinstance(sdk_json(imgsearch_mock, max_retries=1), openai.RateLimitError)
    imgsearch_mock.reset()
    imgsearch_mock.use(faults="fail_times=3; fail_status=503; retry_after=0.01")
    mine = await ours_json(imgsearch_mock, max_retries=1)
    assert isinstance(mine, ServerError)
    assert mine.status == 503
    imgsearch_mock.reset()
    imgsearch_mock.use(faults="fail_times=3; fail_status=429; retry_after=0.01")
    assert isinstance(await ours_json(imgsearch_mock, max_retries=1), RateLimitError)


# -- duplicate and reorder: grammar checks -----------------------------------------------------


@pytest.mark.imgsearch(faults="duplicate=3")
async def test_a_duplicated_event_fails_our_grammar_check_and_the_sdk_helper(
    imgsearch_mock: MockServer,
) -> None:
    *ours, mine = await ours_stream(imgsearch_mock)
    assert [e.sequence_number for e in ours] == [0, 1, 2]
    assert isinstance(mine, StreamError)
    assert "does not increase" in str(mine)
    # The SDK's plain stream passes it on; its accumulating helper refuses it.
    numbers = [e.sequence_number for e in sdk_stream(imgsearch_mock)[:5]]
    assert numbers == [0, 1, 2, 2, 3]
    client = imgsearch_mock.openai()
    with (
        pytest.raises(RuntimeError, match="Duplicate response output index"),
        client.responses.stream(model="qwen3.5-plus", input=INPUT, tools=TOOLS) as stream,
    ):
        for _ in stream:
            pass
    client.close()


@pytest.mark.imgsearch(faults="reorder=3")
async def test_a_reordered_event_fails_our_grammar_check_and_reaches_the_sdk_out_of_order(
    imgsearch_mock: MockServer,
) -> None:
    *ours, mine = await ours_stream(imgsearch_mock)
    assert [e.sequence_number for e in ours] == [0, 1]
    assert isinstance(mine, StreamError)
    assert "not open" in str(mine)
    numbers = [e.sequence_number for e in sdk_stream(imgsearch_mock)[:5]]
    assert numbers == [0, 1, 3, 2, 4]


# -- where faults come from --------------------------------------------------------------------


async def test_the_header_overrides_the_test_which_overrides_the_scenario(
    imgsearch_mock: MockServer,
) -> None:
    from mockserver import scenario

    imgsearch_mock.use(
        scenario().faults(close_after=10, first_byte_delay=0.01), faults="close_after=5"
    )
    events = sdk_stream(imgsearch_mock, max_retries=0)
    assert len(events) == 6  # five events and the error
    client = imgsearch_mock.openai(max_retries=0, default_headers={"X-Mock-Fault": "close_after=4"})
    seen = []
    with pytest.raises(openai.APIConnectionError):
        for event in client.responses.create(
            model="qwen3.5-plus", input=INPUT, tools=TOOLS, stream=True
        ):
            seen.append(event)
    client.close()
    assert len(seen) == 4
    assert imgsearch_mock.requests.last.faults == "first_byte_delay=0.01; close_after=4"


def test_a_server_wide_fault_applies_to_every_request() -> None:
    from mockserver import Faults

    with MockServer(faults=Faults(close_after=1)) as mock:
        events = sdk_stream(mock, max_retries=0)
        assert len(events) == 2
        assert isinstance(events[-1], openai.APIConnectionError)


def test_a_bad_fault_header_is_a_400_in_the_api_error_shape(imgsearch_mock: MockServer) -> None:
    status, raw = post_raw(
        imgsearch_mock.base_url + "/responses",
        json.dumps({"model": "qwen3.5-plus", "input": "hi"}).encode(),
        {**AUTH, "Content-Type": "application/json", "X-Mock-Fault": "close_after=soon"},
    )
    assert status == 400
    body = json.loads(raw)
    assert body["code"] == "InvalidParameter"
    assert body["message"] == "X-Mock-Fault: close_after must be a whole number, got 'soon'."
