"""The HTTP client: one aiohttp session, retries, timeouts, and the typed stream."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import aiohttp

from ._accumulate import StreamAccumulator
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
from ._events import Event
from ._models import Response
from ._parse import parse_event, parse_json, parse_response
from ._sse import SSEDecoder, SSEEvent

__all__ = ["DEFAULT_BASE_URL", "ImageSearchClient", "ResponseStream", "Timeout"]

#: The seeds' endpoint (Singapore, international) [S1].
DEFAULT_BASE_URL = "https://dashscope-intl.aliyuncs.com/api/v2/apps/protocols/compatible-mode/v1"
_RETRY_STATUSES = frozenset({408, 409, 429})
_MAX_BACKOFF = 8.0


@dataclass(frozen=True, slots=True)
class Timeout:
    """Seconds to wait; ``None`` waits for ever.

    ``connect``: to open a connection. ``total``: a whole non-streaming call (each attempt).
    ``idle``: between two reads of an answer, which bounds the gap between stream events.
    """

    connect: float | None = 10.0
    total: float | None = 300.0
    idle: float | None = 120.0


def _should_retry_header(headers: Mapping[str, str]) -> bool | None:
    value = headers.get("x-should-retry", "").strip().lower()
    return True if value == "true" else False if value == "false" else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms``, else ``Retry-After`` in seconds or as an HTTP date."""
    with contextlib.suppress(ValueError):
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
    value = headers.get("Retry-After")
    if value is None:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def _error_detail(body: dict[str, Any]) -> dict[str, Any]:
    """The object holding ``code`` and ``message``: the envelope's ``error``, or the body."""
    error = body.get("error")
    return error if isinstance(error, dict) else body


def _status_error(status: int, raw: bytes, headers: Mapping[str, str]) -> APIStatusError:
    """The typed error for an HTTP error answer, from either documented body shape."""
    body: Any = None
    code = message = None
    request_id = headers.get("x-request-id")
    with contextlib.suppress(ProtocolError):
        body = parse_json(raw)
    if isinstance(body, dict):
        detail = _error_detail(body)
        code = detail.get("code") if isinstance(detail.get("code"), str) else None
        message = detail.get("message") if isinstance(detail.get("message"), str) else None
        if request_id is None and isinstance(body.get("request_id"), str):
            request_id = body["request_id"]
    if message is None:
        text = raw[:200].decode("utf-8", "replace").strip()
        message = text or f"HTTP {status} with an empty body"
    cls: type[APIStatusError]
    if status in (401, 403):
        cls = AuthenticationError
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    else:
        cls = BadRequestError
    return cls(
        message,
        status=status,
        code=code,
        request_id=request_id,
        body=body,
        retry_after=_retry_after(headers),
        should_retry=_should_retry_header(headers),
    )


def _is_rate_limit(response: Response) -> bool:
    # Documented [S4]: HTTP 200, status failed, error.code "server_error", and a message about
    # the rate limit. The code alone is too broad, so the message decides (inferred).
    error = response.error
    if error is None:
        return False
    return "throttl" in error.code.lower() or "rate limit" in error.message.lower()


def _failure(response: Response, request_id: str | None) -> ImageSearchError:
    """The error for a response whose status is ``failed``."""
    if _is_rate_limit(response):
        assert response.error is not None
        return RateLimitError(
            response.error.message,
            status=200,
            code=response.error.code,
            request_id=request_id,
            body=response.to_dict(),
        )
    return ResponseFailedError(response)


def _json_answer(status: int, raw: bytes, headers: Mapping[str, str]) -> Response:
    """The Response in a JSON answer, or the typed error it stands for."""
    if status >= 400:
        raise _status_error(status, raw, headers)
    response = parse_response(parse_json(raw))
    if response.status == "failed":
        raise _failure(response, headers.get("x-request-id"))
    return response


@contextlib.contextmanager
def _translate(what: str) -> Iterator[None]:
    """The one place where aiohttp's and asyncio's exceptions become the client's."""
    try:
        yield
    except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
        raise APITimeoutError(f"timed out {what}") from exc
    except aiohttp.ClientPayloadError as exc:
        raise APIConnectionError(f"the connection broke {what}: {exc}") from exc
    except aiohttp.ClientError as exc:
        raise APIConnectionError(f"{what} failed: {exc}") from exc


