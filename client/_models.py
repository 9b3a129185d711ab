"""Typed, immutable views of the Responses API's documents.

Every model keeps the fields this client does not model in ``extra`` (the API adds fields, and
a test harness must not drop them), together with documented optional fields that arrived as
JSON ``null``; so :meth:`to_dict` gives back a document equal to the one parsed. Values derived
while parsing (the decoded image results, ``tool_calls``) are not written back: their source
strings and objects are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "ErrorInfo",
    "ImageResult",
    "ImageSearchCall",
    "IncompleteDetails",
    "Item",
    "Message",
    "Part",
    "Reasoning",
    "Response",
    "UnknownItem",
    "Usage",
]

_EMPTY: dict[str, Any] = {}


def _dump(value: Any) -> Any:
    if isinstance(value, _Model):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    return value


class _Model:
    """``to_dict`` for the dataclasses below: their wire fields, then ``extra``."""

    __slots__ = ()
    _WIRE: ClassVar[tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document this object was parsed from (equal, key order aside)."""
        out = {name: _dump(getattr(self, name)) for name in self._WIRE}
        out = {k: v for k, v in out.items() if v is not None}
        out.update(getattr(self, "extra"))  # noqa: B009 (every subclass has it)
        return out


@dataclass(frozen=True, slots=True)
class ImageResult(_Model):
    """One image found by a search: ``index`` counts from 1."""

    index: int
    title: str
    url: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("title", "url", "index")


@dataclass(frozen=True, slots=True)
class Part(_Model):
    """A content part of a message (``output_text``) or a reasoning summary (``summary_text``)."""

    type: str
    text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("type", "text")


@dataclass(frozen=True, slots=True)
class Message(_Model):
    """The model's reply."""

    id: str
    role: str
    content: tuple[Part, ...]
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    type: str = "message"
    _WIRE: ClassVar[tuple[str, ...]] = ("id", "type", "role", "status", "content")

    @property
    def text(self) -> str:
        """The concatenated ``output_text`` parts."""
        return "".join(p.text or "" for p in self.content if p.type == "output_text")


@dataclass(frozen=True, slots=True)
class Reasoning(_Model):
    """The model's reasoning summary (present when thinking is on)."""

    id: str
    summary: tuple[Part, ...]
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    type: str = "reasoning"
    _WIRE: ClassVar[tuple[str, ...]] = ("id", "type", "status", "summary")

    @property
    def text(self) -> str:
        """The concatenated summary texts."""
        return "".join(p.text or "" for p in self.summary)


@dataclass(frozen=True, slots=True)
class ImageSearchCall(_Model):
    """One ``image_search`` tool call.

    ``img_idx`` (0-based input image) and ``bbox`` (``x1, y1, x2, y2`` in 0..1000) come from the
    ``arguments`` JSON string; ``results`` from the ``output`` JSON string, and is ``None`` while
    the call is in progress (the documented ``added`` item has no ``output``).
    """

    id: str
    status: str
    img_idx: int
    bbox: tuple[float, ...]
    results: tuple[ImageResult, ...] | None
    arguments: str
    output: str | None = None
    name: str = "image_search"
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    type: str = "image_search_call"
    _WIRE: ClassVar[tuple[str, ...]] = ("id", "type", "status", "name", "arguments", "output")


@dataclass(frozen=True, slots=True)
class UnknownItem(_Model):
    """An output item of a type this client does not know, kept as it came."""

    type: str
    raw: dict[str, Any]
    _WIRE: ClassVar[tuple[str, ...]] = ()

    @property
    def id(self) -> str | None:
        """The item's ``id``, if it has a string one."""
        value = self.raw.get("id")
        return value if isinstance(value, str) else None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


Item = Message | Reasoning | ImageSearchCall | UnknownItem


@dataclass(frozen=True, slots=True)
class Usage(_Model):
    """Token usage; ``tool_calls`` counts calls per tool (from ``x_tools``)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    tool_calls: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("input_tokens", "output_tokens", "total_tokens")


@dataclass(frozen=True, slots=True)
class ErrorInfo(_Model):
    """The ``error`` of a failed response."""

    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("code", "message")


@dataclass(frozen=True, slots=True)
class IncompleteDetails(_Model):
    """Why a response is ``incomplete`` (e.g. ``max_output_tokens``)."""

    reason: str
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    _WIRE: ClassVar[tuple[str, ...]] = ("reason",)


@dataclass(frozen=True, slots=True)
class Response(_Model):
    """A Responses API response, streamed or not."""

    id: str
    status: str
    model: str
    created_at: int
    output: tuple[Item, ...]
    usage: Usage | None = None
    error: ErrorInfo | None = None
    incomplete_details: IncompleteDetails | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    object: str = "response"
    _WIRE: ClassVar[tuple[str, ...]] = (
        "id",
        "object",
        "created_at",
        "model",
        "status",
        "output",
        "usage",
        "error",
        "incomplete_details",
    )

    @property
    def output_text(self) -> str:
        """The text of every message, concatenated (as the OpenAI SDK's ``output_text``)."""
        return "".join(item.text for item in self.output if isinstance(item, Message))

    @property
    def image_search_calls(self) -> tuple[ImageSearchCall, ...]:
        """The ``image_search_call`` items, in output order."""
        return tuple(item for item in self.output if isinstance(item, ImageSearchCall))
