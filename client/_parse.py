"""Validate decoded JSON and convert it to the typed models.

Every violation raises :class:`ProtocolError` with the JSON path of the offending value and the
value itself; no ``KeyError``, ``TypeError`` or ``JSONDecodeError`` escapes. The rules are those
of ``schemas/`` (strict on documented fields, types and enums; tolerant of unknown fields,
unknown item types and unknown event types), written out by hand because validating every
token-sized delta with ``jsonschema`` would cost more than decoding it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ._errors import ProtocolError
from ._events import (
    ContentPartEvent,
    ErrorEvent,
    Event,
    OutputItemEvent,
    ReasoningDeltaEvent,
    ReasoningDoneEvent,
    ResponseEvent,
    TextDeltaEvent,
    TextDoneEvent,
    UnknownEvent,
)
from ._models import (
    ErrorInfo,
    ImageResult,
    ImageSearchCall,
    IncompleteDetails,
    Item,
    Message,
    Part,
    Reasoning,
    Response,
    UnknownItem,
    Usage,
)

__all__ = ["parse_event", "parse_image_results", "parse_json", "parse_response"]

RESPONSE_STATUSES = frozenset(
    {"completed", "failed", "in_progress", "cancelled", "queued", "incomplete"}
)
ITEM_STATUSES = frozenset({"in_progress", "completed", "incomplete", "failed"})
MAX_RESULTS = 100


# -- field readers: each names the path of what it rejects ------------------------------------


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise ProtocolError(path, "expected an object", value)
    return value


def _array(value: Any, path: str) -> list[Any]:
    if type(value) is not list:
        raise ProtocolError(path, "expected an array", value)
    return value


def _missing(d: dict[str, Any], key: str, path: str) -> ProtocolError:
    return ProtocolError(_at(path, key), "is required but missing", None)


def _str(d: dict[str, Any], key: str, path: str) -> str:
    value = d.get(key)
    if type(value) is str:
        return value
    if key not in d:
        raise _missing(d, key, path)
    raise ProtocolError(_at(path, key), "expected a string", value)


def _opt_str(d: dict[str, Any], key: str, path: str) -> str | None:
    value = d.get(key)
    if value is None or type(value) is str:
        return value
    raise ProtocolError(_at(path, key), "expected a string or null", value)


def _int(d: dict[str, Any], key: str, path: str, minimum: int = 0) -> int:
    value = d.get(key)
    if type(value) is int and value >= minimum:
        return value
    if type(value) is float and value.is_integer() and value >= minimum:
        return int(value)  # JSON has one number type; 1771165900.0 is documented [S2]
    if key not in d:
        raise _missing(d, key, path)
    raise ProtocolError(_at(path, key), f"expected an integer >= {minimum}", value)


def _enum(d: dict[str, Any], key: str, path: str, allowed: frozenset[str]) -> str:
    value = _str(d, key, path)
    if value not in allowed:
        raise ProtocolError(_at(path, key), f"expected one of {sorted(allowed)}", value)
    return value


def _opt_enum(d: dict[str, Any], key: str, path: str, allowed: frozenset[str]) -> str | None:
    if d.get(key) is None:
        return None
    return _enum(d, key, path, allowed)


def _extra(d: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Fields not modelled, and modelled optional fields sent as ``null``."""
    return {k: v for k, v in d.items() if k not in known or v is None}


def parse_json(text: str | bytes, path: str = "") -> Any:
    """``json.loads`` that raises :class:`ProtocolError` instead of ``JSONDecodeError``."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
        raise ProtocolError(path, f"is not valid JSON ({exc})", text) from None


# -- image search -----------------------------------------------------------------------------

_RESULT_KEYS = frozenset({"title", "url", "index"})


def _image_results(text: str, path: str) -> tuple[ImageResult, ...]:
    results = _array(parse_json(text, path), path)
    if len(results) > MAX_RESULTS:
        raise ProtocolError(path, f"holds {len(results)} results; at most 100", len(results))
    out = []
    for n, raw in enumerate(results):
        where = f"{path}[{n}]"
        d = _object(raw, where)
        index = _int(d, "index", where, minimum=1)
        if index > MAX_RESULTS:
            raise ProtocolError(_at(where, "index"), "expected an integer <= 100", index)
        url = _str(d, "url", where)
        if not url:
            raise ProtocolError(_at(where, "url"), "expected a non-empty string", url)
        out.append(ImageResult(index, _str(d, "title", where), url, _extra(d, _RESULT_KEYS)))
    return tuple(out)


def parse_image_results(output: str) -> list[ImageResult]:
    """Decode an ``image_search_call``'s ``output`` string: at most 100 results, index from 1."""
    if type(output) is not str:
        raise ProtocolError("output", "expected a JSON string", output)
    return list(_image_results(output, "output"))


