"""SSE encoding (pure) and the emitter that writes a :class:`Reply` to aiohttp.

The encoder writes DashScope's documented framing [S2]::

    id:1
    event:response.created
    :HTTP_STATUS/200
    data:{"sequence_number":0,...}

or, as an option, OpenAI's (``event: `` and ``data: `` with a space). Event payloads are
compact JSON on one line, so no ``data:`` splitting is ever needed; the event name is stripped
of line breaks. Frames with no delay between them are sent in one write.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .config import Framing
from .protocol import events_from_response
from .scenarios import Reply

__all__ = ["Frame", "SSEEncoder", "dumps", "emit", "encode_plain", "send_bytes"]

_SSE_HEADERS = {"Content-Type": "text/event-stream;charset=UTF-8", "Cache-Control": "no-cache"}


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is (as the documented streams show it)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE frame on the wire, and the delay before it."""

    data: bytes
    delay: float = 0.0


class SSEEncoder:
    """Turns event dicts into SSE frames in one framing."""

    def __init__(self, framing: Framing = "dashscope", *, status_comment: bool = True) -> None:
        self.framing = framing
        self.status_comment = status_comment

    def encode(self, event: dict[str, Any], data: bytes | None = None) -> bytes:
        """Frame ``event``; ``data`` replaces its JSON (to send a deliberately broken payload)."""
        name = str(event.get("type", "")).replace("\r", "").replace("\n", "")
        payload = dumps(event) if data is None else data
        if self.framing == "openai":
            return b"event: " + name.encode() + b"\ndata: " + payload + b"\n\n"
        seq = event.get("sequence_number")
        head = b"id:%d\n" % (seq + 1) if isinstance(seq, int) else b""
        comment = b":HTTP_STATUS/200\n" if self.status_comment else b""
        return head + b"event:" + name.encode() + b"\n" + comment + b"data:" + payload + b"\n\n"

    def done(self) -> bytes:
        """The ``[DONE]`` sentinel (OpenAI chat style; not documented for this endpoint)."""
        return b"data: [DONE]\n\n" if self.framing == "openai" else b"data:[DONE]\n\n"


def _broken(payload: bytes) -> bytes:
    # Valid-looking JSON cut in the middle: what a buggy proxy or a torn write produces.
    return payload[: max(1, len(payload) // 2)]


def stream_frames(
    reply: Reply, encoder: SSEEncoder, *, delta_chars: int, speed: float, done: bool
) -> tuple[list[Frame], bool]:
    """The frames of a streamed reply, and whether the connection drops after them."""
    assert reply.response is not None
    events = events_from_response(reply.response, delta_chars)
    delay = reply.gap * speed
    broken = None if reply.malformed_at is None else int(len(events) * reply.malformed_at)
    frames = [
        Frame(encoder.encode(e, _broken(dumps(e)) if n == broken else None), delay if n else 0.0)
        for n, e in enumerate(events)
    ]
    if reply.cut_at is not None:
        return frames[: max(1, int(len(frames) * reply.cut_at))], True
    if done:
        frames.append(Frame(encoder.done()))
    return frames, False


async def _write_frames(resp: web.StreamResponse, frames: Sequence[Frame]) -> None:
    batch: list[bytes] = []
    for frame in frames:
        if frame.delay > 0:
            if batch:
                await resp.write(b"".join(batch))
                batch.clear()
            await asyncio.sleep(frame.delay)
        batch.append(frame.data)
    if batch:
        await resp.write(b"".join(batch))


def _sse_response(status: int, headers: dict[str, str]) -> web.StreamResponse:
    resp = web.StreamResponse(status=status, headers={**_SSE_HEADERS, **headers})
    resp.enable_chunked_encoding()
    # Documented: the connection closes right after the terminal event [S2, I]; clients that
    # read to EOF (both OpenAI SDKs) would otherwise wait on a kept-alive socket.
    resp.force_close()
    return resp


def _json_body(reply: Reply) -> bytes:
    return dumps(reply.response if reply.response is not None else reply.body)


def _drop(request: web.Request) -> None:
    # Abort: no chunked terminator, no FIN handshake niceties; the client sees a torn body.
    if request.transport is not None:
        request.transport.abort()


async def emit(
    request: web.Request,
    reply: Reply,
    *,
    stream: bool,
    headers: dict[str, str],
    encoder: SSEEncoder,
    delta_chars: int,
    speed: float,
    done: bool,
) -> web.StreamResponse:
    """Send ``reply`` as a JSON body or as an event stream, applying its delays and faults."""
    headers = {**headers, **reply.headers}
    if reply.response is None or not stream:
        return await _emit_json(request, reply, headers, speed)
    frames, drop = stream_frames(reply, encoder, delta_chars=delta_chars, speed=speed, done=done)
    resp = _sse_response(reply.status, headers)
    try:
        await resp.prepare(request)
        await _write_frames(resp, frames)
        if drop:
            _drop(request)
        else:
            await resp.write_eof()
    except ConnectionResetError:  # the client left mid-stream: nothing more to send
        pass
    return resp


async def _emit_json(
    request: web.Request, reply: Reply, headers: dict[str, str], speed: float
) -> web.StreamResponse:
    body = _json_body(reply)
    if reply.gap > 0 and speed > 0:
        await asyncio.sleep(reply.gap * speed)
    if reply.malformed_at is not None:
        body = _broken(body)
    if reply.cut_at is None:
        return web.Response(
            body=body, status=reply.status, headers=headers, content_type="application/json"
        )
    # The promised Content-Length is never reached: the client sees a truncated body.
    resp = web.StreamResponse(status=reply.status, headers=headers)
    resp.content_type = "application/json"
    resp.content_length = len(body)
    try:
        await resp.prepare(request)
        await resp.write(body[: max(1, int(len(body) * reply.cut_at))])
    except ConnectionResetError:
        return resp
    _drop(request)
    return resp


def encode_plain(
    reply: Reply, *, stream: bool, encoder: SSEEncoder, delta_chars: int, done: bool
) -> bytes | None:
    """The whole answer as bytes, for a reply without delays or faults; ``None`` otherwise."""
    if reply.gap or reply.cut_at is not None or reply.malformed_at is not None:
        return None
    if reply.response is None or not stream:
        return _json_body(reply)
    frames, _ = stream_frames(reply, encoder, delta_chars=delta_chars, speed=0.0, done=done)
    return b"".join(frame.data for frame in frames)


async def send_bytes(
    request: web.Request, status: int, headers: dict[str, str], data: bytes, *, stream: bool
) -> web.StreamResponse:
    """Send a complete answer: a JSON body, or a whole event stream in one write."""
    if not stream:
        return web.Response(
            body=data, status=status, headers=headers, content_type="application/json"
        )
    resp = _sse_response(status, headers)
    try:
        await resp.prepare(request)
        await resp.write(data)
        await resp.write_eof()
    except ConnectionResetError:  # the client left: nothing more to send
        pass
    return resp
