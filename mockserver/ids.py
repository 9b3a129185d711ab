"""Fresh UUID-format ids, unique within a process, for a few hundred nanoseconds each.

Real response, item and request ids are UUID-format strings [documented, S3]; what clients may
rely on is their form and that no two are alike, not that they are unpredictable. Reading the
system's random source and formatting five hex slices per id cost about 1.8 µs, a tenth of the
mock's whole per-request budget, so ids come from a counter instead:

* the first 20 hex digits (version nibble 4 and the RFC 4122 variant included) are drawn from
  ``os.urandom`` once per process, and again in a forked child;
* the last 12 are ``(start + n * K) mod 2**48`` for the n-th id, with ``K`` odd: a bijection,
  so the first 2**48 ids of a process are all different, and they do not look sequential.

Ids from different processes differ in their random prefix (74 random bits).
"""

from __future__ import annotations

import itertools
import os

__all__ = ["fresh_uuid", "fresh_uuid_bytes"]

_MASK = (1 << 48) - 1
_STEP = 0x9E3779B97F4B  # odd: stepping by it visits all of 0 .. 2**48-1 before repeating

_prefix = ""
_prefix_bytes = b""
_counter = itertools.count()


def _reseed() -> None:
    """A new random prefix and starting point (at import, and in every forked child)."""
    global _prefix, _prefix_bytes, _counter
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    _prefix = f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-"
    _prefix_bytes = _prefix.encode()
    _counter = itertools.count(int(h[20:32], 16), _STEP)


_reseed()
os.register_at_fork(after_in_child=_reseed)


def fresh_uuid() -> str:
    """A UUID4-format string that no earlier call in this process returned."""
    return _prefix + (next(_counter) & _MASK).to_bytes(6).hex()


def fresh_uuid_bytes(count: int) -> list[bytes]:
    """``count`` ids as :func:`fresh_uuid` makes them, ASCII-encoded, in one call."""
    prefix, counter = _prefix_bytes, _counter
    return [prefix + (next(counter) & _MASK).to_bytes(6).hex().encode() for _ in range(count)]