def _arguments(text: str, path: str) -> tuple[int, tuple[float, ...]]:
    d = _object(parse_json(text, path), path)
    img_idx = _int(d, "img_idx", path)
    bbox = _array(d.get("bbox"), _at(path, "bbox")) if "bbox" in d else None
    if bbox is None:
        raise _missing(d, "bbox", path)
    if len(bbox) != 4 or not all(type(v) in (int, float) and 0 <= v <= 1000 for v in bbox):
        raise ProtocolError(_at(path, "bbox"), "expected 4 numbers from 0 to 1000", bbox)
    return img_idx, tuple(bbox)


# -- output items ----------------------------------------------------------------------------

_PART_KEYS = frozenset({"type", "text"})


_TEXT_PARTS = frozenset({"output_text", "summary_text"})


def _part(raw: Any, path: str) -> Part:
    d = _object(raw, path)
    kind = _str(d, "type", path)
    if kind in _TEXT_PARTS:
        return Part(kind, _str(d, "text", path), _extra(d, _PART_KEYS))
    # Another part type (e.g. a refusal): its fields are its own business.
    text = d.get("text")
    if type(text) is str:
        return Part(kind, text, _extra(d, _PART_KEYS))
    return Part(kind, None, {k: v for k, v in d.items() if k != "type"})


def _parts(d: dict[str, Any], key: str, path: str) -> tuple[Part, ...]:
    if key not in d:
        raise _missing(d, key, path)
    where = _at(path, key)
    return tuple(_part(p, f"{where}[{n}]") for n, p in enumerate(_array(d[key], where)))


_MESSAGE_KEYS = frozenset({"id", "type", "role", "status", "content"})
_REASONING_KEYS = frozenset({"id", "type", "status", "summary"})
_CALL_KEYS = frozenset({"id", "type", "status", "name", "arguments", "output"})


def _message(d: dict[str, Any], path: str) -> Message:
    return Message(
        _str(d, "id", path),
        _str(d, "role", path),
        _parts(d, "content", path),
        _opt_enum(d, "status", path, ITEM_STATUSES),
        _extra(d, _MESSAGE_KEYS),
    )


def _reasoning(d: dict[str, Any], path: str) -> Reasoning:
    return Reasoning(
        _str(d, "id", path),
        _parts(d, "summary", path),
        _opt_enum(d, "status", path, ITEM_STATUSES),
        _extra(d, _REASONING_KEYS),
    )


def _image_search_call(d: dict[str, Any], path: str) -> ImageSearchCall:
    arguments = _str(d, "arguments", path)
    img_idx, bbox = _arguments(arguments, _at(path, "arguments"))
    output = _opt_str(d, "output", path)
    results = None if output is None else _image_results(output, _at(path, "output"))
    name = _str(d, "name", path)
    if name != "image_search":
        raise ProtocolError(_at(path, "name"), "expected 'image_search'", name)
    return ImageSearchCall(
        _str(d, "id", path),
        _enum(d, "status", path, ITEM_STATUSES),
        img_idx,
        bbox,
        results,
        arguments,
        output,
        name,
        _extra(d, _CALL_KEYS),
    )


_ITEMS: dict[str, Callable[[dict[str, Any], str], Item]] = {
    "message": _message,
    "reasoning": _reasoning,
    "image_search_call": _image_search_call,
}


def _item(raw: Any, path: str) -> Item:
    d = _object(raw, path)
    kind = _str(d, "type", path)
    parse = _ITEMS.get(kind)
    if parse is None:
        if not kind:
            raise ProtocolError(_at(path, "type"), "expected a non-empty string", kind)
        return UnknownItem(kind, d)
    return parse(d, path)


# -- the response ----------------------------------------------------------------------------

