"""``verify`` finds planted problems, one line each; ``diff`` reports contract changes only."""

from __future__ import annotations

import json
import math
import re
import secrets
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import cassette as cs
from mockserver.__main__ import main
from mockserver.contract import diff_cassettes
from mockserver.documented import DOC_REQUEST
from mockserver.replay import bundled_dir, first_difference
from mockserver.verify import verify_file

from .conftest import MockUrlFactory
from .support import capture_interaction
from .test_cassette import _cassettes

BUNDLED = bundled_dir()


def _planted(name: str, index: int, old: bytes, new: bytes, folder: Path) -> Path:
    """A copy of a bundled cassette with ``old`` replaced by ``new`` in one response body."""
    source = cs.load(BUNDLED / f"{name}.yaml")
    interactions = list(source.interactions)
    response = interactions[index].response
    assert old in response.body, "the plant must change something"
    body = response.body.replace(old, new, 1)
    interactions[index] = replace(
        interactions[index], response=replace(response, chunks=(cs.Chunk(0.0, body),))
    )
    return cs.save(replace(source, interactions=tuple(interactions)), folder / f"{name}.yaml")


def _verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["verify", *args])
    return code, capsys.readouterr().out.splitlines()


def test_verify_finds_a_planted_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = "sk-" + secrets.token_hex(16)
    path = _planted("doc_example", 0, b"Serene Asian", key.encode(), tmp_path)
    code, lines = _verify(capsys, str(path))
    assert code == 1
    assert lines == [
        f"{path}: line {_line_of(path, key)}: a key-shaped secret (sk-{key[3:5]}...) is in the file"
    ]


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_verify_finds_an_unredacted_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = cs.load(BUNDLED / "doc_example.yaml")
    first = source.interactions[0]
    leaked = replace(
        first,
        request=replace(first.request, headers={"Authorization": ["Bearer my-own-token-123"]}),
    )
    path = cs.save(replace(source, interactions=(leaked,)), tmp_path / "leak.yaml")
    code, lines = _verify(capsys, str(path))
    assert code == 1
    assert lines == [
        f"{path}: interactions[0].request.headers.Authorization: holds an unredacted value"
    ]


def test_verify_finds_a_gap_in_sequence_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Event 5 is lost: every later sequence number is one more than its place.
    source = cs.load(BUNDLED / "doc_example.yaml")
    streamed = source.interactions[1]
    body = re.sub(
        rb'"sequence_number":(\d+),',
        lambda m: b'"sequence_number":%d,' % (int(m[1]) + (int(m[1]) >= 5)),
        streamed.response.body,
    )
    response = replace(streamed.response, chunks=(cs.Chunk(0.0, body),))
    gapped = replace(source, interactions=(replace(streamed, response=response),))
    path = cs.save(gapped, tmp_path / "gap.yaml")
    code, lines = _verify(capsys, str(path))
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"{path}: interactions[0]: event 5 (response.")
    assert lines[0].endswith("sequence_number 6, expected 5")


def test_verify_finds_a_schema_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _planted("doc_example", 0, b'"object":"response"', b'"object":"responses"', tmp_path)
    code, lines = _verify(capsys, str(path))
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"{path}: interactions[0]: response body /object: ")
    assert lines[0].endswith("(schema response)")


def test_verify_reports_stale_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = cs.load(BUNDLED / "doc_example.yaml")
    when = (datetime.now(UTC) - timedelta(days=400)).isoformat(timespec="seconds")
    provenance = cs.Provenance("recorded", "doc_example", host="h", recorded_at=when,
                               harness_version="0.1.0")  # fmt: skip
    path = cs.save(replace(source, provenance=provenance), tmp_path / "old.yaml")
    code, lines = _verify(capsys, str(path))
    assert code == 1
    assert lines == [
        f"{path}: metadata.imgsearch.recorded_at: recorded 400 days ago, "
        "older than the 90-day limit: re-record it"
    ]
    assert _verify(capsys, str(path), "--max-age-days", "0") == (0, [])


