"""``imgsearch search``: prints what the seed pages print, against the mock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import SEED_IMAGE, ThreadedMock, threaded_mock
from .test_openai_sdk import DOC_OUTPUT, DOC_STREAM_OUTPUT


@pytest.fixture(scope="module")
def doc_mock() -> Iterator[ThreadedMock]:
    with threaded_mock(scenario="doc_example", speed=0) as server:
        yield server


def _run(*args: str, key: str | None = "sk-test-cli") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("DASHSCOPE_API_KEY", None)
    if key is not None:
        env["DASHSCOPE_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "client", *args],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "expected"), [((), DOC_OUTPUT), (("--stream",), DOC_STREAM_OUTPUT)]
)
def test_cli_prints_what_the_seed_page_shows(
    doc_mock: ThreadedMock, flags: tuple[str, ...], expected: str
) -> None:
    result = _run(
        "search",
        SEED_IMAGE,
        "--text",
        "找與這張圖相似風格的風景圖",
        "--base-url",
        doc_mock.base_url,
        *flags,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_cli_json_is_the_typed_response(doc_mock: ThreadedMock) -> None:
    result = _run("search", SEED_IMAGE, "--json", "--base-url", doc_mock.base_url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "completed"
    calls = [item for item in document["output"] if item["type"] == "image_search_call"]
    assert [r["index"] for r in calls[0]["results"]] == [1, 2]


def test_cli_stream_json_prints_one_event_per_line(doc_mock: ThreadedMock) -> None:
    result = _run("search", SEED_IMAGE, "--stream", "--json", "--base-url", doc_mock.base_url)
    assert result.returncode == 0, result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert types[0] == "response.created" and types[-1] == "response.completed"


def test_cli_errors_are_one_line_and_exit_1(shared_mock: ThreadedMock) -> None:
    result = _run("search", SEED_IMAGE, "--base-url", shared_mock.base_url, key=None)
    assert result.returncode == 1
    assert result.stderr.startswith("imgsearch: error: no API key")
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_refused_connection_is_one_line(tmp_path: object) -> None:
    result = _run("search", SEED_IMAGE, "--base-url", "http://127.0.0.1:9/v1")
    assert result.returncode == 1
    assert "imgsearch: error:" in result.stderr and "Traceback" not in result.stderr


def test_the_readme_client_example_runs_against_the_mock(shared_mock: ThreadedMock) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("## The client") :]
    code = section[
        section.index("```python\n") + 10 : section.index("\n```", section.index("```python"))
    ]
    default = "http://127.0.0.1:8000/api/v2/apps/protocols/compatible-mode/v1"
    assert code.count(default) == 1
    env = {**os.environ, "DASHSCOPE_API_KEY": "sk-test-readme", "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-c", code.replace(default, shared_mock.base_url)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "response.created" in lines and "response.completed" in lines
    assert lines[-1].startswith("Usage(input_tokens=")