def _images(images: str | Sequence[str]) -> list[str]:
    urls = [images] if isinstance(images, str) else list(images)
    if not urls or not all(isinstance(u, str) and u for u in urls):
        raise ValueError(
            f"images must be one image URL or a non-empty list of them, got {images!r}"
        )
    return urls


class ImageSearchClient:
    """An async client for the Responses API with the ``image_search`` tool.

    ``api_key`` defaults to ``$DASHSCOPE_API_KEY`` and ``base_url`` to ``$DASHSCOPE_BASE_URL``
    or the seeds' international endpoint. Use it as ``async with ImageSearchClient() as c:``
    (or call :meth:`close`). Connection errors, 408, 409, 429, 5xx and the rate limit that
    arrives as HTTP 200 are retried up to ``max_retries`` times, with exponential backoff from
    ``retry_backoff`` seconds (capped at 8 s, 25 % jitter); a ``Retry-After`` or
    ``retry-after-ms`` is honoured up to ``max_retry_delay`` seconds, and a longer one is not
    waited for (the error is raised). ``x-should-retry`` overrides. A stream is never retried
    once an event has been handed out.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        model: str = "qwen3.5-plus",
        timeout: Timeout | float | None = None,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        max_retry_delay: float = 60.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("DASHSCOPE_API_KEY")
        if not key:
            raise ImageSearchError(
                "no API key: pass api_key=... or set the DASHSCOPE_API_KEY environment variable"
            )
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.base_url = base_url or os.environ.get("DASHSCOPE_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = self.base_url.rstrip("/")
        self.model = model
        if isinstance(timeout, int | float):
            timeout = Timeout(total=float(timeout))
        self.timeout = timeout or Timeout()
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.max_retry_delay = max_retry_delay
        self._headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        }
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never the key
        return f"ImageSearchClient(base_url={self.base_url!r}, model={self.model!r})"

    async def __aenter__(self) -> ImageSearchClient:
        self._open_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": "imgsearch-harness-client"}
            )
        return self._session

    def request_body(
        self, images: str | Sequence[str], text: str | None, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The JSON body :meth:`search` and :meth:`stream` send."""
        content: list[dict[str, Any]] = []
        if text:
            content.append({"type": "input_text", "text": text})
        content += [{"type": "input_image", "image_url": url} for url in _images(images)]
        return {
            "model": self.model,
            "input": [{"role": "user", "content": content}],
            "tools": [{"type": "image_search"}],
            **params,
        }

    def _request_headers(self, body: Mapping[str, Any]) -> dict[str, str]:
        headers = dict(self._headers)
        if "oss://" in str(body.get("input")):  # documented for oss:// URLs [S7, T3]
            headers.setdefault("X-DashScope-OssResourceResolve", "enable")
        return headers

    # -- retries -------------------------------------------------------------------------------

    def _retry_delay(self, exc: ImageSearchError, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, APIStatusError):
            if exc.should_retry is False:
                return None
            retryable = (
                exc.should_retry
                or exc.status in _RETRY_STATUSES
                or exc.status >= 500
                or isinstance(exc, RateLimitError)
            )
            if not retryable:
                return None
            wait = exc.retry_after
            if wait is not None and wait > 0:
                return wait if wait <= self.max_retry_delay else None
        elif not isinstance(exc, APIConnectionError):
            return None
        backoff = min(self.retry_backoff * 2.0**attempt, _MAX_BACKOFF)
        return backoff * (1 - 0.25 * random.random())

    async def _with_retries(self, attempt_once: Any) -> Any:
        attempt = 0
        while True:
            try:
                return await attempt_once()
            except (APIStatusError, APIConnectionError) as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
            attempt += 1
            await asyncio.sleep(delay)

    # -- calls ---------------------------------------------------------------------------------

    async def search(
        self, images: str | Sequence[str], text: str | None = None, **params: Any
    ) -> Response:
        """Search with one image URL or several; extra request parameters pass through.

        Raises :class:`ResponseFailedError` for a failed response, and :class:`RateLimitError`
        for the rate limit DashScope sends as HTTP 200 with ``status: failed``.
        """
        body = self.request_body(images, text, params)
        body.pop("stream", None)
        result: Response = await self._with_retries(lambda: self._search_once(body))
        return result

    def _post(self, body: dict[str, Any], *, stream: bool) -> Any:
        """``session.post`` to the responses endpoint (no total timeout for a stream)."""
        t = self.timeout
        timeout = aiohttp.ClientTimeout(
            total=None if stream else t.total, sock_connect=t.connect, sock_read=t.idle
        )
        return self._open_session().post(
            f"{self.base_url}/responses",
            json=body,
            headers=self._request_headers(body),
            timeout=timeout,
        )

    async def _search_once(self, body: dict[str, Any]) -> Response:
        with _translate("waiting for the response"):
            async with self._post(body, stream=False) as resp:
                raw = await resp.read()
        return _json_answer(resp.status, raw, resp.headers)

    def stream(
        self, images: str | Sequence[str], text: str | None = None, **params: Any
    ) -> ResponseStream:
        """Stream a search: ``async with client.stream(url) as s: async for event in s: ...``.

        The events are typed (see :mod:`client._events`); ``await s.final()`` gives the
        Response the stream adds up to, the same one :meth:`search` returns.
        """
        body = self.request_body(images, text, params)
        body["stream"] = True
        return ResponseStream(self, body)


