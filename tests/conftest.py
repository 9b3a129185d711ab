from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockserver import create_app

from .support import ThreadedMock, threaded_mock

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
