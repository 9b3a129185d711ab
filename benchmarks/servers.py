"""The servers the benchmark compares, each run alone in its own process.

``python benchmarks/servers.py KIND PORT`` where KIND is one of:

* ``bare``: aiohttp answering fixed bytes without reading the request (the ceiling);
* ``bare_parse``: aiohttp that reads and ``json.loads`` the body, then answers the same bytes
  the mock would (the fair baseline: every mock must parse the body to see ``"stream"``);
* ``mock``: the mock server itself, default scenario, no log.

The baselines answer byte for byte what the mock answers to the benchmark's request, captured
once at start-up from an in-process mock, with the same headers (``Connection: close`` for
streams, as the mock sends them).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver import create_app

PATH = "/api/v2/apps/protocols/compatible-mode/v1/responses"
REQUEST = json.loads((Path(__file__).parent / "request.json").read_text())
AUTH = {"Authorization": "Bearer sk-bench"}


async def capture() -> tuple[bytes, bytes]:
    """The mock's JSON body and stream body for the benchmark request."""
    async with TestClient(TestServer(create_app(speed=0))) as client:
        plain = await (await client.post(PATH, json=REQUEST, headers=AUTH)).read()
        body = {**REQUEST, "stream": True}
        stream = await (await client.post(PATH, json=body, headers=AUTH)).read()
    return plain, stream


def baseline(parse: bool, plain: bytes, stream: bytes) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        streaming = False
        if parse:
            streaming = json.loads(await request.read()).get("stream") is True
        if not streaming:
            return web.Response(body=plain, content_type="application/json")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream;charset=UTF-8"})
        resp.enable_chunked_encoding()
        resp.force_close()
        try:
            await resp.prepare(request)
            await resp.write(stream)
            await resp.write_eof()
        except ConnectionResetError:  # wrk closes its connections when time is up
            pass
        return resp

    app = web.Application()
    app.router.add_post(PATH, handle)
    return app


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "mock":
        app = create_app(speed=0)
    else:
        plain, stream = asyncio.run(capture())
        app = baseline(kind == "bare_parse", plain, stream)
    web.run_app(
        app, host="127.0.0.1", port=port, access_log=None, print=None, handler_cancellation=True
    )


if __name__ == "__main__":
    main()