_USAGE_KEYS = frozenset({"input_tokens", "output_tokens", "total_tokens"})
_ERROR_KEYS = frozenset({"code", "message"})
_INCOMPLETE_KEYS = frozenset({"reason"})
_RESPONSE_KEYS = frozenset(
    {"id", "object", "created_at", "model", "status", "output", "usage", "error"}
    | {"incomplete_details"}
)


def _usage(raw: Any, path: str) -> Usage:
    d = _object(raw, path)
    tool_calls: dict[str, int] = {}
    x_tools = d.get("x_tools")
    if x_tools is not None:
        where = _at(path, "x_tools")
        for name, info in _object(x_tools, where).items():
            tool_calls[name] = _int(_object(info, _at(where, name)), "count", _at(where, name))
    return Usage(
        _int(d, "input_tokens", path),
        _int(d, "output_tokens", path),
        _int(d, "total_tokens", path),
        tool_calls,
        _extra(d, _USAGE_KEYS),
    )


def _error(raw: Any, path: str) -> ErrorInfo:
    d = _object(raw, path)
    return ErrorInfo(_str(d, "code", path), _str(d, "message", path), _extra(d, _ERROR_KEYS))


def _response(raw: Any, path: str) -> Response:
    d = _object(raw, path)
    if d.get("object") != "response":
        if "object" not in d:
            raise _missing(d, "object", path)
        raise ProtocolError(_at(path, "object"), "expected 'response'", d["object"])
    status = _enum(d, "status", path, RESPONSE_STATUSES)
    if "output" not in d:
        raise _missing(d, "output", path)
    where = _at(path, "output")
    output = tuple(_item(x, f"{where}[{n}]") for n, x in enumerate(_array(d["output"], where)))
    usage = d.get("usage")
    error = d.get("error")
    incomplete = d.get("incomplete_details")
    if status == "failed" and error is None:
        raise ProtocolError(_at(path, "error"), "is required when status is 'failed'", error)
    if status == "incomplete" and incomplete is None:
        raise ProtocolError(
            _at(path, "incomplete_details"), "is required when status is 'incomplete'", incomplete
        )
    details = None
    if incomplete is not None:
        where = _at(path, "incomplete_details")
        obj = _object(incomplete, where)
        details = IncompleteDetails(_str(obj, "reason", where), _extra(obj, _INCOMPLETE_KEYS))
    return Response(
        _str(d, "id", path),
        status,
        _str(d, "model", path),
        _int(d, "created_at", path),
        output,
        None if usage is None else _usage(usage, _at(path, "usage")),
        None if error is None else _error(error, _at(path, "error")),
        details,
        _extra(d, _RESPONSE_KEYS),
    )


def parse_response(document: Any) -> Response:
    """Validate a Response object (a non-streaming body, or an event's ``response``)."""
    return _response(document, "")


# -- events ----------------------------------------------------------------------------------

_RESPONSE_EVENT_KEYS = frozenset({"type", "sequence_number", "response"})
_ITEM_EVENT_KEYS = frozenset({"type", "sequence_number", "output_index", "item"})
_PART_EVENT_KEYS = frozenset(
    {"type", "sequence_number", "item_id", "output_index", "content_index", "part"}
)
_TEXT_KEYS = frozenset({"type", "sequence_number", "item_id", "output_index", "content_index"})
_DELTA_KEYS = _TEXT_KEYS | {"delta"}
_DONE_KEYS = _TEXT_KEYS | {"text"}
_ERROR_EVENT_KEYS = frozenset({"type", "sequence_number", "code", "message"})


def _response_event(kind: str, d: dict[str, Any]) -> Event:
    if "response" not in d:
        raise _missing(d, "response", "")
    return ResponseEvent(
        kind,
        _int(d, "sequence_number", ""),
        _response(d["response"], "response"),
        _extra(d, _RESPONSE_EVENT_KEYS),
    )


def _item_event(kind: str, d: dict[str, Any]) -> Event:
    if "item" not in d:
        raise _missing(d, "item", "")
    return OutputItemEvent(
        kind,
        _int(d, "sequence_number", ""),
        _int(d, "output_index", ""),
        _item(d["item"], "item"),
        _extra(d, _ITEM_EVENT_KEYS),
    )


