"""Cassettes: recorded interactions in vcrpy's YAML format, with what vcrpy cannot keep.

A cassette is a vcrpy (format version 1) YAML file, so ``vcr.use_cassette(...)`` replays it to an
aiohttp client with no server. Two additions ride where vcrpy ignores them or keeps them whole:

* ``interactions[i].x_imgsearch``: how the response body arrived, as ``chunks``: each chunk's
  ``size`` in bytes and its ``offset`` in seconds from the moment the response headers arrived
  (vcrpy keeps only the joined body, which the sizes cut back into the chunks exactly);
  ``latency``, the seconds from sending the request to those headers; and ``cut: true`` when
  the upstream dropped the connection before the body was complete;
* ``metadata.imgsearch``: where the cassette came from (``recorded`` from a host at a date by a
  harness version, or ``synthesized``), its scenario name and a description. vcrpy (9.4+) keeps a
  top-level ``metadata`` mapping and hands it out through ``Cassette.get_metadata``.

Bodies are stored as text when they are UTF-8 (readable diffs) and as YAML binary otherwise.
Loading is ``yaml.safe_load`` only. :func:`save` writes atomically and never replaces an existing
file unless told to. :func:`redact` removes secrets before anything reaches the disk.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "PLACEHOLDER",
    "Cassette",
    "CassetteError",
    "Chunk",
    "Interaction",
    "Provenance",
    "RecordedRequest",
    "RecordedResponse",
    "dumps",
    "load",
    "loads",
    "redact",
    "save",
]

FORMAT_VERSION = 1  # vcrpy's
PLACEHOLDER = "REDACTED"
_EXTRA = "x_imgsearch"

Source = Literal["recorded", "synthesized"]


class CassetteError(Exception):
    """A cassette that cannot be read or written; the message names the file and the place."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes of a response body as they arrived, ``offset`` seconds after the response began."""

    offset: float
    data: bytes


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """The request of one interaction; header values are lists, as vcrpy keeps them."""

    method: str
    uri: str
    headers: dict[str, list[str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """The response of one interaction, its body kept as the chunks that made it."""

    status: int
    reason: str
    headers: dict[str, list[str]]
    chunks: tuple[Chunk, ...]
    #: seconds from sending the request to receiving the response headers
    latency: float = 0.0
    #: the upstream dropped the connection before the body was complete
    cut: bool = False

    @property
    def body(self) -> bytes:
        """The whole body."""
        return b"".join(c.data for c in self.chunks)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or ``None``."""
        lowered = name.lower()
        for key, values in self.headers.items():
            if key.lower() == lowered and values:
                return values[0]
        return None


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request and its response."""

    request: RecordedRequest
    response: RecordedResponse


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a cassette came from."""

    source: Source
    scenario: str
    description: str = ""
    #: the upstream host it was recorded from (``None`` for synthesized cassettes)
    host: str | None = None
    #: ISO 8601 date and time of the recording
    recorded_at: str | None = None
    harness_version: str | None = None
    #: deliberate faults the cassette carries (``cut``, ``malformed``): ``verify`` accepts them
    faults: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cassette:
    """Interactions and their provenance."""

    interactions: tuple[Interaction, ...]
    provenance: Provenance
    extra_metadata: dict[str, Any] = field(default_factory=dict)


# -- writing ----------------------------------------------------------------------------------


def _text_or_bytes(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _to_bytes(value: Any, where: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict | list):  # vcrpy's aiohttp stub records a json= body as is
        return json.dumps(value).encode("utf-8")
    raise CassetteError(f"{where}: expected text or binary, got {type(value).__name__}")


def _plain_headers(headers: Mapping[str, list[str]]) -> dict[str, list[str]]:
    # Plain str: aiohttp's header names are multidict ``istr``, which YAML cannot represent.
    return {str(name): [str(v) for v in values] for name, values in headers.items()}


def _interaction_dict(interaction: Interaction) -> dict[str, Any]:
    request, response = interaction.request, interaction.response
    return {
        "request": {
            "method": request.method,
            "uri": request.uri,
            "headers": _plain_headers(request.headers),
            "body": _text_or_bytes(request.body),
        },
        "response": {
            "status": {"code": response.status, "message": response.reason},
            "headers": _plain_headers(response.headers),
            "body": {"string": _text_or_bytes(response.body)},
        },
        _EXTRA: _extra_dict(response),
    }


def _extra_dict(response: RecordedResponse) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if response.latency:
        out["latency"] = response.latency
    if response.cut:
        out["cut"] = True
    out["chunks"] = [{"offset": c.offset, "size": len(c.data)} for c in response.chunks]
    return out


def _provenance_dict(p: Provenance) -> dict[str, Any]:
    out: dict[str, Any] = {"source": p.source, "scenario": p.scenario}
    if p.description:
        out["description"] = p.description
    for key in ("host", "recorded_at", "harness_version"):
        value = getattr(p, key)
        if value is not None:
            out[key] = value
    if p.faults:
        out["faults"] = list(p.faults)
    return out


def dumps(cassette: Cassette) -> str:
    """The cassette as vcrpy-compatible YAML."""
    document = {
        "version": FORMAT_VERSION,
        "interactions": [_interaction_dict(i) for i in cassette.interactions],
        "metadata": {**cassette.extra_metadata, "imgsearch": _provenance_dict(cassette.provenance)},
    }
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(document, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)


def save(cassette: Cassette, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``cassette`` to ``path`` atomically: a temporary file in the same folder, then a
    rename. An existing file is left alone (:class:`CassetteError`) unless ``overwrite``; an
    interrupted write leaves no partial file."""
    target = Path(path)
    text = dumps(cassette)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 is for secrets; cassettes hold none
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the target exists, atomically
            except FileExistsError:
                raise CassetteError(
                    f"{target}: a cassette is already there; pass overwrite to replace it"
                ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once, at import: os.umask is process-wide, and save() may run in worker threads.
_UMASK = _read_umask()


# -- reading ----------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CassetteError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _headers(value: Any, where: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, values in _mapping(value or {}, where).items():
        items = values if isinstance(values, list) else [values]
        out[str(name)] = [str(v) for v in items]
    return out


def _interaction(raw: Any, where: str) -> Interaction:
    d = _mapping(raw, where)
    req = _mapping(d.get("request"), f"{where}.request")
    resp = _mapping(d.get("response"), f"{where}.response")
    status = _mapping(resp.get("status"), f"{where}.response.status")
    if not isinstance(status.get("code"), int):
        raise CassetteError(f"{where}.response.status.code: expected an integer")
    body = _to_bytes(_mapping(resp.get("body"), f"{where}.response.body").get("string"), where)
    extra = _mapping(d.get(_EXTRA) or {}, f"{where}.{_EXTRA}")
    raw_chunks = extra.get("chunks")
    if raw_chunks is not None and not isinstance(raw_chunks, list):
        raise CassetteError(f"{where}.{_EXTRA}.chunks: expected a list")
    latency = extra.get("latency", 0.0)
    if not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0:
        raise CassetteError(f"{where}.{_EXTRA}.latency: expected seconds (a number >= 0)")
    if raw_chunks:
        chunks = _cut(body, raw_chunks, f"{where}.{_EXTRA}.chunks")
    else:  # a plain vcrpy cassette: one chunk, no timing
        chunks = (Chunk(0.0, body),) if body else ()
    method, uri = req.get("method"), req.get("uri")
    if not isinstance(method, str) or not isinstance(uri, str):
        raise CassetteError(f"{where}.request: method and uri must be strings")
    return Interaction(
        RecordedRequest(
            method,
            uri,
            _headers(req.get("headers"), f"{where}.request.headers"),
            _to_bytes(req.get("body"), f"{where}.request.body"),
        ),
        RecordedResponse(
            status["code"],
            str(status.get("message", "")),
            _headers(resp.get("headers"), f"{where}.response.headers"),
            chunks,
            latency=float(latency),
            cut=bool(extra.get("cut", False)),
        ),
    )


def _cut(body: bytes, raw_chunks: list[Any], where: str) -> tuple[Chunk, ...]:
    chunks = []
    start = 0
    for n, raw in enumerate(raw_chunks):
        c = _mapping(raw, f"{where}[{n}]")
        offset, size = c.get("offset", 0.0), c.get("size")
        if not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0:
            raise CassetteError(f"{where}[{n}].offset: expected seconds (a number >= 0)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CassetteError(f"{where}[{n}].size: expected a byte count (an integer >= 0)")
        chunks.append(Chunk(float(offset), body[start : start + size]))
        start += size
    if start != len(body):
        raise CassetteError(
            f"{where}: the chunk sizes add up to {start} bytes, the body has {len(body)}"
        )
    return tuple(chunks)


def loads(text: str, name: str = "<cassette>") -> Cassette:
    """Parse cassette YAML (safe loading only)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise CassetteError(f"{name}: not valid YAML ({exc})") from None
    d = _mapping(document, name)
    if d.get("version") != FORMAT_VERSION:
        raise CassetteError(f"{name}: version must be {FORMAT_VERSION}, got {d.get('version')!r}")
    interactions = d.get("interactions")
    if not isinstance(interactions, list):
        raise CassetteError(f"{name}: interactions must be a list")
    metadata = dict(_mapping(d.get("metadata") or {}, f"{name}: metadata"))
    mine = _mapping(metadata.pop("imgsearch", None) or {}, f"{name}: metadata.imgsearch")
    source = mine.get("source", "recorded")
    if source not in ("recorded", "synthesized"):
        raise CassetteError(f"{name}: metadata.imgsearch.source must be recorded or synthesized")
    provenance = Provenance(
        source=source,
        scenario=str(mine.get("scenario", Path(name).stem)),
        description=str(mine.get("description", "")),
        host=mine.get("host"),
        recorded_at=None if mine.get("recorded_at") is None else str(mine["recorded_at"]),
        harness_version=mine.get("harness_version"),
        faults=tuple(str(f) for f in mine.get("faults") or ()),
    )
    items = tuple(_interaction(x, f"{name}: interactions[{n}]") for n, x in enumerate(interactions))
    return Cassette(items, provenance, metadata)


def load(path: str | os.PathLike[str]) -> Cassette:
    """Read the cassette at ``path``."""
    target = Path(path)
    try:
        text = target.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{target}: cannot read ({exc})") from None
    return loads(text, str(target))


# -- secrets ------------------------------------------------------------------------------------

#: Header names whose values are secrets, whatever they hold.
SECRET_HEADERS = re.compile(r"authorization|api[-_]?key|token|secret|cookie|password", re.I)
#: Query parameter names whose values are secrets.
SECRET_PARAMS = re.compile(r"^(api[-_]?key|key|token|access[-_]?token|secret|signature)$", re.I)
#: Key-shaped strings wherever they appear (DashScope keys look like ``sk-`` and 32 hex digits).
KEY_SHAPED = re.compile(rb"\bsk-[A-Za-z0-9_-]{8,}")


def _secret_values(interactions: Iterable[Interaction]) -> set[bytes]:
    """The secrets carried in headers: searched for, and replaced, everywhere else too."""
    found: set[bytes] = set()
    for interaction in interactions:
        for name, values in interaction.request.headers.items():
            if SECRET_HEADERS.search(name):
                for value in values:
                    scheme, _, token = value.partition(" ")
                    for secret in (value, token if scheme.lower() == "bearer" else ""):
                        if len(secret) >= 8:
                            found.add(secret.encode())
    return found


def _scrub(data: bytes, secrets: set[bytes], patterns: tuple[re.Pattern[bytes], ...]) -> bytes:
    for secret in sorted(secrets, key=len, reverse=True):
        data = data.replace(secret, PLACEHOLDER.encode())
    for pattern in (KEY_SHAPED, *patterns):
        data = pattern.sub(PLACEHOLDER.encode(), data)
    return data


def _scrub_headers(
    headers: Mapping[str, list[str]], secrets: set[bytes], patterns: tuple[re.Pattern[bytes], ...]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, values in headers.items():
        if SECRET_HEADERS.search(name):
            out[name] = [
                f"Bearer {PLACEHOLDER}" if v.lower().startswith("bearer ") else PLACEHOLDER
                for v in values
            ]
        else:
            out[name] = [_scrub(v.encode(), secrets, patterns).decode() for v in values]
    return out


def _scrub_uri(uri: str, secrets: set[bytes], patterns: tuple[re.Pattern[bytes], ...]) -> str:
    base, sep, query = uri.partition("?")
    if sep:
        params = []
        for pair in query.split("&"):
            key, eq, _value = pair.partition("=")
            params.append(f"{key}={PLACEHOLDER}" if eq and SECRET_PARAMS.match(key) else pair)
        uri = base + "?" + "&".join(params)
    return _scrub(uri.encode(), secrets, patterns).decode()


def redact(cassette: Cassette, patterns: Iterable[str | bytes] = ()) -> Cassette:
    """The cassette with every secret replaced by :data:`PLACEHOLDER`.

    Secret headers (``Authorization``, anything named like a key, token, secret or cookie) and
    secret query parameters are replaced whole; the values they held, key-shaped strings
    (``sk-...``) and the extra ``patterns`` (regular expressions) are replaced wherever they
    appear: headers, URIs, request bodies and every response chunk (streamed event JSON
    included). Chunk boundaries and timing are kept.
    """
    compiled = tuple(re.compile(p.encode() if isinstance(p, str) else p) for p in patterns)
    secrets = _secret_values(cassette.interactions)
    interactions = []
    for interaction in cassette.interactions:
        request, response = interaction.request, interaction.response
        chunks = _scrub_chunks(response.chunks, secrets, compiled)
        interactions.append(
            Interaction(
                replace(
                    request,
                    uri=_scrub_uri(request.uri, secrets, compiled),
                    headers=_scrub_headers(request.headers, secrets, compiled),
                    body=_scrub(request.body, secrets, compiled),
                ),
                replace(
                    response,
                    headers=_fix_length(
                        _scrub_headers(response.headers, secrets, compiled),
                        response.body,
                        b"".join(c.data for c in chunks),
                    ),
                    chunks=chunks,
                ),
            )
        )
    return replace(cassette, interactions=tuple(interactions))


def _fix_length(headers: dict[str, list[str]], before: bytes, after: bytes) -> dict[str, list[str]]:
    # A body made shorter or longer by redaction must not promise its old length on replay.
    if len(before) == len(after):
        return headers
    out = {}
    for name, values in headers.items():
        if name.lower() == "content-length" and values == [str(len(before))]:
            values = [str(len(after))]
        out[name] = values
    return out


def _scrub_chunks(
    chunks: tuple[Chunk, ...], secrets: set[bytes], patterns: tuple[re.Pattern[bytes], ...]
) -> tuple[Chunk, ...]:
    # A secret may straddle two chunks: scrub the joined body, then cut it again at the same
    # places, moving each boundary by what the replacements before it added or removed.
    body = b"".join(c.data for c in chunks)
    scrubbed = _scrub(body, secrets, patterns)
    if scrubbed == body:
        return chunks
    each = tuple(Chunk(c.offset, _scrub(c.data, secrets, patterns)) for c in chunks)
    if b"".join(c.data for c in each) == scrubbed:
        return each  # no secret straddles a boundary: every chunk keeps its place
    out: list[Chunk] = []
    start = 0
    for n, chunk in enumerate(chunks):
        end = len(scrubbed) if n == len(chunks) - 1 else start + len(chunk.data)
        end = min(max(end, start), len(scrubbed))
        out.append(Chunk(chunk.offset, scrubbed[start:end]))
        start = end
    # Boundaries are approximate where lengths changed; the bytes, in order, are exact.
    return tuple(out)
