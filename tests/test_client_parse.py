"""The client's parsers, models and accumulator, with no I/O: documented cases and properties."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

import client
import schemas
from client import (
    ContentPartEvent,
    ErrorEvent,
    ImageSearchCall,
    Message,
    OutputItemEvent,
    ProtocolError,
    Reasoning,
    ReasoningDeltaEvent,
    ReasoningDoneEvent,
    ResponseEvent,
    StreamAccumulator,
    StreamError,
    TextDeltaEvent,
    UnknownEvent,
    UnknownItem,
    parse_event,
    parse_image_results,
    parse_response,
)

from .documented import EVENTS, IMAGE_RESULTS, RESPONSES

# -- the public surface -----------------------------------------------------------------------


def test_public_names_are_exactly_all() -> None:
    # "@py_builtins" and the like: pytest rewrites asserts in the distribution of a plugin,
    # and ours (mockserver.pytest_plugin) ships client/ too.
    public = {n for n in vars(client) if n.isidentifier() and not n.startswith("_")}
    public -= {"annotations"}  # from __future__
    assert public == set(client.__all__)
    assert sorted(client.__all__, key=str.lower) == sorted(set(client.__all__), key=str.lower)


# -- documented cases, verbatim ---------------------------------------------------------------


@pytest.mark.parametrize("name", list(RESPONSES))
def test_documented_responses_parse_and_round_trip(name: str) -> None:
    document = RESPONSES[name]
    response = parse_response(document)
    assert response.to_dict() == document
    assert response.id == document["id"] and response.status == document["status"]


def test_documented_basic_response_reads_like_the_sdk() -> None:
    response = parse_response(RESPONSES["non_stream_basic"])
    assert response.output_text == "Hello! ..."
    assert isinstance(response.output[0], Message)
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.total_tokens) == (57, 101)
    assert response.usage.tool_calls == {}
    assert response.created_at == 1771165900


def test_documented_rate_limit_as_200_is_a_failed_response() -> None:
    response = parse_response(RESPONSES["rate_limit_as_200"])
    assert response.status == "failed"
    assert response.error is not None and response.error.code == "server_error"
    assert response.usage is None and response.output == ()


EXPECTED_EVENT_CLASSES = {
    "created": ResponseEvent,
    "reasoning_added": OutputItemEvent,
    "reasoning_summary_delta": ReasoningDeltaEvent,
    "reasoning_summary_done": ReasoningDoneEvent,
    "reasoning_item_done": OutputItemEvent,
    "image_search_added": OutputItemEvent,
    "image_search_done_seed_results": OutputItemEvent,
    "message_added": OutputItemEvent,
    "content_part_added": ContentPartEvent,
    "output_text_delta": TextDeltaEvent,
    "output_text_delta_cjk": TextDeltaEvent,
    "web_search_added": OutputItemEvent,
    "web_search_in_progress": UnknownEvent,
    "web_search_image_added": OutputItemEvent,
    "image_search_completed": ResponseEvent,
    "openai_error_event": ErrorEvent,
}


@pytest.mark.parametrize("name", list(EXPECTED_EVENT_CLASSES))
def test_documented_events_parse_to_their_class_and_round_trip(name: str) -> None:
    event = parse_event(EVENTS[name])
    assert type(event) is EXPECTED_EVENT_CLASSES[name]
    assert event.type == EVENTS[name]["type"]
    assert event.to_dict() == EVENTS[name]


def test_documented_image_search_items_in_progress_and_done() -> None:
    added = parse_event(EVENTS["image_search_added"])
    done = parse_event(EVENTS["image_search_done_seed_results"])
    assert isinstance(added, OutputItemEvent) and isinstance(done, OutputItemEvent)
    assert isinstance(added.item, ImageSearchCall) and isinstance(done.item, ImageSearchCall)
    assert added.item.status == "in_progress" and added.item.results is None
    assert (added.item.img_idx, added.item.bbox) == (0, (0, 0, 1000, 1000))
    assert done.item.status == "completed"
    assert done.item.results is not None
    assert [(r.index, r.title, r.url) for r in done.item.results] == [
        (r["index"], r["title"], r["url"]) for r in IMAGE_RESULTS
    ]


def test_unknown_item_types_are_kept_raw() -> None:
    event = parse_event(EVENTS["web_search_added"])
    assert isinstance(event, OutputItemEvent) and isinstance(event.item, UnknownItem)
    assert event.item.type == "web_search_call" and event.item.id == "msg_…"
    assert event.item.raw == EVENTS["web_search_added"]["item"]


def test_the_documented_elided_output_is_a_protocol_error_at_its_path() -> None:
    # Alibaba's example elides the list with "...": not JSON, and the error says where.
    with pytest.raises(ProtocolError) as caught:
        parse_event(EVENTS["image_search_done"])
    assert caught.value.path == "item.output"
    assert "not valid JSON" in str(caught.value)


def test_reasoning_text_of_the_documented_done_item() -> None:
    event = parse_event(EVENTS["reasoning_item_done"])
    assert isinstance(event, OutputItemEvent) and isinstance(event.item, Reasoning)
    assert event.item.text == "<full>"


# -- image results -----------------------------------------------------------------------------


def test_parse_image_results_of_the_documented_output() -> None:
    output = EVENTS["image_search_done_seed_results"]["item"]["output"]
    results = parse_image_results(output)
    assert [r.index for r in results] == [1, 2]
    assert [r.to_dict() for r in results] == IMAGE_RESULTS


@pytest.mark.parametrize(
    ("output", "path", "message"),
    [
        ("[", "output", "not valid JSON"),
        ("{}", "output", "expected an array"),
        ('[{"title": "t", "url": "u"}]', "output[0].index", "is required"),
        ('[{"title": "t", "url": "u", "index": 0}]', "output[0].index", "integer >= 1"),
        ('[{"title": "t", "url": "u", "index": 101}]', "output[0].index", "<= 100"),
        ('[{"title": "t", "url": "", "index": 1}]', "output[0].url", "non-empty"),
        ('[{"title": 3, "url": "u", "index": 1}]', "output[0].title", "expected a string"),
        (json.dumps([{"title": "t", "url": "u", "index": 1}] * 101), "output", "at most 100"),
    ],
)
def test_bad_image_results_name_their_path(output: str, path: str, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_image_results(output)
    assert caught.value.path == path
    assert message in str(caught.value)


def test_a_hundred_results_and_none_are_fine() -> None:
    many = [{"title": f"t{i}", "url": f"https://x/{i}", "index": i} for i in range(1, 101)]
    assert len(parse_image_results(json.dumps(many))) == 100
    assert parse_image_results("[]") == []


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({**RESPONSES["non_stream_basic"], "status": "done"}, "status"),
        ({**RESPONSES["non_stream_basic"], "object": "chat"}, "object"),
        ({k: v for k, v in RESPONSES["non_stream_basic"].items() if k != "id"}, "id"),
        ({**RESPONSES["non_stream_basic"], "created_at": "yesterday"}, "created_at"),
        ({**RESPONSES["non_stream_basic"], "output": [{"id": "x"}]}, "output[0].type"),
        ({**RESPONSES["non_stream_basic"], "status": "failed"}, "error"),
        ({**RESPONSES["non_stream_basic"], "usage": {"input_tokens": -1}}, "usage.input_tokens"),
        ([], ""),
    ],
)
def test_bad_responses_name_their_path(document: Any, path: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_response(document)
    assert caught.value.path == path


# -- properties ----------------------------------------------------------------------------------


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``$ref`` replaced by its target (hypothesis-jsonschema needs one
    self-contained schema; ours refer across files and have no recursion)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if "#" in ref:
                target = defs[ref.rsplit("/", 1)[1]]
            else:  # a whole file, e.g. "response.schema.json"
                target = schemas.load(ref.removesuffix(".schema.json"))
            return _inline({**target, **rest}, defs)
        skip = {"$id", "$schema", "$defs"}
        return {k: _inline(v, defs) for k, v in node.items() if k not in skip}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _schema(name: str) -> dict[str, Any]:
    schema = schemas.load(name)
    defs = {**schemas.load("common")["$defs"], **schema.get("$defs", {})}
    inlined: dict[str, Any] = _inline(schema, defs)
    return inlined


ARGUMENTS = from_schema(schemas.load("image_search_arguments"))
RESULTS = from_schema(schemas.load("image_results"))


_COMMON = schemas.load("common")["$defs"]
RESPONSE_DOCS = from_schema(_schema("response"))
ITEM_DOCS = from_schema(_inline(_COMMON["outputItem"], _COMMON))
PART_DOCS = from_schema(_inline(_COMMON["outputText"], _COMMON))
_N = st.integers(min_value=0, max_value=2**40)
_TEXT = st.text(max_size=20)


@st.composite
def _event_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Stream events: their response, item and part drawn from the schemas, the rest from
    the event schema's field types (drawing whole events from stream_event.schema.json with
    hypothesis-jsonschema takes minutes an example)."""
    where = {"item_id": draw(_TEXT), "output_index": draw(_N)}
    kind = draw(st.sampled_from(["lifecycle", "item", "part", "delta", "done", "summary", "error"]))
    if kind == "lifecycle":
        status = draw(
            st.sampled_from(["created", "in_progress", "completed", "failed", "incomplete"])
        )
        body = {"type": f"response.{status}", "response": draw(RESPONSE_DOCS)}
    elif kind == "item":
        verb = draw(st.sampled_from(["added", "done"]))
        body = {
            "type": f"response.output_item.{verb}",
            "output_index": draw(_N),
            "item": draw(ITEM_DOCS),
        }
    elif kind == "part":
        verb = draw(st.sampled_from(["added", "done"]))
        body = {
            "type": f"response.content_part.{verb}",
            **where,
            "content_index": draw(_N),
            "part": draw(PART_DOCS),
        }
    elif kind in ("delta", "done"):
        key = "delta" if kind == "delta" else "text"
        body = {
            "type": f"response.output_text.{kind}",
            **where,
            "content_index": draw(_N),
            key: draw(_TEXT),
        }
    elif kind == "summary":
        verb = draw(st.sampled_from(["delta", "done"]))
        key = "delta" if verb == "delta" else "text"
        body = {
            "type": f"response.reasoning_summary_text.{verb}",
            **where,
            "summary_index": draw(_N),
            key: draw(_TEXT),
        }
    else:
        body = {"type": "error", "message": draw(_TEXT), "code": draw(st.none() | _TEXT)}
    extra = draw(
        st.dictionaries(
            st.sampled_from(["logprobs", "x_note", "obfuscation"]), JSON_SCALARS, max_size=2
        )
    )
    return {**extra, **body, "sequence_number": draw(_N)}


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)


