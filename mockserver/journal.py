"""The request journal: what each request asked and what the mock did, in a bounded ring.

Every request to the API paths gets a :class:`JournalEntry` when it arrives; the emitter fills
in the status, the events sent, whether the client left (and after which event) and the
timings as they happen. The :class:`Journal` keeps the newest ``size`` entries, so a long run
cannot exhaust memory; bodies above 16 KiB are kept with their long strings shortened (a
base64 image becomes a note of its length). Secrets never enter the journal: secret-named
headers and query parameters are masked, and key-shaped strings in bodies are replaced.

The journal is written by the server's thread and read by tests in another; reads can wait for
requests still in flight to settle (:meth:`Journal.entries`).
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDictProxy

from .cassette import KEY_SHAPED, PLACEHOLDER, SECRET_HEADERS, SECRET_PARAMS

__all__ = ["Journal", "JournalEntry", "mask_headers"]

#: Bodies up to this size are kept as received; larger ones have their long strings shortened.
BODY_KEEP_BYTES = 16 * 1024
_LONG_STRING = 256
_MASK = PLACEHOLDER.encode()


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with secret-named values masked (``Bearer REDACTED`` keeps the scheme)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if SECRET_HEADERS.search(name):
            scheme, sep, _ = value.partition(" ")
            value = f"{scheme} {PLACEHOLDER}" if sep else PLACEHOLDER
        out[name] = value
    return out


def _mask_query(query: Mapping[str, str]) -> dict[str, str]:
    return {k: PLACEHOLDER if SECRET_PARAMS.match(k) else v for k, v in query.items()}


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _LONG_STRING:
        return f"{value[:64]}...({len(value)} characters)"
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    return value


@dataclass(slots=True, eq=False)
class JournalEntry:
    """One request and what the mock did with it.

    Attributes:
        id: position in the journal since the server started (from 1).
        request_id: the ``x-request-id`` the mock answered with.
        method, path: of the request.
        scenario: the scenario or cassette that answered (``-`` before one is chosen).
        status: the HTTP status sent (``None`` while the answer is being prepared).
        stream: whether the answer was an event stream.
        events_sent: stream events written before the end (or the disconnect).
        disconnected: the client left before the answer was complete.
        disconnected_after: how many events it had been sent when it left.
        started: wall-clock time the request arrived (seconds since the epoch).
        first_byte: seconds from arrival to the response headers.
        duration: seconds from arrival to the end of the answer.
        faults: the faults applied, in their text form.
        expectation: the id of the expectation that answered, if any.
        attempt: for ``fail_times``: which attempt of this request this was (from 1).
        error: a failure of the mock or of a test's handler, in one line.
        done: the answer has ended.
    """

    id: int
    request_id: str
    method: str = ""
    path: str = ""
    scenario: str = "-"
    status: int | None = None
    stream: bool = False
    events_sent: int = 0
    disconnected: bool = False
    disconnected_after: int | None = None
    started: float = 0.0
    first_byte: float | None = None
    duration: float | None = None
    faults: str | None = None
    expectation: str | None = None
    attempt: int | None = None
    error: str | None = None
    done: bool = False
    _clock: float = 0.0
    _headers: Mapping[str, str] = field(default_factory=dict)
    _query: str = ""
    _raw: bytes | None = None
    _body: Any = None
    _decoded: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """The request headers, secrets masked."""
        return mask_headers(self._headers)

    @property
    def query(self) -> dict[str, str]:
        """The query parameters, secrets masked."""
        return _mask_query(dict(urllib.parse.parse_qsl(self._query, keep_blank_values=True)))

    @property
    def body(self) -> Any:
        """The request's JSON body (``None`` when it was empty or not JSON)."""
        if not self._decoded:
            self._body = _decode(self._raw)
            self._raw = None
            self._decoded = True
        return self._body

    def header(self, name: str) -> str | None:
        """One request header (case-insensitive), masked if secret."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def keep_body(self, raw: bytes) -> None:
        """Keep ``raw`` (a reference when small; shortened at once when large)."""
        if len(raw) <= BODY_KEEP_BYTES:
            self._raw = raw
            return
        try:
            self._body = _shorten(_decode(raw))
        except RecursionError:  # nested too deep to walk; the mock refuses it anyway
            self._body = None
        self._decoded = True

    def sent_headers(self, status: int, *, stream: bool) -> None:
        """The response headers are going out."""
        self.status = status
        self.stream = stream
        if self.first_byte is None:
            self.first_byte = time.perf_counter() - self._clock

    def left(self) -> None:
        """The client disconnected before the end."""
        if not self.disconnected:
            self.disconnected = True
            self.disconnected_after = self.events_sent

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON (the admin API's ``JournalEntry``)."""
        return {
            "id": self.id,
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "scenario": self.scenario,
            "status": self.status,
            "stream": self.stream,
            "events_sent": self.events_sent,
            "disconnected": self.disconnected,
            "disconnected_after": self.disconnected_after,
            "started": self.started,
            "first_byte": self.first_byte,
            "duration": self.duration,
            "faults": self.faults,
            "expectation": self.expectation,
            "attempt": self.attempt,
            "error": self.error,
            "done": self.done,
        }


def _decode(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(KEY_SHAPED.sub(_MASK, raw))
    except (ValueError, RecursionError):
        return None


class Journal:
    """The newest ``size`` entries (0 keeps none), safe to read from another thread.

    The server's side takes no lock: ``deque.append``, ``set.add`` and ``next()`` on a counter
    are atomic under the GIL, and a reader copies under a retry (the hot path stays cheap).
    """

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._entries: deque[JournalEntry] = deque(maxlen=size or 1)
        self._in_flight: set[int] = set()
        self._ids = itertools.count(1)

    def open(
        self,
        request_id: str,
        method: str,
        path: str,
        headers: CIMultiDictProxy[str] | Mapping[str, str],
        query: str = "",
        *,
        record: bool = True,
    ) -> JournalEntry:
        """A new entry for a request that just arrived (kept only when ``record``)."""
        entry = JournalEntry(
            0,
            request_id,
            method,
            path,
            started=time.time(),
            _clock=time.perf_counter(),
            _headers=headers,
            _query=query,
        )
        if record and self.size:
            entry.id = next(self._ids)
            self._in_flight.add(entry.id)
            self._entries.append(entry)
        return entry

    def close(self, entry: JournalEntry) -> None:
        """The answer to ``entry`` has ended (sent, failed or abandoned)."""
        if entry.done:
            return
        entry.duration = time.perf_counter() - entry._clock
        entry.done = True
        self._in_flight.discard(entry.id)

    def entries(
        self, where: Callable[[JournalEntry], bool] | None = None, *, settle: float = 1.0
    ) -> list[JournalEntry]:
        """The kept entries, oldest first, once no request is in flight (waiting at most
        ``settle`` seconds: a stalled stream stays in flight)."""
        deadline = time.monotonic() + settle
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.002)
        found = self._copy()
        return [e for e in found if where is None or where(e)]

    def _copy(self) -> list[JournalEntry]:
        while True:
            try:
                return list(self._entries)
            except RuntimeError:  # the server appended during the copy: copy again
                continue

    def clear(self) -> None:
        """Forget every entry (ids keep counting)."""
        self._entries.clear()
        self._in_flight.clear()

    @property
    def in_flight(self) -> int:
        """Requests whose answer has not ended."""
        return len(self._in_flight)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries(settle=0))
