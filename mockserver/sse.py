"""SSE encoding (pure) and the emitter that writes a :class:`Reply` to aiohttp.

The encoder writes DashScope's documented framing [S2]::

    id:1
    event:response.created
    :HTTP_STATUS/200
    data:{"sequence_number":0,...}

or, as an option, OpenAI's (``event: `` and ``data: `` with a space). Event payloads are
compact JSON on one line, so no ``data:`` splitting is ever needed; the event name is stripped
of line breaks. Frames with no delay between them are sent in one write.

The emitter applies faults (:mod:`mockserver.faults`) and reports to the request's
:class:`~mockserver.journal.JournalEntry` what it sent and whether the client left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .config import Framing
from .faults import End, FaultPlan, Faults, Frame, apply
from .journal import JournalEntry
from .protocol import events_from_response
from .scenarios import Reply

__all__ = [
    "SSEEncoder",
    "Sending",
    "count_events",
    "dumps",
    "emit",
    "encode_plain",
    "send_body",
    "send_bytes",
    "send_frames",
]

_SSE_HEADERS = {"Content-Type": "text/event-stream;charset=UTF-8", "Cache-Control": "no-cache"}


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is (as the documented streams show it)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


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
) -> tuple[list[Frame], End]:
    """The frames of a streamed reply, and how the connection ends after them."""
    assert reply.response is not None
    events = events_from_response(reply.response, delta_chars)
    delay = reply.gap * speed
    broken = None if reply.malformed_at is None else int(len(events) * reply.malformed_at)
    frames = [
        Frame(encoder.encode(e, _broken(dumps(e)) if n == broken else None), delay if n else 0.0)
        for n, e in enumerate(events)
    ]
    if reply.cut_at is not None:
        return frames[: max(1, int(len(frames) * reply.cut_at))], "close"
    if done:
        frames.append(Frame(encoder.done(), event=False))
    return frames, "eof"


@dataclass(frozen=True, slots=True)
class Sending:
    """How one answer goes out: its faults, the journal entry to report to, and the event
    that tells a stalled answer the server is stopping."""

    entry: JournalEntry
    faults: Faults = field(default_factory=Faults)
    stopping: asyncio.Event | None = None


def count_events(data: bytes) -> int:
    """Events in a complete stream body: its ``data:`` lines, less the ``[DONE]`` sentinel
    (JSON payloads hold no raw line break, so ``[DONE]`` before one is the sentinel)."""
    return data.count(b"\ndata:") - data.count(b"[DONE]\n") - data.count(b"[DONE]\r")


def _sse_response(status: int, headers: dict[str, str]) -> web.StreamResponse:
    resp = web.StreamResponse(status=status, headers={**_SSE_HEADERS, **headers})
    resp.enable_chunked_encoding()
    # Documented: the connection closes right after the terminal event [S2, I]; clients that
    # read to EOF (both OpenAI SDKs) would otherwise wait on a kept-alive socket.
    resp.force_close()
    return resp


def _json_body(reply: Reply) -> bytes:
    return dumps(reply.response if reply.response is not None else reply.body)


def _close(request: web.Request) -> None:
    # Flush what was written, then FIN, with no chunked terminator: the client sees a torn body.
    if request.transport is not None:
        request.transport.close()


def _reset(request: web.Request) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed by the peer
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _stall(request: web.Request, sending: Sending) -> None:
    # Hold the connection, sending nothing, until the client gives up or the server stops.
    while not _gone(request):
        if sending.stopping is not None and sending.stopping.is_set():
            return
        await asyncio.sleep(0.05)
    sending.entry.left()


async def _end(request: web.Request, resp: web.StreamResponse, end: End, s: Sending) -> None:
    if end == "eof":
        await resp.write_eof()
    elif end == "close":
        _close(request)
    elif end == "reset":
        _reset(request)
    else:
        await _stall(request, s)


async def _write(resp: web.StreamResponse, data: bytes, faults: Faults) -> None:
    if not faults.byte_at_a_time:
        await resp.write(data)
        return
    for n in range(len(data)):
        if n and faults.byte_delay:
            await asyncio.sleep(faults.byte_delay)
        await resp.write(data[n : n + 1])


async def send_frames(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    plan: FaultPlan,
    sending: Sending,
) -> web.StreamResponse:
    """Send an event stream frame by frame, with its delays, faults and ending."""
    faults, entry = sending.faults, sending.entry
    if faults.first_byte_delay:
        await asyncio.sleep(faults.first_byte_delay)
    resp = _sse_response(status, headers)
    if faults.reset_after == 0:
        _reset(request)
        return resp
    try:
        await resp.prepare(request)
        entry.sent_headers(status, stream=True)
        batch: list[bytes] = []
        count = 0
        for frame in plan.frames:
            if batch and (frame.delay > 0 or faults.byte_at_a_time):
                await _write(resp, b"".join(batch), faults)
                entry.events_sent += count
                batch.clear()
                count = 0
            if frame.delay > 0:
                await asyncio.sleep(frame.delay)
            batch.append(frame.data)
            count += frame.event
        if batch:
            await _write(resp, b"".join(batch), faults)
            entry.events_sent += count
        await _end(request, resp, plan.end, sending)
    except ConnectionResetError:  # the client left mid-stream: nothing more to send
        entry.left()
    except asyncio.CancelledError:
        entry.left()
        raise
    return resp


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
    sending: Sending,
) -> web.StreamResponse:
    """Send ``reply`` as a JSON body or as an event stream, applying its delays and faults."""
    headers = {**headers, **reply.headers}
    if reply.response is None or not stream:
        return await _emit_json(request, reply, headers, speed, sending)
    frames, end = stream_frames(reply, encoder, delta_chars=delta_chars, speed=speed, done=done)
    plan = apply(frames, sending.faults, end=end)
    return await send_frames(request, reply.status, headers, plan, sending)


async def _emit_json(
    request: web.Request, reply: Reply, headers: dict[str, str], speed: float, sending: Sending
) -> web.StreamResponse:
    return await send_body(
        request,
        reply.status,
        headers,
        _json_body(reply),
        sending,
        wait=reply.gap * speed,
        malformed=reply.malformed_at is not None,
        cut_share=reply.cut_at,
    )


async def send_body(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    body: bytes,
    sending: Sending,
    *,
    wait: float = 0.0,
    malformed: bool = False,
    cut_share: float | None = None,
) -> web.StreamResponse:
    """Send a JSON body, applying faults: the event-numbered ones act on the body (module
    :mod:`mockserver.faults`); ``cut_share`` is a scenario's own cut (a share of the body)."""
    faults = sending.faults
    wait += faults.first_byte_delay or 0.0
    if wait > 0:
        await asyncio.sleep(wait)
    if malformed or faults.malformed_at is not None:
        body = _broken(body)
    cut = faults.cut
    end: End = "eof" if cut is None else cut[1]
    if cut_share is not None and cut is None:
        end = "close"
    if end == "eof" and not faults.byte_at_a_time:
        return web.Response(
            body=body, status=status, headers=headers, content_type="application/json"
        )
    if end == "reset" and faults.reset_after == 0:
        _reset(request)
        return web.Response(status=status)
    # The promised Content-Length is never reached when the body is cut.
    resp = web.StreamResponse(status=status, headers=headers)
    resp.content_type = "application/json"
    resp.content_length = len(body)
    share = cut_share if cut_share is not None and cut is None else 0.5
    sent = body if end == "eof" else body[: max(1, int(len(body) * share))]
    try:
        await resp.prepare(request)
        sending.entry.sent_headers(status, stream=False)
        await _write(resp, sent, faults)
        await _end(request, resp, end, sending)
    except ConnectionResetError:
        sending.entry.left()
    except asyncio.CancelledError:
        sending.entry.left()
        raise
    return resp


def encode_plain(
    reply: Reply, *, stream: bool, encoder: SSEEncoder, delta_chars: int, done: bool
) -> bytes | None:
    """The whole answer as bytes, for a reply without delays or faults; ``None`` otherwise."""
    if reply.gap or reply.cut_at is not None or reply.malformed_at is not None or reply.faults:
        return None
    if reply.response is None or not stream:
        return _json_body(reply)
    frames, _ = stream_frames(reply, encoder, delta_chars=delta_chars, speed=0.0, done=done)
    return b"".join(frame.data for frame in frames)


async def send_bytes(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    data: bytes,
    *,
    stream: bool,
    entry: JournalEntry | None = None,
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
        if entry is not None:
            entry.sent_headers(status, stream=True)
            entry.events_sent = count_events(data)
        await resp.write_eof()
    except ConnectionResetError:  # the client left: nothing more to send
        if entry is not None:
            entry.left()
    return resp
