"""The official openai Python SDK against the mock, as a user would call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from mockserver.documented import DOC_RESULTS, DOC_TEXT

from .support import SEED_IMAGE, ThreadedMock, search_body, threaded_mock

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "examples" / "seeds"
DOC_BASE = "https://dashscope-intl.aliyuncs.com/api/v2/apps/protocols/compatible-mode/v1"
BODY = search_body()

_RESULT_LINES = "".join(f"  [{r['index']}] {r['title']}\n      {r['url']}\n" for r in DOC_RESULTS)
#: What the zh-Hant seed page prints for its non-streaming example (lines 173-191, verbatim).
DOC_OUTPUT = (
    "[工具調用] 圖搜圖 (status: completed)\n"
    "  搜尋到 2 張圖片:\n"
    f"{_RESULT_LINES}"
    "\n[模型回複]\n"
    f"{DOC_TEXT}\n"
    "\n[Token 用量] 輸入: 2753, 輸出: 181, 合計: 2934\n"
    "[工具統計] image_search 調用次數: 1\n"
)
#: The streaming example's output for the same documented answer.
DOC_STREAM_OUTPUT = (
    "[工具調用] 圖搜圖搜尋中...\n"
    "[工具調用] 圖搜圖完成 (status: completed)\n"
    "  搜尋到 2 張圖片:\n"
    f"{_RESULT_LINES}"
    "\n[模型回複]\n"
    f"{DOC_TEXT}"
    "\n\n[Token 用量] 輸入: 2753, 輸出: 181, 合計: 2934\n"
    "[工具統計] image_search 調用次數: 1\n"
)


def run_seed_example(name: str, base_url: str) -> subprocess.CompletedProcess[str]:
    """Run a seed page's example with nothing changed but its base URL."""
    source = (SEEDS / name).read_text("utf-8")
    assert source.count(DOC_BASE) == 1, "the example must be the page's, verbatim"
    env = {**os.environ, "DASHSCOPE_API_KEY": "sk-test-seed", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-c", source.replace(DOC_BASE, base_url)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def doc_mock() -> Iterator[ThreadedMock]:
    with threaded_mock(scenario="doc_example", speed=0) as server:
        yield server


@pytest.mark.parametrize(
    ("example", "expected"), [("quickstart.py", DOC_OUTPUT), ("streaming.py", DOC_STREAM_OUTPUT)]
)
def test_seed_python_examples_print_what_the_docs_show(
    doc_mock: ThreadedMock, example: str, expected: str
) -> None:
    result = run_seed_example(example, doc_mock.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_seed_examples_run_on_synthesized_answers(shared_mock: ThreadedMock) -> None:
    for example in ("quickstart.py", "streaming.py"):
        result = run_seed_example(example, shared_mock.base_url)
        assert result.returncode == 0, result.stderr
        assert "[工具調用] 圖搜圖" in result.stdout and "(status: completed)" in result.stdout
        assert "[工具統計] image_search 調用次數: 1" in result.stdout


def _client(server: ThreadedMock, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0, **kwargs)


def _create(client: openai.OpenAI, scenario: str, **kwargs: Any) -> Any:
    return client.responses.create(
        model=BODY["model"], input=BODY["input"], tools=BODY["tools"],
        extra_headers={"X-Mock-Scenario": scenario}, **kwargs,
    )  # fmt: skip


def _images(item: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(item.output)
    return result


def _calls(response: Any) -> list[Any]:
    return [item for item in response.output if item.type == "image_search_call"]


@pytest.mark.parametrize(
    ("scenario", "count"), [("zero_results", 0), ("max_results", 100), ("doc_example", 2)]
)
def test_result_counts_through_the_sdk(
    shared_mock: ThreadedMock, scenario: str, count: int
) -> None:
    client = _client(shared_mock)
    (call,) = _calls(_create(client, scenario))
    assert call.status == "completed"
    assert len(_images(call)) == count
    done = [
        e for e in _create(client, scenario, stream=True) if e.type == "response.output_item.done"
    ]
    (streamed,) = [e.item for e in done if e.item.type == "image_search_call"]
    assert len(_images(streamed)) == count


def test_search_failed_through_the_sdk(shared_mock: ThreadedMock) -> None:
    response = _create(_client(shared_mock), "search_failed")
    (call,) = _calls(response)
    assert call.status == "failed"
    assert response.status == "completed"
    assert "did not succeed" in response.output_text


def test_response_failed_through_the_sdk(shared_mock: ThreadedMock) -> None:
    client = _client(shared_mock)
    response = _create(client, "response_failed")
    assert response.status == "failed" and response.error.code == "InternalError"
    events = list(_create(client, "response_failed", stream=True))
    assert isinstance(events[-1], openai.types.responses.ResponseFailedEvent)
    assert events[-1].response.error.code == "InternalError"


def test_rate_limit_as_200_is_a_failed_response_not_an_exception(shared_mock: ThreadedMock) -> None:
    response = _create(_client(shared_mock), "rate_limited_200")
    assert response.status == "failed"
    assert response.error.code == "server_error"
    assert response.output == []


def test_rate_limited_raises_rate_limit_error(shared_mock: ThreadedMock) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        _create(_client(shared_mock), "rate_limited")
    assert caught.value.status_code == 429
    assert caught.value.code == "Throttling.RateQuota"
    assert caught.value.request_id
    assert caught.value.response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_invalid_api_key_raises_authentication_error(
    shared_mock: ThreadedMock, stream: bool
) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _create(_client(shared_mock), "invalid_api_key", stream=stream)
    assert caught.value.code == "InvalidApiKey"
    assert caught.value.message.endswith("Invalid API-key provided.")


def test_server_error_raises_internal_server_error(shared_mock: ThreadedMock) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        _create(_client(shared_mock), "server_error")
    assert caught.value.code == "InternalError"


def test_incomplete_through_the_sdk(shared_mock: ThreadedMock) -> None:
    client = _client(shared_mock)
    response = _create(client, "incomplete")
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    events = list(_create(client, "incomplete", stream=True))
    assert events[-1].type == "response.incomplete"


def _events_until(client: openai.OpenAI, scenario: str, error: type[Exception]) -> list[str]:
    """Stream ``scenario`` until the SDK raises ``error``; the event types seen before it."""
    seen: list[str] = []
    with pytest.raises(error):
        for event in _create(client, scenario, stream=True):
            seen.append(event.type)
    return seen


def test_stream_that_ends_early(shared_mock: ThreadedMock) -> None:
    seen = _events_until(_client(shared_mock), "stream_cut", openai.APIConnectionError)
    assert seen and "response.completed" not in seen
    with pytest.raises(openai.APIConnectionError):
        _create(_client(shared_mock), "stream_cut")


def test_malformed_event_surfaces_as_a_decode_error(shared_mock: ThreadedMock) -> None:
    seen = _events_until(_client(shared_mock), "malformed_event", json.JSONDecodeError)
    assert seen and "response.completed" not in seen


def test_slow_stream_trips_the_read_timeout() -> None:
    with threaded_mock(slow_gap=5.0) as server:
        seen = _events_until(_client(server, timeout=0.3), "slow", openai.APITimeoutError)
        assert seen == ["response.created"], "the first event comes at once, then the gap"


def test_unicode_through_the_sdk(shared_mock: ThreadedMock) -> None:
    from mockserver.scenarios import UNICODE_RESULTS

    client = _client(shared_mock)
    (call,) = _calls(_create(client, "unicode"))
    assert [r["title"] for r in _images(call)] == [r["title"] for r in UNICODE_RESULTS]
    text = "".join(
        e.delta
        for e in _create(client, "unicode", stream=True)
        if e.type == "response.output_text.delta"
    )
    assert text.startswith("找到了相似的图片 🌄")


# The SDK's helper serializes unknown items and warns (cosmetic, wire-format.md §10.4).
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
def test_sdk_stream_helper_accumulates_the_final_response(shared_mock: ThreadedMock) -> None:
    client = _client(shared_mock, default_headers={"X-Mock-Scenario": "doc_example"})
    with client.responses.stream(
        model=BODY["model"], input=BODY["input"], tools=BODY["tools"]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == DOC_TEXT
    assert final.usage.total_tokens == 2934


def test_sdk_reads_x_tools_and_request_id(shared_mock: ThreadedMock) -> None:
    raw = _client(shared_mock).responses.with_raw_response.create(
        model=BODY["model"], input=BODY["input"], tools=BODY["tools"]
    )
    response = raw.parse()
    assert response.usage.x_tools == {"image_search": {"count": 1}}
    assert response._request_id == raw.headers["x-request-id"]


async def test_async_client_streams_and_raises_the_same_way(shared_mock: ThreadedMock) -> None:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=shared_mock.base_url, max_retries=0)
    async with client:
        stream = await client.responses.create(
            model=BODY["model"], input=BODY["input"], tools=BODY["tools"], stream=True
        )
        kinds = [event.type async for event in stream]
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        response = await client.responses.create(
            model=BODY["model"], input=BODY["input"], tools=BODY["tools"]
        )
        assert response.output_text
        with pytest.raises(openai.AuthenticationError):
            await client.responses.create(
                model=BODY["model"], input=BODY["input"], tools=BODY["tools"],
                extra_headers={"X-Mock-Scenario": "invalid_api_key"},
            )  # fmt: skip
        with pytest.raises(openai.BadRequestError) as caught:
            await client.responses.create(
                model="qwen3.5-plus", input=[{"role": "user", "content": [{"type": "input_image", "image_url": "/tmp/x.png"}]}],
                tools=[{"type": "image_search"}],
            )  # fmt: skip
        assert caught.value.code == "InvalidParameter"
        assert "local file path" in caught.value.message


def test_sdk_retries_a_429_with_retry_after() -> None:
    # max_retries=1 and Retry-After: 1 -> two attempts, both answered 429; the SDK then raises.
    with threaded_mock(scenario="rate_limited") as server:
        client = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=1)
        with pytest.raises(openai.RateLimitError) as caught:
            client.responses.create(model="qwen3.5-plus", input=BODY["input"], tools=BODY["tools"])
        assert caught.value.response.request.headers["X-Stainless-Retry-Count"] == "1"


def test_seed_image_is_the_documented_one() -> None:
    assert SEED_IMAGE in (SEEDS / "quickstart.py").read_text("utf-8")


SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.mark.skipif(
    not SHARED_SEEDS.is_dir(),
    reason="shared/seeds (the documentation pages) is not beside the checkout",
)
@pytest.mark.parametrize("example", sorted(p.name for p in SEEDS.iterdir()))
def test_examples_are_verbatim_copies_of_the_seed_page(example: str) -> None:
    page = (SHARED_SEEDS / "image-search-doc.zh-Hant.txt").read_text("utf-8")
    assert (SEEDS / example).read_text("utf-8") in page
