"""The aiohttp application: routes, authentication, error shaping and the access log."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web

from . import admin
from . import documented as doc
from .config import Framing, MockConfig
from .errors import RequestError, error_body
from .faults import FaultError, Faults
from .ids import fresh_uuid
from .keys import (
    CONFIG_KEY,
    DEFAULT_SCENARIO_KEY,
    ENTRY,
    LIBRARY_KEY,
    STATE_KEY,
    STOPPING_KEY,
)
from .replay import CassetteLibrary, Entry, Miss, send_recorded
from .request import decode_body, parse_request
from .scenarios import SCENARIOS, Context, get_scenario
from .sse import Sending, SSEEncoder, dumps, emit, encode_plain, send_bytes
from .state import MockState
from .synth import IdSource
from .template import MarkerIds, Markers, Template, TemplateCache

__all__ = ["CONFIG_KEY", "RESPONSES_PATHS", "create_app"]

log = logging.getLogger("mockserver.access")
errlog = logging.getLogger("mockserver")

#: The documented paths: the seeds' (legacy) one, the newer one [S3,S4], and OpenAI's.
RESPONSES_PATHS = (
    "/api/v2/apps/protocols/compatible-mode/v1/responses",
    "/compatible-mode/v1/responses",
    "/v1/responses",
)
_ENCODERS_KEY = web.AppKey("encoders", dict)
_MARKERS_KEY = web.AppKey("markers", Markers)
_CACHE_KEY = web.AppKey("template_cache", TemplateCache)
_FRAMINGS: tuple[Framing, ...] = ("dashscope", "openai")
_JSON_TYPES = ("application/json",)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Statuses and errors of the fail_times fault. 503's code is inferred (none is documented).
_FAIL_ERRORS = {
    429: doc.RATE_QUOTA,
    500: doc.INTERNAL_ERROR,
    503: ("ServiceUnavailable", "The service is temporarily unavailable, please try again later."),
}


def _request_id() -> str:
    return ENTRY.get().request_id


def _json_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    rid = _request_id()
    return web.Response(
        body=dumps(error_body(rid, code, message)),
        status=status,
        headers={"x-request-id": rid, **(headers or {})},
        content_type="application/json",
    )


# 404 and 405 are routes of their own; this names what aiohttp itself may still raise.
_HTTP_CODES = {413: "RequestEntityTooLarge"}


def _guarded(handler: Handler, *, journaled: bool = True) -> Handler:
    """Every answer gets the flat error shape, an ``x-request-id``, a journal entry (API
    paths) and one log line; a failure of the mock is kept for the test to raise."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        journal = state.journal
        entry = journal.open(
            fresh_uuid(),
            request.method,
            request.path,
            request.headers,
            request.query_string,
            record=journaled,
        )
        ENTRY.set(entry)
        try:
            response = await handler(request)
        except RequestError as exc:
            response = _json_error(exc.status, exc.code, exc.message, exc.headers)
        except web.HTTPException as exc:
            code = _HTTP_CODES.get(exc.status, "InvalidParameter")
            response = _json_error(exc.status, code, exc.reason)
        except asyncio.CancelledError:  # the client left and aiohttp cancelled the handler
            entry.left()
            journal.close(entry)
            raise
        except Exception as exc:  # a bug in the mock: log it here, never send a traceback
            errlog.exception("unhandled error for %s %s", request.method, request.path)
            entry.error = repr(exc)
            state.record_error(exc)
            response = _json_error(500, "InternalError", "The mock server failed; see its log.")
        if entry.first_byte is None:
            entry.sent_headers(response.status, stream=False)
        journal.close(entry)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s scenario=%s status=%d %.1fms",
                request.method,
                request.path,
                entry.scenario,
                response.status,
                (entry.duration or 0.0) * 1000,
            )
        return response

    return guarded


