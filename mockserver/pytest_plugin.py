"""pytest fixtures and a marker for testing code against the mock (entry point ``imgsearch``).

::

    import pytest

    @pytest.mark.imgsearch(scenario="zero_results")
    def test_no_results(imgsearch_openai, imgsearch_mock):
        response = imgsearch_openai.responses.create(model="qwen3.5-plus", input="...",
                                                     tools=[{"type": "image_search"}])
        assert imgsearch_mock.requests.last.scenario == "zero_results"

Fixtures:

- ``imgsearch_mock``: a :class:`~mockserver.testing.MockServer` on 127.0.0.1 (any free port).
  One server per session (per worker under pytest-xdist), reset before each test; a test
  marked ``isolated=True`` or ``config={...}`` gets a server of its own. After the test it
  raises what the server kept (a strict miss, an exception in a ``respond`` function) and
  any expectation left unmet.
- ``imgsearch_base_url``: the ``base_url`` for an SDK or our client.
- ``imgsearch_openai`` / ``imgsearch_async_openai``: the OpenAI SDK pointed at the mock
  (skipped when ``openai`` is not installed; the async one needs pytest-asyncio).
- ``imgsearch_client``: our async client pointed at the mock (needs pytest-asyncio).
- ``imgsearch_config``: session-scoped :class:`~mockserver.config.MockConfig`; override it in
  a ``conftest.py`` to change the session server.

The marker ``@pytest.mark.imgsearch(scenario=, speed=, faults=, seed=, strict=, isolated=,
config=)`` sets the mock up for one test; ``faults`` is a dict, the ``X-Mock-Fault`` text, or
a :class:`~mockserver.faults.Faults`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .config import MockConfig
from .faults import FaultError
from .testing import MockServer

try:
    import pytest_asyncio
except ImportError:  # the async fixtures then say what to install
    pytest_asyncio = None  # type: ignore[assignment]

_MARKER_KEYS = frozenset({"scenario", "speed", "faults", "seed", "strict", "isolated", "config"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "imgsearch(scenario=None, speed=None, faults=None, seed=None, strict=None, "
        "isolated=False, config=None): set up the imgsearch mock for this test",
    )


@pytest.fixture(scope="session")
def imgsearch_config() -> MockConfig:
    """The session server's settings; override this fixture to change them."""
    return MockConfig()


@pytest.fixture(scope="session")
def imgsearch_session_server(imgsearch_config: MockConfig) -> Iterator[MockServer]:
    """The server shared by the tests of this session (or xdist worker)."""
    with MockServer(imgsearch_config) as server:
        yield server


@pytest.fixture
def imgsearch_mock(
    request: pytest.FixtureRequest, imgsearch_config: MockConfig
) -> Iterator[MockServer]:
    """The mock, set up by the test's ``imgsearch`` marker and checked after the test."""
    marker = request.node.get_closest_marker("imgsearch")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    if marker is not None and marker.args:
        raise pytest.UsageError("@pytest.mark.imgsearch takes keyword arguments only")
    unknown = set(options) - _MARKER_KEYS
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.imgsearch got unknown argument(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_MARKER_KEYS))}"
        )
    isolated = bool(options.pop("isolated", False))
    overrides = options.pop("config", None) or {}
    own = isolated or bool(overrides)
    if own:
        server = MockServer(dataclasses.replace(imgsearch_config, **overrides)).start()
    else:
        server = request.getfixturevalue("imgsearch_session_server")
        server.reset()
    try:
        try:
            server.use(**options)
        except (ValueError, FaultError) as exc:
            raise pytest.UsageError(f"@pytest.mark.imgsearch: {exc}") from None
        yield server
        server.check()
        server.assert_all_expectations_met()
    finally:
        if own:
            server.stop()
        else:
            server.reset()


@pytest.fixture
def imgsearch_base_url(imgsearch_mock: MockServer) -> str:
    """The ``base_url`` for the OpenAI SDKs and our client, pointed at the mock."""
    return imgsearch_mock.base_url


@pytest.fixture
def imgsearch_openai(imgsearch_mock: MockServer) -> Iterator[Any]:
    """``openai.OpenAI`` pointed at the mock (closed after the test)."""
    pytest.importorskip("openai", reason="the openai package is not installed")
    client = imgsearch_mock.openai()
    try:
        yield client
    finally:
        client.close()


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def imgsearch_async_openai(imgsearch_mock: MockServer) -> AsyncIterator[Any]:
        """``openai.AsyncOpenAI`` pointed at the mock (closed after the test)."""
        pytest.importorskip("openai", reason="the openai package is not installed")
        client = imgsearch_mock.async_openai()
        try:
            yield client
        finally:
            await client.close()

    @pytest_asyncio.fixture
    async def imgsearch_client(imgsearch_mock: MockServer) -> AsyncIterator[Any]:
        """Our :class:`client.ImageSearchClient` pointed at the mock (closed after the test)."""
        async with imgsearch_mock.client() as client:
            yield client

else:

    @pytest.fixture
    def imgsearch_async_openai() -> Any:
        """Needs pytest-asyncio."""
        pytest.fail("imgsearch_async_openai needs pytest-asyncio: pip install pytest-asyncio")

    @pytest.fixture
    def imgsearch_client() -> Any:
        """Needs pytest-asyncio."""
        pytest.fail("imgsearch_client needs pytest-asyncio: pip install pytest-asyncio")
