"""The recording proxy: forward every request to an upstream, stream the answer back as it
arrives, and write what passed as a cassette.

Any client (the OpenAI SDKs, curl, our client) points its base URL at the proxy. Each answer
is relayed chunk by chunk, never buffered, and each chunk is kept with its time offset. When an
answer is complete, the interaction is redacted (:func:`mockserver.cassette.redact`) and the
cassette is written atomically; nothing is written for a request whose client left early.

Cassette names: the ``X-Record-Name`` header of the request, else ``--name``, else one
``recording-<UTC time>`` cassette per proxy session. Interactions with the same name go into the
same cassette, in order. An existing cassette is never replaced unless ``overwrite``: the
request is refused (HTTP 409) before anything is sent upstream, so no paid call is wasted.

The upstream is asked for ``Accept-Encoding: identity``, so the recorded chunks are the bytes the
upstream sent; ``X-Record-*`` headers stay between the client and the proxy.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from . import cassette as cs
from .errors import RequestError, error_body
from .ids import fresh_uuid
from .sse import dumps

__all__ = ["RecorderConfig", "create_recorder_app", "harness_version"]

log = logging.getLogger("mockserver.record")

#: Headers that belong to one connection, not to the request or response.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
    }
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_RECORDER_KEY = web.AppKey("recorder", object)


def harness_version() -> str:
    """This package's version, as written into recorded cassettes."""
    try:
        return metadata.version("imgsearch-harness")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    """How the proxy records.

    Attributes:
        upstream: where requests go: an origin (``https://dashscope.aliyuncs.com``), optionally
            with a path prefix that is put before each request's path.
        out_dir: the folder cassettes are written to.
        name: the cassette for requests without ``X-Record-Name`` (default: one per session).
        overwrite: replace existing cassettes (otherwise such requests are refused with 409).
        patterns: extra regular expressions whose matches are redacted.
        description: written into each new cassette's metadata.
        timeout: seconds allowed for the whole upstream exchange.
    """

    upstream: str
    out_dir: Path
    name: str | None = None
    overwrite: bool = False
    patterns: tuple[str, ...] = ()
    description: str = ""
    timeout: float = 600.0