def _method_not_allowed(allowed: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        raise RequestError(
            405,
            "MethodNotAllowed",
            f"Method {request.method} is not allowed on {request.path}; use {allowed}.",
            {"Allow": allowed},
        )

    return handle


async def _not_found(request: web.Request) -> web.StreamResponse:
    raise RequestError(
        404, "NotFound", f"No such path: {request.path}. POST to {RESPONSES_PATHS[0]}."
    )


def _header(request: web.Request, name: str) -> str | None:
    value = request.headers.get(name)
    return value.strip() if value is not None else None


def _float_header(request: web.Request, name: str, default: float) -> float:
    raw = _header(request, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1000:
        raise RequestError(
            400, "InvalidParameter", f"{name} must be a number from 0 to 1000, got {raw!r}."
        )
    return value


def _int_header(request: web.Request, name: str, default: int) -> int:
    raw = _header(request, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise RequestError(
            400, "InvalidParameter", f"{name} must be an integer, got {raw!r}."
        ) from None


def _authenticate(request: web.Request, config: MockConfig) -> None:
    auth = request.headers.get("Authorization", "")
    scheme, _, key = auth.partition(" ")
    key = key.strip()
    if (
        scheme.lower() != "bearer"
        or not key
        or (config.api_key is not None and key != config.api_key)
    ):
        raise RequestError(401, "InvalidApiKey", "Invalid API-key provided.")


def _check_body_headers(request: web.Request, config: MockConfig) -> None:
    raw_type = request.headers.get("Content-Type", "")
    # Fast path for what every client sends; anything else goes through the full parser.
    ctype = "application/json" if raw_type == "application/json" else request.content_type
    if ctype not in _JSON_TYPES and not ctype.endswith("+json"):
        raise RequestError(
            415, "InvalidParameter", f"Content-Type must be application/json, got {ctype!r}."
        )
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        raise RequestError(
            413,
            "RequestEntityTooLarge",
            f"The request body is {request.content_length} bytes; "
            f"the limit is {config.max_body_bytes}.",
        )


_MAX_CACHED_BODY = 64 * 1024


def _faults_header(request: web.Request) -> Faults | None:
    raw = _header(request, "X-Mock-Fault")
    if not raw:
        return None
    try:
        return Faults.parse(raw)
    except FaultError as exc:
        raise RequestError(400, "InvalidParameter", f"X-Mock-Fault: {exc}.") from None


def _fail_attempt(request: web.Request, state: MockState, raw: bytes, faults: Faults) -> None:
    """The ``fail_times`` fault: refuse the first K attempts of this request."""
    attempt = state.attempt(request.path, raw)
    entry = ENTRY.get()
    entry.attempt = attempt
    if attempt > (faults.fail_times or 0):
        return
    status = faults.fail_status or 503
    code, message = _FAIL_ERRORS[status]
    headers = {}
    if faults.retry_after is not None:
        headers["Retry-After"] = f"{faults.retry_after:g}"
    raise RequestError(status, code, message, headers)


async def handle_responses(request: web.Request) -> web.StreamResponse:
    """``POST …/responses``: authenticate, check, pick the scenario, answer."""
    app = request.app
    config = app[CONFIG_KEY]
    state = app[STATE_KEY]
    entry = ENTRY.get()
    rid = entry.request_id
    _authenticate(request, config)
    _check_body_headers(request, config)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:  # a chunked body that grew past the limit
        raise RequestError(
            413, "RequestEntityTooLarge", f"The request body exceeds {config.max_body_bytes} bytes."
        ) from None
    entry.keep_body(raw)
    header_faults = _faults_header(request)
    choice = state.choose(entry, _header(request, "X-Mock-Scenario"))
    named = choice.name
    speed = _float_header(request, "X-Mock-Speed", _first(state.speed, config.speed))
    framing = _header(request, "X-Mock-Framing") or config.framing
    if framing not in _FRAMINGS:
        raise RequestError(
            400, "InvalidParameter", f"X-Mock-Framing must be dashscope or openai, got {framing!r}."
        )
    builder = choice.builder
    # Lowest to highest: the server's, the scenario's, the test's, the expectation's, the header's.
    scenario_faults = builder.fault_set if builder is not None else None
    faults = _combine(config.faults, scenario_faults, state.faults, choice.faults, header_faults)
    if faults is not None:
        entry.faults = str(faults) or None
        if faults.fail_times:
            _fail_attempt(request, state, raw, faults)
    library = app.get(LIBRARY_KEY)
    body: dict[str, Any] | None = None
    if library is not None and builder is None:
        body = decode_body(raw)
        recorded = _from_cassettes(library, config, named, body)
        if recorded is not None:
            stream = body.get("stream") is True
            sending = Sending(entry, faults or _NO_FAULTS, app[STOPPING_KEY])
            return await _replay(request, config, recorded, stream, speed, framing, sending)
        if named is not None and named not in SCENARIOS:
            raise RequestError(
                400,
                "InvalidParameter",
                f"Unknown mock scenario {named[:64]!r}. Valid scenarios: "
                f"{', '.join(SCENARIOS)}; cassettes: {', '.join(library.cassettes)}.",
            )
    if builder is not None:
        scenario = builder.build()
    else:
        scenario = get_scenario(named) if named else app[DEFAULT_SCENARIO_KEY]
    entry.scenario = scenario.name
    seed = _int_header(request, "X-Mock-Seed", _first(state.seed, config.seed))
    oss = (_header(request, "X-DashScope-OssResourceResolve") or "").lower() == "enable"
    created_at = config.created_at if config.created_at is not None else int(time.time())
    markers = app[_MARKERS_KEY]
    cache_key = None
    if (
        config.cache_size > 0
        and len(raw) <= _MAX_CACHED_BODY
        and builder is None
        and (faults is None or not faults.shapes_body)
    ):
        cache_key = (raw, scenario.name, seed, framing, oss)
        template = app[_CACHE_KEY].get(cache_key)
        if isinstance(template, Template):
            filled = template.fill(created_at, rid)
            if not template.stream:  # the hot path: no coroutine of its own
                return web.Response(
                    body=filled,
                    status=template.status,
                    headers=template.response_headers(rid),
                    content_type="application/json",
                )
            return await send_bytes(
                request,
                template.status,
                template.response_headers(rid),
                filled,
                stream=True,
                entry=entry,
            )
        # Seen before with delays or faults (None), or a body holding a marker: never cached,
        # so the marker check is needed only here, on a miss.
        if template is None or markers.found_in(raw):
            cache_key = None

    if body is None:
        body = decode_body(raw)
    search = parse_request(body, config, oss_resolve=oss)
    id_key = None
    if config.fixed_ids:
        # The same request gets the same ids in both modes: the stream flag is left out.
        canonical = json.dumps({k: v for k, v in body.items() if k != "stream"}, sort_keys=True)
        id_key = hashlib.sha256(f"{seed}\x00{canonical}".encode()).hexdigest()
    encoder = app[_ENCODERS_KEY][framing]
    if cache_key is not None:
        ids = MarkerIds(markers)
        ctx = Context(search, config, seed, ids, markers.created_at, markers.request_id)
        reply = scenario.build(ctx)
        data = encode_plain(
            reply,
            stream=search.stream,
            encoder=encoder,
            delta_chars=config.delta_chars,
            done=config.done_sentinel,
        )
        if data is not None:
            template = Template.build(
                data,
                markers,
                status=reply.status,
                headers=tuple(reply.headers.items()),
                stream=search.stream and reply.response is not None,
                uuid_count=ids.count,
                id_key=id_key,
            )
            app[_CACHE_KEY].put(cache_key, template)
            return await send_bytes(
                request,
                template.status,
                template.response_headers(rid),
                template.fill(created_at, rid),
                stream=template.stream,
                entry=entry,
            )
        app[_CACHE_KEY].put(cache_key, None)
    ctx = Context(search, config, seed, IdSource(id_key), created_at, rid)
    return await emit(
        request,
        scenario.build(ctx),
        stream=search.stream,
        headers={"x-request-id": rid},
        encoder=encoder,
        delta_chars=config.delta_chars,
        speed=speed,
        done=config.done_sentinel,
        sending=Sending(entry, faults or _NO_FAULTS, app[STOPPING_KEY]),
    )


_NO_FAULTS = Faults()


def _combine(*sources: Faults | None) -> Faults | None:
    """Lowest to highest; ``None`` when no source has faults (the common, fast case)."""
    combined = None
    for source in sources:
        if source is not None:
            combined = source if combined is None else combined.merge(source)
    return combined


def _first(value: Any, default: Any) -> Any:
    return default if value is None else value


def _from_cassettes(
    library: CassetteLibrary, config: MockConfig, named: str | None, body: dict[str, Any]
) -> Entry | None:
    """The recording that answers: by name, else by matching the request; ``None``: none."""
    if named is not None:
        return library.choose(named, body) if named in library else None
    found = library.match(body, prefer=config.scenario)
    if not isinstance(found, Miss):
        return found
    if config.cassette_miss == "error":
        raise RequestError(404, "Mock.NoMatchingCassette", found.explanation)
    errlog.warning("cassette miss; answering with %s. %s", config.scenario, found.explanation)
    # The server-wide default comes next. A built-in one adapts to the request, so it wins over
    # a cassette of the same name (which answers another request); else it may be a cassette.
    if config.scenario in library and config.scenario not in SCENARIOS:
        return library.choose(config.scenario, body)
    return None


async def _replay(
    request: web.Request,
    config: MockConfig,
    entry: Entry,
    stream: bool,
    speed: float,
    framing: Framing,
    sending: Sending,
) -> web.StreamResponse:
    sending.entry.scenario = f"cassette:{entry.label}"
    return await send_recorded(
        request,
        entry,
        stream=stream,
        speed=speed,
        encoder=request.app[_ENCODERS_KEY][framing],
        delta_chars=config.delta_chars,
        done=config.done_sentinel,
        sending=sending,
    )


def create_app(config: MockConfig | None = None, **overrides: Any) -> web.Application:
    """Build the mock's aiohttp application.

    ``overrides`` replace fields of ``config`` (e.g. ``create_app(scenario="zero_results")``).
    An unknown default scenario is refused here, not on the first request, as is a bad
    cassette in ``cassette_dirs`` (:class:`mockserver.cassette.CassetteError`).
    """
    config = replace(config or MockConfig(), **overrides)
    library = CassetteLibrary.from_dirs(config.cassette_dirs) if config.cassette_dirs else None
    if library is not None and config.scenario in library and config.scenario not in SCENARIOS:
        default_scenario = SCENARIOS["default"]  # unused: that cassette answers every miss
    else:
        default_scenario = get_scenario(config.scenario)
    app = web.Application(client_max_size=config.max_body_bytes)
    if library is not None:
        app[LIBRARY_KEY] = library
    app[CONFIG_KEY] = config
    app[STATE_KEY] = state = MockState(config.journal_size)
    if library is not None:
        state.on_reset.append(library.reset_turns)
    app[STOPPING_KEY] = stopping = asyncio.Event()

    async def stop_stalls(_: web.Application) -> None:
        stopping.set()

    app.on_shutdown.append(stop_stalls)
    app[DEFAULT_SCENARIO_KEY] = default_scenario
    app[_MARKERS_KEY] = Markers()
    app[_CACHE_KEY] = TemplateCache(config.cache_size)
    app[_ENCODERS_KEY] = {f: SSEEncoder(f, status_comment=config.status_comment) for f in _FRAMINGS}
    # Handlers are wrapped directly rather than through a middleware: it is the hot path.
    allowed: dict[str, list[str]] = {}
    for path in RESPONSES_PATHS:
        app.router.add_route("POST", path, _guarded(handle_responses))
        allowed[path] = ["POST"]
    for method, path, handler in admin.ROUTES:
        app.router.add_route(method, path, _guarded(handler, journaled=False))
        allowed.setdefault(path, []).append(method)
    for path, methods in allowed.items():
        refuse = _method_not_allowed(", ".join(methods))
        app.router.add_route("*", path, _guarded(refuse, journaled=not path.startswith("/__")))
    app.router.add_route("*", "/{tail:.*}", _guarded(_not_found))
    return app