def _part_event(kind: str, d: dict[str, Any]) -> Event:
    if "part" not in d:
        raise _missing(d, "part", "")
    return ContentPartEvent(
        kind,
        _int(d, "sequence_number", ""),
        _str(d, "item_id", ""),
        _int(d, "output_index", ""),
        _int(d, "content_index", ""),
        _part(d["part"], "part"),
        _extra(d, _PART_EVENT_KEYS),
    )


def _text_delta(kind: str, d: dict[str, Any]) -> Event:
    # The most frequent event by far: read the happy path directly, explain on failure.
    seq, item_id, out_i, con_i, delta = (
        d.get("sequence_number"),
        d.get("item_id"),
        d.get("output_index"),
        d.get("content_index"),
        d.get("delta"),
    )
    if not (
        type(seq) is int
        and type(out_i) is int
        and type(con_i) is int
        and seq >= 0
        and out_i >= 0
        and con_i >= 0
        and type(item_id) is str
        and type(delta) is str
    ):
        seq, out_i, con_i = (_int(d, k, "") for k in _INT_KEYS)
        item_id, delta = _str(d, "item_id", ""), _str(d, "delta", "")
    extra = {k: v for k, v in d.items() if k not in _DELTA_KEYS} if len(d) > 6 else {}
    return TextDeltaEvent(seq, item_id, out_i, con_i, delta, extra)


_INT_KEYS = ("sequence_number", "output_index", "content_index")


def _text_done(kind: str, d: dict[str, Any]) -> Event:
    return TextDoneEvent(
        _int(d, "sequence_number", ""),
        _str(d, "item_id", ""),
        _int(d, "output_index", ""),
        _int(d, "content_index", ""),
        _str(d, "text", ""),
        _extra(d, _DONE_KEYS),
    )


_REASONING_KEYS_BY_KIND = {
    f"response.{family}.{verb}": (
        index_key,
        value_key,
        frozenset({"type", "sequence_number", "item_id", "output_index", index_key, value_key}),
    )
    for family, index_key in (
        ("reasoning_summary_text", "summary_index"),
        ("reasoning_text", "content_index"),
    )
    for verb, value_key in (("delta", "delta"), ("done", "text"))
}


def _reasoning_event(kind: str, d: dict[str, Any]) -> Event:
    index_key, value_key, known = _REASONING_KEYS_BY_KIND[kind]
    is_delta = value_key == "delta"
    args = (
        kind,
        _int(d, "sequence_number", ""),
        _str(d, "item_id", ""),
        _int(d, "output_index", ""),
        _int(d, index_key, ""),
        _str(d, value_key, ""),
        _extra(d, known),
    )
    return ReasoningDeltaEvent(*args) if is_delta else ReasoningDoneEvent(*args)


def _error_event(kind: str, d: dict[str, Any]) -> Event:
    seq = d.get("sequence_number")
    return ErrorEvent(
        _str(d, "message", ""),
        _opt_str(d, "code", ""),
        None if seq is None else _int(d, "sequence_number", ""),
        _extra(d, _ERROR_EVENT_KEYS),
    )


_EVENTS: dict[str, Callable[[str, dict[str, Any]], Event]] = {
    **{
        f"response.{s}": _response_event
        for s in ("created", "in_progress", "queued", "completed", "failed", "incomplete")
    },
    "response.output_item.added": _item_event,
    "response.output_item.done": _item_event,
    "response.content_part.added": _part_event,
    "response.content_part.done": _part_event,
    "response.output_text.delta": _text_delta,
    "response.output_text.done": _text_done,
    "response.reasoning_summary_text.delta": _reasoning_event,
    "response.reasoning_summary_text.done": _reasoning_event,
    "response.reasoning_text.delta": _reasoning_event,
    "response.reasoning_text.done": _reasoning_event,
    "error": _error_event,
}


def parse_event(document: Any) -> Event:
    """Validate one stream event (the JSON of an SSE ``data:`` field) and type it."""
    d = _object(document, "")
    kind = d.get("type")
    parse = _EVENTS.get(kind) if type(kind) is str else None
    if parse is not None:
        return parse(kind, d)  # type: ignore[arg-type]
    kind = _str(d, "type", "")
    if not kind:
        raise ProtocolError("type", "expected a non-empty string", kind)
    seq = d.get("sequence_number")
    return UnknownEvent(kind, None if seq is None else _int(d, "sequence_number", ""), d)
