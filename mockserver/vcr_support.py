"""Plain vcrpy, set up for this API: match requests on what they ask, and record no secret.

vcrpy's default matchers ignore POST bodies, so every Responses request would replay the first
recording. :func:`json_body_matcher` compares what a request asks instead (``model``, ``input``,
``tools`` and ``stream`` of its JSON body), never its bytes, so key order and spacing do not
matter. :func:`make_vcr` returns a ``vcr.VCR`` that matches on method, path and that body, and
that removes the ``Authorization`` header, API-key headers and key-shaped strings in bodies
before anything is written::

    my_vcr = make_vcr("tests/cassettes", record=bool(os.environ.get("DASHSCOPE_API_KEY")))
    with my_vcr.use_cassette("doc_example.yaml"):
        ...  # the OpenAI SDK or our client, pointed at the real base URL
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import vcr

from .cassette import KEY_SHAPED, PLACEHOLDER

__all__ = ["BODY_FIELDS", "json_body_matcher", "make_vcr"]

#: What a Responses request asks for; the rest of its body does not choose the answer.
BODY_FIELDS = ("model", "input", "tools", "stream")


def _asked(body: Any) -> dict[str, Any] | None:
    # vcrpy's aiohttp stub keeps a ``json=`` argument as the object itself, not as bytes.
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, bytes | bytearray):
        try:
            document = json.loads(body)
        except ValueError:
            return None
    else:
        document = body
    if not isinstance(document, dict):
        return None
    asked = {name: document.get(name) for name in BODY_FIELDS}
    asked["stream"] = asked["stream"] is True
    return asked


def json_body_matcher(r1: Any, r2: Any) -> None:
    """A vcrpy matcher: the two requests ask for the same thing (raises ``AssertionError``)."""
    a, b = _asked(r1.body), _asked(r2.body)
    if a is None or b is None:
        assert r1.body == r2.body, "the bodies differ (not both JSON)"
        return
    for name in BODY_FIELDS:
        assert a[name] == b[name], f"{name} differs: {a[name]!r} != {b[name]!r}"


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, bytes):
        response["body"]["string"] = KEY_SHAPED.sub(PLACEHOLDER.encode(), body)
    return response


def _scrub_request(request: Any) -> Any:
    if isinstance(request.body, bytes):
        request.body = KEY_SHAPED.sub(PLACEHOLDER.encode(), request.body)
    return request


def make_vcr(cassette_dir: str | Path, *, record: bool) -> vcr.VCR:
    """A ``vcr.VCR`` for this API: ``record`` writes missing cassettes (``once``); otherwise
    it only replays (``none``), and a request with no recording fails instead of reaching the
    network."""
    my_vcr = vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode="once" if record else "none",
        match_on=("method", "path", "imgsearch_body"),
        filter_headers=[
            ("authorization", f"Bearer {PLACEHOLDER}"),
            ("x-api-key", PLACEHOLDER),
            ("api-key", PLACEHOLDER),
        ],
        filter_query_parameters=[("api_key", PLACEHOLDER), ("key", PLACEHOLDER)],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    my_vcr.register_matcher("imgsearch_body", json_body_matcher)
    return my_vcr
