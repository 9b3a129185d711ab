"""A builder for custom scenarios in a test, without writing JSON by hand.

::

    from mockserver import scenario

    few = scenario("two_cats").results([{"title": "Cat", "url": "https://x/cat.jpg"}, 3])
    broken = scenario().results(5).text("Here they are.").faults(close_after=4)
    refused = scenario().http_error(503, "ServiceUnavailable", "Try later.")

Each method returns a new builder, so a base can be shared. What is not set follows the request
as the default scenario does: one image_search call per input image, results seeded by the
image URL, reasoning when ``enable_thinking`` is on, usage counted from the text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import documented as doc
from .faults import Faults
from .scenarios import Context, Reply, Scenario
from .synth import CallPlan, make_results, plan_for, render, reply_text

__all__ = ["ScenarioBuilder", "builder_from_json", "scenario"]

ResultSpec = int | Mapping[str, Any]
_STATUSES = ("completed", "failed", "incomplete")


@dataclass(frozen=True, slots=True)
class ScenarioBuilder:
    """An immutable description of a custom answer; :meth:`build` makes it a :class:`Scenario`."""

    name: str = "custom"
    result_spec: tuple[ResultSpec, ...] | None = None
    search_state: str = "completed"
    response_status: Literal["completed", "failed", "incomplete"] = "completed"
    error: tuple[str, str] | None = None
    reply: str | None = None
    thinking: bool | tuple[str, ...] | None = None
    token_usage: tuple[int, int, int] | None = None
    gap: float = 0.0
    fault_set: Faults | None = None
    http: tuple[int, str, str, tuple[tuple[str, str], ...]] | None = None

    def results(self, *spec: int | Sequence[ResultSpec] | Mapping[str, Any]) -> ScenarioBuilder:
        """Results of each search: a count (synthesized, seeded by the image URL), result
        objects (``title`` and ``url``; ``index`` is filled in), or a mix in one list."""
        flat: list[ResultSpec] = []
        for item in spec:
            if isinstance(item, int | Mapping):
                flat.append(item)
            else:
                flat.extend(item)
        for item in flat:
            if isinstance(item, bool) or (isinstance(item, int) and not 0 <= item <= 100):
                raise ValueError(f"a result count must be from 0 to 100, got {item!r}")
            if isinstance(item, Mapping) and not {"title", "url"} <= item.keys():
                raise ValueError(f"a result needs a title and a url, got {dict(item)!r}")
        return dataclasses.replace(self, result_spec=tuple(flat))

    def search_status(self, status: str) -> ScenarioBuilder:
        """The image_search_call's status (``completed``, ``failed``, ``in_progress``...)."""
        return dataclasses.replace(self, search_state=status)

    def status(
        self,
        status: Literal["completed", "failed", "incomplete"],
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> ScenarioBuilder:
        """The response's status; ``failed`` carries ``error`` (default: InternalError)."""
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
        error = None
        if status == "failed":
            default_code, default_message = doc.INTERNAL_ERROR
            error = (code or default_code, message or default_message)
        return dataclasses.replace(self, response_status=status, error=error)

    def text(self, text: str) -> ScenarioBuilder:
        """The model's reply text."""
        return dataclasses.replace(self, reply=text)

    def reasoning(self, on: bool | Sequence[str] = True) -> ScenarioBuilder:
        """Reasoning items on or off (whatever the request asked), or their summaries."""
        value = on if isinstance(on, bool) else tuple(on)
        return dataclasses.replace(self, thinking=value)

    def usage(
        self, input_tokens: int, output_tokens: int, reasoning_tokens: int = 0
    ) -> ScenarioBuilder:
        """Fixed token usage instead of the counted one."""
        if min(input_tokens, output_tokens, reasoning_tokens) < 0:
            raise ValueError("token counts must not be negative")
        return dataclasses.replace(
            self, token_usage=(input_tokens, output_tokens, reasoning_tokens)
        )

    def delay(self, seconds: float) -> ScenarioBuilder:
        """Scripted seconds before each event (or the body), scaled by the request's speed."""
        if seconds < 0:
            raise ValueError(f"delay must not be negative, got {seconds}")
        return dataclasses.replace(self, gap=seconds)

    def faults(self, faults: Faults | str | None = None, **items: Any) -> ScenarioBuilder:
        """Faults this scenario carries: a :class:`Faults`, its text form, or keywords."""
        found = Faults.parse(faults) if isinstance(faults, str) else faults or Faults()
        return dataclasses.replace(self, fault_set=found.merge(Faults.from_mapping(items)))

    def http_error(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> ScenarioBuilder:
        """Answer with an HTTP error in DashScope's flat shape instead of a response."""
        if not 400 <= status <= 599:
            raise ValueError(f"an HTTP error status is from 400 to 599, got {status}")
        return dataclasses.replace(
            self, http=(status, code, message, tuple((headers or {}).items()))
        )

    def build(self) -> Scenario:
        """The scenario (its name is ``custom:<name>`` in the journal)."""
        return Scenario(f"custom:{self.name}", "built in a test", self._reply)

    def _reply(self, ctx: Context) -> Reply:
        if self.http is not None:
            status, code, message, headers = self.http
            body = {"request_id": ctx.request_id, "code": code, "message": message}
            return Reply(status=status, body=body, headers=dict(headers), faults=self.fault_set)
        plan = plan_for(ctx.request, ctx.seed)
        calls = plan.calls
        if self.result_spec is not None or self.search_state != "completed":
            calls = tuple(
                CallPlan(
                    img_idx=c.img_idx,
                    status=self.search_state,
                    results=self._results(ctx.request.images[c.img_idx], ctx.seed)
                    if self.result_spec is not None
                    else c.results,
                )
                for c in calls
            )
        reasoning = plan.reasoning
        if isinstance(self.thinking, tuple):
            reasoning = self.thinking
        elif self.thinking is True and not reasoning:
            reasoning = ("I will search for images similar to the one provided.",)
        elif self.thinking is False:
            reasoning = ()
        text = self.reply if self.reply is not None else reply_text(calls)
        plan = dataclasses.replace(
            plan, calls=calls, reasoning=reasoning, text=text, usage=self.token_usage
        )
        if self.response_status == "failed":
            assert self.error is not None
            code, message = self.error
            plan = dataclasses.replace(
                plan, status="failed", error={"code": code, "message": message}
            )
        elif self.response_status == "incomplete":
            plan = dataclasses.replace(
                plan,
                text=plan.text[: max(1, len(plan.text) // 2)],
                status="incomplete",
                incomplete_reason="max_output_tokens",
            )
        response = render(plan, ctx.ids, ctx.created_at)
        return Reply(response=response, gap=self.gap, faults=self.fault_set)

    def _results(self, image_url: str, seed: int) -> tuple[dict[str, Any], ...]:
        assert self.result_spec is not None
        out: list[dict[str, Any]] = []
        for item in self.result_spec:
            if isinstance(item, int):
                out.extend(dict(r) for r in make_results(image_url, seed + len(out), item))
            else:
                out.append({"title": str(item["title"]), "url": str(item["url"])})
        return tuple({**r, "index": n} for n, r in enumerate(out[:100], start=1))


def scenario(name: str = "custom") -> ScenarioBuilder:
    """A new builder; ``name`` shows in the journal as ``custom:<name>``."""
    return ScenarioBuilder(name=name)


_JSON_FIELDS = frozenset(
    {"name", "results", "search_status", "status", "error", "text", "reasoning", "usage",
     "delay", "faults", "http_error"}
)  # fmt: skip


def builder_from_json(data: Mapping[str, Any]) -> ScenarioBuilder:
    """A builder from the admin API's ``respond`` object; raises ``ValueError`` when wrong.

    ``{"results": 3 | [{"title", "url"}...], "search_status": "failed", "status": "failed",
    "error": {"code", "message"}, "text": "...", "reasoning": true, "usage": [in, out, r],
    "delay": 0.1, "faults": {...} | "text", "http_error": {"status", "code", "message"}}``
    """
    unknown = set(data) - _JSON_FIELDS
    if unknown:
        raise ValueError(
            f"unknown respond field(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_JSON_FIELDS))}"
        )
    b = scenario(str(data.get("name", "custom")))
    if "results" in data:
        results = data["results"]
        b = b.results(results if isinstance(results, int) else list(results))
    if "search_status" in data:
        b = b.search_status(str(data["search_status"]))
    if "status" in data:
        error = data.get("error") or {}
        b = b.status(data["status"], code=error.get("code"), message=error.get("message"))
    if "text" in data:
        b = b.text(str(data["text"]))
    if "reasoning" in data:
        b = b.reasoning(data["reasoning"])
    if "usage" in data:
        b = b.usage(*[int(n) for n in data["usage"]])
    if "delay" in data:
        b = b.delay(float(data["delay"]))
    if "faults" in data:
        faults = data["faults"]
        b = b.faults(faults) if isinstance(faults, str) else b.faults(**faults)
    if "http_error" in data:
        error = data["http_error"]
        b = b.http_error(int(error["status"]), str(error["code"]), str(error["message"]))
    return b
