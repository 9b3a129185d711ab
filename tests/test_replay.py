"""The mock serving cassettes: by name or by matching, byte for byte, with the recorded timing,
converting between modes, and explaining misses."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from client import ImageSearchClient, Response
from mockserver import cassette as cs
from mockserver import create_app
from mockserver.documented import DOC_REQUEST
from mockserver.library import REGEN_CONFIG
from mockserver.replay import bundled_dir

from .conftest import MockUrlFactory
from .support import request_counter

BUNDLED = bundled_dir()
TEXT = DOC_REQUEST["input"][0]["content"][0]["text"]
IMAGE = DOC_REQUEST["input"][0]["content"][1]["image_url"]
AUTH = {"Authorization": "Bearer sk-anything-1234"}
RESULT_SCENARIOS = [
    "default",
    "doc_example",
    "zero_results",
    "max_results",
    "incomplete",
    "unicode",
]


async def _post(
    url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/responses", json=body, headers={**AUTH, **(headers or {})}) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


async def _search(url: str, stream: bool, **headers: str) -> Response:
    async with ImageSearchClient("sk-x", url, max_retries=0, headers=headers) as client:
        if stream:
            async with client.stream(IMAGE, TEXT) as events:
                return await events.final()
        return await client.search(IMAGE, TEXT)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("name", RESULT_SCENARIOS)
async def test_a_bundled_cassette_answers_as_the_synthesizer_does(
    mock_url: MockUrlFactory, name: str, stream: bool
) -> None:
    replaying = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0)
    synthesizing = await mock_url(**dataclasses.asdict(REGEN_CONFIG))
    replayed = await _search(replaying, stream, **{"X-Mock-Scenario": name})
    assert replayed == await _search(synthesizing, stream, **{"X-Mock-Scenario": name})


@pytest.mark.parametrize("index", [0, 1], ids=["json", "stream"])
async def test_replay_sends_the_recorded_bytes_and_headers(
    mock_url: MockUrlFactory, index: int
) -> None:
    url = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0)
    recorded = cs.load(BUNDLED / "doc_example.yaml").interactions[index]
    body = json.loads(recorded.request.body)
    status, headers, data = await _post(url, body, {"X-Mock-Scenario": "doc_example"})
    assert status == 200 and data == recorded.response.body
    assert headers["X-Request-ID"] == recorded.response.headers["X-Request-ID"][0]
    assert headers["Content-Type"] == recorded.response.headers["Content-Type"][0]


async def test_a_request_finds_its_cassette_by_matching(mock_url: MockUrlFactory) -> None:
    # All bundled cassettes hold the same request: the server's default scenario breaks the tie.
    url = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0, scenario="zero_results")
    expected = cs.load(BUNDLED / "zero_results.yaml").interactions[0].response.body
    status, _, data = await _post(url, {**DOC_REQUEST, "input": DOC_REQUEST["input"]})
    assert (status, data) == (200, expected)


async def test_a_miss_falls_back_or_explains_field_by_field(mock_url: MockUrlFactory) -> None:
    other = json.loads(json.dumps(DOC_REQUEST))
    other["input"][0]["content"][1]["image_url"] = "https://example.com/other.png"
    other["model"] = "qwen3.5-flash"
    fallback = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0)
    status, _, data = await _post(fallback, other)
    assert status == 200 and json.loads(data)["model"] == "qwen3.5-flash"  # synthesized
    strict = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0, cassette_miss="error")
    status, _, data = await _post(strict, other)
    error = json.loads(data)
    assert status == 404 and error["code"] == "Mock.NoMatchingCassette"
    message = error["message"]
    assert 'model: sent "qwen3.5-flash", recorded "qwen3.5-plus"' in message
    assert 'input[0].content[1].image_url: sent "https://example.com/other.png"' in message
    assert message.count("#") == 3 and "more recordings differ further" in message


async def test_a_miss_falls_back_to_the_builtin_default_scenario(mock_url: MockUrlFactory) -> None:
    # --scenario zero_results names a bundled cassette too; a miss still gets the built-in one,
    # synthesized for this request (zero results for its own image).
    other = json.loads(json.dumps(DOC_REQUEST))
    other["input"][0]["content"][1]["image_url"] = "https://example.com/other.png"
    url = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0, scenario="zero_results")
    status, _, data = await _post(url, other)
    (call,) = [i for i in json.loads(data)["output"] if i["type"] == "image_search_call"]
    assert status == 200 and call["output"] == "[]"


def _only(name: str, index: int, folder: Path) -> None:
    source = cs.load(BUNDLED / f"{name}.yaml")
    kept = cs.Cassette((source.interactions[index],), source.provenance)
    cs.save(kept, folder / f"only_{index}.yaml")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_one_mode_answers_the_other(
    mock_url: MockUrlFactory, tmp_path: Path, stream: bool
) -> None:
    _only("doc_example", 0, tmp_path)  # JSON only
    _only("doc_example", 1, tmp_path)  # stream only
    url = await mock_url(cassette_dirs=(str(tmp_path),), speed=0)
    from_json = await _search(url, stream, **{"X-Mock-Scenario": "only_0"})
    from_stream = await _search(url, stream, **{"X-Mock-Scenario": "only_1"})
    assert from_json == from_stream
    assert [len(c.results or ()) for c in from_json.image_search_calls] == [2]


async def test_a_cut_stream_cannot_answer_json_and_says_why(
    mock_url: MockUrlFactory, tmp_path: Path
) -> None:
    _only("stream_cut", 1, tmp_path)
    url = await mock_url(cassette_dirs=(str(tmp_path),), speed=0)
    status, _, data = await _post(url, DOC_REQUEST, {"X-Mock-Scenario": "only_1"})
    assert status == 502 and json.loads(data)["code"] == "Mock.CassetteUnconvertible"


async def test_speed_scales_the_recorded_gaps(mock_url: MockUrlFactory) -> None:
    url = await mock_url(cassette_dirs=(str(BUNDLED),))  # speed 1: the recorded gaps
    recorded = cs.load(BUNDLED / "slow.yaml").interactions[1].response
    span = recorded.chunks[-1].offset  # about 2 s per event
    started = time.perf_counter()
    await _search(url, True, **{"X-Mock-Scenario": "slow", "X-Mock-Speed": "0.005"})
    assert time.perf_counter() - started >= span * 0.005
    started = time.perf_counter()
    await _search(url, True, **{"X-Mock-Scenario": "slow", "X-Mock-Speed": "0"})
    assert time.perf_counter() - started < span * 0.005  # none of the gaps


async def test_repeats_take_the_recordings_in_turn(
    mock_url: MockUrlFactory, tmp_path: Path
) -> None:
    # A recorded retry: the first attempt was throttled, the second succeeded.
    throttled = cs.load(BUNDLED / "rate_limited.yaml").interactions[0]
    answered = cs.load(BUNDLED / "doc_example.yaml").interactions[0]
    cs.save(
        cs.Cassette((throttled, answered), cs.Provenance("synthesized", "retry")),
        tmp_path / "retry.yaml",
    )
    seen, count = request_counter()
    url = await mock_url(middlewares=(count,), cassette_dirs=(str(tmp_path),), speed=0)
    async with ImageSearchClient("sk-x", url, max_retries=1, retry_backoff=0.01) as client:
        response = await client.search(IMAGE, TEXT)
    assert len(seen) == 2 and [len(c.results or ()) for c in response.image_search_calls] == [2]


async def test_names_listing_and_unknown_names(mock_url: MockUrlFactory) -> None:
    url = await mock_url(cassette_dirs=(str(BUNDLED),), speed=0)
    root = url.split("/api/")[0]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{root}/__admin/scenarios") as resp,
    ):
        listing = await resp.json()
    cassettes = {c["name"]: c for c in listing["cassettes"]}
    assert set(cassettes) == {p.stem for p in BUNDLED.glob("*.yaml")}
    assert cassettes["slow"]["source"] == "synthesized" and cassettes["slow"]["interactions"] == 2
    status, _, data = await _post(url, DOC_REQUEST, {"X-Mock-Scenario": "nope"})
    assert status == 400 and "cassettes: default, doc_example" in json.loads(data)["message"]


def test_a_bad_or_duplicated_cassette_stops_the_server_at_start(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "broken.yaml").write_text("version: 1\ninteractions: {}\n")
    with pytest.raises(cs.CassetteError, match=r"broken.yaml: interactions must be a list"):
        create_app(cassette_dirs=(str(tmp_path / "a"),))
    (tmp_path / "a" / "broken.yaml").unlink()
    (tmp_path / "b").mkdir()
    _only("doc_example", 0, tmp_path / "a")
    _only("doc_example", 0, tmp_path / "b")
    with pytest.raises(cs.CassetteError, match="names must be unique"):
        create_app(cassette_dirs=(str(tmp_path / "a"), str(tmp_path / "b")))
