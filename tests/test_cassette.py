"""Cassettes: the format round-trips, plain vcrpy replays it, writes are safe, secrets go."""

from __future__ import annotations

import itertools
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from client import ImageSearchClient
from mockserver import cassette as cs
from mockserver.cassette import (
    PLACEHOLDER,
    Cassette,
    CassetteError,
    Chunk,
    Interaction,
    Provenance,
    RecordedRequest,
    RecordedResponse,
)

from .conftest import MockUrlFactory
from .support import SEED_IMAGE, capture_interaction, search_body


def _cassette(*interactions: Interaction) -> Cassette:
    return Cassette(interactions, Provenance("synthesized", "default", "a test cassette"))


HEADERS = {"Authorization": "Bearer sk-test-cassette", "Content-Type": "application/json"}


async def test_dumps_then_loads_is_the_same_cassette(mock_url: MockUrlFactory) -> None:
    url = await mock_url(speed=0)
    plain = await capture_interaction(url, search_body(), HEADERS)
    streamed = await capture_interaction(url, search_body(stream=True), HEADERS)
    cassette = _cassette(plain, streamed)
    assert cs.loads(cs.dumps(cassette)) == cassette
    assert streamed.response.body.startswith(b"id:1\nevent:response.created\n")


@pytest.mark.parametrize("stream", [False, True])
async def test_plain_vcrpy_replays_a_cassette_to_our_client(
    mock_url: MockUrlFactory, tmp_path: Path, stream: bool
) -> None:
    url = await mock_url(speed=0, fixed_ids=True, created_at=1771165743)
    client_body = ImageSearchClient("sk-x", url).request_body(SEED_IMAGE, None, {})
    if stream:
        client_body["stream"] = True
    path = cs.save(
        _cassette(await capture_interaction(url, client_body, HEADERS)), tmp_path / "c.yaml"
    )
    async with ImageSearchClient("sk-x", url) as client:
        live = await client.search(SEED_IMAGE)
    # The recorded server is gone from the picture: vcrpy answers, with record_mode none.
    with vcr.use_cassette(str(path), record_mode="none", match_on=["method", "uri"]):
        async with ImageSearchClient("sk-x", url, max_retries=0) as client:
            if stream:
                async with client.stream(SEED_IMAGE) as s:
                    replayed = await s.final()
            else:
                replayed = await client.search(SEED_IMAGE)
    assert replayed == live


def _sample(body: bytes = b'{"ok": true}', chunks: tuple[bytes, ...] | None = None) -> Cassette:
    parts = chunks or (body,)
    response = RecordedResponse(
        200,
        "OK",
        {"Content-Type": ["application/json"]},
        tuple(Chunk(0.1 * n, p) for n, p in enumerate(parts)),
    )
    request = RecordedRequest(
        "POST", "http://127.0.0.1:1/v1/responses", dict(HEADERS.items() and {"a": ["b"]}), b"{}"
    )
    return _cassette(Interaction(request, response))


def test_save_never_overwrites_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "kept.yaml"
    cs.save(_sample(b"first"), path)
    with pytest.raises(CassetteError, match="already there"):
        cs.save(_sample(b"second"), path)
    assert cs.load(path).interactions[0].response.body == b"first"
    cs.save(_sample(b"second"), path, overwrite=True)
    assert cs.load(path).interactions[0].response.body == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.yaml"]  # no temporary left


def test_an_interrupted_write_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        cs.save(_sample(), tmp_path / "half.yaml")
    assert list(tmp_path.iterdir()) == []


def test_binary_bodies_survive(tmp_path: Path) -> None:
    blob = bytes(range(256))
    path = cs.save(_sample(chunks=(blob[:100], blob[100:])), tmp_path / "bin.yaml")
    loaded = cs.load(path).interactions[0].response
    assert loaded.body == blob and [len(c.data) for c in loaded.chunks] == [100, 156]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\ninteractions: [", "not valid YAML"),
        ("!!python/object/apply:os.system ['true']", "not valid YAML"),
        ("version: 2\ninteractions: []\n", "version must be 1"),
        ("version: 1\ninteractions: {}\n", "interactions must be a list"),
        (
            "version: 1\ninteractions: [{request: {}, response: {status: {code: x}}}]\n",
            "status.code",
        ),
    ],
)
def test_bad_cassettes_are_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(CassetteError, match=message):
        cs.loads(text, "bad.yaml")


