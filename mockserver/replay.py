"""Serving cassettes: find the recorded interaction for a request, and send it back as recorded.

A :class:`CassetteLibrary` holds every cassette of some folders, each a scenario named after its
file. A request reaches a cassette by name (``X-Mock-Scenario``), or by matching: its ``model``,
``input`` and ``tools`` equal a recorded request's (``stream`` only chooses between recordings
of both modes). A miss explains the nearest recordings field by field.

:func:`send_recorded` replays byte for byte: the recorded status, headers and body chunks, the
recorded wait before the headers and the recorded gaps between chunks (times ``speed``), and a
recorded dropped connection. A streamed recording answers a non-streaming request with the
response of its terminal event, and a JSON recording answers a streaming request with the
documented event sequence, through the two functions of :mod:`mockserver.protocol`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from client import SSEDecoder

from . import cassette as cs
from .errors import RequestError
from .faults import Frame, apply
from .journal import JournalEntry
from .protocol import events_from_response, response_from_events
from .sse import Sending, SSEEncoder, count_events, dumps, send_body, send_bytes, send_frames

__all__ = [
    "MATCH_FIELDS",
    "CassetteLibrary",
    "Entry",
    "Miss",
    "bundled_dir",
    "first_difference",
    "is_stream",
    "send_recorded",
]

#: The request fields a recording must share with a request to answer it.
MATCH_FIELDS = ("model", "input", "tools")
#: Recorded response headers that describe one connection or one moment, not the answer.
_NOT_REPLAYED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date"}
)


def bundled_dir() -> Path:
    """The bundled cassettes: ``mockserver/cassettes/`` in an installed wheel, else the
    repository's ``cassettes/`` (a checkout or an editable install)."""
    installed = Path(__file__).resolve().parent / "cassettes"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "cassettes"


def is_stream(response: cs.RecordedResponse) -> bool:
    """Whether a recorded response is an event stream."""
    return "text/event-stream" in (response.header("content-type") or "")


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded interaction, with what matching needs of its request."""

    cassette: str
    index: int
    interaction: cs.Interaction
    #: ``model``, ``input`` and ``tools`` of the recorded JSON body (``None``: not JSON)
    fields: dict[str, Any] | None
    stream: bool

    @property
    def label(self) -> str:
        """``name#index``, as logs and explanations show it."""
        return f"{self.cassette}#{self.index}"


@dataclass(frozen=True, slots=True)
class Miss:
    """No recording matched; ``explanation`` names the nearest ones and how they differ."""

    explanation: str


def _request_fields(body: bytes) -> tuple[dict[str, Any] | None, bool]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None, False
    if not isinstance(document, dict):
        return None, False
    return _fields(document), document.get("stream") is True


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {name: body.get(name) for name in MATCH_FIELDS}


