"""The contract: documented examples validate; deliberately broken variants do not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import ValidationError

import schemas

from .documented import ERRORS, EVENTS, IMAGE_ARGUMENTS, IMAGE_RESULTS, RESPONSES


def _valid(name: str, value: Any) -> None:
    schemas.validator(name).validate(value)


def _invalid(name: str, value: Any) -> list[ValidationError]:
    errors = list(schemas.validator(name).iter_errors(value))
    assert errors, f"{name} accepted a broken value: {value!r}"
    return errors


@pytest.mark.parametrize("name", list(RESPONSES))
def test_documented_response_validates(name: str) -> None:
    _valid("response", RESPONSES[name])


@pytest.mark.parametrize("name", list(ERRORS))
def test_documented_error_validates(name: str) -> None:
    _valid("error", ERRORS[name])


@pytest.mark.parametrize("name", list(EVENTS))
def test_documented_event_validates(name: str) -> None:
    _valid("stream_event", EVENTS[name])


def test_documented_image_results_validate() -> None:
    _valid("image_results", IMAGE_RESULTS)
    assert [r["index"] for r in IMAGE_RESULTS] == [1, 2]


def test_documented_image_arguments_validate() -> None:
    _valid("image_search_arguments", IMAGE_ARGUMENTS)


def test_every_schema_is_a_valid_2020_12_schema() -> None:
    for name in schemas.SCHEMA_NAMES:
        assert schemas.load(name)["$schema"].endswith("2020-12/schema")
        schemas.validator(name)  # check_schema runs here


def test_load_returns_a_copy_and_unknown_names_fail() -> None:
    first = schemas.load("response")
    first["title"] = "changed"
    assert schemas.load("response")["title"] != "changed"
    with pytest.raises(KeyError, match="unknown schema"):
        schemas.load("../etc/passwd")


def test_unknown_extra_fields_and_types_are_tolerated() -> None:
    response = copy.deepcopy(RESPONSES["non_stream_basic"])
    response["new_field"] = {"anything": 1}
    response["output"].append({"type": "image_generation_call", "id": "x", "whatever": True})
    _valid("response", response)
    _valid(
        "stream_event",
        {"type": "response.image_search_call.searching", "sequence_number": 9, "x": 1},
    )
    _valid("error", {**ERRORS["flat_401"], "extra": "field"})


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    *parents, last = path.split(".")
    for key in parents:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc, last


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node, last = _parent(doc, path)
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node, last = _parent(doc, path)
        del node[last]

    return mutate


BROKEN_RESPONSES = {
    "status_not_in_enum": _set("status", "done"),
    "object_not_response": _set("object", "chat.completion"),
    "missing_id": _drop("id"),
    "missing_output": _drop("output"),
    "output_not_array": _set("output", {}),
    "created_at_string": _set("created_at", "1771165900"),
    "created_at_fraction": _set("created_at", 1771165900.5),
    "usage_negative_tokens": _set("usage.input_tokens", -1),
    "usage_missing_total": _drop("usage.total_tokens"),
    "x_details_missing_billing_type": _drop("usage.x_details.0.x_billing_type"),
    "message_without_content": _drop("output.0.content"),
    "message_role_user": _set("output.0.role", "user"),
    "output_text_not_string": _set("output.0.content.0.text", 42),
    "item_type_missing": _drop("output.0.type"),
    "failed_without_error": _set("status", "failed"),
    "incomplete_without_details": _set("status", "incomplete"),
    "x_tools_count_string": _set("usage.x_tools", {"image_search": {"count": "1"}}),
}


@pytest.mark.parametrize("name", list(BROKEN_RESPONSES))
def test_broken_response_fails(name: str) -> None:
    doc = copy.deepcopy(RESPONSES["non_stream_basic"])
    BROKEN_RESPONSES[name](doc)
    _invalid("response", doc)


BROKEN_EVENTS = {
    "missing_sequence_number": ("created", _drop("sequence_number")),
    "negative_sequence_number": ("created", _set("sequence_number", -1)),
    "created_without_response": ("created", _drop("response")),
    "created_status_not_in_enum": ("created", _set("response.status", "starting")),
    "item_event_without_item": ("image_search_added", _drop("item")),
    "item_event_without_output_index": ("image_search_added", _drop("output_index")),
    "image_search_arguments_object": ("image_search_added", _set("item.arguments", {"img_idx": 0})),
    "image_search_wrong_name": ("image_search_done", _set("item.name", "web_search")),
    "image_search_status_not_in_enum": ("image_search_done", _set("item.status", "searching")),
    "image_search_output_array": ("image_search_done", _set("item.output", [])),
    "delta_not_string": ("output_text_delta", _set("delta", None)),
    "delta_without_item_id": ("output_text_delta", _drop("item_id")),
    "content_part_without_part": ("content_part_added", _drop("part")),
    "summary_delta_without_index": ("reasoning_summary_delta", _drop("summary_index")),
    "tool_progress_without_item_id": ("web_search_in_progress", _drop("item_id")),
    "completed_with_status_failed": ("image_search_completed", _set("response.status", "failed")),
    "error_event_without_message": ("openai_error_event", _drop("message")),
}


BROKEN_ERRORS = {
    "flat_missing_code": ("flat_401", _drop("code")),
    "flat_missing_request_id": ("flat_401", _drop("request_id")),
    "flat_empty_message": ("flat_400", _set("message", "")),
    "envelope_missing_message": ("envelope_429", _drop("error.message")),
    "envelope_error_string": ("envelope_429", _set("error", "rate limited")),
}

BROKEN_CASES = {
    **{f"event:{k}": ("stream_event", EVENTS[base], m) for k, (base, m) in BROKEN_EVENTS.items()},
    **{f"error:{k}": ("error", ERRORS[base], m) for k, (base, m) in BROKEN_ERRORS.items()},
}


@pytest.mark.parametrize("case", list(BROKEN_CASES))
def test_broken_event_or_error_fails(case: str) -> None:
    schema, original, mutate = BROKEN_CASES[case]
    doc = copy.deepcopy(original)
    mutate(doc)
    _invalid(schema, doc)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("index_from_zero", [{"title": "t", "url": "https://a/b.jpg", "index": 0}]),
        ("missing_url", [{"title": "t", "index": 1}]),
        ("title_not_string", [{"title": None, "url": "https://a/b.jpg", "index": 1}]),
        (
            "over_100",
            [{"title": "t", "url": "https://a/b.jpg", "index": 1 + i % 100} for i in range(101)],
        ),
        ("not_a_list", {"title": "t", "url": "u", "index": 1}),
    ],
)
def test_broken_image_results_fail(name: str, value: Any) -> None:
    _invalid("image_results", value)


@pytest.mark.parametrize(
    "value",
    [
        {"img_idx": -1, "bbox": [0, 0, 1000, 1000]},
        {"img_idx": 0, "bbox": [0, 0, 1000]},
        {"img_idx": 0, "bbox": [0, 0, 1001, 1000]},
        {"bbox": [0, 0, 1, 1]},
    ],
    ids=["negative_idx", "bbox_three", "bbox_over_1000", "missing_idx"],
)
def test_broken_image_arguments_fail(value: Any) -> None:
    _invalid("image_search_arguments", value)


def test_request_schema_accepts_the_seed_request_and_refuses_broken_ones() -> None:
    from .support import search_body

    _valid("request", search_body(stream=True))
    _valid("request", {"model": "qwen3.5-plus", "input": "hello"})
    _invalid("request", {"input": "hello"})
    _invalid("request", {"model": "qwen3.5-plus", "input": 3})
    _invalid("request", {**search_body(), "stream": "yes"})
    _invalid("request", {**search_body(), "tools": [{"name": "image_search"}]})
    bad_image = search_body()
    bad_image["input"][0]["content"][1]["image_url"] = {"url": "https://a/b.png"}
    _invalid("request", bad_image)
