"""A test-side checker of the documented stream grammar (independent of the mock's code)."""

from __future__ import annotations

import json
from typing import Any

TERMINAL = {"response.completed", "response.failed", "response.incomplete"}


def check_stream(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Assert the documented grammar and return the final response."""
    assert events, "empty stream"
    assert [e["sequence_number"] for e in events] == list(range(len(events))), "sequence gaps"
    assert events[0]["type"] == "response.created"
    assert events[0]["response"]["output"] == [], "created must carry output: []"
    assert events[0]["response"]["status"] == "queued"
    assert events[1]["type"] == "response.in_progress"
    kinds = [e["type"] for e in events]
    assert sum(k in TERMINAL for k in kinds) == 1 and kinds[-1] in TERMINAL, (
        "one terminal event, last"
    )
    open_items: dict[int, dict[str, Any]] = {}
    done_items: dict[int, dict[str, Any]] = {}
    texts: dict[tuple[str, int], str] = {}
    parts_open: set[tuple[str, int]] = set()
    for event in events[2:-1]:
        kind = event["type"]
        if kind == "response.output_item.added":
            index = event["output_index"]
            assert index not in open_items, f"item {index} opened twice"
            assert index == len(open_items), "items open in output_index order"
            item = event["item"]
            open_items[index] = item
            if item["type"] == "image_search_call":
                assert item["status"] == "in_progress" and "output" not in item
            if item["type"] == "message":
                assert item["content"] == [] and item["status"] == "in_progress"
            if item["type"] == "reasoning":
                assert item["summary"] == []
        elif kind == "response.output_item.done":
            index = event["output_index"]
            assert index in open_items and index not in done_items, (
                f"item {index} closed out of turn"
            )
            item = event["item"]
            assert item["id"] == open_items[index]["id"]
            done_items[index] = item
            if item["type"] == "image_search_call":
                assert item["status"] in ("completed", "failed") and isinstance(item["output"], str)
                json.loads(item["output"])
            if item["type"] == "message":
                for c, part in enumerate(item["content"]):
                    assert texts.get((item["id"], c), "") == part["text"], "deltas != final text"
        elif kind == "response.content_part.added":
            key = (event["item_id"], event["content_index"])
            parts_open.add(key)
            texts[key] = ""
        elif kind == "response.output_text.delta":
            key = (event["item_id"], event["content_index"])
            assert key in parts_open, "delta before content_part.added"
            texts[key] += event["delta"]
        elif kind == "response.output_text.done":
            key = (event["item_id"], event["content_index"])
            assert texts[key] == event["text"], "deltas do not add up to output_text.done"
        elif kind == "response.content_part.done":
            key = (event["item_id"], event["content_index"])
            parts_open.discard(key)
            assert event["part"]["text"] == texts[key]
        elif kind == "response.reasoning_summary_text.delta":
            key = (event["item_id"], -1 - event["summary_index"])
            assert open_items[event["output_index"]]["id"] == event["item_id"]
            texts[key] = texts.get(key, "") + event["delta"]
        elif kind == "response.reasoning_summary_text.done":
            assert texts[(event["item_id"], -1 - event["summary_index"])] == event["text"]
    assert set(open_items) == set(done_items), "an item was opened but never closed"
    final = events[-1]["response"]
    assert final["output"] == [done_items[i] for i in range(len(done_items))]
    return final  # type: ignore[no-any-return]
