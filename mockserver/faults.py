"""Fault injection: what a fault is, how it is written, and what it does to a stream (pure).

A :class:`Faults` value comes from the ``X-Mock-Fault`` header, the pytest marker, an
expectation, a custom scenario or the server's ``--fault`` option; later sources override the
fields that they set (:meth:`Faults.merge`). Written as text it is a list of ``name=value``
items separated by ``;`` or ``,``, for example ``close_after=3; event_delay=uniform(0.01,0.05)``.

Events are counted from 1, as a client reads them: ``close_after=3`` sends three events. On a
JSON (non-streaming) answer the event-numbered faults act on the body instead: it is broken
(``malformed_at``), or half of it is sent before the close, reset or stall; ``duplicate``,
``reorder`` and ``event_delay`` do nothing there. :func:`apply` turns the frames of a stream and
a :class:`Faults` into a :class:`FaultPlan`, without any I/O.
"""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

__all__ = ["FAULT_HELP", "Delay", "FaultError", "FaultPlan", "Faults", "Frame", "apply"]

End = Literal["eof", "close", "reset", "stall"]
FAIL_STATUSES = (429, 500, 503)
_MAX_DELAY = 600.0


class FaultError(ValueError):
    """A fault written wrongly; the message says which item and why."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One SSE frame on the wire, the delay before it, and whether it is an event (not
    ``[DONE]``)."""

    data: bytes
    delay: float = 0.0
    event: bool = True


_DIST = re.compile(r"(uniform|exponential|normal)\(([^()]*)\)")


@dataclass(frozen=True, slots=True)
class Delay:
    """Seconds between events: fixed, or drawn from a distribution with a seed.

    ``uniform(a,b)``: evenly between ``a`` and ``b``; ``exponential(m)``: mean ``m``;
    ``normal(m,sd)``: clipped at 0. Draws are capped at 600 s.
    """

    kind: Literal["fixed", "uniform", "exponential", "normal"]
    a: float
    b: float = 0.0

    @classmethod
    def parse(cls, text: str | float) -> Delay:
        """``0.05``, ``uniform(0.01,0.05)``, ``exponential(0.02)`` or ``normal(0.05,0.01)``."""
        if isinstance(text, int | float) and not isinstance(text, bool):
            return cls("fixed", _seconds("event_delay", float(text)))
        raw = str(text).strip().replace(" ", "")
        found = _DIST.fullmatch(raw)
        if found is None:
            return cls("fixed", _seconds("event_delay", _number("event_delay", raw)))
        kind, args = found.group(1), found.group(2).split(",")
        want = 1 if kind == "exponential" else 2
        if len(args) != want:
            raise FaultError(f"event_delay={raw}: {kind} takes {want} number(s)")
        nums = [_seconds("event_delay", _number("event_delay", a)) for a in args]
        if kind == "uniform" and nums[0] > nums[1]:
            raise FaultError(f"event_delay={raw}: the low end is above the high end")
        return cls(kind, nums[0], nums[1] if want == 2 else 0.0)  # type: ignore[arg-type]

    def sampler(self, seed: int) -> random.Random | None:
        """The random source for this delay (``None`` when it is fixed)."""
        return None if self.kind == "fixed" else random.Random(seed)

    def draw(self, rng: random.Random | None) -> float:
        """One delay in seconds."""
        if rng is None or self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "exponential":
            value = rng.expovariate(1 / self.a) if self.a > 0 else 0.0
        else:
            value = rng.gauss(self.a, self.b)
        return min(max(0.0, value), _MAX_DELAY)

    def __str__(self) -> str:
        if self.kind == "fixed":
            return f"{self.a:g}"
        if self.kind == "exponential":
            return f"exponential({self.a:g})"
        return f"{self.kind}({self.a:g},{self.b:g})"


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value):
        raise FaultError(f"{name} must be a finite number, got {raw!r}")
    return value


def _seconds(name: str, value: float) -> float:
    if not 0 <= value <= _MAX_DELAY:
        raise FaultError(f"{name} must be from 0 to {_MAX_DELAY:g} seconds, got {value:g}")
    return value


