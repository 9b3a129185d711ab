"""The client against the mock over real loopback sockets: every scenario, retries, timeouts."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from typing import Any

import openai
import pytest
from multidict import CIMultiDict

from client import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ImageSearchClient,
    ImageSearchError,
    OutputItemEvent,
    ProtocolError,
    RateLimitError,
    Response,
    ResponseFailedError,
    ServerError,
    StreamError,
    TextDeltaEvent,
    Timeout,
)

from .conftest import MockUrlFactory
from .support import SEED_IMAGE, request_counter

TEXT = "Find landscape images in a similar style"
FIXED = {"fixed_ids": True, "created_at": 1771165743, "speed": 0}


def _client(url: str, scenario: str | None = None, **kwargs: Any) -> ImageSearchClient:
    headers = {"X-Mock-Scenario": scenario} if scenario else {}
    kwargs.setdefault("retry_backoff", 0.01)
    return ImageSearchClient("sk-test-client", url, headers=headers, **kwargs)


async def _stream_all(client: ImageSearchClient) -> tuple[list[Any], Response]:
    events: list[Any] = []
    async with client.stream(SEED_IMAGE, TEXT) as stream:
        async for event in stream:
            events.append(event)
        return events, await stream.final()


# -- results ----------------------------------------------------------------------------------

RESULT_SCENARIOS = {
    "default": None,
    "doc_example": 2,
    "zero_results": 0,
    "max_results": 100,
    "unicode": 6,
    "search_failed": None,
    "incomplete": None,
}


@pytest.mark.parametrize("scenario", list(RESULT_SCENARIOS))
async def test_stream_folds_into_the_non_streaming_response(
    mock_url: MockUrlFactory, scenario: str
) -> None:
    url = await mock_url(**FIXED)
    async with _client(url, scenario) as client:
        plain = await client.search(SEED_IMAGE, TEXT)
        events, final = await _stream_all(client)
    assert final == plain
    assert events[0].type == "response.created"
    assert events[-1].type in ("response.completed", "response.incomplete")
    count = RESULT_SCENARIOS[scenario]
    calls = plain.image_search_calls
    assert len(calls) == 1
    if scenario == "search_failed":
        assert calls[0].status == "failed"
    else:
        assert calls[0].status == "completed" and calls[0].results is not None
        if count is not None:
            assert len(calls[0].results) == count
        assert [r.index for r in calls[0].results] == list(range(1, len(calls[0].results) + 1))
    if scenario == "incomplete":
        assert plain.status == "incomplete" and plain.incomplete_details is not None
    else:
        assert plain.usage is not None and plain.usage.tool_calls == {"image_search": 1}


async def test_stream_events_are_typed(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=0)
    async with _client(url, "doc_example") as client:
        events, final = await _stream_all(client)
    added = [
        e for e in events if isinstance(e, OutputItemEvent) and e.item.type == "image_search_call"
    ]
    assert [e.type for e in added] == ["response.output_item.added", "response.output_item.done"]
    deltas = "".join(e.delta for e in events if isinstance(e, TextDeltaEvent))
    assert deltas == final.output_text
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (2753, 181)


async def test_several_images_give_several_calls(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=0)
    async with _client(url) as client:
        response = await client.search([SEED_IMAGE, "https://example.com/b.png"])
    assert [c.img_idx for c in response.image_search_calls] == [0, 1]


# -- errors -------------------------------------------------------------------------------------


async def test_failed_response_raises_with_the_response(mock_url: MockUrlFactory) -> None:
    url = await mock_url(**FIXED)
    async with _client(url, "response_failed") as client:
        with pytest.raises(ResponseFailedError) as plain:
            await client.search(SEED_IMAGE, TEXT)
        with pytest.raises(ResponseFailedError) as streamed:
            await _stream_all(client)
    assert plain.value.response.status == "failed"
    assert plain.value.code == streamed.value.code == "InternalError"
    assert streamed.value.response == plain.value.response  # the fold equals the plain answer


@pytest.mark.parametrize("stream", [False, True])
async def test_rate_limit_as_200_is_a_rate_limit_error_and_retried(
    mock_url: MockUrlFactory, stream: bool
) -> None:
    seen, count = request_counter()
    url = await mock_url(middlewares=(count,), speed=0)
    async with _client(url, "rate_limited_200", max_retries=2) as client:
        with pytest.raises(RateLimitError) as caught:
            await (_stream_all(client) if stream else client.search(SEED_IMAGE))
    assert caught.value.status == 200 and caught.value.code == "server_error"
    # A stream has handed out events before the failure shows: it is never retried.
    assert len(seen) == (1 if stream else 3)


@pytest.mark.parametrize("stream", [False, True])
async def test_http_429_is_retried_honouring_retry_after(
    mock_url: MockUrlFactory, stream: bool
) -> None:
    seen, count = request_counter()
    url = await mock_url(middlewares=(count,), speed=0, retry_after=0)
    async with _client(url, "rate_limited", max_retries=3) as client:
        with pytest.raises(RateLimitError) as caught:
            await (_stream_all(client) if stream else client.search(SEED_IMAGE))
    assert caught.value.status == 429 and caught.value.code == "Throttling.RateQuota"
    assert caught.value.request_id
    assert len(seen) == 4


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(mock_url: MockUrlFactory) -> None:
    seen, count = request_counter()
    url = await mock_url(middlewares=(count,), speed=0, retry_after=3600)
    async with _client(url, "rate_limited", max_retry_delay=10) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.search(SEED_IMAGE)
    assert caught.value.retry_after == 3600 and len(seen) == 1


async def test_server_error_is_retried_then_raised(mock_url: MockUrlFactory) -> None:
    seen, count = request_counter()
    url = await mock_url(middlewares=(count,), speed=0)
    async with _client(url, "server_error", max_retries=1) as client:
        with pytest.raises(ServerError) as caught:
            await client.search(SEED_IMAGE)
    assert caught.value.status == 500 and caught.value.code == "InternalError"
    assert len(seen) == 2


async def test_invalid_key_is_an_authentication_error_not_retried(
    mock_url: MockUrlFactory,
) -> None:
    seen, count = request_counter()
    url = await mock_url(middlewares=(count,), speed=0, api_key="sk-right")
    async with ImageSearchClient("sk-wrong", url) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.search(SEED_IMAGE)
    assert caught.value.code == "InvalidApiKey" and caught.value.status == 401
    assert "sk-wrong" not in str(caught.value)
    assert len(seen) == 1


async def test_stream_cut_raises_instead_of_ending_silently(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=0)
    async with _client(url, "stream_cut") as client:
        with pytest.raises((APIConnectionError, StreamError)):
            await _stream_all(client)


async def test_malformed_event_is_a_protocol_error(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=0)
    async with _client(url, "malformed_event") as client:
        with pytest.raises(ProtocolError, match="not valid JSON"):
            await _stream_all(client)
        with pytest.raises(ProtocolError, match="not valid JSON"):
            await client.search(SEED_IMAGE)


async def test_idle_timeout_trips_on_a_slow_stream(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=1, slow_gap=5.0)
    async with _client(url, "slow", timeout=Timeout(idle=0.3), max_retries=0) as client:
        events: list[Any] = []
        with pytest.raises(APITimeoutError):
            async with client.stream(SEED_IMAGE) as stream:
                async for event in stream:
                    events.append(event)
    assert events, "the first events arrive before the gap"


async def test_total_timeout_trips_on_a_slow_answer(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=1, slow_gap=5.0)
    async with _client(url, "slow", timeout=Timeout(total=0.3), max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await client.search(SEED_IMAGE)


async def test_connection_refused_is_retried_then_a_connection_error() -> None:
    async with _client("http://127.0.0.1:9", max_retries=1) as client:
        with pytest.raises(APIConnectionError):
            await client.search(SEED_IMAGE)


async def test_leaving_a_stream_early_closes_its_connection(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=1, slow_gap=5.0)
    async with _client(url, "slow") as client:
        async with client.stream(SEED_IMAGE) as stream:
            async for _event in stream:
                break
        assert stream._resp is None
        session = client._session
        assert session is not None
        assert session.connector is not None and not session.connector._conns  # nothing pooled
        # The mock's handler was cancelled: it is not stuck writing to a gone client.
        await asyncio.sleep(0)


async def test_cancelling_a_stream_closes_it(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=1, slow_gap=5.0)
    async with _client(url, "slow") as client:
        stream = client.stream(SEED_IMAGE)

        async def consume() -> None:
            async for _event in stream:
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stream._resp is None


def test_missing_key_is_a_clear_error_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    with pytest.raises(ImageSearchError, match="DASHSCOPE_API_KEY"):
        ImageSearchClient()


def test_environment_gives_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-env")
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://127.0.0.1:1/v1/")
    client = ImageSearchClient()
    assert client.base_url == "http://127.0.0.1:1/v1"
    assert "sk-env" not in repr(client)


# -- agreement with the OpenAI SDK ---------------------------------------------------------------

SDK_SCENARIOS = [
    "default",
    "doc_example",
    "zero_results",
    "max_results",
    "unicode",
    "search_failed",
    "incomplete",
]


@pytest.mark.parametrize("scenario", SDK_SCENARIOS)
async def test_client_and_openai_sdk_agree(mock_url: MockUrlFactory, scenario: str) -> None:
    url = await mock_url(**FIXED)
    headers = {"X-Mock-Scenario": scenario}
    async with _client(url, scenario) as client:
        ours = await client.search(SEED_IMAGE, TEXT)
        body = client.request_body(SEED_IMAGE, TEXT, {})
    sdk = openai.AsyncOpenAI(
        api_key="sk-test", base_url=url, default_headers=headers, max_retries=0
    )
    async with sdk:
        theirs = await sdk.responses.create(**body)
    assert ours.id == theirs.id and ours.status == theirs.status
    assert ours.output_text == theirs.output_text
    sdk_calls = [item for item in theirs.output if item.type == "image_search_call"]
    assert [c.status for c in ours.image_search_calls] == [c.status for c in sdk_calls]
    for call, sdk_call in zip(ours.image_search_calls, sdk_calls, strict=True):
        sdk_output = getattr(sdk_call, "output", None)
        assert call.output == sdk_output
    assert theirs.usage is not None and ours.usage is not None
    assert (ours.usage.input_tokens, ours.usage.output_tokens, ours.usage.total_tokens) == (
        theirs.usage.input_tokens,
        theirs.usage.output_tokens,
        theirs.usage.total_tokens,
    )
    x_tools = getattr(theirs.usage, "x_tools", None) or {}
    assert ours.usage.tool_calls == {name: info["count"] for name, info in x_tools.items()}


async def test_invalid_api_key_scenario(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=0)
    async with _client(url, "invalid_api_key") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.search(SEED_IMAGE)
        with pytest.raises(AuthenticationError):
            await _stream_all(client)
    assert caught.value.code == "InvalidApiKey" and caught.value.request_id


ERROR_SCENARIOS = {
    # scenario: (our error, the SDK's error or None when the SDK returns a failed Response)
    "invalid_api_key": (AuthenticationError, openai.AuthenticationError),
    "rate_limited": (RateLimitError, openai.RateLimitError),
    "server_error": (ServerError, openai.InternalServerError),
    "response_failed": (ResponseFailedError, None),
    "rate_limited_200": (RateLimitError, None),
}


@pytest.mark.parametrize("scenario", list(ERROR_SCENARIOS))
async def test_client_and_openai_sdk_agree_on_errors(
    mock_url: MockUrlFactory, scenario: str
) -> None:
    ours_cls, sdk_cls = ERROR_SCENARIOS[scenario]
    url = await mock_url(**FIXED)
    async with _client(url, scenario, max_retries=0) as client:
        with pytest.raises(ours_cls) as ours:
            await client.search(SEED_IMAGE, TEXT)
        body = client.request_body(SEED_IMAGE, TEXT, {})
    headers = {"X-Mock-Scenario": scenario}
    sdk = openai.AsyncOpenAI(
        api_key="sk-test", base_url=url, default_headers=headers, max_retries=0
    )
    async with sdk:
        if sdk_cls is not None:
            with pytest.raises(sdk_cls) as theirs:
                await sdk.responses.create(**body)
            assert getattr(ours.value, "code", None) == theirs.value.code
            assert getattr(ours.value, "status", None) == theirs.value.status_code
        else:  # the SDK returns the failed Response; we raise, carrying the same facts
            response = await sdk.responses.create(**body)
            assert response.status == "failed" and response.error is not None
            assert getattr(ours.value, "code", None) == response.error.code


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "1.5", "retry-after-ms": "250"}, 0.25),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], expected: float | None) -> None:
    from client._client import _retry_after

    assert _retry_after(CIMultiDict(headers)) == expected


def test_retry_after_as_an_http_date() -> None:
    from client._client import _retry_after

    when = formatdate(time.time() + 30, usegmt=True)
    delay = _retry_after(CIMultiDict({"Retry-After": when}))
    assert delay is not None and 28 <= delay <= 30