def test_redact_leaves_no_trace_of_a_random_key() -> None:
    key = "sk-" + secrets.token_hex(16)
    other = "sk-" + secrets.token_hex(16)  # key-shaped, but in no header
    event = f'data:{{"echo":"{key}","note":"{other}"}}\n\n'.encode()
    cut = event.index(key.encode()) + 5  # the key straddles two chunks
    response = RecordedResponse(200, "OK", {"Set-Cookie": ["session=abc123456"]}, (
        Chunk(0.0, event[:cut]), Chunk(0.5, event[cut:]),
    ))  # fmt: skip
    request = RecordedRequest(
        "POST",
        f"http://127.0.0.1:1/v1/responses?api_key={key}&x=1",
        {
            "Authorization": [f"Bearer {key}"],
            "X-Api-Key": [key],
            "Content-Type": ["application/json"],
        },
        json.dumps({"input": f"my key is {key}", "model": "qwen3.5-plus"}).encode(),
    )
    redacted = cs.redact(_cassette(Interaction(request, response)), patterns=[r"session=\w+"])
    text = cs.dumps(redacted)
    assert key not in text and other not in text and "abc123456" not in text
    got = redacted.interactions[0]
    assert got.request.headers["Authorization"] == [f"Bearer {PLACEHOLDER}"]
    assert got.request.uri == f"http://127.0.0.1:1/v1/responses?api_key={PLACEHOLDER}&x=1"
    assert json.loads(got.request.body)["model"] == "qwen3.5-plus"  # still matches on the body
    assert [c.offset for c in got.response.chunks] == [0.0, 0.5]
    assert got.response.body == event.replace(key.encode(), PLACEHOLDER.encode()).replace(
        other.encode(), PLACEHOLDER.encode()
    )


# -- properties: the cassette parser -----------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_headers = st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True),
    st.lists(_text, min_size=1, max_size=2),
    max_size=4,
)


@st.composite
def _responses(draw: st.DrawFn) -> RecordedResponse:
    body = draw(st.binary(max_size=300) | _text.map(str.encode))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=5)))
    bounds = [0, *cuts, len(body)]
    offsets = sorted(draw(st.lists(
        st.floats(0, 1e4, allow_nan=False), min_size=len(bounds) - 1, max_size=len(bounds) - 1
    )))  # fmt: skip
    chunks = tuple(
        Chunk(offsets[n], body[a:b]) for n, (a, b) in enumerate(itertools.pairwise(bounds))
    )
    return RecordedResponse(
        draw(st.integers(100, 599)),
        draw(_text),
        draw(_headers),
        chunks,
        latency=draw(st.floats(0, 1e4, allow_nan=False)),
        cut=draw(st.booleans()),
    )


_interactions = st.builds(
    Interaction,
    st.builds(
        RecordedRequest,
        st.sampled_from(["POST", "GET"]),
        _text.map(lambda t: "https://h.example/" + t),
        _headers,
        st.binary(max_size=200) | _text.map(str.encode),
    ),
    _responses(),
)
_cassettes = st.builds(
    Cassette,
    st.lists(_interactions, max_size=3).map(tuple),
    st.builds(
        Provenance,
        st.sampled_from(["recorded", "synthesized"]),
        _text.filter(bool),
        _text,
        st.none() | _text,
        st.none() | _text,
        st.none() | _text,
        st.lists(st.sampled_from(["cut", "malformed"]), unique=True).map(tuple),
    ),
)


@settings(max_examples=150, deadline=None)
@given(_cassettes)
def test_any_cassette_round_trips_through_yaml(cassette: Cassette) -> None:
    assert cs.loads(cs.dumps(cassette)) == cassette


_yamlish = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | _text
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"version": st.sampled_from([1, 1, 2, "1"]), "interactions": _yamlish},
        optional={"metadata": _yamlish},
    )
    | _yamlish
)
def test_any_yaml_document_loads_or_is_a_cassette_error(document: Any) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    try:
        loaded = cs.loads(text, "drawn.yaml")
    except CassetteError as exc:
        assert str(exc).startswith("drawn.yaml")
    else:
        assert cs.loads(cs.dumps(loaded)) == loaded


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_redaction_removes_a_key_wherever_it_lands(data: st.DataObject) -> None:
    key = "sk-" + secrets.token_hex(16)
    before, after = data.draw(st.binary(max_size=80)), data.draw(st.binary(max_size=80))
    body = before + key.encode() + after
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=6)))
    bounds = [0, *cuts, len(body)]
    chunks = tuple(
        Chunk(float(n), body[a:b]) for n, (a, b) in enumerate(itertools.pairwise(bounds))
    )
    request = RecordedRequest(
        "POST", "https://h.example/v1/responses", {"Authorization": [f"Bearer {key}"]}, b"{}"
    )
    response = RecordedResponse(200, "OK", {}, chunks)
    redacted = cs.redact(_cassette(Interaction(request, response)))
    got = redacted.interactions[0].response
    assert key.encode() not in got.body and key not in cs.dumps(redacted)
    assert [c.offset for c in got.chunks] == [c.offset for c in chunks]
    assert got.body == cs._scrub(body, {key.encode()}, ())
