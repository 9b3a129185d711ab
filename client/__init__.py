"""A small, typed client for DashScope's Responses API with the ``image_search`` tool.

So far this package holds the sans-I/O Server-Sent Events decoder; the HTTP client, the typed
models and the stream accumulator build on it.
"""

from __future__ import annotations

from ._sse import LineDecoder, SSEDecoder, SSEEvent

__all__ = ["LineDecoder", "SSEDecoder", "SSEEvent"]
