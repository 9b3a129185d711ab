"""The recording proxy: relays without buffering, records chunks and timing, keeps no secret,
never overwrites, and what it records replays through the mock and through plain vcrpy."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from openai import AsyncOpenAI

from client import ImageSearchClient, parse_response
from mockserver import cassette as cs
from mockserver import create_app
from mockserver.record import RecorderConfig, create_recorder_app
from mockserver.vcr_support import make_vcr

from .conftest import LEGACY_PREFIX, MockUrlFactory
from .support import LEGACY_PATH, SEED_IMAGE, request_counter

TEXT = "Find landscape images in a similar style"
INPUT = [
    {
        "role": "user",
        "content": [
            {"type": "input_text", "text": TEXT},
            {"type": "input_image", "image_url": SEED_IMAGE},
        ],
    }
]
BODY = {"model": "qwen3.5-plus", "input": INPUT, "tools": [{"type": "image_search"}]}

ProxyFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def proxy(aiohttp_server: Any, tmp_path: Path) -> ProxyFactory:
    """Factory: a recording proxy in front of ``upstream`` (a root URL); returns its root."""

    async def make(upstream: str, **options: Any) -> str:
        config = RecorderConfig(upstream=upstream, out_dir=tmp_path / "out", **options)
        server = await aiohttp_server(create_recorder_app(config))
        return str(server.make_url("")).rstrip("/")

    return make


def _root(mock_base: str) -> str:
    return mock_base.removesuffix(LEGACY_PREFIX)


def _key() -> str:
    return "sk-" + secrets.token_hex(16)


async def _sdk_stream(
    base_url: str, key: str, headers: dict[str, str]
) -> list[tuple[float, bytes]]:
    """Stream through the OpenAI SDK; the raw bytes it received, with arrival times."""
    client = AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0)
    received: list[tuple[float, bytes]] = []
    try:
        async with client.responses.with_streaming_response.create(
            model="qwen3.5-plus",
            input=INPUT,  # type: ignore[arg-type]
            tools=[{"type": "image_search"}],  # type: ignore[list-item]
            stream=True,
            extra_headers=headers,
        ) as raw:
            started = time.perf_counter()
            async for piece in raw.iter_bytes():
                received.append((time.perf_counter() - started, piece))
    finally:
        await client.close()
    return received


def _arrivals(received: list[tuple[float, bytes]], sizes: list[int]) -> list[float]:
    """When each recorded chunk had fully arrived, given what a client received and when."""
    out, total, n = [], 0, 0
    got = 0
    for size in sizes:
        total += size
        while got < total:
            got += len(received[n][1])
            n += 1
        out.append(received[n - 1][0])
    return out


async def test_sdk_recording_replays_with_the_same_bytes_and_timing(
    mock_url: MockUrlFactory,
    proxy: ProxyFactory,
    tmp_path: Path,
    aiohttp_server: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream = _root(await mock_url())
    proxy_root = await proxy(upstream)
    key = _key()
    # slow at speed 0.005: 10 ms between events, so the recording has real gaps to keep.
    headers = {"X-Mock-Scenario": "slow", "X-Mock-Speed": "0.005", "X-Record-Name": "sdk_slow"}
    recorded = await _sdk_stream(proxy_root + LEGACY_PREFIX, key, headers)
    wire = b"".join(piece for _, piece in recorded)
    path = tmp_path / "out" / "sdk_slow.yaml"

    text = path.read_text("utf-8")
    assert key not in text and key[3:] not in text
    assert key not in caplog.text
    cassette = cs.load(path)
    assert cassette.provenance.source == "recorded" and cassette.provenance.host == "127.0.0.1"
    (interaction,) = cassette.interactions
    response = interaction.response
    assert response.body == wire  # the chunks are the bytes the client got
    assert interaction.request.headers["Authorization"] == [f"Bearer {cs.PLACEHOLDER}"]
    offsets = [c.offset for c in response.chunks]
    assert len(offsets) > 10 and offsets == sorted(offsets) and offsets[-1] >= 0.01 * 30

    # Replay through the mock, found by matching the request (a miss would be a 404 here).
    app = create_app(cassette_dirs=(str(tmp_path / "out"),), cassette_miss="error")
    replay_root = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    replayed = await _sdk_stream(replay_root + LEGACY_PREFIX, "sk-other", {})
    assert b"".join(piece for _, piece in replayed) == wire
    arrived = _arrivals(replayed, [len(c.data) for c in response.chunks])
    for got, chunk in zip(arrived, response.chunks, strict=True):
        assert got >= chunk.offset - 0.01  # never early
    assert arrived[-1] <= offsets[-1] + 1.0  # and not late beyond a loaded machine's slack

    # Plain vcrpy replays the same recording to our client, with no server at all.
    with make_vcr(tmp_path / "out", record=False).use_cassette("sdk_slow.yaml"):
        ours = ImageSearchClient("sk-x", upstream + LEGACY_PREFIX, max_retries=0)
        async with ours, ours.stream(SEED_IMAGE, TEXT) as events:
            final = await events.final()
    terminal = json.loads(wire.rstrip().rsplit(b"data:", 1)[1])
    assert final == parse_response(terminal["response"])


async def test_the_proxy_relays_each_chunk_as_it_arrives(
    aiohttp_server: Any, proxy: ProxyFactory
) -> None:
    release = asyncio.Event()

    async def gated(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"event:first\ndata:{}\n\n")
        await release.wait()  # set only once the client has the first event
        await resp.write(b"event:second\ndata:{}\n\n")
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post(LEGACY_PATH, gated)
    upstream = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    proxy_root = await proxy(upstream, name="gated")
    async with (
        aiohttp.ClientSession() as session,
        session.post(proxy_root + LEGACY_PATH, json=BODY) as resp,
    ):
        # A buffering proxy would never send this before the upstream finished.
        first = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), timeout=10)
        assert first == b"event:first\ndata:{}\n\n"
        release.set()
        assert await resp.content.read() == b"event:second\ndata:{}\n\n"


async def test_secrets_in_query_body_and_stream_leave_no_trace(
    aiohttp_server: Any, proxy: ProxyFactory, tmp_path: Path
) -> None:
    key = _key()

    async def echo(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data:{"echo":"' + key[:10].encode())
        await asyncio.sleep(0.05)  # two separate reads at the proxy
        await resp.write(key[10:].encode() + b'"}\n\n')  # the key straddles two chunks
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post(LEGACY_PATH, echo)
    upstream = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    proxy_root = await proxy(upstream, name="leaky", patterns=(r"tenant-\d+",))
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{proxy_root}{LEGACY_PATH}?api_key={key}",
            json={**BODY, "note": f"my key is {key}, tenant-4711"},
            headers={"Authorization": f"Bearer {key}", "X-DashScope-ApiKey": key},
        ) as resp,
    ):
        assert key.encode() in await resp.read()  # the client itself gets the real bytes
    text = (tmp_path / "out" / "leaky.yaml").read_text("utf-8")
    assert key not in text and key[:12] not in text and key[10:] not in text
    assert "tenant-4711" not in text
    recorded = cs.load(tmp_path / "out" / "leaky.yaml").interactions[0]
    assert recorded.request.uri.endswith(f"?api_key={cs.PLACEHOLDER}")
    assert json.loads(recorded.request.body)["model"] == "qwen3.5-plus"  # still matchable
    assert len(recorded.response.chunks) == 2


async def test_an_existing_cassette_is_refused_before_anything_is_sent(
    mock_url: MockUrlFactory, proxy: ProxyFactory, tmp_path: Path
) -> None:
    seen, count = request_counter()
    upstream = _root(await mock_url(middlewares=(count,), speed=0))
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.yaml").write_text("hand-made, precious\n")
    proxy_root = await proxy(upstream)
    auth = {"Authorization": "Bearer sk-whatever-0000"}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            proxy_root + LEGACY_PATH, json=BODY, headers={**auth, "X-Record-Name": "mine"}
        ) as resp:
            assert resp.status == 409
            assert (await resp.json())["code"] == "Mock.CassetteExists"
        assert not seen and (out / "mine.yaml").read_text() == "hand-made, precious\n"
        # The same session may add to a cassette it started itself.
        for _ in range(2):
            async with session.post(
                proxy_root + LEGACY_PATH, json=BODY, headers={**auth, "X-Record-Name": "new"}
            ) as resp:
                assert resp.status == 200
                await resp.read()
    assert len(seen) == 2 and len(cs.load(out / "new.yaml").interactions) == 2


async def test_overwrite_replaces_and_a_bad_name_is_refused(
    mock_url: MockUrlFactory, proxy: ProxyFactory, tmp_path: Path
) -> None:
    upstream = _root(await mock_url(speed=0))
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.yaml").write_text("old\n")
    proxy_root = await proxy(upstream, name="mine", overwrite=True)
    auth = {"Authorization": "Bearer sk-whatever-0000"}
    async with aiohttp.ClientSession() as session:
        async with session.post(proxy_root + LEGACY_PATH, json=BODY, headers=auth) as resp:
            assert resp.status == 200
            await resp.read()
        async with session.post(
            proxy_root + LEGACY_PATH, json=BODY, headers={**auth, "X-Record-Name": "../etc"}
        ) as resp:
            assert resp.status == 400 and "X-Record-Name" in (await resp.json())["message"]
    assert len(cs.load(out / "mine.yaml").interactions) == 1
    assert sorted(p.name for p in out.iterdir()) == ["mine.yaml"]


async def test_an_unreachable_upstream_is_a_502_and_writes_nothing(
    proxy: ProxyFactory, tmp_path: Path, unused_tcp_port: int
) -> None:
    proxy_root = await proxy(f"http://127.0.0.1:{unused_tcp_port}", name="x")
    async with (
        aiohttp.ClientSession() as session,
        session.post(proxy_root + LEGACY_PATH, json=BODY) as resp,
    ):
        assert resp.status == 502
        body = await resp.json()
    assert body["code"] == "Mock.UpstreamUnreachable" and set(body) == {
        "request_id",
        "code",
        "message",
    }
    assert not (tmp_path / "out" / "x.yaml").exists()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_a_dropped_upstream_is_recorded_and_replayed_as_dropped(
    mock_url: MockUrlFactory, proxy: ProxyFactory, tmp_path: Path, aiohttp_server: Any, stream: bool
) -> None:
    upstream = _root(await mock_url(speed=0))
    proxy_root = await proxy(upstream, name="cut")
    headers = {"Authorization": "Bearer sk-whatever-0000", "X-Mock-Scenario": "stream_cut"}
    body = {**BODY, "stream": stream}
    async with aiohttp.ClientSession() as session:
        async with session.post(proxy_root + LEGACY_PATH, json=body, headers=headers) as resp:
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()
        (interaction,) = cs.load(tmp_path / "out" / "cut.yaml").interactions
        assert interaction.response.cut and interaction.response.body
        app = create_app(cassette_dirs=(str(tmp_path / "out"),))
        replay = str((await aiohttp_server(app)).make_url(LEGACY_PATH))
        async with session.post(
            replay, json=body, headers=headers | {"X-Mock-Scenario": "cut"}
        ) as resp:
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()


async def test_a_client_that_leaves_early_records_nothing(
    mock_url: MockUrlFactory, aiohttp_server: Any, tmp_path: Path
) -> None:
    upstream = _root(await mock_url())
    config = RecorderConfig(upstream=upstream, out_dir=tmp_path / "out", name="left")
    server = await aiohttp_server(create_recorder_app(config))
    headers = {"Authorization": "Bearer sk-whatever-0000", "X-Mock-Scenario": "slow"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            server.make_url(LEGACY_PATH), json={**BODY, "stream": True}, headers=headers
        ) as resp,
    ):
        await resp.content.readuntil(b"\n\n")  # the first event, then leave
    await server.close()  # waits for the proxy's handler to finish
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
