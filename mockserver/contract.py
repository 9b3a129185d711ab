"""``imgsearch-mock diff``: what changed in the API's contract between two recordings.

A recording's contract is what a client depends on, with what always varies left out. Per
interaction: the mode (JSON or stream) and HTTP status; the sequence of event types, runs of one
type counted once (how many deltas a text takes is not contract); every field's path with the
JSON types seen there; and the values of the fields that enumerate (``type``, ``status``,
``object``, ``role``, ``name``, ``code``, ``reason``). Ids, timestamps, text, token counts, titles
and URLs are values of other fields, so they never count. Paths name array items ``[]``, tag an
object with its ``type`` (``output[]<image_search_call>.status``), and look inside the JSON that
``image_search_call.output`` and ``.arguments`` carry as strings (``output<json>[].title``).
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client import SSEDecoder

from . import cassette as cs
from .replay import is_stream

__all__ = ["Contract", "contract_of", "diff_cassettes", "diff_paths"]

_ENUM_KEYS = frozenset({"type", "status", "object", "role", "name", "code", "reason"})
_JSON_STRING_KEYS = frozenset({"output", "arguments"})


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass(slots=True)
class Contract:
    """The contract of one interaction."""

    mode: str
    status: int
    events: list[str] = field(default_factory=list)
    types: dict[str, set[str]] = field(default_factory=dict)
    values: dict[str, set[str]] = field(default_factory=dict)

    def walk(self, value: Any, path: str, key: str = "") -> None:
        """Add the shape of ``value``, found at ``path``."""
        if key in _JSON_STRING_KEYS and isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                value, path = json.loads(value), f"{path}<json>"
        self.types.setdefault(path, set()).add(_kind(value))
        if isinstance(value, dict):
            tag = value.get("type")
            # An event is named by its path already; nested objects are tagged by their type.
            base = f"{path}<{tag}>" if isinstance(tag, str) and key else path
            for k, v in value.items():
                self.walk(v, f"{base}.{k}" if base else k, k)
        elif isinstance(value, list):
            for item in value:
                self.walk(item, f"{path}[]", key)
        elif key in _ENUM_KEYS and isinstance(value, str):
            self.values.setdefault(path, set()).add(value)


def contract_of(interaction: cs.Interaction) -> Contract:
    """The contract of a recorded interaction."""
    response = interaction.response
    if response.status == 200 and is_stream(response):
        contract = Contract("stream", response.status)
        decoder = SSEDecoder()
        for event in [*decoder.feed(response.body), *decoder.flush()]:
            if event.data == "[DONE]":
                name = "[DONE]"
            else:
                name = event.event
                try:
                    contract.walk(json.loads(event.data), name)
                except ValueError:
                    name += " (not JSON)"
            if not contract.events or contract.events[-1] != name:
                contract.events.append(name)
        return contract
    contract = Contract("json", response.status)
    try:
        contract.walk(json.loads(response.body), "body")
    except ValueError:
        contract.types["body"] = {"not JSON"}
    return contract


def _compare(old: Contract, new: Contract, where: str) -> Iterator[str]:
    if (old.mode, old.status) != (new.mode, new.status):
        yield f"{where}: {old.mode} HTTP {old.status} became {new.mode} HTTP {new.status}"
        return
    if old.events != new.events:
        lines = difflib.unified_diff(old.events, new.events, lineterm="", n=1)
        shown = [f"    {line}" for line in list(lines)[2:]]
        yield f"{where}: the event sequence changed:\n" + "\n".join(shown)
    for path in sorted(new.types.keys() - old.types.keys()):
        yield f"{where}: new field {path} ({', '.join(sorted(new.types[path]))})"
    for path in sorted(old.types.keys() - new.types.keys()):
        yield f"{where}: field gone {path} (was {', '.join(sorted(old.types[path]))})"
    for path in sorted(old.types.keys() & new.types.keys()):
        if old.types[path] != new.types[path]:
            was, now = ", ".join(sorted(old.types[path])), ", ".join(sorted(new.types[path]))
            yield f"{where}: type changed at {path}: {was} -> {now}"
    for path in sorted(old.values.keys() & new.values.keys()):
        for value in sorted(new.values[path] - old.values[path]):
            yield f"{where}: new value at {path}: {value!r}"
        for value in sorted(old.values[path] - new.values[path]):
            yield f"{where}: value no longer seen at {path}: {value!r}"


def diff_cassettes(old: cs.Cassette, new: cs.Cassette) -> list[str]:
    """The contract changes from ``old`` to ``new`` (an empty list: none)."""
    changes = []
    if len(old.interactions) != len(new.interactions):
        changes.append(
            f"{len(old.interactions)} interactions became {len(new.interactions)}; "
            "the first ones are compared"
        )
    for n, (a, b) in enumerate(zip(old.interactions, new.interactions, strict=False)):
        changes.extend(_compare(contract_of(a), contract_of(b), f"interactions[{n}]"))
    return changes


def diff_paths(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """Compare two cassettes or two folders of them (paired by file name).

    Returns the report's lines and the notes that do not count as a change (a cassette only in
    ``new``). Unreadable cassettes raise :class:`mockserver.cassette.CassetteError`.
    """
    if old.is_dir() != new.is_dir():
        raise cs.CassetteError(f"{old} and {new}: compare two files or two folders")
    if not old.is_dir():
        changes = diff_cassettes(cs.load(old), cs.load(new))
        return ([f"{old} -> {new}:", *(f"  {c}" for c in changes)] if changes else []), []
    report: list[str] = []
    notes: list[str] = []
    old_names = {p.name for p in old.glob("*.yaml")}
    new_names = {p.name for p in new.glob("*.yaml")}
    for name in sorted(old_names - new_names):
        report.append(f"{old / name}: gone from {new}")
    for name in sorted(new_names - old_names):
        notes.append(f"{new / name}: new (nothing to compare with)")
    for name in sorted(old_names & new_names):
        lines, _ = diff_paths(old / name, new / name)
        report.extend(lines)
    return report, notes