def test_verify_reports_an_unreadable_cassette_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text("version: 1\ninteractions: [\n")
    shutil.copy(BUNDLED / "zero_results.yaml", tmp_path)
    code, lines = _verify(capsys, str(tmp_path))
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 'bad.yaml'}: not valid YAML")


def _diff(capsys: pytest.CaptureFixture[str], old: Path, new: Path) -> tuple[int, str]:
    code = main(["diff", str(old), str(new)])
    return code, capsys.readouterr().out


def test_diff_reports_a_planted_contract_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _planted(
        "doc_example",
        1,
        b'"parallel_tool_calls":false,"status":"completed"',
        b'"parallel_tool_calls":"no","status":"done","x_new":1',
        tmp_path,
    )
    code, report = _diff(capsys, BUNDLED / "doc_example.yaml", path)
    assert code == 1
    assert "interactions[1]: new field response.completed.response.x_new (integer)" in report
    assert (
        "interactions[1]: type changed at response.completed.response.parallel_tool_calls: "
        "boolean -> string"
    ) in report
    assert "interactions[1]: new value at response.completed.response.status: 'done'" in report
    assert "interactions[0]" not in report


def test_diff_reports_a_new_event_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _planted(
        "doc_example",
        1,
        b"event:response.output_text.done",
        b"event:response.output_text.annotation.added",
        tmp_path,
    )
    code, report = _diff(capsys, BUNDLED / "doc_example.yaml", path)
    assert code == 1 and "the event sequence changed" in report
    assert "+response.output_text.annotation.added" in report
    assert "-response.output_text.done" in report


async def test_diff_ignores_ids_text_timestamps_and_counts(mock_url: MockUrlFactory) -> None:
    # Two re-recordings of the same request: other ids, times, seeds (so other results, titles,
    # URLs and text), nothing else.
    headers = {"Authorization": "Bearer sk-anything-1234"}
    first = await mock_url(speed=0, seed=1)
    second = await mock_url(speed=0, seed=2, created_at=1800000000)
    for stream in (False, True):
        body = {**DOC_REQUEST, "stream": stream}
        a = await capture_interaction(first, body, headers)
        b = await capture_interaction(second, body, headers)
        assert a.response.body != b.response.body
        old = cs.Cassette((a,), cs.Provenance("synthesized", "x"))
        new = cs.Cassette((b,), cs.Provenance("synthesized", "x"))
        assert diff_cassettes(old, new) == []


def test_diff_compares_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = tmp_path / "new"
    shutil.copytree(BUNDLED, new)
    assert _diff(capsys, BUNDLED, new) == (0, "")
    (new / "slow.yaml").unlink()
    shutil.copy(BUNDLED / "doc_example.yaml", new / "extra.yaml")
    code, report = _diff(capsys, BUNDLED, new)
    assert code == 1
    assert report.splitlines() == [
        f"{BUNDLED / 'slow.yaml'}: gone from {new}",
        f"{new / 'extra.yaml'}: new (nothing to compare with)",
    ]


# -- properties: verify, the contract walker and the miss explainer never fail on odd input ----

# -0.0 == 0.0 in JSON comparisons but not in json.dumps: drawn without it.
_floats = st.floats(allow_nan=False).filter(lambda f: f != 0 or math.copysign(1, f) > 0)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _floats | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=15,
)


@settings(max_examples=100, deadline=None)
@given(_cassettes)
def test_verify_reports_problems_and_never_raises(cassette: cs.Cassette) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = cs.save(cassette, Path(folder) / "drawn.yaml")
        problems = verify_file(path, max_age_days=90)
    assert all(str(p).startswith(str(path)) and "\n" not in str(p) for p in problems)


@settings(max_examples=200, deadline=None)
@given(_json, _json)
def test_first_difference_names_the_place_or_none(a: Any, b: Any) -> None:
    assert first_difference(a, a, "f") is None
    found = first_difference(a, b, "f")
    same = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert (found is None) == same and (found is None or found.startswith("f"))


@settings(max_examples=100, deadline=None)
@given(_cassettes)
def test_a_cassette_has_the_contract_of_itself(cassette: cs.Cassette) -> None:
    assert diff_cassettes(cassette, cassette) == []
