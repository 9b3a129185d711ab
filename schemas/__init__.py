"""The wire contract, as JSON Schema 2020-12 documents shipped inside the package.

This module is the only place that loads them, so the contract has one copy::

    from schemas import validator
    validator("response").validate(body)      # raises jsonschema.ValidationError
    errors = list(validator("stream_event").iter_errors(event))

Names: ``request``, ``response``, ``stream_event``, ``image_results``,
``image_search_arguments``, ``error``, ``cassette`` (the cassette file format), and ``common``
(shared definitions).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

__all__ = ["SCHEMA_NAMES", "load", "validator"]

SCHEMA_NAMES: tuple[str, ...] = (
    "common",
    "request",
    "response",
    "stream_event",
    "image_results",
    "image_search_arguments",
    "error",
    "cassette",
)


def load(name: str) -> dict[str, Any]:
    """Return the parsed schema ``name`` (a fresh copy, safe to mutate)."""
    return json.loads(json.dumps(_load_cached(name)))  # type: ignore[no-any-return]


@cache
def _load_cached(name: str) -> dict[str, Any]:
    if name not in SCHEMA_NAMES:
        raise KeyError(f"unknown schema {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _registry() -> Registry[Any]:
    resources_ = [
        (schema["$id"], Resource.from_contents(schema))
        for schema in (_load_cached(n) for n in SCHEMA_NAMES)
    ]
    return Registry().with_resources(resources_)


@cache
def validator(name: str) -> Draft202012Validator:
    """Return a validator for schema ``name``, with cross-file ``$ref``s resolved."""
    schema = _load_cached(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())
