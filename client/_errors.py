"""The client's exceptions: one tree, each carrying what went wrong and where.

::

    ImageSearchError
    ├── APIStatusError            status, code, message, request_id, body
    │   ├── BadRequestError       400, 404, 413, 415, 422 ... (any other 4xx)
    │   ├── AuthenticationError   401, 403
    │   ├── RateLimitError        429, and the documented HTTP 200 ``status: failed`` rate limit
    │   └── ServerError           5xx
    ├── APIConnectionError        the server could not be reached, or the connection broke
    │   └── APITimeoutError       connect, total or idle (between stream events) timeout
    ├── StreamError               a stream that breaks its grammar or ends without a terminal event
    ├── ProtocolError             a document that is not what the API documents (path, value)
    └── ResponseFailedError       a response whose ``status`` is ``failed``

aiohttp's exceptions never escape the client: they are translated in one place
(:func:`client._client._translate`), mid-stream included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Response

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ImageSearchError",
    "ProtocolError",
    "RateLimitError",
    "ResponseFailedError",
    "ServerError",
    "StreamError",
]


class ImageSearchError(Exception):
    """The root of every error this client raises."""


class APIStatusError(ImageSearchError):
    """The API answered with an error: an HTTP error status, or an error in the body."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body
        #: seconds the server asked to wait (``retry-after-ms`` or ``Retry-After``), if it did
        self.retry_after = retry_after
        #: the server's ``x-should-retry`` verdict, if it gave one
        self.should_retry = should_retry

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"HTTP {self.status}{code}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """The request was refused as invalid (a 4xx other than 401, 403 and 429)."""


class AuthenticationError(APIStatusError):
    """The API key is missing, wrong or not allowed (401, 403)."""


class RateLimitError(APIStatusError):
    """Too many requests: HTTP 429, or DashScope's HTTP 200 with ``status: failed``.

    ``retry_after`` is the delay in seconds the server asked for, if it asked.
    """


class ServerError(APIStatusError):
    """The server failed (5xx)."""


class APIConnectionError(ImageSearchError):
    """The server could not be reached, or the connection broke before the answer was whole."""


class APITimeoutError(APIConnectionError):
    """A connect, total or idle timeout expired."""


class StreamError(ImageSearchError):
    """A stream broke its grammar, reported an error event, or ended without a terminal event.

    ``code`` is set when the server sent an ``error`` event.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ProtocolError(ImageSearchError):
    """A document does not have the documented shape.

    ``path`` locates the offending value (e.g. ``output[1].status``) and ``value`` is it.
    """

    def __init__(self, path: str, message: str, value: Any = None) -> None:
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{path or '$'}: {message}, got {shown}")
        self.path = path
        self.message = message
        self.value = value


class ResponseFailedError(ImageSearchError):
    """The response came back with ``status: failed``; ``response`` holds it whole."""

    def __init__(self, response: Response) -> None:
        error = response.error
        detail = f"{error.code}: {error.message}" if error else "no error details"
        super().__init__(f"response {response.id} failed ({detail})")
        self.response = response
        self.code = error.code if error else None
