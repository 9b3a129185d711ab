"""Expectations: which requests a test expects, what each gets, and why a request missed.

A :class:`Match` compares a request field by field; :meth:`Match.difference` lists the fields
that differ, and matching is "no difference", so the same code explains a miss. An
:class:`Expectation` pairs a match with an answer (a scenario name, a
:class:`~mockserver.custom.ScenarioBuilder`, or a function of the request that returns either)
and a lifetime: ``times=1`` answers once, ``times=None`` answers for ever; ``ordered``
expectations must be met in the order they were made.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .custom import ScenarioBuilder
from .faults import Faults
from .journal import JournalEntry

__all__ = ["Difference", "Expectation", "Match", "Respond", "body_difference"]

Respond = str | ScenarioBuilder | Callable[[JournalEntry], "str | ScenarioBuilder"]
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Difference:
    """One field where a request differs from an expectation."""

    field: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.field}: expected {_show(self.expected)}, got {_show(self.actual)}"


def _show(value: Any) -> str:
    text = value if isinstance(value, str) and value.startswith("<") else json.dumps(value)
    return text if len(text) <= 120 else text[:117] + "..."


def body_difference(expected: Any, actual: Any, path: str = "body") -> list[Difference]:
    """Where ``actual`` fails to contain ``expected``: mappings by their keys (extra keys in
    ``actual`` are fine), lists item by item and of the same length, other values equal."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Difference(path, dict(expected), actual)]
        found: list[Difference] = []
        for key, value in expected.items():
            if key not in actual:
                found.append(Difference(f"{path}.{key}", value, "<missing>"))
            else:
                found += body_difference(value, actual[key], f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [Difference(path, expected, actual)]
        return [
            d
            for n, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in body_difference(e, a, f"{path}[{n}]")
        ]
    if expected != actual or type(expected) is not type(actual):
        return [Difference(path, expected, actual)]
    return []


def _images(body: Any) -> list[str]:
    urls: list[str] = []
    items = body.get("input") if isinstance(body, Mapping) else None
    for item in items if isinstance(items, list) else ():
        content = item.get("content") if isinstance(item, Mapping) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, Mapping) and part.get("type") == "input_image":
                urls.append(str(part.get("image_url")))
    return urls


def _text(body: Any) -> str:
    items = body.get("input") if isinstance(body, Mapping) else None
    if isinstance(items, str):
        return items
    texts: list[str] = []
    for item in items if isinstance(items, list) else ():
        content = item.get("content") if isinstance(item, Mapping) else None
        if isinstance(content, str):
            texts.append(content)
        for part in content if isinstance(content, list) else ():
            if isinstance(part, Mapping) and part.get("type") == "input_text":
                texts.append(str(part.get("text")))
    return "\n".join(texts)


