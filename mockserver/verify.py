"""``imgsearch-mock verify``: check cassettes against the contract, the stream grammar, secrets
and age, one clear line per problem.

For each cassette: safe YAML loading and the cassette schema; each request body against the
request schema; each JSON response against the response or error schema; each streamed event
against the stream-event schema, and the stream as a whole through the client's grammar checks
(sequence numbers, item and part lifecycle, deltas against the ``done`` text, exactly one
terminal event that agrees with what streamed); no key-shaped string and no unredacted secret
header or query parameter; and, for recordings, their age against a limit. Faults a cassette
declares (``metadata.imgsearch.faults``: ``cut``, ``malformed``) are expected, not problems.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from jsonschema import ValidationError
from jsonschema.exceptions import best_match

import schemas
from client import ImageSearchError, SSEDecoder, StreamAccumulator, parse_event

from . import cassette as cs
from .replay import is_stream

__all__ = ["Problem", "cassette_paths", "verify_file", "verify_paths"]

_MAX_PER_INTERACTION = 5


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one cassette."""

    path: Path
    where: str
    message: str

    def __str__(self) -> str:
        # One line per problem, whatever the message (YAML errors span several).
        message = " ".join(self.message.split())
        return f"{self.path}: {self.where}: {message}" if self.where else f"{self.path}: {message}"


def cassette_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The cassettes named by ``paths``: files as given, folders' ``*.yaml`` files."""
    out: list[Path] = []
    for path in map(Path, paths):
        out.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _schema_problem(name: str, document: Any) -> str | None:
    error = best_match(schemas.validator(name).iter_errors(document))
    if error is None:
        return None
    return f"{_pointer(error)}: {error.message[:200]} (schema {name})"


def _pointer(error: ValidationError) -> str:
    return "/" + "/".join(str(p) for p in error.absolute_path)


_SECRET_VALUES = {cs.PLACEHOLDER, f"Bearer {cs.PLACEHOLDER}"}
_KEY_SHAPED_TEXT = re.compile(cs.KEY_SHAPED.pattern.decode())


def _secrets(text: str, cassette: cs.Cassette) -> Iterator[tuple[str, str]]:
    for match in _KEY_SHAPED_TEXT.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        yield f"line {line}", f"a key-shaped secret ({match.group()[:5]}...) is in the file"
    for n, interaction in enumerate(cassette.interactions):
        for side, headers in (
            ("request", interaction.request.headers),
            ("response", interaction.response.headers),
        ):
            for name, values in headers.items():
                if cs.SECRET_HEADERS.search(name) and any(v not in _SECRET_VALUES for v in values):
                    yield f"interactions[{n}].{side}.headers.{name}", "holds an unredacted value"
        for key, value in parse_qsl(urlsplit(interaction.request.uri).query):
            if cs.SECRET_PARAMS.match(key) and value != cs.PLACEHOLDER:
                yield f"interactions[{n}].request.uri", f"query parameter {key} is not redacted"


def _age(provenance: cs.Provenance, max_age_days: float | None, now: datetime) -> str | None:
    if provenance.source != "recorded":
        return None
    if provenance.recorded_at is None:
        return "a recording without metadata.imgsearch.recorded_at: its age is unknown"
    try:
        when = datetime.fromisoformat(provenance.recorded_at)
    except ValueError:
        return f"recorded_at {provenance.recorded_at!r} is not an ISO 8601 date"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    days = (now - when).total_seconds() / 86400
    if max_age_days is not None and days > max_age_days:
        return (
            f"recorded {days:.0f} days ago, older than the {max_age_days:g}-day limit: re-record it"
        )
    return None


def _check_request(interaction: cs.Interaction) -> Iterator[str]:
    request = interaction.request
    if request.method != "POST" or not urlsplit(request.uri).path.endswith("/responses"):
        return
    try:
        body = json.loads(request.body)
    except ValueError:
        yield "the request body is not JSON"
        return
    problem = _schema_problem("request", body)
    if problem:
        yield f"request body {problem}"


