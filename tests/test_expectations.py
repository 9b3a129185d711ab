"""Expectations (one-shot, permanent, ordered, strict) and the scenario builder."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import ExpectationError, MockServer, scenario
from mockserver.expect import Match, body_difference
from mockserver.journal import JournalEntry

from .support import SEED_IMAGE, search_body

TOOLS: Any = [{"type": "image_search"}]
OTHER_IMAGE = "https://example.com/other.png"


def ask(mock: MockServer, *, image: str = SEED_IMAGE, stream: bool = False, **kw: Any) -> Any:
    client = mock.openai(max_retries=0)
    try:
        result = client.responses.create(
            model=kw.pop("model", "qwen3.5-plus"),
            input=search_body((image,))["input"],
            tools=TOOLS,
            stream=stream,
            **kw,
        )
        return list(result) if stream else result
    finally:
        client.close()


def test_a_one_shot_expectation_answers_once_then_strict_refuses(
    imgsearch_mock: MockServer,
) -> None:
    imgsearch_mock.expect(image_url=SEED_IMAGE, respond="zero_results")
    first = ask(imgsearch_mock)
    assert first.output[1].output == "[]"  # image_search_call with no results
    with pytest.raises(openai.NotFoundError, match="No expectation matches request"):
        ask(imgsearch_mock)
    with pytest.raises(ExpectationError, match="already used up"):
        imgsearch_mock.check()
    imgsearch_mock.assert_all_expectations_met()


def test_a_permanent_expectation_answers_every_match(imgsearch_mock: MockServer) -> None:
    expectation = imgsearch_mock.expect(model="qwen3.5-plus", respond="max_results", times=None)
    for _ in range(3):
        ask(imgsearch_mock)
    assert expectation.used == 3
    assert [e.expectation for e in imgsearch_mock.requests] == [expectation.id] * 3


def test_unmet_expectations_are_listed(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.expect(model="qwen3.5-flash", times=2)
    imgsearch_mock.expect(stream=True, times=None)
    with pytest.raises(ExpectationError) as raised:
        imgsearch_mock.assert_all_expectations_met()
    message = str(raised.value)
    assert message.startswith("2 expectation(s) not met:")
    assert '{"model": "qwen3.5-flash"}' in message and "expected 2 time(s)" in message
    assert "expected any number of times" in message
    imgsearch_mock.reset()


def test_a_miss_explains_the_nearest_expectation_field_by_field(
    imgsearch_mock: MockServer,
) -> None:
    imgsearch_mock.expect(
        model="qwen3.5-flash",
        stream=True,
        image_url=OTHER_IMAGE,
        headers={"X-Tenant": "a"},
        body={"tools": [{"type": "image_search"}], "temperature": 0.5},
    )
    imgsearch_mock.expect(model="qwen3.5-max", text="nothing like it")
    with pytest.raises(openai.NotFoundError):
        ask(imgsearch_mock)
    with pytest.raises(ExpectationError) as raised:
        imgsearch_mock.check()
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("No expectation matches request")
    assert "model='qwen3.5-plus', stream=False" in lines[0]
    # the nearer one (two differences) comes first
    assert lines[1].startswith("Nearest: exp-") and "qwen3.5-max" in lines[1]
    assert '  model: expected "qwen3.5-max", got "qwen3.5-plus"' in lines
    assert any(line.startswith("  text: expected <containing 'nothing like it'>") for line in lines)
    assert "  stream: expected true, got false" in lines
    assert f'  image_url: expected "{OTHER_IMAGE}", got ["{SEED_IMAGE}"]' in lines
    assert '  headers.X-Tenant: expected "a", got <missing>' in lines
    assert "  body.temperature: expected 0.5, got <missing>" in lines
    imgsearch_mock.reset()


def test_non_strict_lets_a_miss_through_to_the_scenarios(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.use("zero_results", strict=False)
    imgsearch_mock.expect(stream=True, respond="max_results")
    answer = ask(imgsearch_mock)
    assert answer.status == "completed"
    assert imgsearch_mock.requests.last.scenario == "zero_results"
    ask(imgsearch_mock, stream=True)
    assert imgsearch_mock.requests.last.scenario == "max_results"
    imgsearch_mock.assert_all_expectations_met()


def test_ordered_expectations_must_come_in_order(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.expect(image_url=SEED_IMAGE, ordered=True)
    imgsearch_mock.expect(image_url=OTHER_IMAGE, ordered=True)
    with pytest.raises(openai.ConflictError, match="still waiting"):
        ask(imgsearch_mock, image=OTHER_IMAGE)
    with pytest.raises(ExpectationError, match="matched the ordered expectation"):
        imgsearch_mock.check()
    ask(imgsearch_mock, image=SEED_IMAGE)
    ask(imgsearch_mock, image=OTHER_IMAGE)
    imgsearch_mock.assert_all_expectations_met()


def test_a_respond_function_sees_the_request_and_its_errors_reach_the_test(
    imgsearch_mock: MockServer,
) -> None:
    seen: list[JournalEntry] = []

    def respond(request: JournalEntry) -> str:
        seen.append(request)
        if request.body.get("temperature") == 2:
            raise LookupError("no scenario for hot requests")
        return "zero_results"

    imgsearch_mock.expect(respond=respond, times=None)
    ask(imgsearch_mock)
    assert seen[0].body["model"] == "qwen3.5-plus"
    assert imgsearch_mock.requests.last.scenario == "zero_results"
    with pytest.raises(openai.InternalServerError, match="respond function raised"):
        ask(imgsearch_mock, temperature=2)
    with pytest.raises(LookupError, match="no scenario for hot requests") as raised:
        imgsearch_mock.check()
    assert "raised by the respond function of expectation exp-" in raised.value.__notes__[0]


def test_a_respond_function_returning_nonsense_is_reported(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.expect(respond=lambda request: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises(openai.InternalServerError):
        ask(imgsearch_mock)
    with pytest.raises(TypeError, match="not a scenario name or a ScenarioBuilder"):
        imgsearch_mock.check()


def test_expect_refuses_an_unknown_scenario_at_once(imgsearch_mock: MockServer) -> None:
    with pytest.raises(ValueError, match="unknown scenario 'zero_result'"):
        imgsearch_mock.expect(respond="zero_result")
    with pytest.raises(ValueError, match="times must be"):
        imgsearch_mock.expect(times=0)


def test_expectation_faults_apply_to_its_answers(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.expect(stream=True, faults={"close_after": 2})
    with pytest.raises(openai.APIConnectionError):
        ask(imgsearch_mock, stream=True)
    assert imgsearch_mock.requests.last.events_sent == 2


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=10))  # fmt: skip
def test_a_value_always_contains_itself(value: Any) -> None:
    assert body_difference(value, value) == []


@given(st.dictionaries(st.text(max_size=3), st.integers(), max_size=4),
       st.dictionaries(st.text(max_size=3), st.integers(), max_size=4))  # fmt: skip
def test_extra_keys_never_matter_and_changed_ones_always_do(
    expected: dict[str, int], extra: dict[str, int]
) -> None:
    actual = {**extra, **expected}
    assert body_difference(expected, actual) == []
    for key in expected:
        changed = {**actual, key: actual[key] + 1}
        assert [d.field for d in body_difference(expected, changed)] == [f"body.{key}"]


def test_match_is_no_difference() -> None:
    entry = JournalEntry(1, "r", "POST", "/v1/responses")
    entry.keep_body(b'{"model": "m", "stream": true}')
    assert Match(model="m", stream=True).matches(entry)
    assert not Match(model="m", stream=False).matches(entry)
    assert Match(where=lambda e: 1 / 0 > 0).difference(entry)[0].field == "where"


# -- the builder -------------------------------------------------------------------------------


def test_the_builder_sets_results_text_reasoning_and_usage(imgsearch_mock: MockServer) -> None:
    built = (
        scenario("two")
        .results([{"title": "Cat", "url": "https://x/cat.jpg"}, 1])
        .text("Here you are.")
        .reasoning(["Thinking about cats."])
        .usage(100, 20, 5)
    )
    imgsearch_mock.use(built)
    answer = ask(imgsearch_mock)
    call = answer.output[1]
    import json

    results = json.loads(call.output)
    assert [r["index"] for r in results] == [1, 2]
    assert results[0] == {"title": "Cat", "url": "https://x/cat.jpg", "index": 1}
    assert answer.output[0].type == "reasoning"
    assert answer.output[0].summary[0].text == "Thinking about cats."
    assert answer.output_text == "Here you are."
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (100, 20)
    assert answer.usage.output_tokens_details.reasoning_tokens == 5
    assert imgsearch_mock.requests.last.scenario == "custom:two"


def test_the_builder_streams_the_same_answer(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.use(scenario().results(3).text("Three.").reasoning(False))
    events = ask(imgsearch_mock, stream=True)
    final = events[-1].response
    assert final.output_text == "Three."
    assert [item.type for item in final.output] == ["image_search_call", "message"]


@pytest.mark.parametrize(
    ("built", "status", "check"),
    [
        (scenario().status("failed", code="Arrearage", message="Pay up."), "failed",
         lambda r: r.error.code == "Arrearage"),
        (scenario().status("incomplete"), "incomplete",
         lambda r: r.incomplete_details.reason == "max_output_tokens"),
        (scenario().search_status("failed"), "completed",
         lambda r: r.output[0].status == "failed" if r.output[0].type != "reasoning" else True),
    ],
    ids=["failed", "incomplete", "search_failed"],
)  # fmt: skip
def test_the_builder_sets_statuses(
    imgsearch_mock: MockServer, built: Any, status: str, check: Any
) -> None:
    imgsearch_mock.use(built)
    answer = ask(imgsearch_mock)
    assert answer.status == status
    assert check(answer)


def test_the_builder_answers_an_http_error(imgsearch_mock: MockServer) -> None:
    imgsearch_mock.use(scenario().http_error(503, "ServiceUnavailable", "Later."))
    with pytest.raises(openai.InternalServerError) as raised:
        ask(imgsearch_mock)
    assert raised.value.status_code == 503
    assert raised.value.body["code"] == "ServiceUnavailable"


def test_the_builder_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="from 0 to 100"):
        scenario().results(101)
    with pytest.raises(ValueError, match="needs a title and a url"):
        scenario().results([{"title": "x"}])
    with pytest.raises(ValueError, match="status must be one of"):
        scenario().status("done")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="from 400 to 599"):
        scenario().http_error(200, "x", "y")
    with pytest.raises(ValueError, match="must not be negative"):
        scenario().usage(-1, 0)


def test_builders_are_immutable_so_a_base_can_be_shared() -> None:
    base = scenario().results(2)
    a, b = base.text("a"), base.text("b")
    assert (base.reply, a.reply, b.reply) == (None, "a", "b")
