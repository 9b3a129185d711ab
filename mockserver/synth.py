"""The synthesizer: a deterministic, documented-shape Response built from the request.

:func:`plan_for` decides *what* the model does (reasoning, one image_search call per input
image, results seeded by the image URL, the reply text); :func:`render` turns a :class:`Plan`
into the Response object, filling in ids, timestamps and token usage. Scenarios adjust a plan
between the two.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .ids import fresh_uuid
from .request import SearchRequest

__all__ = [
    "CallPlan",
    "IdSource",
    "Plan",
    "count_tokens",
    "make_results",
    "plan_for",
    "render",
    "reply_text",
]

MAX_RESULTS = 100  # documented: at most 100 images per search [S1]
FULL_BBOX = (0, 0, 1000, 1000)  # documented example's bbox: the whole image [S2]
IMAGE_TOKENS = 450  # inferred: roughly a 788x450 image at 28x28 pixels a token
TOOL_PROMPT_TOKENS = 320  # inferred: the tool description and result framing

_ADJECTIVES = (
    "Misty", "Serene", "Golden", "Quiet", "Ancient", "Autumn", "Snowy", "Sunlit",
    "Traditional", "Tranquil", "Moonlit", "Vintage", "Colorful", "Minimalist",
)  # fmt: skip
_SUBJECTS = (
    "mountain lake", "stone bridge", "pagoda", "bamboo forest", "river village",
    "tea terraces", "lotus pond", "harbor", "city skyline", "temple garden",
    "waterfall", "pine ridge", "rice fields", "old street",
)  # fmt: skip
_STYLES = (
    "ink painting", "watercolor", "photograph", "illustration", "poster",
    "wallpaper", "print", "sketch",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CallPlan:
    """One image_search call: which image, where, how it ended, and its results."""

    img_idx: int
    status: str = "completed"
    results: tuple[dict[str, Any], ...] = ()
    bbox: tuple[int, int, int, int] = FULL_BBOX


@dataclass(frozen=True, slots=True)
class Plan:
    """What the model does for one request, before ids, time and usage are filled in."""

    model: str
    tools: tuple[dict[str, Any], ...]
    tool_choice: str | dict[str, Any]
    prompt_text: str
    image_count: int
    calls: tuple[CallPlan, ...] = ()
    reasoning: tuple[str, ...] = ()
    text: str = ""
    status: str = "completed"
    error: dict[str, str] | None = None
    incomplete_reason: str | None = None
    #: (input, output, reasoning) tokens, when a scenario fixes them (e.g. the documented ones)
    usage: tuple[int, int, int] | None = None
    #: for the documented failed-response shape: no usage, model "" (rate limit as HTTP 200)
    bare: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class IdSource:
    """Ids for one response: fresh UUIDs (see :mod:`.ids`), or reproducible ones from a key."""

    def __init__(self, key: str | None = None) -> None:
        self._rng = random.Random(key) if key is not None else None

    def uuid(self) -> str:
        """A UUID4-format string (the documented response id form [S3])."""
        if self._rng is None:
            return fresh_uuid()
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def item(self) -> str:
        """An output-item id: ``msg_<uuid>`` for every item type [S2]."""
        return f"msg_{self.uuid()}"


def count_tokens(text: str) -> int:
    """A stable token estimate: one per CJK-range character, one per four other characters."""
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return wide + math.ceil((len(text) - wide) / 4)


def make_results(image_url: str, seed: int, count: int | None = None) -> tuple[dict[str, Any], ...]:
    """Results for one searched image, seeded by the image URL: same URL and seed, same list."""
    digest = hashlib.sha256(f"{seed}\x00{image_url}".encode()).digest()
    rng = random.Random(digest)
    n = rng.randint(2, 8) if count is None else count
    n = max(0, min(n, MAX_RESULTS))
    results = []
    for index in range(1, n + 1):
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_SUBJECTS)} {rng.choice(_STYLES)}"
        slug = title.lower().replace(" ", "-")
        url = f"https://images.example.com/{slug}-{rng.getrandbits(40):010x}.jpg"
        results.append({"title": title, "url": url, "index": index})
    return tuple(results)


def reply_text(calls: Sequence[CallPlan]) -> str:
    """The model's reply: it names what each search found, as the documented reply does."""
    if not calls:
        return (
            "Hello! This is a local mock of the DashScope Responses API. Add the image_search "
            "tool and an input_image to search for similar images."
        )
    lines = []
    for call in calls:
        label = f"image {call.img_idx + 1}" if len(calls) > 1 else "your image"
        if call.status != "completed":
            lines.append(
                f"The image search for {label} did not succeed, "
                "so I could not look up similar images."
            )
        elif not call.results:
            lines.append(f"I could not find any images similar to {label}.")
        else:
            lines.append(
                f"I found {len(call.results)} images similar to {label}. The closest matches:"
            )
            lines.extend(f"{r['index']}. {r['title']}" for r in call.results[:5])
    lines.append("They share the composition, palette and mood of the picture you sent.")
    return "\n".join(lines)


