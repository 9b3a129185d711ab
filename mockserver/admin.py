"""The admin API under ``/__admin/``: JSON in, JSON out, loopback only (see
``schemas/admin.openapi.json``), plus a read-only HTML page for a person debugging a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import html
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .custom import builder_from_json
from .errors import RequestError
from .expect import Expectation, Match
from .faults import FaultError, Faults
from .keys import CONFIG_KEY, ENTRY, LIBRARY_KEY, scenario_names
from .keys import STATE_KEY as STATE
from .scenarios import SCENARIOS

__all__ = ["ROUTES"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_LOOPBACK = ("127.", "::1", "::ffff:127.")


def _bad(message: str) -> RequestError:
    return RequestError(400, "Mock.InvalidAdminRequest", message)


def _reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers={"x-request-id": ENTRY.get().request_id})


def _loopback_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        remote = request.remote or ""
        if not request.app[CONFIG_KEY].admin_remote and not remote.startswith(_LOOPBACK):
            raise RequestError(
                403,
                "Mock.AdminForbidden",
                f"The admin API answers loopback clients only, not {remote}; "
                "start the mock with --admin-remote to allow others.",
            )
        return await handler(request)

    return guarded


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise _bad(f"The body is not valid JSON: {exc}.") from None


def _known_scenario(request: web.Request, name: Any) -> str:
    known = scenario_names(request.app)
    if isinstance(name, str) and name in known:
        return name
    raise _bad(f"Unknown scenario {str(name)[:64]!r}; known: {', '.join(known)}.")


async def health(request: web.Request) -> web.Response:
    """``GET /__admin/health``: 200 once the server answers."""
    return _reply({"status": "ok"})


async def scenarios(request: web.Request) -> web.Response:
    """``GET /__admin/scenarios``: the catalogue, the default and the queue."""
    return _reply(_catalogue(request))


def _catalogue(request: web.Request) -> dict[str, Any]:
    config = request.app[CONFIG_KEY]
    library = request.app.get(LIBRARY_KEY)
    listing: dict[str, Any] = {
        "default": config.scenario,
        "scenarios": [
            {"name": s.name, "description": s.description, "source": "builtin"}
            for s in SCENARIOS.values()
        ],
        "queued": request.app[STATE].queued(),
    }
    if library is not None:
        listing["cassettes"] = [
            {
                "name": name,
                "description": c.provenance.description,
                "source": c.provenance.source,
                "interactions": len(c.interactions),
            }
            for name, c in library.cassettes.items()
        ]
    return listing


async def get_requests(request: web.Request) -> web.Response:
    """``GET /__admin/requests``: the journal, oldest first; filters by query parameters."""
    query = request.query
    scenario, path, status = query.get("scenario"), query.get("path"), query.get("status")
    try:
        limit = int(query.get("limit", "0"))
    except ValueError:
        raise _bad(f"limit must be a whole number, got {query.get('limit')!r}.") from None
    journal = request.app[STATE].journal
    entries = journal.entries(
        lambda e: (
            (scenario is None or e.scenario == scenario)
            and (path is None or e.path == path)
            and (status is None or str(e.status) == status)
        ),
        settle=0,
    )
    if limit > 0:
        entries = entries[-limit:]
    return _reply({"requests": [e.to_json() for e in entries], "capacity": journal.size})


async def delete_requests(request: web.Request) -> web.Response:
    """``DELETE /__admin/requests``: forget the journal."""
    journal = request.app[STATE].journal
    count = len(journal)
    journal.clear()
    return _reply({"cleared": count})


async def get_expectations(request: web.Request) -> web.Response:
    """``GET /__admin/expectations``: every expectation with its use count."""
    state = request.app[STATE]
    return _reply({"expectations": [e.to_json() for e in list(state.expectations)]})


async def post_expectation(request: web.Request) -> web.Response:
    """``POST /__admin/expectations``: add one expectation (``match``, ``respond``, ...)."""
    data = await _json(request)
    if not isinstance(data, dict):
        raise _bad("The body must be a JSON object with match and respond.")
    unknown = set(data) - {"match", "respond", "times", "ordered", "faults", "strict"}
    if unknown:
        raise _bad(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    respond_raw = data.get("respond", "default")
    try:
        match = Match.from_json(data.get("match") or {})
        if isinstance(respond_raw, dict):
            respond: Any = builder_from_json(respond_raw)
        else:
            respond = _known_scenario(request, respond_raw)
        faults_raw = data.get("faults")
        faults = (
            None
            if faults_raw is None
            else Faults.parse(faults_raw)
            if isinstance(faults_raw, str)
            else Faults.from_mapping(faults_raw)
        )
        times = data.get("times", 1)
        expectation = Expectation(
            match, respond, times=times, ordered=bool(data.get("ordered")), faults=faults
        )
    except (ValueError, TypeError, FaultError) as exc:
        raise _bad(str(exc)) from None
    state = request.app[STATE]
    state.add(expectation)
    if "strict" in data:
        state.strict = bool(data["strict"])
    return _reply({"expectation": expectation.to_json()}, status=201)


async def delete_expectations(request: web.Request) -> web.Response:
    """``DELETE /__admin/expectations``: forget every expectation."""
    state = request.app[STATE]
    count = len(state.expectations)
    state.clear_expectations()
    return _reply({"cleared": count})


async def post_scenario(request: web.Request) -> web.Response:
    """``POST /__admin/scenario``: the next ``count`` requests get ``scenario``."""
    data = await _json(request)
    if not isinstance(data, dict) or "scenario" not in data:
        raise _bad('The body must be {"scenario": NAME, "count": N}.')
    name = _known_scenario(request, data["scenario"])
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _bad(f"count must be a whole number >= 1, got {count!r}.")
    state = request.app[STATE]
    state.queue(name, count)
    return _reply({"queued": state.queued()})


async def post_reset(request: web.Request) -> web.Response:
    """``POST /__admin/reset``: journal, expectations, queue, test settings and errors."""
    request.app[STATE].reset()
    return _reply({"reset": True})


async def stats(request: web.Request) -> web.Response:
    """``GET /__admin/stats``: asyncio tasks, requests in flight, journal size and live Python
    memory blocks (``?collect=1`` runs the garbage collector first)."""
    if request.query.get("collect") == "1":
        gc.collect()
        _trim()
    journal = request.app[STATE].journal
    return _reply(
        {
            "tasks": len(asyncio.all_tasks()),
            "in_flight": journal.in_flight,
            "journal": len(journal),
            "python_blocks": sys.getallocatedblocks(),
        }
    )


def _trim() -> None:
    # glibc keeps freed heap pages after a burst; malloc_trim hands them back to the OS, so a
    # soak test can tell memory held by the allocator from memory still in use.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


async def page(request: web.Request) -> web.Response:
    """``GET /__admin/``: the journal and the scenarios as a read-only HTML page."""
    state = request.app[STATE]
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                e.id,
                time_text(e.started),
                f"{e.method} {e.path}",
                e.scenario,
                e.status,
                e.events_sent,
                f"after {e.disconnected_after}" if e.disconnected else "",
                f"{(e.duration or 0) * 1000:.1f} ms",
                e.faults or "",
            )
        )
        + f"<td><details><summary>body</summary><pre>"
        f"{html.escape(json.dumps(e.body, indent=1, ensure_ascii=False))}</pre></details></td>"
        "</tr>"
        for e in reversed(state.journal.entries(settle=0))
    )
    catalogue = _catalogue(request)
    listed = "".join(
        f"<li><b>{html.escape(s['name'])}</b> ({s['source']}): "
        f"{html.escape(str(s.get('description') or ''))}</li>"
        for s in [*catalogue["scenarios"], *catalogue.get("cassettes", [])]
    )
    expectations = "".join(
        f"<li>{html.escape(e.describe())}</li>" for e in list(state.expectations)
    )
    body = _PAGE.format(
        rows=rows or '<tr><td colspan="10">no requests yet</td></tr>',
        scenarios=listed,
        default=html.escape(catalogue["default"]),
        expectations=expectations or "<li>none</li>",
    )
    return web.Response(
        text=body,
        content_type="text/html",
        headers={"x-request-id": ENTRY.get().request_id},
    )


def time_text(epoch: float) -> str:
    """``HH:MM:SS.mmm`` local time."""
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imgsearch mock: admin</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; vertical-align: top; }}
pre {{ max-width: 60em; white-space: pre-wrap; }}
</style></head><body>
<h1>imgsearch mock</h1>
<p>Read only. JSON: <a href="/__admin/requests">requests</a>,
<a href="/__admin/scenarios">scenarios</a>, <a href="/__admin/expectations">expectations</a>,
<a href="/__admin/stats">stats</a>. Reload to refresh.</p>
<h2>Requests (newest first)</h2>
<table><tr><th>#</th><th>time</th><th>request</th><th>scenario</th><th>status</th>
<th>events</th><th>client left</th><th>duration</th><th>faults</th><th>body</th></tr>
{rows}</table>
<h2>Expectations</h2><ul>{expectations}</ul>
<h2>Scenarios (default: {default})</h2><ul>{scenarios}</ul>
</body></html>
"""

#: (method, path, handler) of every admin route.
ROUTES: tuple[tuple[str, str, Handler], ...] = tuple(
    (method, path, _loopback_only(handler))
    for method, path, handler in (
        ("GET", "/__admin/", page),
        ("GET", "/__admin/health", health),
        ("GET", "/__admin/scenarios", scenarios),
        ("POST", "/__admin/scenario", post_scenario),
        ("GET", "/__admin/requests", get_requests),
        ("DELETE", "/__admin/requests", delete_requests),
        ("GET", "/__admin/expectations", get_expectations),
        ("POST", "/__admin/expectations", post_expectation),
        ("DELETE", "/__admin/expectations", delete_expectations),
        ("POST", "/__admin/reset", post_reset),
        ("GET", "/__admin/stats", stats),
    )
)
