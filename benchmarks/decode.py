"""SSE decoding speed: our SSEDecoder against the OpenAI SDK's, httpx-sse's and a naive split.

Usage: ``python benchmarks/decode.py [--megabytes 20] [--rounds 5]`` (or ``./run bench-decode``).
Needs the ``bench`` extra (httpx-sse, httpx) and the ``test`` extra (openai). The stream is a
realistic DashScope Responses stream in the documented framing: mostly token-sized text deltas,
with a completed ``image_search_call`` of 100 results (about 20 KB an event) every 500 events.
It is fed in 64 KiB chunks and in one chunk per event. Every decoder runs in the same process
and round (order rotated); the median events per second and the ratios are printed. The naive
``split(b"\\n\\n")`` reference is the ceiling: it is not spec-complete (no CR or CRLF, no
multi-line data, no comments). The whole path, bytes to typed events, is measured too.
"""

from __future__ import annotations

import argparse
import codecs
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from client import SSEDecoder, parse_event
from mockserver.sse import SSEEncoder

Decoder = Callable[[Iterable[bytes]], int]


def build_stream(megabytes: float) -> tuple[bytes, list[bytes]]:
    """The stream's bytes, and the same bytes cut one event per chunk."""
    encoder = SSEEncoder("dashscope", status_comment=True)
    results = json.dumps(
        [
            {"title": f"Serene landscape {i}", "url": f"https://img.example/{i}.jpg", "index": i}
            for i in range(1, 101)
        ]
    )
    call = {
        "id": "msg_0b1c2d3e-6a1f-4c55-9a0e-2f7d1c9e4b21",
        "type": "image_search_call",
        "status": "completed",
        "name": "image_search",
        "arguments": '{"img_idx": 0, "bbox": [0, 0, 1000, 1000]}',
        "output": results,
    }
    words = ["好的", " the", " misty", " bridge", "山水", " over", " a", " lake", ".", "\n"]
    frames: list[bytes] = []
    size = 0
    seq = 0
    while size < megabytes * 1_000_000:
        if seq % 500 == 0:
            event = {
                "type": "response.output_item.done", "sequence_number": seq,
                "output_index": 1, "item": call,
            }  # fmt: skip
        else:
            event = {
                "type": "response.output_text.delta", "sequence_number": seq,
                "item_id": "msg_45a3", "output_index": 3, "content_index": 0,
                "delta": words[seq % len(words)], "logprobs": [],
            }  # fmt: skip
        frame = encoder.encode(event)
        frames.append(frame)
        size += len(frame)
        seq += 1
    return b"".join(frames), frames


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def ours(chunks: Iterable[bytes]) -> int:
    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        n += len(decoder.feed(chunk))
    return n + len(decoder.flush())


def openai_sdk(chunks: Iterable[bytes]) -> int:
    from openai._streaming import SSEDecoder as OpenAIDecoder

    return sum(1 for _ in OpenAIDecoder().iter_bytes(iter(chunks)))


def httpx_sse(chunks: Iterable[bytes]) -> int:
    from httpx_sse._decoders import SSEDecoder as HDecoder
    from httpx_sse._decoders import SSELineDecoder

    text = codecs.getincrementaldecoder("utf-8")()
    lines = SSELineDecoder()
    decoder = HDecoder()
    n = 0
    for chunk in chunks:
        for line in lines.decode(text.decode(chunk)):
            if decoder.decode(line) is not None:
                n += 1
    for line in lines.flush():
        if decoder.decode(line) is not None:
            n += 1
    return n


def naive(chunks: Iterable[bytes]) -> int:
    buffer = b""
    n = 0
    for chunk in chunks:
        buffer += chunk
        *frames, buffer = buffer.split(b"\n\n")
        for frame in frames:
            event = data = ""
            for line in frame.split(b"\n"):
                if line.startswith(b"data:"):
                    data = line[5:].decode()
                elif line.startswith(b"event:"):
                    event = line[6:].decode()
            n += bool(event or data)
    return n + bool(buffer.strip())


def ours_typed(chunks: Iterable[bytes]) -> int:
    """The whole path: bytes to SSE events to JSON to typed, validated events."""
    decoder = SSEDecoder()
    loads = json.loads
    n = 0
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            parse_event(loads(sse.data))
            n += 1
    return n


def ours_json(chunks: Iterable[bytes]) -> int:
    """Bytes to SSE events to ``json.loads``, without typing: the cost of the model layer."""
    decoder = SSEDecoder()
    loads = json.loads
    n = 0
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            loads(sse.data)
            n += 1
    return n


def openai_typed(chunks: Iterable[bytes]) -> int:
    """The OpenAI SDK's whole path: its decoder, ``sse.json()``, then its model construction."""
    from openai._models import construct_type
    from openai._streaming import SSEDecoder as OpenAIDecoder
    from openai.types.responses import ResponseStreamEvent

    n = 0
    for sse in OpenAIDecoder().iter_bytes(iter(chunks)):
        construct_type(type_=ResponseStreamEvent, value=sse.json())
        n += 1
    return n


DECODERS: dict[str, Decoder] = {
    "naive split": naive,
    "ours": ours,
    "httpx-sse": httpx_sse,
    "openai SDK": openai_sdk,
    "ours + json": ours_json,
    "ours + typed": ours_typed,
    "openai + typed": openai_typed,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data, frames = build_stream(args.megabytes)
    feeds = {"64 KiB chunks": chunked(data, 64 * 1024), "one chunk per event": frames}
    expected = len(frames)
    print(f"stream: {len(data) / 1e6:.1f} MB, {expected} events")
    for feed_name, chunks in feeds.items():
        rates: dict[str, list[float]] = {name: [] for name in DECODERS}
        names = list(DECODERS)
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                started = time.perf_counter()
                count = DECODERS[name](chunks)
                elapsed = time.perf_counter() - started
                if count != expected:
                    raise SystemExit(f"{name} decoded {count} events, expected {expected}")
                rates[name].append(count / elapsed)
        median = {name: statistics.median(r) for name, r in rates.items()}
        print(f"\n{feed_name}")
        print(f"  {'decoder':<14}{'events/s':>12}{'/naive':>9}{'/httpx-sse':>12}{'/openai':>9}")
        for name, rate in median.items():
            print(
                f"  {name:<14}{rate:>12,.0f}{rate / median['naive split']:>9.2f}"
                f"{rate / median['httpx-sse']:>12.2f}{rate / median['openai SDK']:>9.2f}"
            )
    print("\ntargets (64 KiB chunks): ours >= 1.0 of httpx-sse and >= 0.7 of naive split")
    return 0


if __name__ == "__main__":
    sys.exit(main())
