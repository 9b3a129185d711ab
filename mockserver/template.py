"""Answers with holes: a reply is encoded once, then only its ids and times change.

A mock answers the same request with the same results (they are seeded by the request), but
real responses carry fresh ids, a fresh ``created_at`` and a fresh request id. So the first
answer to a request is encoded with *marker* values in those places, cut at the markers into a
:class:`Template`, and cached; later identical requests only :meth:`Template.fill` the holes.
The markers embed a per-process random nonce, and a request whose body contains a marker is
never cached, so a marker can only come from the mock itself.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from .ids import fresh_uuid_bytes
from .synth import IdSource

__all__ = ["MarkerIds", "Markers", "Miss", "Template", "TemplateCache"]


class Markers:
    """The marker strings of one process."""

    def __init__(self) -> None:
        nonce = secrets.token_hex(8)
        self.nonce = nonce.encode()
        #: stands for the request id
        self.request_id = f"{nonce}r"
        #: stands for created_at: an integer in JSON, so a digit string of its own
        self.created_at = int("9" + str(secrets.randbelow(10**15)).zfill(15))
        self._created_digits = str(self.created_at).encode()
        self._pattern = re.compile(rb"%s(r|u\d{4})|(%d)" % (re.escape(self.nonce), self.created_at))

    def found_in(self, data: bytes) -> bool:
        """Whether ``data`` holds a marker (then answers to it are never cached)."""
        return self.nonce in data or self._created_digits in data

    def uuid(self, n: int) -> str:
        """The marker of the ``n``-th uuid a reply asks for."""
        return f"{self.nonce.decode()}u{n:04d}"

    def split(self, data: bytes) -> list[bytes | str]:
        """Cut ``data`` at the markers: bytes, then a hole name, then bytes, and so on."""
        out: list[bytes | str] = []
        last = 0
        for match in self._pattern.finditer(data):
            out.append(data[last : match.start()])
            out.append(match.group(1).decode() if match.group(1) else "t")
            last = match.end()
        out.append(data[last:])
        return out


class MarkerIds(IdSource):
    """An :class:`IdSource` that hands out markers instead of ids."""

    def __init__(self, markers: Markers) -> None:
        super().__init__()
        self._markers = markers
        self.count = 0

    def uuid(self) -> str:
        marker = self._markers.uuid(self.count)
        self.count += 1
        return marker


_REQUEST_ID = -1
_CREATED_AT = -2


@dataclass(frozen=True, slots=True)
class Template:
    """An encoded answer with holes, and what its HTTP response needs.

    ``pieces`` has one more item than ``holes``; hole ``k >= 0`` is the ``k``-th uuid.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    stream: bool
    pieces: tuple[bytes, ...]
    holes: tuple[int, ...]
    uuid_count: int
    #: for fixed ids: the key the ids derive from (``None``: random ids)
    id_key: str | None

    @classmethod
    def build(
        cls,
        data: bytes,
        markers: Markers,
        *,
        status: int,
        headers: tuple[tuple[str, str], ...],
        stream: bool,
        uuid_count: int,
        id_key: str | None,
    ) -> Template:
        """Cut ``data`` at its markers."""
        split = markers.split(data)
        pieces = tuple(p for p in split[::2] if isinstance(p, bytes))
        codes = {"r": _REQUEST_ID, "t": _CREATED_AT}
        holes = tuple(
            codes[h] if h in codes else int(h[1:]) for h in split[1::2] if isinstance(h, str)
        )
        return cls(status, headers, stream, pieces, holes, uuid_count, id_key)

    def response_headers(self, request_id: str) -> dict[str, str]:
        """The HTTP headers of the answer: ``x-request-id`` and the reply's own."""
        headers = {"x-request-id": request_id}
        if self.headers:
            headers.update(self.headers)
        return headers

    def fill(self, created_at: int, request_id: str) -> bytes:
        """The answer for one request: fresh ids (or the fixed ones), time and request id."""
        if self.id_key is None:
            values = fresh_uuid_bytes(self.uuid_count)
        else:
            ids = IdSource(self.id_key)
            values = [ids.uuid().encode() for _ in range(self.uuid_count)]
        values.append(str(created_at).encode())  # index -2
        values.append(request_id.encode())  # index -1
        pieces = self.pieces
        out = [pieces[0]]
        for n, hole in enumerate(self.holes, start=1):
            out.append(values[hole])
            out.append(pieces[n])
        return b"".join(out)


class Miss(enum.Enum):
    """What :meth:`TemplateCache.get` answers for a request it has not seen."""

    MISS = enum.auto()


class TemplateCache:
    """A bounded least-recently-used map from request keys to templates.

    A key may map to ``None``: its answer has delays or faults, so it is sent frame by frame
    and never cached; remembering that spares building it twice on every such request.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], Template | None] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> Template | Miss | None:
        template = self._items.get(key, Miss.MISS)
        if template is not Miss.MISS:
            self._items.move_to_end(key)
        return template

    def put(self, key: tuple[object, ...], template: Template | None) -> None:
        if self.size <= 0:
            return
        self._items[key] = template
        if len(self._items) > self.size:
            self._items.popitem(last=False)