@st.composite
def _documents(draw: st.DrawFn, name: str) -> Any:
    """Documents drawn from the schemas, with the JSON strings inside image_search_call items
    drawn from their own schemas (the outer schema only says they are strings)."""
    document = copy.deepcopy(draw(RESPONSE_DOCS if name == "response" else _event_documents()))

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "image_search_call":
                node["arguments"] = json.dumps(draw(ARGUMENTS))
                if "output" in node:
                    node["output"] = json.dumps(draw(RESULTS), ensure_ascii=False)
            for value in node.values():
                fix(value)
        elif isinstance(node, list):
            for value in node:
                fix(value)

    fix(document)
    return document


_SLOW_DRAW = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))


@_SLOW_DRAW
@given(_documents("response"))
def test_responses_drawn_from_the_schema_parse_and_round_trip(document: dict[str, Any]) -> None:
    note(json.dumps(document, ensure_ascii=False)[:2000])
    assert parse_response(document).to_dict() == document


@_SLOW_DRAW
@given(_documents("stream_event"))
def test_events_drawn_from_the_schema_parse_and_round_trip(document: dict[str, Any]) -> None:
    note(json.dumps(document, ensure_ascii=False)[:2000])
    assert parse_event(document).to_dict() == document


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(_documents("response"), _documents("stream_event")))
def test_many_schema_drawn_documents_round_trip(document: dict[str, Any]) -> None:
    note(json.dumps(document, ensure_ascii=False)[:2000])
    parse = parse_response if document.get("object") == "response" else parse_event
    assert parse(document).to_dict() == document


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
SEEDS = [RESPONSES[n] for n in RESPONSES] + [
    e for n, e in EVENTS.items() if n != "image_search_done"
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        if not path:
            return draw(JSON_VALUES)
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            parent[path[-1]] = draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return document


@settings(max_examples=300, deadline=None)
@given(_mutated())
def test_mutated_documents_parse_or_raise_protocol_error(document: Any) -> None:
    note(repr(document)[:2000])
    for parse in (parse_response, parse_event):
        try:
            parsed = parse(document)
        except ProtocolError as exc:
            assert exc.path is not None and str(exc)
        else:
            assert parsed.to_dict() == document


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(_mutated())
def test_many_mutated_documents_parse_or_raise_protocol_error(document: Any) -> None:
    test_mutated_documents_parse_or_raise_protocol_error.hypothesis.inner_test(document)  # type: ignore[attr-defined]


# -- the accumulator --------------------------------------------------------------------------


def _stream(text_parts: list[str], done_text: str | None = None) -> list[dict[str, Any]]:
    base = EVENTS["created"]["response"]
    msg = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [],
        "status": "in_progress",
    }
    full = "".join(text_parts)
    part = {"type": "output_text", "text": "", "annotations": []}
    done_part = {**part, "text": full}
    done_msg = {**msg, "status": "completed", "content": [done_part]}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": base},
        {"type": "response.in_progress", "response": {**base, "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": msg},
        {
            "type": "response.content_part.added",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": part,
        },
    ]
    events += [
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": d,
        }
        for d in text_parts
    ]
    events += [
        {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0,
         "text": full if done_text is None else done_text},
        {"type": "response.content_part.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": done_part},
        {"type": "response.output_item.done", "output_index": 0, "item": done_msg},
        {"type": "response.completed", "response": {**base, "status": "completed", "model": "m", "output": [done_msg]}},
    ]  # fmt: skip
    for n, event in enumerate(events):
        event["sequence_number"] = n
    return events


