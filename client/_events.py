"""Typed stream events, discriminated by their ``type``.

DashScope documents no ``response.image_search_call.*`` events: a search shows up as an
``image_search_call`` item in ``response.output_item.added`` (in progress, no results) and
``response.output_item.done`` (completed, with results). Event types this client does not know
arrive as :class:`UnknownEvent`, kept raw: the API adds event types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ._models import Item, Part, Response, _Model

__all__ = [
    "TERMINAL_EVENT_TYPES",
    "ContentPartEvent",
    "ErrorEvent",
    "Event",
    "OutputItemEvent",
    "ReasoningDeltaEvent",
    "ReasoningDoneEvent",
    "ResponseEvent",
    "TextDeltaEvent",
    "TextDoneEvent",
    "UnknownEvent",
]

#: The events that end a stream.
TERMINAL_EVENT_TYPES = frozenset({"response.completed", "response.failed", "response.incomplete"})


@dataclass(frozen=True, slots=True)
class ResponseEvent(_Model):
    """``response.created``, ``.in_progress``, ``.queued``, ``.completed``, ``.failed``,
    ``.incomplete``: the response as it stands."""

    type: str
    sequence_number: int
    response: Response
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("type", "sequence_number", "response")


@dataclass(frozen=True, slots=True)
class OutputItemEvent(_Model):
    """``response.output_item.added`` / ``.done``: an output item opens or is complete."""

    type: str
    sequence_number: int
    output_index: int
    item: Item
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("type", "sequence_number", "output_index", "item")


@dataclass(frozen=True, slots=True)
class ContentPartEvent(_Model):
    """``response.content_part.added`` / ``.done`` of a message."""

    type: str
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    part: Part
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = (
        "type",
        "sequence_number",
        "item_id",
        "output_index",
        "content_index",
        "part",
    )


@dataclass(frozen=True, slots=True)
class TextDeltaEvent(_Model):
    """``response.output_text.delta``: a piece of the reply."""

    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    delta: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    type: str = "response.output_text.delta"
    _WIRE: ClassVar[tuple[str, ...]] = (
        "type",
        "sequence_number",
        "item_id",
        "output_index",
        "content_index",
        "delta",
    )


@dataclass(frozen=True, slots=True)
class TextDoneEvent(_Model):
    """``response.output_text.done``: the whole text of one content part."""

    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    text: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    type: str = "response.output_text.done"
    _WIRE: ClassVar[tuple[str, ...]] = (
        "type",
        "sequence_number",
        "item_id",
        "output_index",
        "content_index",
        "text",
    )


@dataclass(frozen=True, slots=True)
class ReasoningDeltaEvent(_Model):
    """``response.reasoning_summary_text.delta`` (or the newer ``reasoning_text.delta``)."""

    type: str
    sequence_number: int
    item_id: str
    output_index: int
    #: ``summary_index`` (or ``content_index`` for ``reasoning_text``)
    index: int
    delta: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("type", "sequence_number", "item_id", "output_index")

    def to_dict(self) -> dict[str, Any]:
        return _reasoning_dict(self, "delta", self.delta)


@dataclass(frozen=True, slots=True)
class ReasoningDoneEvent(_Model):
    """``response.reasoning_summary_text.done`` (or ``reasoning_text.done``): the whole text."""

    type: str
    sequence_number: int
    item_id: str
    output_index: int
    index: int
    text: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("type", "sequence_number", "item_id", "output_index")

    def to_dict(self) -> dict[str, Any]:
        return _reasoning_dict(self, "text", self.text)


def _index_key(event_type: str) -> str:
    return "summary_index" if "summary" in event_type else "content_index"


def _reasoning_dict(
    event: ReasoningDeltaEvent | ReasoningDoneEvent, value_key: str, value: str
) -> dict[str, Any]:
    # The index goes back under its wire name, which depends on the event type.
    out = _Model.to_dict(event)
    out[_index_key(event.type)] = event.index
    out[value_key] = value
    return out


@dataclass(frozen=True, slots=True)
class ErrorEvent(_Model):
    """An ``error`` event (OpenAI's shape; DashScope documents none, the SDKs handle it)."""

    message: str
    code: str | None = None
    sequence_number: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    type: str = "error"
    _WIRE: ClassVar[tuple[str, ...]] = ("type", "sequence_number", "code", "message")


@dataclass(frozen=True, slots=True)
class UnknownEvent(_Model):
    """An event of a type this client does not know, kept as it came."""

    type: str
    sequence_number: int | None
    raw: dict[str, Any]
    _WIRE: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


Event = (
    ResponseEvent
    | OutputItemEvent
    | ContentPartEvent
    | TextDeltaEvent
    | TextDoneEvent
    | ReasoningDeltaEvent
    | ReasoningDoneEvent
    | ErrorEvent
    | UnknownEvent
)
