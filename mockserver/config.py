"""Server-wide settings. Every field that models an undocumented behaviour says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .faults import Faults

__all__ = ["DOCUMENTED_MODELS", "Framing", "MockConfig"]

#: The models the image_search page lists [documented, seed pages S1].
DOCUMENTED_MODELS: frozenset[str] = frozenset(
    {
        "qwen3.5-plus",
        "qwen3.5-plus-2026-02-15",
        "qwen3.5-flash",
        "qwen3.5-flash-2026-02-23",
        "qwen3.5-397b-a17b",
        "qwen3.5-122b-a10b",
        "qwen3.5-27b",
        "qwen3.5-35b-a3b",
    }
)

Framing = Literal["dashscope", "openai"]


@dataclass(frozen=True, slots=True)
class MockConfig:
    """How the mock answers. Defaults follow the documented wire format.

    Attributes:
        scenario: scenario for requests that name none (``X-Mock-Scenario`` wins).
        api_key: when set, only this bearer token is accepted; otherwise any non-empty one.
        seed: mixed into every synthesized result, so a different seed gives other results.
        speed: factor on every scripted delay (0 = none, 1 = as scripted).
        fixed_ids: derive ids from the request and seed instead of fresh UUIDs (snapshots).
        created_at: a fixed ``created_at`` for snapshots; ``None`` = the clock.
        framing: ``dashscope`` (documented: ``id:``/``event:``/``:HTTP_STATUS/200``/``data:``)
            or ``openai`` (``event: `` and ``data: `` with a space, no id or comment).
        done_sentinel: send ``data: [DONE]`` after the terminal event. Not documented for
            DashScope, so off by default.
        status_comment: send the ``:HTTP_STATUS/200`` comment line (dashscope framing).
        image_search_models: models accepted with the image_search tool.
        max_body_bytes: request bodies above this get 413. Inferred: the documented limits are
            10 MB per base64 image, so the default leaves room for a few.
        delta_chars: characters per synthesized text delta (inferred; the API sends
            token-sized pieces).
        slow_gap: seconds between events in the ``slow`` scenario (before ``speed``).
        retry_after: the ``Retry-After`` seconds of the ``rate_limited`` scenario.
        cache_size: how many distinct requests' answers are kept encoded, with holes for
            ids and times (0 = encode every answer afresh). Answers are identical either way.
        cassette_dirs: folders of cassettes served as scenarios named after their files.
        cassette_miss: what a request that names no scenario and matches no cassette gets:
            ``fallback`` (the default scenario; the miss is logged, with the nearest
            recordings) or ``error`` (HTTP 404 ``Mock.NoMatchingCassette`` that explains).
        faults: faults for every request (under a scenario's, the test's and the request's).
        journal_size: how many requests the journal keeps (the oldest go first; 0: none).
        admin_remote: serve ``/__admin/`` to other hosts too (off: loopback only).
    """

    scenario: str = "default"
    api_key: str | None = None
    seed: int = 0
    speed: float = 1.0
    fixed_ids: bool = False
    created_at: int | None = None
    framing: Framing = "dashscope"
    done_sentinel: bool = False
    status_comment: bool = True
    image_search_models: frozenset[str] = field(default=DOCUMENTED_MODELS)
    max_body_bytes: int = 32 * 1024 * 1024
    delta_chars: int = 8
    slow_gap: float = 2.0
    retry_after: int = 1
    cache_size: int = 256
    cassette_dirs: tuple[str, ...] = ()
    cassette_miss: Literal["fallback", "error"] = "fallback"
    faults: Faults | None = None
    journal_size: int = 1000
    admin_remote: bool = False