@dataclass(frozen=True, slots=True)
class Faults:
    """Faults to inject; ``None`` leaves a fault off (and lets a lower source set it).

    Attributes:
        first_byte_delay: seconds before the response headers (time to first byte).
        event_delay: extra seconds before each event after the first (a :class:`Delay`).
        seed: seeds a random ``event_delay``: the same seed gives the same delays.
        close_after: send this many events, then close the connection without the chunked
            terminator (a torn stream: no terminal event).
        reset_after: send this many events, then reset the connection (TCP RST);
            0 resets before the response headers.
        malformed_at: the event at this position carries broken JSON.
        stall_after: send this many events, then keep the connection open and send nothing.
        byte_at_a_time: write the body one byte per write.
        byte_delay: seconds between those one-byte writes.
        fail_times: answer the first K attempts of a request with ``fail_status``, then
            answer normally (attempts of one request: the same path and body).
        fail_status: 429, 500 or 503.
        retry_after: the ``Retry-After`` seconds sent with those failures.
        duplicate: send the event at this position twice.
        reorder: swap the event at this position with the next one.
    """

    first_byte_delay: float | None = None
    event_delay: Delay | None = None
    seed: int | None = None
    close_after: int | None = None
    reset_after: int | None = None
    malformed_at: int | None = None
    stall_after: int | None = None
    byte_at_a_time: bool | None = None
    byte_delay: float | None = None
    fail_times: int | None = None
    fail_status: int | None = None
    retry_after: float | None = None
    duplicate: int | None = None
    reorder: int | None = None

    def __post_init__(self) -> None:
        for name in ("first_byte_delay", "byte_delay", "retry_after"):
            value = getattr(self, name)
            if value is not None:
                _seconds(name, float(value))
        for name in ("close_after", "reset_after", "stall_after", "fail_times"):
            _count(name, getattr(self, name), low=0)
        for name in ("malformed_at", "duplicate", "reorder"):
            _count(name, getattr(self, name), low=1)
        if self.fail_status is not None and self.fail_status not in FAIL_STATUSES:
            raise FaultError(f"fail_status must be 429, 500 or 503, got {self.fail_status}")
        if self.event_delay is not None and not isinstance(self.event_delay, Delay):
            object.__setattr__(self, "event_delay", Delay.parse(self.event_delay))

    @classmethod
    def parse(cls, text: str) -> Faults:
        """Read the text form (``X-Mock-Fault``), refusing unknown names and bad values."""
        items: dict[str, Any] = {}
        for part in re.split(r"[;,](?![^()]*\))", text):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            name = name.strip()
            items[name] = value.strip() if sep else True
        return cls.from_mapping(items)

    @classmethod
    def from_mapping(cls, items: Mapping[str, Any]) -> Faults:
        """Build from ``{"close_after": 3, ...}`` (JSON, the marker), converting strings."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, raw in items.items():
            if name not in known:
                raise FaultError(f"unknown fault {name!r}; known: {', '.join(known)}")
            values[name] = _convert(name, raw)
        return cls(**values)

    def merge(self, other: Faults | None) -> Faults:
        """These faults with every field that ``other`` sets replaced by ``other``'s."""
        if other is None:
            return self
        changes = {f.name: v for f in fields(other) if (v := getattr(other, f.name)) is not None}
        return dataclasses.replace(self, **changes) if changes else self

    def __bool__(self) -> bool:
        return any(_is_set(getattr(self, f.name)) for f in fields(self))

    @property
    def cut(self) -> tuple[int, End] | None:
        """Where the stream ends early and how: the earliest of close, reset and stall."""
        cuts: list[tuple[int, End]] = []
        if self.close_after is not None:
            cuts.append((self.close_after, "close"))
        if self.reset_after is not None:
            cuts.append((self.reset_after, "reset"))
        if self.stall_after is not None:
            cuts.append((self.stall_after, "stall"))
        return min(cuts, key=lambda c: c[0]) if cuts else None

    @property
    def shapes_body(self) -> bool:
        """Whether these faults change what is sent, so a cached answer cannot be used."""
        return any(
            _is_set(getattr(self, f.name)) for f in fields(self) if f.name not in _FAIL_FIELDS
        )

    def to_json(self) -> dict[str, Any]:
        """The fields that are set, as JSON values (the delay in its text form)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = str(value) if isinstance(value, Delay) else value
        return out

    def __str__(self) -> str:
        return "; ".join(
            k if v is True else f"{k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in self.to_json().items()
        )


#: The faults that answer an attempt with an error and leave a successful answer as it is.
_FAIL_FIELDS = frozenset({"fail_times", "fail_status", "retry_after"})


def _is_set(value: Any) -> bool:
    # 0 is a fault (close_after=0), False is not (byte_at_a_time=false).
    return value is not None and value is not False


def _count(name: str, value: Any, *, low: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise FaultError(f"{name} must be a whole number >= {low}, got {value!r}")


def _convert(name: str, raw: Any) -> Any:
    if name == "event_delay":
        return raw if isinstance(raw, Delay) else Delay.parse(raw)
    if name == "byte_at_a_time":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("", "1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise FaultError(f"byte_at_a_time must be true or false, got {raw!r}")
    if name in ("first_byte_delay", "byte_delay", "retry_after"):
        if isinstance(raw, bool):
            raise FaultError(f"{name} must be a number of seconds, got {raw!r}")
        return float(raw) if isinstance(raw, int | float) else _number(name, str(raw))
    if isinstance(raw, bool) or raw is True:
        raise FaultError(f"{name} needs a value, as in {name}=3")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        raise FaultError(f"{name} must be a whole number, got {raw!r}") from None


FAULT_HELP = """\
first_byte_delay=S   wait S seconds before the response headers
event_delay=D        wait before each event: S, uniform(a,b), exponential(mean), normal(m,sd)
seed=N               seed for a random event_delay (the same seed gives the same delays)
close_after=N        send N events, then close the connection (no terminal event)
reset_after=N        send N events, then reset the connection (0: before the headers)
malformed_at=N       event N carries broken JSON
stall_after=N        send N events, then nothing, with the connection kept open
byte_at_a_time       write the body one byte at a time (byte_delay=S between bytes)
fail_times=K         answer the first K attempts with fail_status (429, 500 or 503; default 503)
retry_after=S        the Retry-After sent with those failures
duplicate=N          send event N twice
reorder=N            swap events N and N+1"""


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What to send: the frames in order with their delays, then how the connection ends."""

    frames: tuple[Frame, ...]
    end: End = "eof"


