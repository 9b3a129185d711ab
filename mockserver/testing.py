"""The mock as a test double: a server in a background thread with a Python API.

::

    with MockServer() as mock:
        mock.expect(model="qwen3.5-plus", stream=True, respond="zero_results")
        ...  # the code under test, with base_url=mock.base_url
        assert mock.requests[-1].events_sent > 0
        mock.assert_all_expectations_met()

The server has its own thread and event loop, so synchronous code (the OpenAI SDK) and async
code on any loop can call it, and one server can outlive many tests (:meth:`MockServer.reset`).
The pytest plugin (:mod:`mockserver.pytest_plugin`) wraps it in fixtures.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .app import RESPONSES_PATHS, create_app
from .config import MockConfig
from .custom import ScenarioBuilder
from .expect import Expectation, Match, Respond
from .faults import Faults
from .journal import JournalEntry
from .keys import STATE_KEY, scenario_names
from .state import MockState

if TYPE_CHECKING:
    from client import ImageSearchClient

__all__ = ["TEST_API_KEY", "MockServer", "Requests"]

#: The key the helpers send; any non-empty key works unless the server was given one.
TEST_API_KEY = "sk-imgsearch-test"
_ENTRY_FIELDS = ("scenario", "status", "disconnected", "expectation", "method")


class Requests(list[JournalEntry]):
    """Journal entries, oldest first, with a filter."""

    def where(
        self, predicate: Callable[[JournalEntry], bool] | None = None, **fields: Any
    ) -> Requests:
        """Entries with these values: request fields as in :class:`~mockserver.expect.Match`
        (``model``, ``stream``, ``image_url``, ``text``, ``path``, ``headers``, ``body``) and
        journal fields (``scenario``, ``status``, ``disconnected``, ``expectation``,
        ``method``)."""
        own = {k: fields.pop(k) for k in list(fields) if k in _ENTRY_FIELDS}
        match = Match(**fields, where=predicate)
        return Requests(
            e for e in self if match.matches(e) and all(getattr(e, k) == v for k, v in own.items())
        )

    @property
    def last(self) -> JournalEntry:
        """The newest entry (``AssertionError`` when there is none)."""
        assert self, "the mock has received no request"
        return self[-1]


class MockServer:
    """The mock on ``host:port`` (port 0: any free one) in a thread of its own.

    ``config`` and ``overrides`` are as for :func:`mockserver.create_app`. Use it as a context
    manager, or call :meth:`start` and :meth:`stop`.
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(
        self,
        config: MockConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **overrides: Any,
    ) -> None:
        self.app = create_app(config, **overrides)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> MockServer:
        """Start serving; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("the mock server is already running")
        loop = asyncio.new_event_loop()
        # handler_cancellation: a client that leaves ends its handler at once (stalls included);
        # a short shutdown_timeout: stop() never waits long on a stream still being sent.
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        thread = threading.Thread(target=loop.run_forever, name="imgsearch-mock", daemon=True)
        thread.start()
        self._loop, self._thread, self._runner = loop, thread, runner
        try:
            asyncio.run_coroutine_threadsafe(self._bind(runner), loop).result(30)
        except BaseException:
            self.stop()
            raise
        return self

    async def _bind(self, runner: web.AppRunner) -> None:
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = runner.addresses[0][1]

    def stop(self) -> None:
        """Stop serving and release the port, the thread and the loop (safe to call twice)."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            return
        self._loop = self._thread = self._runner = None
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._thread is not None

    # -- where ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give an OpenAI SDK or our client: the seed pages' path."""
        return self.url + RESPONSES_PATHS[0].removesuffix("/responses")

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> MockState:
        """The server's state (journal, expectations, settings)."""
        return self.app[STATE_KEY]

    @property
    def requests(self) -> Requests:
        """Every journaled request, oldest first (waits up to 1 s for answers in flight)."""
        return Requests(self.state.journal.entries())

    def use(
        self,
        scenario: str | ScenarioBuilder | None = None,
        *,
        speed: float | None = None,
        faults: Faults | Mapping[str, Any] | str | None = None,
        seed: int | None = None,
        strict: bool | None = None,
    ) -> None:
        """Settings for the requests that follow, until :meth:`reset` (what the marker sets)."""
        if isinstance(scenario, str):
            self._check_scenario(scenario)
        self.state.configure(scenario, speed, _faults(faults), seed, strict)

    def expect(
        self,
        *,
        respond: Respond = "default",
        times: int | None = 1,
        ordered: bool = False,
        faults: Faults | Mapping[str, Any] | str | None = None,
        model: str | None = None,
        stream: bool | None = None,
        image_url: str | None = None,
        text: str | None = None,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        where: Callable[[JournalEntry], bool] | None = None,
    ) -> Expectation:
        """Expect requests that have these fields, and answer them with ``respond``.

        ``times=1`` answers one request, ``times=None`` any number (at least one is expected);
        ``ordered`` expectations must be met in the order they were made. Once a test has an
        expectation, a request that matches none gets HTTP 404 ``Mock.NoMatchingExpectation``
        and fails the test, unless ``use(strict=False)`` lets it through to the scenarios.
        """
        if isinstance(respond, str):
            self._check_scenario(respond)
        match = Match(model, stream, image_url, text, path, headers, body, where)
        expectation = Expectation(match, respond, times, ordered, _faults(faults))
        return self.state.add(expectation)

    def queue(self, scenario: str, count: int = 1) -> None:
        """The next ``count`` requests get ``scenario`` (unless an expectation or header says
        otherwise)."""
        self._check_scenario(scenario)
        self.state.queue(scenario, count)

    def reset(self) -> None:
        """Forget the journal, expectations, queue, settings and kept errors."""
        self.state.reset()

    def check(self) -> None:
        """Raise the first failure the server kept: a strict miss, a request out of order, an
        exception in a ``respond`` function or in the mock itself."""
        self.state.check()

    def assert_all_expectations_met(self) -> None:
        """Raise ``ExpectationError`` naming every expectation still waiting for requests."""
        self.state.assert_all_expectations_met()

    def _check_scenario(self, name: str) -> None:
        known = scenario_names(self.app)
        if name not in known:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(known)}")

    # -- clients -------------------------------------------------------------------------------

    def client(self, **options: Any) -> ImageSearchClient:
        """Our async client pointed at this server (close it, or use ``async with``)."""
        from client import ImageSearchClient

        options.setdefault("api_key", TEST_API_KEY)
        return ImageSearchClient(base_url=self.base_url, **options)

    def openai(self, **options: Any) -> Any:
        """An ``openai.OpenAI`` pointed at this server (needs the ``openai`` package)."""
        import openai

        options.setdefault("api_key", TEST_API_KEY)
        return openai.OpenAI(base_url=self.base_url, **options)

    def async_openai(self, **options: Any) -> Any:
        """An ``openai.AsyncOpenAI`` pointed at this server (needs the ``openai`` package)."""
        import openai

        options.setdefault("api_key", TEST_API_KEY)
        return openai.AsyncOpenAI(base_url=self.base_url, **options)


def _faults(value: Faults | Mapping[str, Any] | str | None) -> Faults | None:
    if value is None or isinstance(value, Faults):
        return value
    if isinstance(value, str):
        return Faults.parse(value)
    return Faults.from_mapping(value)
