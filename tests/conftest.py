from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockserver import create_app

from .support import LEGACY_PATH, ThreadedMock, threaded_mock

LEGACY_PREFIX = LEGACY_PATH.removesuffix("/responses")

MockClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def mock_client(aiohttp_client: Any) -> MockClientFactory:
    """Factory: an aiohttp test client on an in-process mock (127.0.0.1, port 0)."""

    async def make(**config: Any) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = await aiohttp_client(create_app(**config))
        return client

    return make


@pytest.fixture(scope="session")
def shared_mock() -> Iterator[ThreadedMock]:
    """One threaded mock for the whole session (tests pick scenarios by header)."""
    with threaded_mock(speed=0) as server:
        yield server


MockUrlFactory = Callable[..., Awaitable[str]]


@pytest.fixture
def mock_url(aiohttp_server: Any) -> MockUrlFactory:
    """Factory: start an in-process mock (127.0.0.1, port 0) and return its base URL.

    ``middlewares=[...]`` are added to the mock's app (e.g. to count requests).
    """

    async def make(middlewares: tuple[Any, ...] = (), **config: Any) -> str:
        app = create_app(**config)
        app.middlewares.extend(middlewares)
        server = await aiohttp_server(app)
        return str(server.make_url(LEGACY_PREFIX))

    return make
