"""Our client under plain vcrpy: replayed offline, or recorded from the real API with a key
(``--vcr-record``), matched on what each request asks rather than on its bytes."""

from __future__ import annotations

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from client import ImageSearchClient, Response
from mockserver.documented import DOC_BASE_URL, DOC_REQUEST

from .conftest import VcrFactory, live_key

TEXT = DOC_REQUEST["input"][0]["content"][0]["text"]
IMAGE = DOC_REQUEST["input"][0]["content"][1]["image_url"]


def _check(response: Response) -> None:
    # Holds for the synthesized cassette and for any real recording of the documented request.
    assert response.status == "completed"
    (call,) = response.image_search_calls
    results = call.results or ()
    assert [r.index for r in results] == list(range(1, len(results) + 1))
    assert all(r.url.startswith(("http://", "https://")) for r in results)
    assert response.output_text


async def test_our_client_through_vcrpy(vcr_cassette: VcrFactory) -> None:
    with vcr_cassette("doc_example"):
        async with ImageSearchClient(live_key() or "sk-replay", DOC_BASE_URL) as client:
            _check(await client.search(IMAGE, TEXT))
            async with client.stream(IMAGE, TEXT) as events:
                _check(await events.final())


async def test_a_request_that_asks_otherwise_is_not_replayed(vcr_cassette: VcrFactory) -> None:
    if live_key():
        pytest.skip("with DASHSCOPE_API_KEY set this request would be recorded, not refused")
    with vcr_cassette("doc_example"):
        async with ImageSearchClient("sk-replay", DOC_BASE_URL, max_retries=0) as client:
            with pytest.raises(CannotOverwriteExistingCassetteException, match="json_body_matcher"):
                await client.search("https://example.com/another.png", TEXT)