def _fold(events: list[dict[str, Any]]) -> StreamAccumulator:
    accumulator = StreamAccumulator()
    for event in events:
        accumulator.feed(parse_event(event))
    return accumulator


@given(st.lists(st.text(max_size=6), max_size=10))
def test_deltas_fold_into_the_final_text(parts: list[str]) -> None:
    response = _fold(_stream(parts)).response
    assert response.output_text == "".join(parts)
    assert response.status == "completed"


def test_a_slim_terminal_event_gets_the_streamed_items() -> None:
    events = _stream(["Hel", "lo"])
    events[-1]["response"]["output"] = []
    assert _fold(events).response.output_text == "Hello"


def _broken(change: str) -> list[dict[str, Any]]:
    events = _stream(["a", "b"])
    if change == "sequence_repeats":
        events[3]["sequence_number"] = 2
    elif change == "delta_before_part":
        events[3], events[4] = events[4], events[3]
    elif change == "done_text_differs":
        events = _stream(["a", "b"], done_text="abc")
    elif change == "item_never_added":
        del events[2:6]
    elif change == "event_after_terminal":
        events.append({**events[4], "sequence_number": 99})
    elif change == "terminal_lists_other_items":
        events[-1]["response"]["output"] = [{**events[-2]["item"], "id": "msg_other"}]
    elif change == "error_event":
        events.insert(
            4, {"type": "error", "code": "server_error", "message": "boom", "sequence_number": 4}
        )
        for n, event in enumerate(events):
            event["sequence_number"] = n
    elif change == "terminal_while_item_open":
        del events[-2]
    return events


@pytest.mark.parametrize(
    "change",
    [
        "sequence_repeats",
        "delta_before_part",
        "done_text_differs",
        "item_never_added",
        "event_after_terminal",
        "terminal_lists_other_items",
        "error_event",
        "terminal_while_item_open",
    ],
)
def test_grammar_violations_raise_stream_error(change: str) -> None:
    with pytest.raises(StreamError):
        _ = _fold(_broken(change)).response


def test_a_stream_without_a_terminal_event_has_no_response() -> None:
    accumulator = _fold(_stream(["a"])[:-1])
    assert not accumulator.done
    with pytest.raises(StreamError, match="without a terminal event"):
        _ = accumulator.response
