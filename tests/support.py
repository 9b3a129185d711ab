"""Helpers shared by the tests: request bodies, a mock in a thread, stream decoding."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import aiohttp
from aiohttp import web

from client import SSEDecoder, SSEEvent
from mockserver import MockServer
from mockserver.cassette import Chunk, Interaction, RecordedRequest, RecordedResponse

SEED_IMAGE = (
    "https://img.alicdn.com/imgextra/i4/O1CN01YbrnSS1qtmsAkw0Ud_!!6000000005554-2-tps-788-450.png"
)
LEGACY_PATH = "/api/v2/apps/protocols/compatible-mode/v1/responses"
AUTH = {"Authorization": "Bearer sk-test-0000"}


def search_body(
    images: Sequence[str] = (SEED_IMAGE,),
    text: str | None = "Find landscape images in a similar style",
    *,
    stream: bool | None = None,
    model: str = "qwen3.5-plus",
    tools: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A request body shaped like the seed pages' example."""
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "input_text", "text": text})
    content.extend({"type": "input_image", "image_url": url} for url in images)
    body: dict[str, Any] = {
        "model": model,
        "input": [{"role": "user", "content": content}],
        "tools": [{"type": "image_search"}] if tools is None else tools,
        **extra,
    }
    if stream is not None:
        body["stream"] = stream
    return body


def decode_events(raw: bytes) -> list[SSEEvent]:
    """All SSE events of a complete stream body."""
    decoder = SSEDecoder()
    return decoder.feed(raw) + decoder.flush()


def event_payloads(raw: bytes) -> list[dict[str, Any]]:
    """The JSON payloads of a complete stream body, ``[DONE]`` excluded."""
    return [json.loads(e.data) for e in decode_events(raw) if e.data != "[DONE]"]


#: The mock in its own thread and loop (the package's test double, as users get it).
ThreadedMock = MockServer


@contextmanager
def threaded_mock(**config: Any) -> Iterator[MockServer]:
    """Run ``create_app(**config)`` on 127.0.0.1:0 in a thread; stop it on exit."""
    with MockServer(**config) as server:
        yield server


async def capture_interaction(
    url: str, body: dict[str, Any], headers: dict[str, str]
) -> Interaction:
    """One interaction with a mock at base ``url``, its body kept chunk by chunk with offsets."""
    uri = f"{url}/responses"
    data = json.dumps(body).encode()
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        async with session.post(uri, data=data, headers=headers) as resp:
            chunks = [
                Chunk(time.perf_counter() - started, piece)
                async for piece in resp.content.iter_any()
            ]
            response = RecordedResponse(
                resp.status,
                resp.reason or "",
                {str(k): resp.headers.getall(k) for k in resp.headers},
                tuple(chunks),
            )
    request = RecordedRequest("POST", uri, {k: [v] for k, v in headers.items()}, data)
    return Interaction(request, response)


def request_counter() -> tuple[list[str], Any]:
    """An aiohttp middleware for a mock's app, and the list of paths it has seen."""
    seen: list[str] = []

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    return seen, count


def post_raw(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST ``data`` with the standard library (no HTTP client package needed): status, body."""
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