class ResponseStream:
    """The typed events of one streamed response, and the final Response they add up to.

    Leaving the ``async with`` block (or calling :meth:`aclose`) before the end closes the
    connection. Iterating ends after the terminal event; a failed response then raises
    :class:`ResponseFailedError` (or :class:`RateLimitError`), and a stream that ends without a
    terminal event raises :class:`StreamError`.
    """

    def __init__(self, client: ImageSearchClient, body: dict[str, Any]) -> None:
        self._client = client
        self._body = body
        self._resp: aiohttp.ClientResponse | None = None
        self._iterator: AsyncIterator[Event] | None = None
        self.accumulator = StreamAccumulator()
        #: the ``x-request-id`` of the answer, once connected
        self.request_id: str | None = None

    async def __aenter__(self) -> ResponseStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._iterator is None:
            self._iterator = self._events()
        return self._iterator

    async def final(self) -> Response:
        """Read what is left of the stream and return the final Response."""
        async for _ in self:
            pass
        return self.accumulator.response

    async def aclose(self) -> None:
        """Stop: close the connection without reading the rest."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]
        if self._resp is not None:
            self._resp.close()
            self._resp = None

    async def _connect_once(self) -> aiohttp.ClientResponse:
        with _translate("connecting for the stream"):
            resp: aiohttp.ClientResponse = await self._client._post(self._body, stream=True)
            if resp.status < 400 and resp.content_type == "text/event-stream":
                return resp
            try:
                raw = await resp.read()
            finally:
                resp.close()
        self.request_id = resp.headers.get("x-request-id")
        # A JSON answer to a stream request: the SDKs read it as zero events. Say what it was.
        _json_answer(resp.status, raw, resp.headers)
        raise ProtocolError(
            "", "expected an event stream, but the server answered with one JSON Response", raw[:80]
        )

    async def _events(self) -> AsyncIterator[Event]:
        self._resp = resp = await self._client._with_retries(self._connect_once)
        self.request_id = resp.headers.get("x-request-id")
        decoder = SSEDecoder()
        accumulator = self.accumulator
        try:
            with _translate("reading the stream"):
                async for chunk in resp.content.iter_any():
                    for sse in decoder.feed(chunk):
                        event = _event(sse)
                        if event is None:  # [DONE]
                            break
                        accumulator.feed(event)
                        yield event
                    else:
                        continue
                    break
                else:
                    for sse in decoder.flush():
                        event = _event(sse)
                        if event is None:
                            break
                        accumulator.feed(event)
                        yield event
        finally:
            resp.close()
            self._resp = None
        final = accumulator.response  # StreamError if it ended without a terminal event
        if final.status == "failed":
            raise _failure(final, self.request_id)


def _event(sse: SSEEvent) -> Event | None:
    """One SSE event as a typed event; ``None`` for ``[DONE]``."""
    if sse.data == "[DONE]":
        return None
    document = parse_json(sse.data, "data")
    if type(document) is dict and "type" not in document:
        # Error shapes the SDKs raise on: {"error": {...}} anywhere, or a native error body.
        detail = _error_detail(document)
        if "error" in document or sse.event == "error":
            code = detail.get("code")
            message = detail.get("message")
            raise StreamError(
                f"the server sent an error mid-stream: {message or detail}",
                code=code if isinstance(code, str) else None,
            )
    return parse_event(document)
