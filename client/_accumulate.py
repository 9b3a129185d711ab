"""Fold a stream's events into the Response a non-streaming call returns, checking its grammar.

The accumulator knows nothing of HTTP or SSE: it can be driven by a plain list of events.
"""

from __future__ import annotations

from dataclasses import replace

from ._errors import StreamError
from ._events import (
    TERMINAL_EVENT_TYPES,
    ContentPartEvent,
    ErrorEvent,
    Event,
    OutputItemEvent,
    ReasoningDeltaEvent,
    ReasoningDoneEvent,
    ResponseEvent,
    TextDeltaEvent,
    TextDoneEvent,
)
from ._models import Item, Response

__all__ = ["StreamAccumulator"]


class _OpenItem:
    """An output item between its ``added`` and ``done`` events."""

    __slots__ = ("done_parts", "id", "parts", "summaries")

    def __init__(self, item_id: str | None) -> None:
        self.id = item_id
        self.parts: list[list[str]] = []  # deltas of each content part
        self.done_parts: list[bool] = []
        self.summaries: dict[int, list[str]] = {}  # deltas of each reasoning summary


class StreamAccumulator:
    """``feed`` every event in order, then read :attr:`response`.

    Raises :class:`StreamError` as soon as the stream breaks its grammar: a ``sequence_number``
    that does not increase, an item or content part changed before it was opened (or after it
    was closed), deltas that do not add up to their ``done`` text, an event after the terminal
    one, or an ``error`` event.
    """

    def __init__(self) -> None:
        self._last_seq = -1
        self._base: Response | None = None
        self._items: list[Item | None] = []
        self._open: dict[int, _OpenItem] = {}
        self._final: Response | None = None
        self.events = 0

    @property
    def done(self) -> bool:
        """Whether the terminal event has been fed."""
        return self._final is not None

    @property
    def response(self) -> Response:
        """The final Response; :class:`StreamError` if the stream has not ended properly."""
        if self._final is None:
            raise StreamError(
                f"the stream ended without a terminal event after {self.events} events"
                " (expected response.completed, response.failed or response.incomplete)"
            )
        return self._final

    def feed(self, event: Event) -> None:
        """Take the next event of the stream."""
        self.events += 1
        if self._final is not None:
            raise StreamError(f"{event.type} arrived after the terminal event")
        seq = event.sequence_number
        if seq is not None:
            if seq <= self._last_seq:
                raise StreamError(
                    f"sequence_number {seq} of {event.type} does not increase"
                    f" (the previous was {self._last_seq})"
                )
            self._last_seq = seq
        if isinstance(event, TextDeltaEvent):
            self._part_of(
                event.output_index, event.item_id, event.content_index, event.type
            ).append(event.delta)
        elif isinstance(event, ResponseEvent):
            self._response_event(event)
        elif isinstance(event, OutputItemEvent):
            self._item_event(event)
        elif isinstance(event, ContentPartEvent):
            self._content_part(event)
        elif isinstance(event, TextDoneEvent):
            deltas = self._part_of(
                event.output_index, event.item_id, event.content_index, event.type
            )
            self._check_text(event.type, "".join(deltas), event.text)
        elif isinstance(event, ReasoningDeltaEvent | ReasoningDoneEvent):
            self._reasoning(event)
        elif isinstance(event, ErrorEvent):
            raise StreamError(f"the server sent an error event: {event.message}", code=event.code)

    # -- per event kind ------------------------------------------------------------------------

    def _response_event(self, event: ResponseEvent) -> None:
        if event.type in TERMINAL_EVENT_TYPES:
            if self._open:
                names = ", ".join(str(i) for i in sorted(self._open))
                raise StreamError(f"{event.type} arrived while output items {names} were open")
            self._final = self._fold(event.response)
        else:
            self._base = event.response

    def _fold(self, final: Response) -> Response:
        streamed = tuple(item for item in self._items if item is not None)
        if not final.output:
            return replace(final, output=streamed)  # a slim terminal event: use what streamed
        ids = [getattr(item, "id", None) for item in final.output]
        seen = [getattr(item, "id", None) for item in streamed]
        if streamed and ids != seen:
            raise StreamError(
                f"the terminal response lists items {ids}, but the stream delivered {seen}"
            )
        return final

    def _item_event(self, event: OutputItemEvent) -> None:
        index, item = event.output_index, event.item
        item_id = item.id
        if event.type == "response.output_item.added":
            if index != len(self._items):
                raise StreamError(
                    f"output item {index} was added, but the next index is {len(self._items)}"
                )
            self._items.append(None)
            self._open[index] = _OpenItem(item_id)
            return
        opened = self._open.pop(index, None)
        if opened is None:
            raise StreamError(f"output item {index} is done but was never added (or is done twice)")
        if opened.id != item_id:
            raise StreamError(
                f"output item {index} was added as {opened.id} but is done as {item_id}"
            )
        if not all(opened.done_parts):
            raise StreamError(f"output item {index} is done while a content part is still open")
        self._items[index] = item

    def _opened(self, index: int, item_id: str, what: str) -> _OpenItem:
        opened = self._open.get(index)
        if opened is None:
            raise StreamError(f"{what} refers to output item {index}, which is not open")
        if opened.id != item_id:
            raise StreamError(f"{what} names item {item_id}, but item {index} is {opened.id}")
        return opened

    def _content_part(self, event: ContentPartEvent) -> None:
        opened = self._opened(event.output_index, event.item_id, event.type)
        ci = event.content_index
        if event.type == "response.content_part.added":
            if ci != len(opened.parts):
                raise StreamError(
                    f"content part {ci} of item {event.item_id} was added;"
                    f" the next index is {len(opened.parts)}"
                )
            opened.parts.append([])
            opened.done_parts.append(False)
            return
        deltas = self._open_part(opened, ci, event.item_id, event.type)
        self._check_text(event.type, "".join(deltas), event.part.text or "")
        opened.done_parts[ci] = True

    def _part_of(self, index: int, item_id: str, ci: int, what: str) -> list[str]:
        return self._open_part(self._opened(index, item_id, what), ci, item_id, what)

    @staticmethod
    def _open_part(opened: _OpenItem, ci: int, item_id: str, what: str) -> list[str]:
        """The deltas so far of content part ``ci``, which must be open."""
        if ci >= len(opened.parts) or opened.done_parts[ci]:
            raise StreamError(f"{what} refers to content part {ci} of {item_id}, which is not open")
        return opened.parts[ci]

    def _reasoning(self, event: ReasoningDeltaEvent | ReasoningDoneEvent) -> None:
        opened = self._opened(event.output_index, event.item_id, event.type)
        deltas = opened.summaries.setdefault(event.index, [])
        if isinstance(event, ReasoningDeltaEvent):
            deltas.append(event.delta)
        else:
            self._check_text(event.type, "".join(deltas), event.text)

    @staticmethod
    def _check_text(what: str, streamed: str, done: str) -> None:
        if streamed != done:
            raise StreamError(
                f"the deltas add up to {_clip(streamed)!r}, but {what} says {_clip(done)!r}"
            )


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
