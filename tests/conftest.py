from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mockserver import create_app
from mockserver.replay import bundled_dir
from mockserver.vcr_support import make_vcr

from .support import LEGACY_PATH, ThreadedMock, threaded_mock

LEGACY_PREFIX = LEGACY_PATH.removesuffix("/responses")
#: Where the client's own vcrpy tests record (real API answers, recorded with a key).
VCR_DIR = Path(__file__).parent / "cassettes"


def live_key() -> str | None:
    """The DashScope API key, when the environment has one."""
    return os.environ.get("DASHSCOPE_API_KEY") or None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--vcr-record",
        choices=("auto", "none", "once"),
        default="auto",
        help="vcrpy tests: record cassettes that are missing (once), never (none), or only when "
        "DASHSCOPE_API_KEY is set (auto, the default). A cassette that exists is never "
        "re-recorded.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if live_key():
        return
    skip = pytest.mark.skip(reason="no DASHSCOPE_API_KEY: live tests call the real API")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


VcrFactory = Callable[[str], AbstractContextManager[Any]]


@pytest.fixture
def vcr_cassette(request: pytest.FixtureRequest) -> VcrFactory:
    """Factory: ``with vcr_cassette("doc_example"):`` replays ``tests/cassettes/NAME.yaml``,
    else the bundled ``cassettes/NAME.yaml``; a cassette found in neither is recorded from the
    real API when recording is on (``--vcr-record``), into ``tests/cassettes/``."""
    mode = request.config.getoption("--vcr-record")
    record = mode == "once" or (mode == "auto" and live_key() is not None)
    if mode == "once" and live_key() is None:
        pytest.fail("--vcr-record once needs DASHSCOPE_API_KEY to call the real API")

    def use(name: str) -> AbstractContextManager[Any]:
        for folder in (VCR_DIR, bundled_dir()):
            if (folder / f"{name}.yaml").exists():
                return make_vcr(folder, record=False).use_cassette(f"{name}.yaml")
        if not record:
            pytest.fail(f"no cassette {name!r} and no DASHSCOPE_API_KEY to record it")
        return make_vcr(VCR_DIR, record=True).use_cassette(f"{name}.yaml")

    return use


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
