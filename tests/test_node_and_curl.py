"""The seed pages' Node examples and curl commands, unchanged but for the base URL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .support import ThreadedMock, decode_events
from .test_openai_sdk import DOC_BASE, DOC_OUTPUT, DOC_STREAM_OUTPUT, SEEDS

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE = shutil.which("node")
CURL = shutil.which("curl")

needs_node = pytest.mark.skipif(
    NODE is None or not (NODE_DIR / "node_modules" / "openai").is_dir(),
    reason="needs Node.js and the openai npm package: npm ci --prefix tests/node (./run test does it)",
)


def _source(name: str, base_url: str) -> str:
    source = (SEEDS / name).read_text("utf-8")
    assert source.count(DOC_BASE) == 1, "the example must be the page's, verbatim"
    return source.replace(DOC_BASE, base_url)


@pytest.fixture(scope="module")
def doc_mock() -> object:
    from .support import threaded_mock

    with threaded_mock(scenario="doc_example", speed=0) as server:
        yield server


@pytest.mark.node
@needs_node
@pytest.mark.parametrize(
    ("example", "expected"), [("quickstart.mjs", DOC_OUTPUT), ("streaming.mjs", DOC_STREAM_OUTPUT)]
)
def test_seed_node_examples_print_what_the_docs_show(
    doc_mock: ThreadedMock, example: str, expected: str
) -> None:
    assert NODE is not None
    result = subprocess.run(
        [NODE, "--no-warnings", "--input-type=module"],
        input=_source(example, doc_mock.base_url), capture_output=True, text=True, encoding="utf-8",
        cwd=NODE_DIR, env={**os.environ, "DASHSCOPE_API_KEY": "sk-test-node"}, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


@pytest.mark.node
@needs_node
def test_node_sdk_sees_http_errors_as_the_docs_say(shared_mock: ThreadedMock) -> None:
    assert NODE is not None
    script = """
import OpenAI from "openai";
const client = new OpenAI({apiKey: "sk-x", baseURL: process.env.MOCK_BASE_URL, maxRetries: 0});
const body = {model: "qwen3.5-plus", tools: [{type: "image_search"}],
  input: [{role: "user", content: [{type: "input_image", image_url: "https://example.com/a.png"}]}]};
const out = {};
for (const scenario of ["invalid_api_key", "rate_limited"]) {
  try { await client.responses.create(body, {headers: {"X-Mock-Scenario": scenario}}); out[scenario] = "no error"; }
  catch (e) { out[scenario] = {status: e.status, code: e.code, name: e.constructor.name, requestID: e.requestID}; }
}
const failed = await client.responses.create(body, {headers: {"X-Mock-Scenario": "rate_limited_200"}});
out.rate_limited_200 = {status: failed.status, code: failed.error.code};
console.log(JSON.stringify(out));
"""
    result = subprocess.run(
        [NODE, "--no-warnings", "--input-type=module"], input=script, capture_output=True, text=True,
        cwd=NODE_DIR, env={**os.environ, "MOCK_BASE_URL": shared_mock.base_url}, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (
        out["invalid_api_key"]["status"] == 401
        and out["invalid_api_key"]["code"] == "InvalidApiKey"
    )
    assert out["invalid_api_key"]["name"] == "AuthenticationError"
    assert out["invalid_api_key"]["requestID"]
    assert (
        out["rate_limited"]["name"] == "RateLimitError"
        and out["rate_limited"]["code"] == "Throttling.RateQuota"
    )
    assert out["rate_limited_200"] == {"status": "failed", "code": "server_error"}


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize("example", ["quickstart.sh", "streaming.sh"])
def test_seed_curl_commands(doc_mock: ThreadedMock, example: str) -> None:
    command = _source(example, doc_mock.base_url).replace("curl ", "curl -sS ", 1)
    result = subprocess.run(
        ["bash", "-c", command], capture_output=True, env={**os.environ, "DASHSCOPE_API_KEY": "sk-test-curl"},
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    if example == "quickstart.sh":
        body = json.loads(result.stdout)
        assert body["usage"]["total_tokens"] == 2934
    else:
        events = [json.loads(e.data) for e in decode_events(result.stdout)]
        assert events[-1]["type"] == "response.completed"
        assert events[-1]["response"]["usage"]["x_tools"] == {"image_search": {"count": 1}}
