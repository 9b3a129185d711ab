"""Against the real API (``live``: skipped without DASHSCOPE_API_KEY): record a fresh
interaction through the recording proxy and diff its contract against the bundled cassette."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from client import ImageSearchClient
from mockserver import cassette as cs
from mockserver.contract import diff_cassettes
from mockserver.documented import DOC_BASE_URL, DOC_REQUEST
from mockserver.record import RecorderConfig, create_recorder_app
from mockserver.replay import bundled_dir

from .conftest import live_key

pytestmark = pytest.mark.live

TEXT = DOC_REQUEST["input"][0]["content"][0]["text"]
IMAGE = DOC_REQUEST["input"][0]["content"][1]["image_url"]
#: The real API's origin; DASHSCOPE_BASE_URL (a base URL like DOC_BASE_URL) picks another region.
BASE_URL = os.environ.get("DASHSCOPE_BASE_URL", DOC_BASE_URL)


async def test_the_real_api_keeps_the_bundled_contract(aiohttp_server: Any, tmp_path: Path) -> None:
    key = live_key()
    assert key is not None
    origin, _, prefix = BASE_URL.partition("/api/")
    config = RecorderConfig(upstream=origin, out_dir=tmp_path, name="live_doc_example")
    proxy = await aiohttp_server(create_recorder_app(config))
    base = str(proxy.make_url("")).rstrip("/") + "/api/" + prefix
    async with ImageSearchClient(key, base, max_retries=0, timeout=300) as client:
        await client.search(IMAGE, TEXT)  # the same order as the bundled cassette: JSON, stream
        async with client.stream(IMAGE, TEXT) as events:
            await events.final()
    recorded = tmp_path / "live_doc_example.yaml"
    assert key not in recorded.read_text("utf-8")
    changes = diff_cassettes(cs.load(bundled_dir() / "doc_example.yaml"), cs.load(recorded))
    assert changes == [], "the real API's contract drifted:\n" + "\n".join(changes)