def break_frame(data: bytes) -> bytes:
    """The frame with its ``data:`` payload cut in half: JSON that no parser accepts."""
    start = data.find(b"data:")
    if start < 0:
        return data[: max(1, len(data) // 2)]
    stop = data.find(b"\n", start)
    stop = len(data) if stop < 0 else stop
    payload_start = start + 5
    keep = max(1, (stop - payload_start) // 2)
    return data[: payload_start + keep] + data[stop:]


def apply(frames: Sequence[Frame], faults: Faults, *, end: End = "eof") -> FaultPlan:
    """The frames of a stream with ``faults`` applied (``end``: how it ends without them)."""
    out = list(frames)
    positions = [n for n, f in enumerate(out) if f.event]

    def at(number: int | None) -> int | None:
        return positions[number - 1] if number is not None and number <= len(positions) else None

    if (n := at(faults.malformed_at)) is not None:
        out[n] = dataclasses.replace(out[n], data=break_frame(out[n].data))
    if faults.reorder is not None and (n := at(faults.reorder)) is not None:
        m = at(faults.reorder + 1)
        if m is not None:
            out[n], out[m] = (
                dataclasses.replace(out[m], delay=out[n].delay),
                dataclasses.replace(out[n], delay=out[m].delay),
            )
    if (n := at(faults.duplicate)) is not None:
        out.insert(n + 1, dataclasses.replace(out[n], delay=0.0))
    if faults.event_delay is not None:
        rng = faults.event_delay.sampler(faults.seed or 0)
        out = [
            dataclasses.replace(f, delay=f.delay + faults.event_delay.draw(rng)) if n else f
            for n, f in enumerate(out)
        ]
    cut = faults.cut
    if cut is not None:
        count, end = cut
        kept: list[Frame] = []
        events = 0
        for frame in out:
            if frame.event and events == count:
                break
            kept.append(frame)
            events += frame.event
        out = [f for f in kept if f.event]  # no [DONE] after a cut
    return FaultPlan(tuple(out), end)
