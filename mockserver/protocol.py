"""The one function each way between a Response object and its documented event stream.

:func:`events_from_response` expands a final Response into the event sequence DashScope
documents [S2]: created (``output: []``, ``model: ""``), in_progress, each output item opened
and closed (reasoning with summary deltas; image_search_call ``in_progress`` without ``output``,
then ``completed`` with it; the message with its content part and text deltas), and one
terminal event. :func:`response_from_events` goes back: the terminal event's ``response``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["TERMINAL_EVENTS", "events_from_response", "response_from_events", "split_text"]

#: The event that ends a stream, by the response's final status.
TERMINAL_EVENTS: dict[str, str] = {
    "completed": "response.completed",
    "failed": "response.failed",
    "incomplete": "response.incomplete",
    "cancelled": "response.failed",
}


def split_text(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of ``size`` characters (at least one piece, even when empty)."""
    if size < 1:
        raise ValueError(f"size must be positive, got {size}")
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _lifecycle(response: dict[str, Any], status: str) -> dict[str, Any]:
    # Documented shape of response.created / in_progress [S2]: empty output, model "" and
    # tools [] (the request's tools appear only in the final response), no usage.
    return {
        "output": [],
        "parallel_tool_calls": response.get("parallel_tool_calls", False),
        "created_at": response["created_at"],
        "tool_choice": response.get("tool_choice", "auto"),
        "model": "",
        "id": response["id"],
        "tools": [],
        "object": "response",
        "status": status,
    }


def _item_events(item: dict[str, Any], index: int, delta_chars: int) -> Iterator[dict[str, Any]]:
    kind = item.get("type")
    if kind == "message":
        yield from _message_events(item, index, delta_chars)
    elif kind == "reasoning":
        yield from _reasoning_events(item, index, delta_chars)
    elif kind == "image_search_call":
        added = {k: v for k, v in item.items() if k != "output"}
        added["status"] = "in_progress"
        yield {"item": added, "output_index": index, "type": "response.output_item.added"}
        yield {"item": item, "output_index": index, "type": "response.output_item.done"}
    else:
        yield {"item": item, "output_index": index, "type": "response.output_item.added"}
        yield {"item": item, "output_index": index, "type": "response.output_item.done"}


def _reasoning_events(item: dict[str, Any], index: int, size: int) -> Iterator[dict[str, Any]]:
    item_id = item["id"]
    opened = {"summary": [], "type": "reasoning", "id": item_id}
    yield {"item": opened, "output_index": index, "type": "response.output_item.added"}
    for s, part in enumerate(item.get("summary", [])):
        text = part.get("text", "")
        where = {"output_index": index, "item_id": item_id, "summary_index": s}
        for piece in split_text(text, size):
            yield {"delta": piece, "type": "response.reasoning_summary_text.delta", **where}
        yield {"text": text, "type": "response.reasoning_summary_text.done", **where}
    yield {"item": item, "output_index": index, "type": "response.output_item.done"}


def _message_events(item: dict[str, Any], index: int, size: int) -> Iterator[dict[str, Any]]:
    item_id = item["id"]
    opened = {
        "id": item_id,
        "content": [],
        "role": "assistant",
        "status": "in_progress",
        "type": "message",
    }
    yield {"item": opened, "output_index": index, "type": "response.output_item.added"}
    for c, part in enumerate(item.get("content", [])):
        where = {"content_index": c, "item_id": item_id}
        if part.get("type") != "output_text":
            yield {
                **where,
                "output_index": index,
                "part": part,
                "type": "response.content_part.added",
            }
            yield {
                **where,
                "output_index": index,
                "part": part,
                "type": "response.content_part.done",
            }
            continue
        text = part.get("text", "")
        empty: dict[str, Any] = {
            "annotations": [],
            "text": "",
            "type": "output_text",
            "logprobs": None,
        }
        full = {
            "annotations": part.get("annotations", []),
            "text": text,
            "type": "output_text",
            "logprobs": None,
        }
        yield {**where, "output_index": index, "part": empty, "type": "response.content_part.added"}
        for piece in split_text(text, size):
            yield {
                "content_index": c,
                "delta": piece,
                "item_id": item_id,
                "logprobs": [],
                "output_index": index,
                "type": "response.output_text.delta",
            }
        yield {
            **where,
            "logprobs": [],
            "output_index": index,
            "text": text,
            "type": "response.output_text.done",
        }
        yield {**where, "output_index": index, "part": full, "type": "response.content_part.done"}
    yield {"item": item, "output_index": index, "type": "response.output_item.done"}


def events_from_response(response: dict[str, Any], delta_chars: int = 8) -> list[dict[str, Any]]:
    """The documented event sequence that delivers ``response``, numbered from 0."""
    status = response.get("status", "completed")
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _lifecycle(response, "queued")},
        {"type": "response.in_progress", "response": _lifecycle(response, "in_progress")},
    ]
    for index, item in enumerate(response.get("output", [])):
        events.extend(_item_events(item, index, delta_chars))
    terminal = TERMINAL_EVENTS.get(status, "response.completed")
    events.append({"type": terminal, "response": response})
    return [{"sequence_number": n, **event} for n, event in enumerate(events)]


def response_from_events(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The final Response a stream carries: the ``response`` of its terminal event."""
    terminal = set(TERMINAL_EVENTS.values())
    for event in events:
        if event.get("type") in terminal:
            return copy.deepcopy(event["response"])
    raise ValueError("the stream has no terminal event (response.completed/failed/incomplete)")