def _key(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_difference(sent: Any, recorded: Any, path: str) -> str | None:
    """Where two JSON values first differ, as ``path: sent X, recorded Y``; ``None`` if equal."""
    if type(sent) is type(recorded) and isinstance(sent, dict):
        for key in sorted(set(sent) | set(recorded)):
            if key not in sent:
                return f"{path}.{key}: not sent, recorded {_short(recorded[key])}"
            if key not in recorded:
                return f"{path}.{key}: sent {_short(sent[key])}, not recorded"
            found = first_difference(sent[key], recorded[key], f"{path}.{key}")
            if found:
                return found
        return None
    if type(sent) is type(recorded) and isinstance(sent, list):
        for n, (a, b) in enumerate(zip(sent, recorded, strict=False)):
            found = first_difference(a, b, f"{path}[{n}]")
            if found:
                return found
        if len(sent) != len(recorded):
            return f"{path}: sent {len(sent)} items, recorded {len(recorded)}"
        return None
    if sent == recorded and type(sent) is type(recorded):
        return None
    return f"{path}: sent {_short(sent)}, recorded {_short(recorded)}"


class CassetteLibrary:
    """Cassettes served as scenarios. Loading fails at once on a bad or duplicated cassette."""

    def __init__(self, cassettes: dict[str, cs.Cassette]) -> None:
        self.cassettes = dict(sorted(cassettes.items()))
        self._entries: dict[str, list[Entry]] = {}
        self._by_fields: dict[str, list[Entry]] = {}
        self._plays: dict[tuple[str, ...], int] = {}
        for name, cassette in self.cassettes.items():
            entries = []
            for n, interaction in enumerate(cassette.interactions):
                fields, stream = _request_fields(interaction.request.body)
                entry = Entry(name, n, interaction, fields, stream)
                entries.append(entry)
                if fields is not None:
                    self._by_fields.setdefault(_key(fields), []).append(entry)
            self._entries[name] = entries

    @classmethod
    def from_dirs(cls, dirs: Iterable[str | Path]) -> CassetteLibrary:
        """Load every ``*.yaml`` cassette in ``dirs`` (a name may appear only once)."""
        found: dict[str, cs.Cassette] = {}
        where: dict[str, Path] = {}
        for folder in map(Path, dirs):
            if not folder.is_dir():
                raise cs.CassetteError(f"{folder}: no such folder of cassettes")
            for path in sorted(folder.glob("*.yaml")):
                if path.stem in found:
                    raise cs.CassetteError(
                        f"{path}: a cassette named {path.stem!r} is already loaded from "
                        f"{where[path.stem]}; names must be unique"
                    )
                found[path.stem], where[path.stem] = cs.load(path), path
        return cls(found)

    def __contains__(self, name: object) -> bool:
        return name in self.cassettes

    def __len__(self) -> int:
        return len(self.cassettes)

    def choose(self, name: str, body: dict[str, Any]) -> Entry:
        """The interaction of cassette ``name`` that best answers ``body``."""
        entries = self._entries[name]
        if not entries:
            raise RequestError(
                502, "Mock.EmptyCassette", f"The cassette {name!r} holds no interaction."
            )
        fields, stream = _fields(body), body.get("stream") is True

        def score(e: Entry) -> tuple[bool, bool]:
            return (e.fields == fields, e.stream == stream)

        best = max(map(score, entries))
        return self._rotate([e for e in entries if score(e) == best])

    def match(self, body: dict[str, Any], prefer: str = "") -> Entry | Miss:
        """The recording whose request matches ``body``, or a :class:`Miss` that explains.

        Among equal matches: the cassette named ``prefer`` first, then one recorded in the
        same mode (``stream``), then cassette order; repeats of one request take the matching
        recordings in turn, as vcrpy plays them.
        """
        fields = _fields(body)
        hits = self._by_fields.get(_key(fields))
        if not hits:
            return Miss(self.explain(fields))
        stream = body.get("stream") is True

        def rank(e: Entry) -> tuple[bool, bool]:
            return (e.cassette != prefer, e.stream != stream)

        best = min(map(rank, hits))
        return self._rotate([e for e in hits if rank(e) == best])

    def reset_turns(self) -> None:
        """Start every request's recordings from the first again (the admin reset)."""
        self._plays.clear()

    def _rotate(self, candidates: Sequence[Entry]) -> Entry:
        if len(candidates) == 1:
            return candidates[0]
        key = tuple(e.label for e in candidates)
        n = self._plays.get(key, 0)
        self._plays[key] = n + 1
        return candidates[n % len(candidates)]

    def explain(self, fields: dict[str, Any], limit: int = 3) -> str:
        """The nearest recordings to a request's ``fields``, and each field that differs."""
        scored = []
        for entries in self._entries.values():
            for e in entries:
                if e.fields is None:
                    continue
                diffs = [
                    d
                    for name in MATCH_FIELDS
                    if (d := first_difference(fields.get(name), e.fields.get(name), name))
                ]
                scored.append((len(diffs), e.label, diffs))
        if not scored:
            return "No cassette holds a JSON request to match against."
        scored.sort(key=lambda s: (s[0], s[1]))
        lines = [f"{label}: {'; '.join(diffs)}" for _, label, diffs in scored[:limit]]
        more = len(scored) - limit
        tail = f" ({more} more recordings differ further)" if more > 0 else ""
        return "No recording matches model, input and tools. Nearest: " + " | ".join(lines) + tail


def _replay_headers(headers: dict[str, list[str]], drop: Iterable[str] = ()) -> CIMultiDict[str]:
    skip = _NOT_REPLAYED | {d.lower() for d in drop}
    out: CIMultiDict[str] = CIMultiDict()
    for name, values in headers.items():
        if name.lower() not in skip:
            for value in values:
                out.add(name, value)
    return out


async def send_recorded(
    request: web.Request,
    entry: Entry,
    *,
    stream: bool,
    speed: float,
    encoder: SSEEncoder,
    delta_chars: int,
    done: bool,
    sending: Sending,
) -> web.StreamResponse:
    """Answer ``request`` from ``entry``: as recorded, or converted to the other mode.

    With faults that change what is sent, a recorded stream is cut into its frames (each
    keeping the recorded time of its last byte) and sent through the fault plan.
    """
    recorded = entry.interaction.response
    shaped = sending.faults.shapes_body
    if recorded.status == 200 and is_stream(recorded) and not stream:
        kept = _replay_headers(recorded.headers, ("content-type", "cache-control"))
        body = _as_json(entry)
        if shaped:
            return await send_body(request, 200, dict(kept), body, sending)
        return web.Response(body=body, status=200, headers=kept, content_type="application/json")
    if recorded.status == 200 and not is_stream(recorded) and stream:
        frames = _as_stream(entry, encoder, delta_chars, done)
        if frames is not None:
            only_type = dict(_replay_headers(recorded.headers, ("content-type",)))
            if shaped:
                plan = apply(frames, sending.faults)
                return await send_frames(request, 200, only_type, plan, sending)
            data = b"".join(f.data for f in frames)
            return await send_bytes(request, 200, only_type, data, stream=True, entry=sending.entry)
    if shaped:
        headers = dict(_replay_headers(recorded.headers))
        if is_stream(recorded):
            plan = apply(recorded_frames(recorded, speed), sending.faults)
            plan = replace(plan, end="close") if recorded.cut and plan.end == "eof" else plan
            return await send_frames(request, recorded.status, headers, plan, sending)
        wait = recorded.latency * speed
        return await send_body(request, recorded.status, headers, recorded.body, sending, wait=wait)
    return await _send_as_recorded(request, recorded, speed, sending.entry)


_FRAME = re.compile(rb".*?(?:\r\n\r\n|\n\n|\r\r)|.+", re.S)


def recorded_frames(recorded: cs.RecordedResponse, speed: float) -> list[Frame]:
    """A recorded stream as SSE frames, each delayed to the recorded time of its last byte."""
    ends: list[tuple[int, float]] = []
    position = 0
    for chunk in recorded.chunks:
        position += len(chunk.data)
        ends.append((position, chunk.offset))
    frames: list[Frame] = []
    previous = 0.0
    n = 0
    for found in _FRAME.finditer(recorded.body):
        while n < len(ends) - 1 and ends[n][0] < found.end():
            n += 1
        at = ends[n][1] if ends else 0.0
        data = found.group()
        event = b"data:" in data and b"[DONE]" not in data
        frames.append(Frame(data, max(0.0, at - previous) * speed, event=event))
        previous = at
    return frames


def _as_json(entry: Entry) -> bytes:
    recorded = entry.interaction.response
    decoder = SSEDecoder()
    events = [*decoder.feed(recorded.body), *decoder.flush()]
    documents = []
    for event in events:
        try:
            document = json.loads(event.data)
        except ValueError:
            continue  # [DONE], or a deliberately broken frame: no part of the response
        if isinstance(document, dict):
            documents.append(document)
    try:
        response = response_from_events(documents)
    except ValueError:
        raise RequestError(
            502,
            "Mock.CassetteUnconvertible",
            f"The cassette {entry.label} recorded a stream with no terminal event, so it "
            "cannot answer a non-streaming request; send stream: true.",
        ) from None
    return dumps(response)


def _as_stream(
    entry: Entry, encoder: SSEEncoder, delta_chars: int, done: bool
) -> list[Frame] | None:
    try:
        response = json.loads(entry.interaction.response.body)
    except ValueError:
        return None
    if not isinstance(response, dict) or response.get("object") != "response":
        return None  # not a Response object (an error body): replayed as recorded
    frames = [Frame(encoder.encode(e)) for e in events_from_response(response, delta_chars)]
    if done:
        frames.append(Frame(encoder.done(), event=False))
    return frames


async def _send_as_recorded(
    request: web.Request, recorded: cs.RecordedResponse, speed: float, journal: JournalEntry
) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    if recorded.latency > 0 and speed > 0:
        await asyncio.sleep(recorded.latency * speed)
    out = web.StreamResponse(
        status=recorded.status,
        reason=recorded.reason or None,
        headers=_replay_headers(recorded.headers),
    )
    length = recorded.header("content-length")
    if length is not None and length.isdigit() and not is_stream(recorded):
        out.content_length = int(length)  # a cut body still promises what it promised
    else:
        out.enable_chunked_encoding()
        if is_stream(recorded):
            out.force_close()  # documented: the connection closes after the terminal event
    try:
        await out.prepare(request)
        journal.sent_headers(recorded.status, stream=is_stream(recorded))
        started = loop.time()
        batch: list[bytes] = []
        for chunk in recorded.chunks:
            # Against the start, not the previous chunk: sleeps that overrun do not add up.
            wait = started + chunk.offset * speed - loop.time()
            if wait > 0:
                if batch:
                    await out.write(b"".join(batch))
                    batch.clear()
                await asyncio.sleep(wait)
            batch.append(chunk.data)
        if batch:
            await out.write(b"".join(batch))
        journal.events_sent = count_events(recorded.body)
        if recorded.cut:
            if request.transport is not None:
                request.transport.abort()
        else:
            await out.write_eof()
    except ConnectionResetError:  # the client left: nothing more to send
        journal.left()
    return out
