"""The bundled library: regenerated identically, valid, and replayed by plain vcrpy."""

from __future__ import annotations

from pathlib import Path

import pytest

from client import (
    AuthenticationError,
    ImageSearchClient,
    ImageSearchError,
    ProtocolError,
    RateLimitError,
    ResponseFailedError,
    ServerError,
    StreamError,
)
from mockserver import cassette as cs
from mockserver.__main__ import main
from mockserver.documented import DOC_BASE_URL, DOC_REQUEST
from mockserver.library import regenerate
from mockserver.replay import bundled_dir
from mockserver.scenarios import SCENARIOS
from mockserver.vcr_support import make_vcr

BUNDLED = bundled_dir()
CASSETTES = sorted(p.stem for p in BUNDLED.glob("*.yaml"))
TEXT = DOC_REQUEST["input"][0]["content"][0]["text"]
IMAGE = DOC_REQUEST["input"][0]["content"][1]["image_url"]

# What our client makes of each bundled cassette, in both modes: (status, results per call), or
# the error it raises. Through vcrpy a dropped connection is only a short body.
OUTCOMES: dict[str, tuple[str, list[int]] | type[ImageSearchError]] = {
    "default": ("completed", [7]),
    "doc_example": ("completed", [2]),
    "zero_results": ("completed", [0]),
    "max_results": ("completed", [100]),
    "search_failed": ("completed", [0]),
    "response_failed": ResponseFailedError,
    "rate_limited": RateLimitError,
    "rate_limited_200": RateLimitError,
    "invalid_api_key": AuthenticationError,
    "server_error": ServerError,
    "incomplete": ("incomplete", [7]),
    "stream_cut": ImageSearchError,  # ProtocolError (JSON) or StreamError (stream)
    "malformed_event": ProtocolError,
    "slow": ("completed", [7]),
    "unicode": ("completed", [6]),
}


def test_the_library_holds_one_cassette_per_scenario() -> None:
    assert sorted(SCENARIOS) == CASSETTES
    assert set(OUTCOMES) == set(SCENARIOS)


def test_regenerating_the_library_changes_nothing(tmp_path: Path) -> None:
    # Our own regression check: the synthesizer, the recording proxy, redaction and the
    # cassette writer must all give the committed bytes again.
    regenerate(tmp_path)
    fresh = sorted(p.name for p in tmp_path.iterdir())
    assert fresh == sorted(p.name for p in BUNDLED.glob("*.yaml"))
    changed = [n for n in fresh if (tmp_path / n).read_bytes() != (BUNDLED / n).read_bytes()]
    assert changed == [], f"regenerate gives other bytes for {changed}; run ./run regenerate"


def test_regenerate_never_replaces_a_recording(tmp_path: Path) -> None:
    target = tmp_path / "zero_results.yaml"
    recorded = cs.load(BUNDLED / "zero_results.yaml")
    cs.save(
        cs.Cassette(
            recorded.interactions,
            cs.Provenance("recorded", "zero_results", host="x", recorded_at="2026-01-01"),
        ),
        target,
    )
    before = target.read_bytes()
    with pytest.raises(cs.CassetteError, match="recorded cassette is there"):
        regenerate(tmp_path, ["zero_results"])
    assert target.read_bytes() == before


def test_verify_passes_on_the_bundled_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{len(CASSETTES)} cassettes checked, 0 problems" in captured.err


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("name", CASSETTES)
async def test_plain_vcrpy_replays_every_bundled_cassette_to_our_client(
    name: str, stream: bool
) -> None:
    expected = OUTCOMES[name]
    # record=False: a request without a recording fails in vcrpy; nothing reaches the network.
    with make_vcr(BUNDLED, record=False).use_cassette(f"{name}.yaml") as cassette:
        async with ImageSearchClient("sk-replay", DOC_BASE_URL, max_retries=0) as client:
            assert client.request_body(IMAGE, TEXT, {}) == DOC_REQUEST

            async def run() -> tuple[str, list[int]]:
                if stream:
                    async with client.stream(IMAGE, TEXT) as events:
                        response = await events.final()
                else:
                    response = await client.search(IMAGE, TEXT)
                return response.status, [len(c.results or ()) for c in response.image_search_calls]

            if isinstance(expected, tuple):
                assert await run() == expected
            else:
                with pytest.raises(expected) as caught:
                    await run()
                if name == "stream_cut":
                    assert isinstance(caught.value, StreamError if stream else ProtocolError)
        assert cassette.play_count == 1