def plan_for(request: SearchRequest, seed: int) -> Plan:
    """The default plan: one image_search call per input image when the tool is enabled."""
    calls: tuple[CallPlan, ...] = ()
    if request.image_search and request.tool_choice != "none":
        calls = tuple(
            CallPlan(img_idx=i, results=make_results(url, seed))
            for i, url in enumerate(request.images)
        )
    reasoning: tuple[str, ...] = ()
    if request.thinking:
        first = (
            "The user wants images similar to the one provided. "
            "I will search with the image_search tool."
            if calls
            else "The user sent a message; I will answer it directly."
        )
        reasoning = (
            (first, "The search is done; I will summarise the closest matches.")
            if calls
            else (first,)
        )
    plan = Plan(
        model=request.model,
        tools=request.tools,
        tool_choice=request.tool_choice,
        prompt_text=request.text,
        image_count=len(request.images),
        calls=calls,
        reasoning=reasoning,
        text=reply_text(calls),
    )
    if request.max_output_tokens is not None:
        plan = limit_output(plan, request.max_output_tokens)
    return plan


def limit_output(plan: Plan, max_output_tokens: int) -> Plan:
    """Cut the reply to fit ``max_output_tokens``: status ``incomplete``, reason to match."""
    budget = max_output_tokens - sum(count_tokens(r) for r in plan.reasoning)
    if count_tokens(plan.text) <= budget:
        return plan
    text = plan.text
    while text and count_tokens(text) > max(budget, 0):
        text = text[: max(len(text) * 3 // 4, len(text) - 64)]
    return replace(plan, text=text, status="incomplete", incomplete_reason="max_output_tokens")


def _usage(plan: Plan) -> dict[str, Any]:
    if plan.usage is not None:
        input_tokens, output_tokens, reasoning_tokens = plan.usage
    else:
        results_tokens = sum(
            TOOL_PROMPT_TOKENS
            + sum(8 + count_tokens(r["title"]) + count_tokens(r["url"]) for r in c.results)
            for c in plan.calls
        )
        input_tokens = (
            12 + count_tokens(plan.prompt_text) + IMAGE_TOKENS * plan.image_count + results_tokens
        )
        reasoning_tokens = sum(count_tokens(r) for r in plan.reasoning)
        output_tokens = count_tokens(plan.text) + reasoning_tokens
    total = input_tokens + output_tokens
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": total,
        "x_details": [
            {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": total,
                "x_billing_type": "response_api",
            }
        ],
    }
    if plan.calls:
        usage["x_tools"] = {"image_search": {"count": len(plan.calls)}}
    return usage


def _call_item(call: CallPlan, item_id: str) -> dict[str, Any]:
    # Documented key order of the done item [S2]: name, output, arguments, id, type, status.
    arguments = json.dumps({"img_idx": call.img_idx, "bbox": list(call.bbox)})
    return {
        "name": "image_search",
        "output": json.dumps(list(call.results), ensure_ascii=False),
        "arguments": arguments,
        "id": item_id,
        "type": "image_search_call",
        "status": call.status,
    }


def render(plan: Plan, ids: IdSource, created_at: int) -> dict[str, Any]:
    """The Response object for ``plan``, keys in the documented (alphabetical) order [S2]."""
    if plan.bare:
        body: dict[str, Any] = {"created_at": created_at}
        if plan.error is not None:
            body["error"] = dict(plan.error)
        body.update(
            id=f"resp_{ids.uuid()}",
            model="",
            object="response",
            output=[],
            parallel_tool_calls=False,
            status=plan.status,
            tool_choice="auto",
            tools=[],
        )
        return body
    output: list[dict[str, Any]] = []
    reasoning = list(plan.reasoning)
    if reasoning:
        output.append(_reasoning_item(reasoning.pop(0), ids.item()))
    output.extend(_call_item(call, ids.item()) for call in plan.calls)
    if reasoning:
        output.append(_reasoning_item(reasoning.pop(0), ids.item()))
    if plan.text or plan.status != "failed":
        output.append(
            {
                "content": [{"annotations": [], "text": plan.text, "type": "output_text"}],
                "id": ids.item(),
                "role": "assistant",
                "status": "incomplete" if plan.status == "incomplete" else "completed",
                "type": "message",
            }
        )
    body = {"created_at": created_at}
    if plan.error is not None:
        body["error"] = dict(plan.error)
    body["id"] = ids.uuid()
    if plan.incomplete_reason is not None:
        body["incomplete_details"] = {"reason": plan.incomplete_reason}
    body.update(
        model=plan.model,
        object="response",
        output=output,
        parallel_tool_calls=False,
        status=plan.status,
        tool_choice=plan.tool_choice,
        tools=[dict(t) for t in plan.tools],
        usage=_usage(plan),
    )
    body.update(plan.extra)
    return body


def _reasoning_item(text: str, item_id: str) -> dict[str, Any]:
    return {"id": item_id, "summary": [{"text": text, "type": "summary_text"}], "type": "reasoning"}
