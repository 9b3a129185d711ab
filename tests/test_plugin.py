"""The pytest plugin as its users meet it: a project of their own, run by pytest in a subprocess.

Each test writes a small project into a temporary folder (pytester) with no conftest of ours;
the plugin arrives through its ``pytest11`` entry point, as it would after ``pip install``.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ("pytester",)

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

#: The README's ten-line example, verbatim.
README_EXAMPLE = """
import pytest

@pytest.mark.imgsearch(scenario="zero_results")
def test_no_similar_images(imgsearch_openai, imgsearch_mock):
    image = {"type": "input_image", "image_url": "https://example.com/cat.png"}
    response = imgsearch_openai.responses.create(
        model="qwen3.5-plus", input=[{"role": "user", "content": [image]}],
        tools=[{"type": "image_search"}])
    search = next(item for item in response.output if item.type == "image_search_call")
    assert search.output == "[]" and imgsearch_mock.requests.last.scenario == "zero_results"
"""

MANY_TESTS = """
import os
import pytest

IMAGE = {"type": "input_image", "image_url": "https://example.com/cat.png"}

def ask(client, **kw):
    return client.responses.create(model="qwen3.5-plus", input=[{"role": "user",
        "content": [IMAGE]}], tools=[{"type": "image_search"}], **kw)

@pytest.mark.parametrize("n", range(12))
def test_each_test_starts_with_an_empty_journal(imgsearch_openai, imgsearch_mock, n, request):
    assert imgsearch_mock.requests == []
    for _ in range(n % 3 + 1):
        ask(imgsearch_openai)
    assert len(imgsearch_mock.requests) == n % 3 + 1
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(request.config.rootpath / f"ports-{worker}.txt", "a") as ports:
        ports.write(f"{imgsearch_mock.port}\\n")

@pytest.mark.imgsearch(scenario="max_results", speed=0)
def test_marker_scenario(imgsearch_openai, imgsearch_mock):
    response = ask(imgsearch_openai)
    import json
    search = next(item for item in response.output if item.type == "image_search_call")
    assert len(json.loads(search.output)) == 100

@pytest.mark.imgsearch(faults={"close_after": 2})
def test_marker_faults(imgsearch_mock):
    import openai
    client = imgsearch_mock.openai(max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        list(ask(client, stream=True))
    client.close()
    assert imgsearch_mock.requests.last.events_sent == 2

async def test_our_client(imgsearch_client, imgsearch_mock):
    response = await imgsearch_client.search("https://example.com/cat.png", "similar")
    assert response.status == "completed"
    assert imgsearch_mock.requests.last.body["tools"] == [{"type": "image_search"}]

async def test_async_openai(imgsearch_async_openai, imgsearch_mock):
    imgsearch_mock.expect(stream=True, respond="zero_results")
    stream = await ask(imgsearch_async_openai, stream=True)
    events = [event async for event in stream]
    assert events[-1].type == "response.completed"

def test_base_url(imgsearch_base_url, imgsearch_mock):
    assert imgsearch_base_url.startswith("http://127.0.0.1:")
    assert imgsearch_base_url.endswith("/api/v2/apps/protocols/compatible-mode/v1")

@pytest.mark.imgsearch(isolated=True)
def test_isolated_server(imgsearch_mock, imgsearch_session_server):
    assert imgsearch_mock is not imgsearch_session_server
    assert imgsearch_mock.port != imgsearch_session_server.port

@pytest.mark.imgsearch(config={"framing": "openai"})
def test_config_gets_its_own_server(imgsearch_openai, imgsearch_mock):
    events = list(ask(imgsearch_openai, stream=True))
    assert events[-1].type == "response.completed"
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A fresh project folder; when this suite itself runs under xdist, the user's run must
    not inherit our worker's identity."""
    for name in list(os.environ):
        if name.startswith("PYTEST_XDIST") or name == "PYTEST_ADDOPTS":
            monkeypatch.delenv(name)
    pytester.makeini(INI)
    return pytester


def test_the_readme_shows_this_example_verbatim() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    assert f"```python{README_EXAMPLE}```" in readme


def test_the_readme_example_passes_in_a_fresh_project(project: pytest.Pytester) -> None:
    project.makepyfile(test_readme=README_EXAMPLE)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_fixtures_and_marker_under_xdist(project: pytest.Pytester, workers: str) -> None:
    project.makepyfile(test_many=MANY_TESTS)
    result = project.runpytest_subprocess("-n", workers, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=19)
    ports = {path.stem: set(path.read_text().split()) for path in project.path.glob("ports-*.txt")}
    # one server per session: per worker under xdist, each on its own port
    expected = {"ports-gw0", "ports-gw1"} if workers == "2" else {"ports-main"}
    assert set(ports) == expected
    assert all(len(seen) == 1 for seen in ports.values())
    assert len(set.union(*ports.values())) == len(expected)


def test_unmet_expectations_and_strict_misses_fail_the_test_at_teardown(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_fail="""
import openai, pytest

IMAGE = {"type": "input_image", "image_url": "https://example.com/cat.png"}

def test_unmet(imgsearch_mock):
    imgsearch_mock.expect(model="qwen3.5-flash")

def test_strict_miss(imgsearch_openai, imgsearch_mock):
    imgsearch_mock.expect(model="qwen3.5-flash")
    with pytest.raises(openai.NotFoundError):
        imgsearch_openai.with_options(max_retries=0).responses.create(
            model="qwen3.5-plus", input=[{"role": "user", "content": [IMAGE]}],
            tools=[{"type": "image_search"}])

def test_next_test_is_clean(imgsearch_mock):
    assert imgsearch_mock.requests == [] and imgsearch_mock.state.expectations == []
"""
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ExpectationError: 1 expectation(s) not met:*",
            "*ExpectationError: No expectation matches request*",
            '*model: expected "qwen3.5-flash", got "qwen3.5-plus"*',
        ]
    )


def test_a_wrong_marker_says_what_is_wrong(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_marker="""
import pytest

@pytest.mark.imgsearch(scenaro="zero_results")
def test_typo(imgsearch_mock):
    pass

@pytest.mark.imgsearch(scenario="zero_result")
def test_unknown(imgsearch_mock):
    pass

@pytest.mark.imgsearch(faults="close_after=soon")
def test_bad_fault(imgsearch_mock):
    pass
"""
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*unknown argument(s) scenaro*",
            "*unknown scenario 'zero_result'*",
            "*close_after must be a whole number, got 'soon'*",
        ]
    )


def test_imgsearch_config_can_be_overridden_in_a_conftest(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
import pytest
from mockserver import MockConfig

@pytest.fixture(scope="session")
def imgsearch_config():
    return MockConfig(scenario="zero_results", api_key="sk-only-this")
"""
    )
    project.makepyfile(
        test_conf="""
import openai, pytest

IMAGE = {"type": "input_image", "image_url": "https://example.com/cat.png"}

def test_default_and_key(imgsearch_mock):
    client = imgsearch_mock.openai(api_key="sk-only-this")
    response = client.responses.create(model="qwen3.5-plus",
        input=[{"role": "user", "content": [IMAGE]}], tools=[{"type": "image_search"}])
    assert [i.output for i in response.output if i.type == "image_search_call"] == ["[]"]
    with pytest.raises(openai.AuthenticationError):
        imgsearch_mock.openai(api_key="sk-other", max_retries=0).responses.create(
            model="qwen3.5-plus", input="hi")
    client.close()
"""
    )
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::ResourceWarning")
    result.assert_outcomes(passed=1)
