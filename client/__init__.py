"""A small, typed async client for DashScope's Responses API with the ``image_search`` tool.

::

    async with ImageSearchClient(base_url="http://127.0.0.1:8000/api/v2/apps/protocols/"
                                 "compatible-mode/v1") as client:
        response = await client.search("https://example.com/cat.png", "Find similar images")
        for call in response.image_search_calls:
            for result in call.results or ():
                print(result.index, result.title, result.url)

Layers, each usable alone: :class:`SSEDecoder` (bytes in any chunking to SSE events),
:func:`parse_event` / :func:`parse_response` (JSON to typed models, or :class:`ProtocolError`),
:class:`StreamAccumulator` (events to the final Response, checking the stream's grammar), and
:class:`ImageSearchClient` (HTTP, retries, timeouts). The exception tree is drawn in
:mod:`client._errors`.
"""

from __future__ import annotations

from ._accumulate import StreamAccumulator
from ._client import DEFAULT_BASE_URL, ImageSearchClient, ResponseStream, Timeout
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ImageSearchError,
    ProtocolError,
    RateLimitError,
    ResponseFailedError,
    ServerError,
    StreamError,
)
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
from ._parse import parse_event, parse_image_results, parse_response
from ._sse import LineDecoder, SSEDecoder, SSEEvent

__all__ = [
    "DEFAULT_BASE_URL",
    "TERMINAL_EVENT_TYPES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ContentPartEvent",
    "ErrorEvent",
    "ErrorInfo",
    "Event",
    "ImageResult",
    "ImageSearchCall",
    "ImageSearchClient",
    "ImageSearchError",
    "IncompleteDetails",
    "Item",
    "LineDecoder",
    "Message",
    "OutputItemEvent",
    "Part",
    "ProtocolError",
    "RateLimitError",
    "Reasoning",
    "ReasoningDeltaEvent",
    "ReasoningDoneEvent",
    "Response",
    "ResponseEvent",
    "ResponseFailedError",
    "ResponseStream",
    "SSEDecoder",
    "SSEEvent",
    "ServerError",
    "StreamAccumulator",
    "StreamError",
    "TextDeltaEvent",
    "TextDoneEvent",
    "Timeout",
    "UnknownEvent",
    "UnknownItem",
    "Usage",
    "parse_event",
    "parse_image_results",
    "parse_response",
]
