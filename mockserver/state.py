"""The mock's changeable state: journal, expectations, queued scenarios, test settings, errors.

One :class:`MockState` lives in each application. Tests change it from their own thread (the
Python API, the pytest plugin) or over HTTP (the admin API) while the server reads it, so every
change and every choice takes one re-entrant lock. :meth:`MockState.reset` returns it to how
the server started, which the pytest plugin does between tests.

What answers a request, in order: a matching expectation; the ``X-Mock-Scenario`` header; a
scenario queued through ``POST /__admin/scenario``; the test's scenario (the marker); a cassette
whose recorded request matches; the server's default.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .custom import ScenarioBuilder
from .errors import RequestError
from .expect import Expectation
from .faults import Faults
from .journal import Journal, JournalEntry

__all__ = ["Choice", "ExpectationError", "MockState"]

_MAX_ATTEMPT_KEYS = 10_000


class ExpectationError(AssertionError):
    """A request the test's expectations did not allow, or expectations left unmet."""


@dataclass(frozen=True, slots=True)
class Choice:
    """What the state decided for one request (all ``None``: the usual selection)."""

    name: str | None = None
    builder: ScenarioBuilder | None = None
    expectation: Expectation | None = None
    faults: Faults | None = None


_NOTHING = Choice()


class MockState:
    """Everything about a running mock that tests may change."""

    def __init__(self, journal_size: int = 1000) -> None:
        self.journal = Journal(journal_size)
        self._lock = threading.RLock()
        self.expectations: list[Expectation] = []
        self.strict: bool | None = None
        self.scenario: str | ScenarioBuilder | None = None
        self.speed: float | None = None
        self.faults: Faults | None = None
        self.seed: int | None = None
        self._queue: deque[list[Any]] = deque()
        self._attempts: OrderedDict[bytes, int] = OrderedDict()
        self._errors: list[BaseException] = []
        self.on_reset: list[Callable[[], None]] = []

    # -- changes -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to how the server started: no journal, expectations, queue, settings or errors."""
        with self._lock:
            self.journal.clear()
            self.expectations.clear()
            self.strict = None
            self.scenario = self.speed = self.faults = self.seed = None
            self._queue.clear()
            self._attempts.clear()
            self._errors.clear()
            for hook in self.on_reset:
                hook()

    def configure(
        self,
        scenario: str | ScenarioBuilder | None,
        speed: float | None,
        faults: Faults | None,
        seed: int | None,
        strict: bool | None,
    ) -> None:
        """The test's settings for the requests that follow (``None``: the server's)."""
        with self._lock:
            self.scenario, self.speed, self.faults = scenario, speed, faults
            self.seed, self.strict = seed, strict

    def add(self, expectation: Expectation) -> Expectation:
        """Register an expectation (checked before every other way of choosing)."""
        with self._lock:
            self.expectations.append(expectation)
        return expectation

    def clear_expectations(self) -> None:
        """Forget every expectation."""
        with self._lock:
            self.expectations.clear()

    def queue(self, name: str, count: int = 1) -> None:
        """The next ``count`` requests (that no expectation or header claims) get ``name``."""
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        with self._lock:
            self._queue.append([name, count])

    def queued(self) -> list[dict[str, Any]]:
        """The queue, as ``[{"scenario": name, "remaining": n}, ...]``."""
        with self._lock:
            return [{"scenario": name, "remaining": n} for name, n in self._queue]

    def record_error(self, error: BaseException) -> None:
        """Keep a failure to raise in the test (:meth:`check`)."""
        with self._lock:
            self._errors.append(error)

    # -- decisions -----------------------------------------------------------------------------

    def choose(self, entry: JournalEntry, named: str | None) -> Choice:
        """Decide what answers ``entry``; raises :class:`RequestError` for a strict miss."""
        if not (self.expectations or self._queue) and self.scenario is None:
            # The common case, read without the lock: a test changing the state meanwhile
            # is racing its own request either way.
            return Choice(name=named) if named is not None else _NOTHING
        with self._lock:
            if self.expectations:
                chosen = self._expected(entry)
                if chosen is not None:
                    return chosen
            if named is not None:
                return Choice(name=named)
            if self._queue:
                head = self._queue[0]
                head[1] -= 1
                if head[1] <= 0:
                    self._queue.popleft()
                return Choice(name=head[0])
            if isinstance(self.scenario, ScenarioBuilder):
                return Choice(builder=self.scenario)
            return Choice(name=self.scenario)

    def _expected(self, entry: JournalEntry) -> Choice | None:
        live = [e for e in self.expectations if not e.exhausted]
        found = next((e for e in live if e.match.matches(entry)), None)
        if found is None:
            if self.strict is False:
                return None
            message = self.explain_miss(entry)
            self._errors.append(ExpectationError(message))
            raise RequestError(404, "Mock.NoMatchingExpectation", message)
        if found.ordered:
            first = next((e for e in live if e.ordered), None)
            if first is not found and first is not None:
                message = (
                    f"request {entry.id} matched the ordered expectation {found.id} while "
                    f"{first.id} was still waiting: {first.describe()}"
                )
                self._errors.append(ExpectationError(message))
                raise RequestError(409, "Mock.ExpectationOutOfOrder", message)
        found.used += 1
        entry.expectation = found.id
        respond = found.respond
        if not isinstance(respond, str | ScenarioBuilder):
            try:
                respond = respond(entry)
            except Exception as exc:
                exc.add_note(f"raised by the respond function of expectation {found.id}")
                self._errors.append(exc)
                raise RequestError(
                    500, "Mock.HandlerError", f"The test's respond function raised {exc!r}."
                ) from None
            if not isinstance(respond, str | ScenarioBuilder):
                error = TypeError(
                    f"the respond function of {found.id} returned {respond!r}, "
                    "not a scenario name or a ScenarioBuilder"
                )
                self._errors.append(error)
                raise RequestError(500, "Mock.HandlerError", str(error))
        if isinstance(respond, ScenarioBuilder):
            return Choice(builder=respond, expectation=found, faults=found.faults)
        return Choice(name=respond, expectation=found, faults=found.faults)

    def explain_miss(self, entry: JournalEntry) -> str:
        """Why no expectation answered ``entry``: the nearest one, field by field."""
        ranked = sorted(self.expectations, key=lambda e: len(e.match.difference(entry)))
        body = entry.body if isinstance(entry.body, dict) else {}
        lines = [
            f"No expectation matches request {entry.id} ({entry.method} {entry.path}, "
            f"model={body.get('model')!r}, stream={body.get('stream') is True})."
        ]
        for expectation in ranked[:3]:
            differences = expectation.match.difference(entry)
            state = " (already used up)" if expectation.exhausted else ""
            lines.append(f"Nearest: {expectation.describe()}{state}")
            lines.extend(f"  {d}" for d in differences)
            if not differences:
                lines.append("  every field matches, but it has answered all its requests")
        return "\n".join(lines)

    def attempt(self, path: str, raw: bytes) -> int:
        """Count one attempt of this request (same path and body); returns its number."""
        key = hashlib.sha256(path.encode() + b"\0" + raw).digest()
        with self._lock:
            count = self._attempts.pop(key, 0) + 1
            self._attempts[key] = count
            while len(self._attempts) > _MAX_ATTEMPT_KEYS:
                self._attempts.popitem(last=False)
            return count

    # -- checks --------------------------------------------------------------------------------

    def errors(self) -> list[BaseException]:
        """The failures kept so far."""
        with self._lock:
            return list(self._errors)

    def unmet(self) -> list[Expectation]:
        """Expectations that have not had all their requests."""
        with self._lock:
            return [e for e in self.expectations if not e.met]

    def check(self) -> None:
        """Raise the first kept failure (the others as notes), then forget them."""
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            first = errors[0]
            for other in errors[1:]:
                first.add_note(f"also: {other!r}")
            raise first

    def assert_all_expectations_met(self) -> None:
        """Raise :class:`ExpectationError` listing every expectation still waiting."""
        unmet = self.unmet()
        if unmet:
            lines = "\n".join(f"  {e.describe()}" for e in unmet)
            raise ExpectationError(f"{len(unmet)} expectation(s) not met:\n{lines}")