def _check_json(response: cs.RecordedResponse, faults: tuple[str, ...]) -> Iterator[str]:
    try:
        body = json.loads(response.body)
    except ValueError:
        if not (response.cut and "cut" in faults) and "malformed" not in faults:
            yield "the response body is not JSON"
        return
    name = "response" if response.status == 200 else "error"
    problem = _schema_problem(name, body)
    if problem:
        yield f"response body {problem}"


def _check_stream(response: cs.RecordedResponse, faults: tuple[str, ...]) -> Iterator[str]:
    decoder = SSEDecoder()
    accumulator = StreamAccumulator()
    grammar_ok = True
    expected_seq = 0
    for n, event in enumerate([*decoder.feed(response.body), *decoder.flush()]):
        if event.data == "[DONE]":
            continue
        try:
            document = json.loads(event.data)
        except ValueError:
            if "malformed" not in faults:
                yield f"event {n} ({event.event}): data is not JSON"
            grammar_ok = False
            continue
        problem = _schema_problem("stream_event", document)
        if problem:
            yield f"event {n} ({event.event}): {problem}"
        seq = document.get("sequence_number") if isinstance(document, dict) else None
        if isinstance(seq, int) and grammar_ok and seq != expected_seq:
            # Documented: sequence numbers start at 0 and increment [S2]; a gap is a lost event.
            yield f"event {n} ({event.event}): sequence_number {seq}, expected {expected_seq}"
            grammar_ok = False
        if isinstance(seq, int):
            expected_seq = seq + 1
        if grammar_ok:
            try:
                accumulator.feed(parse_event(document))
            except ImageSearchError as exc:
                grammar_ok = False
                yield f"event {n} ({event.event}): stream grammar: {exc}"
    if response.cut and "cut" not in faults:
        yield "the connection dropped before the stream ended (recorded)"
    elif grammar_ok and not accumulator.done and not response.cut:
        yield "the stream ends without a terminal event"


def _check_interaction(interaction: cs.Interaction, faults: tuple[str, ...]) -> Iterator[str]:
    yield from _check_request(interaction)
    response = interaction.response
    if response.status == 200 and is_stream(response):
        yield from _check_stream(response, faults)
    else:
        yield from _check_json(response, faults)
    if response.cut and "cut" not in faults and not is_stream(response):
        yield "the connection dropped before the body was complete (recorded)"


def verify_file(
    path: Path, *, max_age_days: float | None = None, now: datetime | None = None
) -> list[Problem]:
    """Every problem of the cassette at ``path`` (an empty list: it passes)."""
    try:
        text = path.read_text("utf-8")
        cassette = cs.loads(text, str(path))  # safe loading; YAML errors are CassetteErrors
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(path, "", f"cannot read: {exc}")]
    except cs.CassetteError as exc:
        return [Problem(path, "", str(exc).removeprefix(f"{path}: "))]
    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    problems = []
    schema_problem = _schema_problem("cassette", _jsonable(document))
    if schema_problem:
        problems.append(Problem(path, "", f"cassette {schema_problem}"))
    problems += [Problem(path, where, message) for where, message in _secrets(text, cassette)]
    faults = cassette.provenance.faults
    for n, interaction in enumerate(cassette.interactions):
        found = list(_check_interaction(interaction, faults))
        where = f"interactions[{n}]"
        problems += [Problem(path, where, m) for m in found[:_MAX_PER_INTERACTION]]
        if len(found) > _MAX_PER_INTERACTION:
            more = len(found) - _MAX_PER_INTERACTION
            problems.append(Problem(path, where, f"and {more} more problems"))
    age = _age(cassette.provenance, max_age_days, now or datetime.now(UTC))
    if age:
        problems.append(Problem(path, "metadata.imgsearch.recorded_at", age))
    return problems


def verify_paths(
    paths: Iterable[str | Path], *, max_age_days: float | None = None
) -> tuple[int, list[Problem]]:
    """How many cassettes ``paths`` hold, and all their problems."""
    files = cassette_paths(paths)
    problems: list[Problem] = []
    for path in files:
        problems += verify_file(path, max_age_days=max_age_days)
    return len(files), problems