@dataclass(slots=True)
class _Recorder:
    config: RecorderConfig
    session_name: str
    session: aiohttp.ClientSession | None = None
    #: cassettes this proxy has written, with their interactions so far
    owned: dict[str, list[cs.Interaction]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def target(self, name: str) -> Path:
        return self.config.out_dir / f"{name}.yaml"


def _error(status: int, code: str, message: str) -> web.Response:
    rid = fresh_uuid()
    return web.Response(
        body=dumps(error_body(rid, code, message)),
        status=status,
        headers={"x-request-id": rid},
        content_type="application/json",
    )


def _forwarded_headers(headers: Any) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        lower = name.lower()
        if lower not in _HOP_BY_HOP and not lower.startswith("x-record-"):
            out.add(name, value)
    return out


def _as_lists(headers: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers.items():
        out.setdefault(str(name), []).append(str(value))
    return out


def _cassette_name(request: web.Request, recorder: _Recorder) -> str:
    name = request.headers.get("X-Record-Name", "").strip() or recorder.config.name
    name = name or recorder.session_name
    if not _NAME.fullmatch(name):
        raise RequestError(
            400,
            "InvalidParameter",
            f"X-Record-Name must be 1 to 100 letters, digits, '_', '.' or '-', got {name[:100]!r}.",
        )
    return name


async def _handle(request: web.Request) -> web.StreamResponse:
    recorder = request.app[_RECORDER_KEY]
    assert isinstance(recorder, _Recorder)
    try:
        name = _cassette_name(request, recorder)
        if (
            name not in recorder.owned
            and not recorder.config.overwrite
            and recorder.target(name).exists()
        ):
            raise RequestError(
                409,
                "Mock.CassetteExists",
                f"The cassette {recorder.target(name)} already exists; nothing was sent "
                "upstream. Choose another name (X-Record-Name or --name) or pass --overwrite.",
            )
        return await _forward(request, recorder, name)
    except RequestError as exc:
        return _error(exc.status, exc.code, exc.message)


async def _forward(request: web.Request, recorder: _Recorder, name: str) -> web.StreamResponse:
    body = await request.read()
    url = recorder.config.upstream.rstrip("/") + request.path_qs
    headers = _forwarded_headers(request.headers)
    headers["Accept-Encoding"] = "identity"
    assert recorder.session is not None
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        upstream = await recorder.session.request(
            request.method, url, data=body, headers=headers, allow_redirects=False
        )
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
        log.warning("upstream %s failed: %s", url, reason)
        raise RequestError(
            502, "Mock.UpstreamUnreachable", f"The upstream {url} could not be reached: {reason}"
        ) from None
    latency = loop.time() - started
    try:
        response = await _relay(request, recorder, name, upstream, body, latency)
    except BaseException:
        upstream.close()
        log.warning("%s %s: the client left before the answer ended", request.method, name)
        raise
    upstream.release()
    return response


async def _relay(
    request: web.Request,
    recorder: _Recorder,
    name: str,
    upstream: aiohttp.ClientResponse,
    body: bytes,
    latency: float,
) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    out = web.StreamResponse(
        status=upstream.status,
        reason=upstream.reason,
        headers=_forwarded_headers(upstream.headers),
    )
    if upstream.content_length is not None:
        out.content_length = upstream.content_length
    else:
        out.enable_chunked_encoding()
        out.force_close()  # a stream ends with the connection, as upstream ends it
    started = loop.time()
    chunks: list[cs.Chunk] = []
    cut = False
    await out.prepare(request)
    length = upstream.content_length
    received = 0
    held = b""
    pieces = upstream.content.iter_any().__aiter__()
    while True:
        try:
            piece = await pieces.__anext__()
        except StopAsyncIteration:
            break
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError):
            cut = True  # the upstream dropped the connection: record the fact, and pass it on
            break
        chunks.append(cs.Chunk(round(loop.time() - started, 6), piece))
        received += len(piece)
        if length is not None and received >= length:
            held = piece  # the last bytes wait for the cassette (see below)
            break
        # A client that left raises here: an answer it did not take whole is not recorded.
        await out.write(piece)
    response_headers = _as_lists(upstream.headers)
    for hop in ("Transfer-Encoding", "Connection", "Keep-Alive"):
        response_headers.pop(hop, None)
    interaction = cs.Interaction(
        cs.RecordedRequest(
            request.method,
            str(upstream.url),
            _as_lists(_forwarded_headers(request.headers)),
            body,
        ),
        cs.RecordedResponse(
            upstream.status,
            upstream.reason or "",
            response_headers,
            tuple(chunks),
            latency=round(latency, 6),
            cut=cut,
        ),
    )
    # Written before the client has the end of its answer, so a client that has finished finds
    # its cassette; shielded, so a client that leaves meanwhile cannot stop the write halfway.
    await asyncio.shield(_save(recorder, name, interaction, upstream.url.host or ""))
    if held:
        await out.write(held)
    if cut:
        if request.transport is not None:
            request.transport.abort()
    else:
        await out.write_eof()
    return out


async def _save(recorder: _Recorder, name: str, interaction: cs.Interaction, host: str) -> None:
    config = recorder.config
    async with recorder.lock:
        first = name not in recorder.owned
        interactions = recorder.owned.setdefault(name, [])
        interactions.append(interaction)
        cassette = cs.Cassette(
            tuple(interactions),
            cs.Provenance(
                source="recorded",
                scenario=name,
                description=config.description,
                host=host,
                recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                harness_version=harness_version(),
            ),
        )
        redacted = cs.redact(cassette, config.patterns)
        overwrite = config.overwrite or not first
        # Off the loop: an fsync must not delay the chunks of other streams being relayed.
        target = recorder.target(name)
        path = await asyncio.to_thread(cs.save, redacted, target, overwrite=overwrite)
    log.info("recorded %s (%d interactions)", path, len(interactions))


def create_recorder_app(config: RecorderConfig) -> web.Application:
    """The recording proxy as an aiohttp application (every method, every path)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    recorder = _Recorder(config, f"recording-{stamp}")
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[_RECORDER_KEY] = recorder

    async def session_context(_app: web.Application) -> Any:
        timeout = aiohttp.ClientTimeout(total=config.timeout)
        # auto_decompress off: with Accept-Encoding identity nothing should be compressed, and
        # if an upstream compresses anyway the proxy must relay its bytes, not rewrite them.
        async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
            recorder.session = session
            yield

    app.cleanup_ctx.append(session_context)
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app
