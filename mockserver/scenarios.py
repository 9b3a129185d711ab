"""The scenario catalogue: each scenario turns a checked request into a :class:`Reply`.

A reply is data: an HTTP status with headers, then either a Response object (which the
emitter sends as one JSON body or as the documented event stream, by the request's
``stream`` field) or an error body, plus scripted delays and faults. Every scenario answers
both streaming and non-streaming requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import documented as doc
from .config import MockConfig
from .errors import RequestError
from .faults import Faults
from .request import SearchRequest
from .synth import (
    CallPlan,
    IdSource,
    Plan,
    count_tokens,
    limit_output,
    make_results,
    plan_for,
    render,
    reply_text,
)

__all__ = ["SCENARIOS", "Context", "Reply", "Scenario", "get_scenario"]

_NAME = re.compile(r"[a-z0-9_]{1,64}")


@dataclass(frozen=True, slots=True)
class Context:
    """What a scenario may use to build its reply."""

    request: SearchRequest
    config: MockConfig
    seed: int
    ids: IdSource
    created_at: int
    request_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the mock answers, before the mode (JSON body or event stream) is applied.

    Attributes:
        status: HTTP status.
        response: a Response object, for replies that are not HTTP errors.
        body: an error body, for HTTP errors.
        headers: extra response headers.
        gap: scripted seconds before each event (stream) or before the body (JSON).
        cut_at: drop the connection after this fraction of the events (or body bytes).
        malformed_at: replace the event at this fraction of the stream (or the body) by non-JSON.
        faults: faults this scenario carries (under the request's and the test's own).
    """

    status: int = 200
    response: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    gap: float = 0.0
    cut_at: float | None = None
    malformed_at: float | None = None
    faults: Faults | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named way of answering."""

    name: str
    description: str
    build: Callable[[Context], Reply]


def _respond(ctx: Context, plan: Plan, **faults: Any) -> Reply:
    return Reply(response=render(plan, ctx.ids, ctx.created_at), **faults)


def _with_calls(ctx: Context, make: Callable[[int, str], CallPlan]) -> Plan:
    plan = plan_for(ctx.request, ctx.seed)
    calls = tuple(make(c.img_idx, ctx.request.images[c.img_idx]) for c in plan.calls)
    return replace(plan, calls=calls, text=reply_text(calls))


def _error(status: int, code_message: tuple[str, str], ctx: Context, **headers: str) -> Reply:
    code, message = code_message
    body = {"request_id": ctx.request_id, "code": code, "message": message}
    return Reply(status=status, body=body, headers=headers)


def _default(ctx: Context) -> Reply:
    return _respond(ctx, plan_for(ctx.request, ctx.seed))


def _doc_example(ctx: Context) -> Reply:
    base = plan_for(ctx.request, ctx.seed)
    plan = replace(
        base,
        calls=(CallPlan(img_idx=0, results=doc.DOC_RESULTS),),
        reasoning=doc.DOC_REASONING,
        text=doc.DOC_TEXT,
        usage=doc.DOC_USAGE,
    )
    return _respond(ctx, plan)


def _zero(ctx: Context) -> Reply:
    return _respond(ctx, _with_calls(ctx, lambda i, _url: CallPlan(img_idx=i, results=())))


def _max(ctx: Context) -> Reply:
    return _respond(
        ctx,
        _with_calls(
            ctx, lambda i, url: CallPlan(img_idx=i, results=make_results(url, ctx.seed, 100))
        ),
    )


def _search_failed(ctx: Context) -> Reply:
    # Inferred: DashScope documents no failed image_search_call. OpenAI's web_search_call has
    # status "failed"; output "[]" keeps `item.output` readable in the OpenAI Python SDK.
    return _respond(ctx, _with_calls(ctx, lambda i, _url: CallPlan(img_idx=i, status="failed")))


def _response_failed(ctx: Context) -> Reply:
    base = plan_for(ctx.request, ctx.seed)
    code, message = doc.INTERNAL_ERROR
    plan = replace(
        base,
        calls=(),
        reasoning=(),
        text="",
        status="failed",
        error={"code": code, "message": message},
    )
    return _respond(ctx, plan)


def _rate_limited(ctx: Context) -> Reply:
    return _error(429, doc.RATE_QUOTA, ctx, **{"Retry-After": str(ctx.config.retry_after)})


def _rate_limited_200(ctx: Context) -> Reply:
    base = plan_for(ctx.request, ctx.seed)
    return _respond(ctx, replace(base, status="failed", error=dict(doc.RATE_LIMIT_200), bare=True))


def _invalid_api_key(ctx: Context) -> Reply:
    return _error(401, doc.INVALID_API_KEY, ctx)


def _server_error(ctx: Context) -> Reply:
    return _error(500, doc.INTERNAL_ERROR, ctx)


def _incomplete(ctx: Context) -> Reply:
    plan = plan_for(ctx.request, ctx.seed)
    cap = sum(count_tokens(r) for r in plan.reasoning) + max(1, count_tokens(plan.text) // 3)
    return _respond(ctx, limit_output(plan, cap))


def _stream_cut(ctx: Context) -> Reply:
    return _respond(ctx, plan_for(ctx.request, ctx.seed), cut_at=0.5)


def _malformed(ctx: Context) -> Reply:
    return _respond(ctx, plan_for(ctx.request, ctx.seed), malformed_at=0.5)


def _slow(ctx: Context) -> Reply:
    return _respond(ctx, plan_for(ctx.request, ctx.seed), gap=ctx.config.slow_gap)


UNICODE_RESULTS: tuple[dict[str, Any], ...] = (
    {
        "title": "故宫的雪景:北京冬日",
        "url": "https://images.example.com/%E6%95%85%E5%AE%AB/snow.jpg",
    },
    {
        "title": "富士山と桜 🌸🗻 family 👨\u200d👩\u200d👧",
        "url": "https://images.example.com/fuji%20sakura.png",
    },
    {
        "title": "منظر طبيعي للجبال عند الغروب",
        "url": "https://images.example.com/ar/%D8%AC%D8%A8%D8%A7%D9%84.jpg",
    },
    {
        "title": "נוף הרים בשקיעה (RTL) mixed עם English",
        "url": "https://images.example.com/he/view.jpg?q=%D7%A0%D7%95%D7%A3&size=large",
    },
    {
        "title": 'Cafe\u0301 combining marks, line\u2028separator, "quotes" and \\backslash',
        "url": "https://images.example.com/caf%C3%A9.webp#frag",
    },
    {
        "title": "長い題名 " + "山水画の風景 " * 150 + "end",
        "url": "https://images.example.com/" + "long-path/" * 40 + "image.jpg",
    },
)


def _unicode(ctx: Context) -> Reply:
    results = tuple({**r, "index": n} for n, r in enumerate(UNICODE_RESULTS, start=1))
    plan = _with_calls(ctx, lambda i, _url: CallPlan(img_idx=i, results=results))
    text = "找到了相似的图片 🌄:雪景、富士山と桜、منظر طبيعي، נוף הרים. " + plan.text
    return _respond(ctx, replace(plan, text=text))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "default", "synthesized from the request: results seeded by each image URL", _default
        ),
        Scenario(
            "doc_example", "the documented answer: 2 results, usage 2753/181/2934", _doc_example
        ),
        Scenario("zero_results", 'the search completes with no results: output is "[]"', _zero),
        Scenario("max_results", "100 results per image, index 1..100", _max),
        Scenario(
            "search_failed",
            "the image_search_call has status failed; the model says so",
            _search_failed,
        ),
        Scenario(
            "response_failed",
            "status failed with an error; a response.failed terminal event",
            _response_failed,
        ),
        Scenario("rate_limited", "HTTP 429 Throttling.RateQuota with Retry-After", _rate_limited),
        Scenario(
            "rate_limited_200",
            "the documented HTTP 200 with status failed, error.code server_error",
            _rate_limited_200,
        ),
        Scenario("invalid_api_key", "HTTP 401 InvalidApiKey", _invalid_api_key),
        Scenario("server_error", "HTTP 500 InternalError", _server_error),
        Scenario(
            "incomplete",
            "status incomplete (max_output_tokens); a response.incomplete event",
            _incomplete,
        ),
        Scenario(
            "stream_cut", "the connection drops half way, with no terminal event", _stream_cut
        ),
        Scenario("malformed_event", "one event (or the body) is not valid JSON", _malformed),
        Scenario("slow", "long gaps between events (before the body), for client timeouts", _slow),
        Scenario(
            "unicode",
            "CJK, emoji, right-to-left and very long titles; percent-encoded URLs",
            _unicode,
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    """Look up a scenario; an unknown or path-like name is a 400 that lists the valid ones."""
    scenario = SCENARIOS.get(name) if _NAME.fullmatch(name) else None
    if scenario is None:
        shown = name if len(name) <= 64 else name[:61] + "..."
        raise RequestError(
            400,
            "InvalidParameter",
            f"Unknown mock scenario {shown!r}. Valid scenarios: {', '.join(SCENARIOS)}.",
        )
    return scenario