@dataclass(frozen=True, slots=True)
class Match:
    """What a request must have; ``None`` fields match anything.

    Attributes:
        model: the body's ``model``.
        stream: whether the body asks for a stream (``stream: true``).
        image_url: one of the input images has this URL.
        text: the input text contains this.
        path: the request path.
        headers: each of these headers, with this value (names in any case).
        body: the JSON body contains this (see :func:`body_difference`).
        where: a predicate on the request (Python only).
    """

    model: str | None = None
    stream: bool | None = None
    image_url: str | None = None
    text: str | None = None
    path: str | None = None
    headers: Mapping[str, str] | None = None
    body: Mapping[str, Any] | None = None
    where: Callable[[JournalEntry], bool] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Match:
        """From the admin API's ``match`` object (``where`` cannot be sent as JSON)."""
        known = {"model", "stream", "image_url", "text", "path", "headers", "body"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(
                f"unknown match field(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def difference(self, request: JournalEntry) -> list[Difference]:
        """The fields where ``request`` differs; empty when it matches."""
        body = request.body
        found: list[Difference] = []
        if self.path is not None and request.path != self.path:
            found.append(Difference("path", self.path, request.path))
        model = body.get("model") if isinstance(body, Mapping) else None
        if self.model is not None and model != self.model:
            found.append(Difference("model", self.model, model))
        stream = isinstance(body, Mapping) and body.get("stream") is True
        if self.stream is not None and stream != self.stream:
            found.append(Difference("stream", self.stream, stream))
        if self.image_url is not None:
            images = _images(body)
            if self.image_url not in images:
                found.append(Difference("image_url", self.image_url, images))
        if self.text is not None:
            text = _text(body)
            if self.text not in text:
                found.append(Difference("text", f"<containing {self.text!r}>", text))
        for name, value in (self.headers or {}).items():
            actual = request.header(name)
            if actual != value:
                found.append(Difference(f"headers.{name}", value, actual or "<missing>"))
        if self.body is not None:
            found += body_difference(self.body, body)
        if self.where is not None:
            try:
                ok = bool(self.where(request))
            except Exception as exc:  # the predicate is test code: report it, do not crash
                ok = False
                found.append(Difference("where", "<True>", f"<raised {exc!r}>"))
            else:
                if not ok:
                    found.append(Difference("where", "<True>", "<False>"))
        return found

    def matches(self, request: JournalEntry) -> bool:
        """Whether ``request`` has everything asked for."""
        return not self.difference(request)

    def to_json(self) -> dict[str, Any]:
        """The fields that are set (``where`` as a note)."""
        out: dict[str, Any] = {}
        for name in ("model", "stream", "image_url", "text", "path", "headers", "body"):
            value = getattr(self, name)
            if value is not None:
                out[name] = dict(value) if isinstance(value, Mapping) else value
        if self.where is not None:
            out["where"] = getattr(self.where, "__name__", "<predicate>")
        return out


@dataclass(slots=True, eq=False)
class Expectation:
    """A request a test expects, and what it gets.

    Attributes:
        match: which requests it answers.
        respond: a scenario name, a builder, or a function of the request returning one.
        times: how many requests it answers (``None``: any number, at least one).
        ordered: ordered expectations must be met in the order they were made.
        faults: faults added to its answers.
        used: how many requests it has answered.
    """

    match: Match
    respond: Respond
    times: int | None = 1
    ordered: bool = False
    faults: Faults | None = None
    used: int = 0
    id: str = field(default_factory=lambda: f"exp-{next(_ids)}")

    def __post_init__(self) -> None:
        if self.times is not None and (isinstance(self.times, bool) or self.times < 1):
            raise ValueError(f"times must be a whole number >= 1 or None, got {self.times!r}")

    @property
    def exhausted(self) -> bool:
        """It has answered all the requests it was for."""
        return self.times is not None and self.used >= self.times

    @property
    def met(self) -> bool:
        """It got what it expected: ``times`` requests, or at least one when permanent."""
        return self.used >= (self.times or 1)

    def _answer(self) -> str | None:
        """The scenario it answers with, or ``None`` when a function decides per request."""
        if isinstance(self.respond, str):
            return self.respond
        if isinstance(self.respond, ScenarioBuilder):
            return f"custom:{self.respond.name}"
        return None

    def describe(self) -> str:
        """One line: id, match, answer and use count."""
        answer = self._answer() or getattr(self.respond, "__name__", "<function>")
        times = "any number of times" if self.times is None else f"{self.times} time(s)"
        order = ", ordered" if self.ordered else ""
        return (
            f"{self.id} {json.dumps(self.match.to_json(), default=str)} -> {answer}, "
            f"expected {times}{order}, used {self.used}"
        )

    def to_json(self) -> dict[str, Any]:
        """The expectation as the admin API shows it."""
        return {
            "id": self.id,
            "match": self.match.to_json(),
            "respond": self._answer() or "<function>",
            "times": self.times,
            "ordered": self.ordered,
            "faults": None if self.faults is None else self.faults.to_json(),
            "used": self.used,
            "met": self.met,
        }
