"""The mock over HTTP: every scenario in both modes, auth, paths, knobs, and bad input."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import aiohttp
import pytest

import schemas
from mockserver import RESPONSES_PATHS, SCENARIOS

from .conftest import MockClientFactory
from .grammar import TERMINAL, check_stream
from .support import AUTH, LEGACY_PATH, decode_events, event_payloads, search_body

RESPONSE_SCENARIOS = [
    "default", "doc_example", "zero_results", "max_results", "search_failed", "response_failed",
    "rate_limited_200", "incomplete", "slow", "unicode",
]  # fmt: skip
HTTP_ERROR_SCENARIOS = {"rate_limited": (429, "Throttling.RateQuota"), "invalid_api_key": (401, "InvalidApiKey"),
                        "server_error": (500, "InternalError")}  # fmt: skip


async def _post(client: Any, body: Any, *, scenario: str | None = None, path: str = LEGACY_PATH,
                headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:  # fmt: skip
    hdrs = {**AUTH, **(headers or {})}
    if scenario is not None:
        hdrs["X-Mock-Scenario"] = scenario
    response: aiohttp.ClientResponse = await client.post(path, json=body, headers=hdrs)
    return response


def test_catalogue_covers_the_issue_list() -> None:
    listed = set(RESPONSE_SCENARIOS) | set(HTTP_ERROR_SCENARIOS) | {"stream_cut", "malformed_event"}
    assert listed == set(SCENARIOS)


@pytest.mark.parametrize("scenario", RESPONSE_SCENARIOS)
async def test_non_streaming_scenario_validates(
    mock_client: MockClientFactory, scenario: str
) -> None:
    client = await mock_client(speed=0)
    resp = await _post(client, search_body(), scenario=scenario)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    body = await resp.json()
    schemas.validator("response").validate(body)
    assert resp.headers["x-request-id"]
    for item in body["output"]:
        if item["type"] == "image_search_call":
            schemas.validator("image_results").validate(json.loads(item["output"]))
            schemas.validator("image_search_arguments").validate(json.loads(item["arguments"]))


@pytest.mark.parametrize("scenario", RESPONSE_SCENARIOS)
async def test_streaming_scenario_validates_and_follows_the_grammar(
    mock_client: MockClientFactory, scenario: str
) -> None:
    client = await mock_client(speed=0)
    resp = await _post(client, search_body(stream=True), scenario=scenario)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/event-stream;charset=UTF-8"
    assert resp.headers["Connection"] == "close"
    assert resp.headers["x-request-id"]
    raw = await resp.read()
    frames = decode_events(raw)
    events = [json.loads(f.data) for f in frames]
    for frame, event in zip(frames, events, strict=True):
        schemas.validator("stream_event").validate(event)
        assert frame.event == event["type"]
        assert frame.id == str(event["sequence_number"] + 1)
    final = check_stream(events)
    schemas.validator("response").validate(final)


@pytest.mark.parametrize("scenario", RESPONSE_SCENARIOS)
async def test_both_modes_carry_the_same_response(
    mock_client: MockClientFactory, scenario: str
) -> None:
    client = await mock_client(speed=0, fixed_ids=True, created_at=1771165743)
    plain = await (await _post(client, search_body(), scenario=scenario)).json()
    streamed = event_payloads(
        await (await _post(client, search_body(stream=True), scenario=scenario)).read()
    )
    assert streamed[-1]["response"] == plain


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("scenario", list(HTTP_ERROR_SCENARIOS))
async def test_http_error_scenarios(
    mock_client: MockClientFactory, scenario: str, stream: bool
) -> None:
    client = await mock_client()
    resp = await _post(client, search_body(stream=stream), scenario=scenario)
    status, code = HTTP_ERROR_SCENARIOS[scenario]
    assert resp.status == status
    body = await resp.json()
    schemas.validator("error").validate(body)
    assert body["code"] == code
    assert body["request_id"] == resp.headers["x-request-id"]
    if scenario == "rate_limited":
        assert resp.headers["Retry-After"] == "1"


async def test_doc_example_is_the_documented_answer(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    body = await (await _post(client, search_body(), scenario="doc_example")).json()
    (call,) = [i for i in body["output"] if i["type"] == "image_search_call"]
    assert call["status"] == "completed"
    results = json.loads(call["output"])
    assert [r["title"] for r in results] == [
        "QingMing Festival Holiday Notice 2024",
        "Serene Asian Landscape Stone Bridge Reflecting in Misty Water",
    ]
    assert json.loads(call["arguments"]) == {"img_idx": 0, "bbox": [0, 0, 1000, 1000]}
    usage = body["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (
        2753,
        181,
        2934,
    )
    assert usage["output_tokens_details"] == {"reasoning_tokens": 40}
    assert usage["x_tools"] == {"image_search": {"count": 1}}
    assert [i["type"] for i in body["output"]] == [
        "reasoning",
        "image_search_call",
        "reasoning",
        "message",
    ]
    assert body["tools"] == [{"type": "image_search"}]
    assert body["model"] == "qwen3.5-plus"


async def test_zero_and_max_results(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    zero = await (await _post(client, search_body(), scenario="zero_results")).json()
    (call,) = [i for i in zero["output"] if i["type"] == "image_search_call"]
    assert call["output"] == "[]" and call["status"] == "completed"
    full = await (await _post(client, search_body(), scenario="max_results")).json()
    (call,) = [i for i in full["output"] if i["type"] == "image_search_call"]
    results = json.loads(call["output"])
    assert [r["index"] for r in results] == list(range(1, 101))
    assert len({r["url"] for r in results}) == 100
    # the results are spliced into the prompt: more results, more input tokens [S1]
    assert full["usage"]["input_tokens"] > zero["usage"]["input_tokens"] + 100 * 10


async def test_failure_scenarios(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    failed_call = await (await _post(client, search_body(), scenario="search_failed")).json()
    (call,) = [i for i in failed_call["output"] if i["type"] == "image_search_call"]
    assert call["status"] == "failed"
    assert failed_call["status"] == "completed"
    assert "did not succeed" in failed_call["output"][-1]["content"][0]["text"]

    failed = await (await _post(client, search_body(), scenario="response_failed")).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "InternalError"

    limited = await (await _post(client, search_body(), scenario="rate_limited_200")).json()
    assert limited["status"] == "failed"
    assert limited["error"] == {
        "code": "server_error",
        "message": "Operation model request rate limit exceeded, please try again later.",
    }
    assert limited["id"].startswith("resp_") and limited["model"] == "" and limited["output"] == []
    stream = event_payloads(
        await (await _post(client, search_body(stream=True), scenario="rate_limited_200")).read()
    )
    assert [e["type"] for e in stream] == [
        "response.created",
        "response.in_progress",
        "response.failed",
    ]

    incomplete = await (await _post(client, search_body(), scenario="incomplete")).json()
    assert incomplete["status"] == "incomplete"
    assert incomplete["incomplete_details"] == {"reason": "max_output_tokens"}
    assert incomplete["output"][-1]["status"] == "incomplete"
    stream = event_payloads(
        await (await _post(client, search_body(stream=True), scenario="incomplete")).read()
    )
    assert stream[-1]["type"] == "response.incomplete"


async def test_stream_cut_drops_the_connection_without_a_terminal_event(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client()
    resp = await _post(client, search_body(stream=True), scenario="stream_cut")
    assert resp.status == 200
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in resp.content.iter_any():
            received += chunk
    events = event_payloads(received)
    assert events, "some events arrive before the cut"
    assert not any(e["type"] in TERMINAL for e in events)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    # the same scenario without stream: the body stops short of its Content-Length
    resp = await _post(client, search_body(), scenario="stream_cut")
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    # and the server goes on serving
    assert (await _post(client, search_body())).status == 200


async def test_malformed_event(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    raw = await (await _post(client, search_body(stream=True), scenario="malformed_event")).read()
    bad = []
    for frame in decode_events(raw):
        try:
            json.loads(frame.data)
        except json.JSONDecodeError:
            bad.append(frame)
    assert len(bad) == 1
    resp = await _post(client, search_body(), scenario="malformed_event")
    assert resp.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(await resp.read())


async def test_slow_scenario_spaces_events_by_the_scaled_gap(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client(slow_gap=1.0)
    started = time.perf_counter()
    resp = await _post(
        client, search_body(stream=True), scenario="slow", headers={"X-Mock-Speed": "0.01"}
    )
    events = event_payloads(await resp.read())
    elapsed = time.perf_counter() - started
    assert elapsed >= 0.01 * (len(events) - 1)  # a lower bound only: the gaps are there
    started = time.perf_counter()
    resp = await _post(client, search_body(), scenario="slow", headers={"X-Mock-Speed": "0.05"})
    assert resp.status == 200
    assert time.perf_counter() - started >= 0.05


async def test_unicode_scenario_round_trips(mock_client: MockClientFactory) -> None:
    from mockserver.scenarios import UNICODE_RESULTS

    client = await mock_client()
    for stream in (False, True):
        resp = await _post(client, search_body(stream=stream), scenario="unicode")
        raw = await resp.read()
        body = event_payloads(raw)[-1]["response"] if stream else json.loads(raw)
        (call,) = [i for i in body["output"] if i["type"] == "image_search_call"]
        titles = [r["title"] for r in json.loads(call["output"])]
        assert titles == [r["title"] for r in UNICODE_RESULTS]
        assert any(len(t) > 1000 for t in titles)
        assert "🌄" in body["output"][-1]["content"][0]["text"]


async def test_one_call_per_image_and_tool_counts(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    images = [
        "https://example.com/a.jpg",
        "https://example.com/b.png",
        "data:image/png;base64,iVBORw0KGgo=",
    ]
    body = await (await _post(client, search_body(images))).json()
    calls = [i for i in body["output"] if i["type"] == "image_search_call"]
    assert [json.loads(c["arguments"])["img_idx"] for c in calls] == [0, 1, 2]
    assert body["usage"]["x_tools"] == {"image_search": {"count": 3}}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert len({item["id"] for item in body["output"]}) == len(body["output"])
    assert all(item["id"].startswith("msg_") for item in body["output"])


async def test_results_are_deterministic_and_seeded(mock_client: MockClientFactory) -> None:
    def results(body: dict[str, Any]) -> list[Any]:
        return [json.loads(i["output"]) for i in body["output"] if i["type"] == "image_search_call"]

    client = await mock_client()
    first = await (await _post(client, search_body())).json()
    again = await (await _post(client, search_body())).json()
    assert results(first) == results(again)
    assert first["id"] != again["id"], "ids are unique unless fixed"
    other_image = await (await _post(client, search_body(["https://example.com/other.jpg"]))).json()
    assert results(other_image) != results(first)
    reseeded = await (await _post(client, search_body(), headers={"X-Mock-Seed": "7"})).json()
    assert results(reseeded) != results(first)
    seeded_server = await mock_client(seed=7)
    assert results(await (await _post(seeded_server, search_body())).json()) == results(reseeded)


async def test_fixed_ids_and_created_at_make_snapshots_stable(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client(fixed_ids=True, created_at=1771165900)
    first = await (await _post(client, search_body(stream=True))).read()
    second = await (await _post(client, search_body(stream=True))).read()
    assert first == second
    body = await (await _post(client, search_body())).json()
    assert body["created_at"] == 1771165900


async def test_thinking_off_and_no_tool(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    body = await (await _post(client, search_body(enable_thinking=False))).json()
    assert [i["type"] for i in body["output"]] == ["image_search_call", "message"]
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] == 0
    plain = await (await _post(client, {"model": "qwen-max", "input": "Hello"})).json()
    assert [i["type"] for i in plain["output"]] == ["reasoning", "message"]
    assert "x_tools" not in plain["usage"]
    schemas.validator("response").validate(plain)


async def test_max_output_tokens_makes_the_response_incomplete(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client()
    body = await (
        await _post(client, search_body(max_output_tokens=40, enable_thinking=False))
    ).json()
    assert body["status"] == "incomplete"
    assert body["usage"]["output_tokens"] <= 40


@pytest.mark.parametrize("path", RESPONSES_PATHS)
async def test_every_documented_path(mock_client: MockClientFactory, path: str) -> None:
    client = await mock_client()
    assert (await _post(client, search_body(), path=path)).status == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"},
     {"Authorization": "sk-no-scheme"}],
    ids=["missing", "empty", "empty_bearer", "basic", "no_scheme"],
)  # fmt: skip
async def test_missing_or_empty_key_is_401(
    mock_client: MockClientFactory, headers: dict[str, str]
) -> None:
    client = await mock_client()
    resp = await client.post(LEGACY_PATH, json=search_body(), headers=headers)
    assert resp.status == 401
    body = await resp.json()
    assert body == {"request_id": resp.headers["x-request-id"], "code": "InvalidApiKey",
                    "message": "Invalid API-key provided."}  # fmt: skip


async def test_api_key_option_accepts_only_that_key(mock_client: MockClientFactory) -> None:
    client = await mock_client(api_key="sk-right")
    wrong = await client.post(
        LEGACY_PATH, json=search_body(), headers={"Authorization": "Bearer sk-wrong"}
    )
    assert wrong.status == 401
    text = await wrong.text()
    assert "sk-wrong" not in text and "sk-right" not in text, "keys never echo"
    right = await client.post(
        LEGACY_PATH, json=search_body(), headers={"Authorization": "Bearer sk-right"}
    )
    assert right.status == 200


async def test_admin_endpoints(mock_client: MockClientFactory) -> None:
    client = await mock_client(scenario="zero_results")
    health = await client.get("/__admin/health")
    assert health.status == 200 and (await health.json()) == {"status": "ok"}
    listing = await (await client.get("/__admin/scenarios")).json()
    assert listing["default"] == "zero_results"
    assert [s["name"] for s in listing["scenarios"]] == list(SCENARIOS)
    assert all(s["description"] for s in listing["scenarios"])


async def test_server_wide_scenario_and_header_override(mock_client: MockClientFactory) -> None:
    client = await mock_client(scenario="rate_limited")
    assert (await _post(client, search_body())).status == 429
    assert (await _post(client, search_body(), scenario="default")).status == 200


def test_unknown_default_scenario_is_refused_at_start() -> None:
    from mockserver import create_app
    from mockserver.errors import RequestError

    with pytest.raises(RequestError, match="Unknown mock scenario"):
        create_app(scenario="nope")


async def test_openai_framing_and_done_sentinel(mock_client: MockClientFactory) -> None:
    client = await mock_client(done_sentinel=True)
    raw = await (
        await _post(client, search_body(stream=True), headers={"X-Mock-Framing": "openai"})
    ).read()
    text = raw.decode()
    assert text.startswith("event: response.created\ndata: {")
    assert ":HTTP_STATUS" not in text and "\nid:" not in text
    assert text.endswith("data: [DONE]\n\n")
    check_stream(event_payloads(raw))


async def test_dashscope_framing_is_the_documented_one(mock_client: MockClientFactory) -> None:
    client = await mock_client(fixed_ids=True, created_at=1771165743)
    raw = (await (await _post(client, search_body(stream=True))).read()).decode()
    first = raw.split("\n\n")[0]
    lines = first.split("\n")
    assert lines[:3] == ["id:1", "event:response.created", ":HTTP_STATUS/200"]
    assert lines[3].startswith(
        'data:{"sequence_number":0,"type":"response.created","response":{"output":[]'
    )
    assert "[DONE]" not in raw
    no_comment = await mock_client(status_comment=False)
    raw = (await (await _post(no_comment, search_body(stream=True))).read()).decode()
    assert ":HTTP_STATUS" not in raw


async def test_streaming_is_decided_by_the_body_not_accept(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    resp = await _post(client, search_body(stream=True), headers={"Accept": "application/json"})
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    resp = await _post(client, search_body(), headers={"Accept": "text/event-stream"})
    assert resp.headers["Content-Type"].startswith("application/json")


DEEP = b'{"model": "qwen3.5-plus", "input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
BAD_INPUT = {
    "not_json": (b"{model: qwen", "application/json", 400, "not valid JSON"),
    "not_utf8": (b'{"model": "\xff\xfe"}', "application/json", 400, "not valid UTF-8"),
    "empty_body": (b"", "application/json", 400, "empty"),
    "json_array": (b"[1, 2]", "application/json", 400, "must be a JSON object"),
    "wrong_content_type": (b'{"model": "x", "input": "y"}', "text/plain", 415, "application/json"),
    "form_content_type": (b"model=x", "application/x-www-form-urlencoded", 415, "application/json"),
    "deep_nesting": (DEEP, "application/json", 400, "nested deeper"),
    "deep_nesting_shallow_for_json": (
        b'{"model":"m","input":"x","tools":' + b"[" * 200 + b"]" * 200 + b"}", "application/json", 400,
        "nested deeper"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_bytes_get_a_specific_4xx(mock_client: MockClientFactory, case: str) -> None:
    raw, ctype, status, fragment = BAD_INPUT[case]
    client = await mock_client()
    resp = await client.post(LEGACY_PATH, data=raw, headers={**AUTH, "Content-Type": ctype})
    assert resp.status == status
    body = await resp.json()
    schemas.validator("error").validate(body)
    assert fragment in body["message"], body["message"]
    assert "Traceback" not in body["message"]
    assert (await _post(client, search_body())).status == 200, "the server keeps serving"


def _with_image(url: Any) -> dict[str, Any]:
    body = search_body()
    body["input"][0]["content"][1]["image_url"] = url
    return body


BAD_REQUESTS: dict[str, tuple[Any, str]] = {
    "missing_model": ({"input": "x"}, "Missing required parameter: 'model'"),
    "model_number": ({"model": 3, "input": "x"}, "Invalid type for 'model': expected a string, but got an integer"),
    "empty_model": ({"model": " ", "input": "x"}, "'model' must not be empty"),
    "missing_input": ({"model": "qwen3.5-plus"}, "Missing required parameter: 'input'"),
    "input_number": ({"model": "qwen3.5-plus", "input": 5}, "Invalid type for 'input'"),
    "stream_string": ({**search_body(), "stream": "true"}, "Invalid type for 'stream': expected a boolean"),
    "tools_object": ({**search_body(), "tools": {"type": "image_search"}}, "Invalid type for 'tools'"),
    "tool_without_type": ({**search_body(), "tools": [{"name": "image_search"}]}, "'tools[0].type'"),
    "bad_role": ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
    "content_number": ({"model": "m", "input": [{"role": "user", "content": 1}]}, "input[0].content"),
    "part_without_type": ({"model": "m", "input": [{"role": "user", "content": [{}]}]}, "input[0].content[0].type"),
    "text_not_string": ({"model": "m", "input": [{"role": "user", "content": [{"type": "input_text", "text": 1}]}]},
                        "input[0].content[0].text"),
    "image_url_object": (_with_image({"url": "https://a/b.png"}), "Invalid type for 'input[0].content[1].image_url'"),
    "image_url_missing": ({"model": "qwen3.5-plus", "tools": [{"type": "image_search"}],
                           "input": [{"role": "user", "content": [{"type": "input_image"}]}]},
                          "Missing required parameter: 'input[0].content[0].image_url'"),
    "unsupported_model": (search_body(model="qwen-max"), "does not support the image_search tool"),
    "no_image": (search_body(images=[]), "needs an input_image"),
    "local_path": (_with_image("/home/me/cat.png"), "local file path"),
    "relative_path": (_with_image("./cat.png"), "local file path"),
    "windows_path": (_with_image("C:\\Users\\me\\cat.png"), "local file path"),
    "file_url": (_with_image("file:///home/me/cat.png"), "file:// URL"),
    "ftp_url": (_with_image("ftp://example.com/cat.png"), "must be an http(s) URL"),
    "oss_without_header": (_with_image("oss://bucket/cat.png"), "X-DashScope-OssResourceResolve"),
    "url_without_host": (_with_image("https:///cat.png"), "not a valid URL"),
    "broken_base64": (_with_image("data:image/png;base64,iVBORw0KGgo*"), "broken base64"),
    "base64_bad_padding": (_with_image("data:image/png;base64,abc"), "broken base64"),
    "empty_base64": (_with_image("data:image/png;base64,"), "no image data"),
    "data_uri_not_base64": (_with_image("data:image/png,rawbytes"), "data:image/<format>;base64"),
    "data_uri_not_image": (_with_image("data:text/plain;base64,aGVsbG8="), "data:image/<format>;base64"),
    "data_uri_gif": (_with_image("data:image/gif;base64,R0lGODlh"), "unsupported image format 'gif'"),
    "tool_choice_bad": ({**search_body(), "tool_choice": "always"}, "'tool_choice' must be auto, none or required"),
    "max_output_tokens_zero": ({**search_body(), "max_output_tokens": 0}, "'max_output_tokens' must be at least 1"),
    "max_output_tokens_bool": ({**search_body(), "max_output_tokens": True}, "Invalid type for 'max_output_tokens'"),
    "enable_thinking_string": ({**search_body(), "enable_thinking": "no"}, "Invalid type for 'enable_thinking'"),
    "too_many_images": (search_body(images=[f"https://example.com/{i}.jpg" for i in range(257)]), "Too many images"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
async def test_bad_request_is_a_400_that_says_why(
    mock_client: MockClientFactory, case: str
) -> None:
    body, fragment = BAD_REQUESTS[case]
    client = await mock_client()
    variants = [body] if "stream" in body else [{**body, "stream": False}, {**body, "stream": True}]
    for variant in variants:
        resp = await _post(client, variant)
        assert resp.status == 400
        error = await resp.json()
        schemas.validator("error").validate(error)
        assert error["code"] == "InvalidParameter"
        assert fragment in error["message"], error["message"]


async def test_oss_url_with_the_documented_header(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    resp = await _post(client, _with_image("oss://bucket/cat.png"),
                       headers={"X-DashScope-OssResourceResolve": "enable"})  # fmt: skip
    assert resp.status == 200


async def test_models_option(mock_client: MockClientFactory) -> None:
    client = await mock_client(image_search_models=frozenset({"my-model"}))
    assert (await _post(client, search_body(model="my-model"))).status == 200
    assert (await _post(client, search_body(model="qwen3.5-plus"))).status == 400


async def test_oversized_body_is_413(mock_client: MockClientFactory) -> None:
    client = await mock_client(max_body_bytes=1024)
    resp = await _post(client, search_body(text="x" * 4096))
    assert resp.status == 413
    body = await resp.json()
    assert body["code"] == "RequestEntityTooLarge" and "1024" in body["message"]


async def test_base64_over_the_documented_limit(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    huge = "data:image/png;base64," + "A" * (10 * 1024 * 1024 + 4)
    raw = io.BytesIO(json.dumps(_with_image(huge)).encode())
    resp = await client.post(
        LEGACY_PATH, data=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert "10 MB" in (await resp.json())["message"]


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [({"X-Mock-Scenario": "nope"}, "Unknown mock scenario 'nope'. Valid scenarios: default, doc_example"),
     ({"X-Mock-Scenario": "../../etc/passwd"}, "Unknown mock scenario"),
     ({"X-Mock-Scenario": "a" * 5000}, "Valid scenarios"),
     ({"X-Mock-Speed": "fast"}, "X-Mock-Speed must be a number"),
     ({"X-Mock-Speed": "-1"}, "X-Mock-Speed must be a number"),
     ({"X-Mock-Speed": "nan"}, "X-Mock-Speed must be a number"),
     ({"X-Mock-Seed": "1.5"}, "X-Mock-Seed must be an integer"),
     ({"X-Mock-Framing": "json"}, "X-Mock-Framing must be dashscope or openai")],
    ids=["unknown", "path_like", "very_long", "speed_word", "speed_negative", "speed_nan", "seed_float", "framing"],
)  # fmt: skip
async def test_bad_mock_headers(
    mock_client: MockClientFactory, headers: dict[str, str], fragment: str
) -> None:
    client = await mock_client()
    resp = await _post(client, search_body(), headers=headers)
    assert resp.status == 400
    body = await resp.json()
    assert fragment in body["message"]
    assert len(body["message"]) < 1000


async def test_wrong_method_and_unknown_path(mock_client: MockClientFactory) -> None:
    client = await mock_client()
    resp = await client.get(LEGACY_PATH, headers=AUTH)
    assert resp.status == 405
    body = await resp.json()
    assert body["code"] == "MethodNotAllowed" and "POST" in resp.headers["Allow"]
    resp = await client.post("/v1/chat/completions", json={}, headers=AUTH)
    assert resp.status == 404
    body = await resp.json()
    schemas.validator("error").validate(body)
    assert body["code"] == "NotFound" and LEGACY_PATH in body["message"]


async def test_client_that_leaves_mid_stream_does_not_hurt_the_server(
    mock_client: MockClientFactory,
) -> None:
    client = await mock_client(slow_gap=0.05)
    resp = await _post(client, search_body(stream=True), scenario="slow")
    await resp.content.readuntil(b"\n\n")
    resp.close()
    await asyncio.sleep(0.1)
    assert (await _post(client, search_body())).status == 200
