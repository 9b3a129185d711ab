"""The bundled cassette library: every built-in scenario as a ``synthesized`` cassette.

:func:`regenerate` produces it the way a user records: the synthesizing mock (fixed ids, fixed
``created_at``, no delays) behind the recording proxy, a client that sends the seed pages'
request in both modes with a random API key, then :func:`canonical` makes the result
independent of the machine and the moment: the documented URL instead of the loopback one, only
the request headers that mean something, one chunk per event at the scenario's scripted times,
and request ids derived from the scenario's name. Running it twice gives the same bytes, so a
test can regenerate the library and fail on any difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from . import cassette as cs
from .app import RESPONSES_PATHS, create_app
from .config import MockConfig
from .documented import DOC_BASE_URL, DOC_REQUEST
from .record import RecorderConfig, create_recorder_app
from .replay import is_stream
from .request import parse_request
from .scenarios import SCENARIOS, Context, Scenario
from .synth import IdSource

__all__ = ["REGEN_CONFIG", "canonical", "regenerate"]

#: The synthesizing mock's settings for the library: the same bytes on every run.
REGEN_CONFIG = MockConfig(fixed_ids=True, created_at=1771165743, speed=0.0, seed=0)
_KEPT_REQUEST_HEADERS = frozenset({"authorization", "content-type", "x-mock-scenario"})
_DROPPED_RESPONSE_HEADERS = frozenset({"date", "server"})


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def _record(names: Sequence[str], folder: Path, key: str) -> None:
    mock, mock_root = await _start(create_app(REGEN_CONFIG))
    recorder, proxy_root = await _start(
        create_recorder_app(RecorderConfig(upstream=mock_root, out_dir=folder))
    )
    try:
        async with aiohttp.ClientSession() as session:
            for name in names:
                for body in (DOC_REQUEST, {**DOC_REQUEST, "stream": True}):
                    headers = {
                        "Authorization": f"Bearer {key}",
                        "Content-Type": "application/json",
                        "X-Mock-Scenario": name,
                        "X-Record-Name": name,
                    }
                    url = proxy_root + RESPONSES_PATHS[0]
                    async with session.post(url, data=json.dumps(body), headers=headers) as resp:
                        # Dropped-connection scenarios fail here; they are recorded all the same.
                        with contextlib.suppress(aiohttp.ClientPayloadError):
                            await resp.read()
    finally:
        await recorder.cleanup()  # waits for handlers still writing their cassette
        await mock.cleanup()


def _scripted(scenario: Scenario) -> tuple[float, tuple[str, ...]]:
    """The scenario's scripted gap and its deliberate faults, read from its reply."""
    search = parse_request(dict(DOC_REQUEST), REGEN_CONFIG)
    reply = scenario.build(Context(search, REGEN_CONFIG, 0, IdSource(None), 0, "-"))
    faults = ("cut",) * (reply.cut_at is not None) + ("malformed",) * (
        reply.malformed_at is not None
    )
    return reply.gap, faults


def _events(body: bytes) -> list[bytes]:
    pieces = [p + b"\n\n" for p in body.split(b"\n\n")]
    pieces[-1] = pieces[-1][:-2]
    return [p for p in pieces if p]


def _canonical_interaction(interaction: cs.Interaction, label: str, gap: float) -> cs.Interaction:
    request, response = interaction.request, interaction.response
    path = urlsplit(request.uri).path
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(DOC_BASE_URL))
    headers = {k: v for k, v in request.headers.items() if k.lower() in _KEPT_REQUEST_HEADERS}
    digest = hashlib.sha256(label.encode()).digest()[:16]
    rid = str(uuid.UUID(bytes=digest, version=4))
    old = response.header("x-request-id")
    body = response.body.replace(old.encode(), rid.encode()) if old else response.body
    response_headers = {
        k: [rid if x == old else x for x in v]
        for k, v in response.headers.items()
        if k.lower() not in _DROPPED_RESPONSE_HEADERS
    }
    if is_stream(response):
        chunks = tuple(cs.Chunk(round(n * gap, 6), e) for n, e in enumerate(_events(body)))
        latency = 0.0
    else:
        chunks, latency = (cs.Chunk(0.0, body),), gap
    return cs.Interaction(
        replace(request, uri=origin + path, headers=headers),
        replace(response, headers=response_headers, chunks=chunks, latency=latency),
    )


def canonical(cassette: cs.Cassette, scenario: Scenario) -> cs.Cassette:
    """A recording of the synthesizing mock, made the same on every machine and every run."""
    gap, faults = _scripted(scenario)
    interactions = tuple(
        _canonical_interaction(i, f"{scenario.name}#{n}", gap)
        for n, i in enumerate(cassette.interactions)
    )
    provenance = cs.Provenance(
        source="synthesized",
        scenario=scenario.name,
        description=scenario.description,
        faults=faults,
    )
    return cs.Cassette(interactions, provenance)


def regenerate(
    out_dir: str | Path, names: Sequence[str] | None = None, *, force: bool = False
) -> list[Path]:
    """Write the library into ``out_dir``: one cassette per scenario (all by default).

    A cassette already there is replaced only when it is ``synthesized`` too (or ``force``):
    a recording from the real API is never lost to a regeneration. Runs its own event loop.
    """
    out = Path(out_dir)
    chosen = list(names or SCENARIOS)
    for name in chosen:
        if name not in SCENARIOS:
            raise cs.CassetteError(f"{name}: no such scenario; valid: {', '.join(SCENARIOS)}")
        target = out / f"{name}.yaml"
        if target.exists() and not force and cs.load(target).provenance.source != "synthesized":
            raise cs.CassetteError(
                f"{target}: a recorded cassette is there; it is not replaced without --force"
            )
    written = []
    with tempfile.TemporaryDirectory(prefix="imgsearch-regen-") as tmp:
        key = "sk-" + secrets.token_hex(16)  # random: redaction must leave no trace of it
        asyncio.run(_record(chosen, Path(tmp), key))
        for name in chosen:
            path = Path(tmp) / f"{name}.yaml"
            if key in path.read_text("utf-8"):
                raise cs.CassetteError(f"{path}: the API key survived redaction")
            recorded = cs.load(path)
            written.append(
                cs.save(canonical(recorded, SCENARIOS[name]), out / f"{name}.yaml", overwrite=True)
            )
    return written
