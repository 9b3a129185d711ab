"""Requests per second of the mock against bare aiohttp baselines, measured in the same run.

Usage: ``python benchmarks/run.py [--seconds 4] [--rounds 3]`` (or ``tox -e bench``). Needs
Debian's ``wrk``. Each server runs alone, pinned to core 0; wrk runs on core 1. For each round
and each load (JSON and 30-odd-event stream, at 1 and 64 connections) every server is measured
in rotated order, ratios are taken against the baseline measured in that round, and the median
ratio is printed. The machine is shared and noisy: quote the ratios, not the absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PATH = "/api/v2/apps/protocols/compatible-mode/v1/responses"
SERVERS = ("bare", "bare_parse", "mock")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pinned(core: str) -> list[str]:
    return ["taskset", "-c", core] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def _start(kind: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen(
        [*_pinned("0"), sys.executable, str(HERE / "servers.py"), kind, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{PATH}",
                data=(HERE / "request.json").read_bytes(),
                headers={"Authorization": "Bearer sk-bench", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} did not start")


def _wrk(port: int, body: Path, connections: int, seconds: int) -> float:
    result = subprocess.run(
        [*_pinned("1"), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
         "-s", str(HERE / "post.lua"), f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, env={**os.environ, "BODY_FILE": str(body)}, check=True,
    )  # fmt: skip
    if "Non-2xx" in result.stdout:
        raise RuntimeError(f"non-2xx answers: {result.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    assert match, result.stdout
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks/run.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    request = json.loads((HERE / "request.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        bodies = {"json": HERE / "request.json", "stream": Path(tmp) / "stream.json"}
        bodies["stream"].write_text(json.dumps({**request, "stream": True}))
        loads = [(kind, c) for kind in bodies for c in (1, 64)]
        rates: dict[tuple[str, int, str], list[float]] = {}
        ratios: dict[tuple[str, int, str], list[float]] = {}
        for round_ in range(args.rounds):
            order = SERVERS[round_ % 3 :] + SERVERS[: round_ % 3]
            measured: dict[tuple[str, int, str], float] = {}
            for server in order:
                proc, port = _start(server)
                try:
                    for kind, connections in loads:
                        _wrk(port, bodies[kind], connections, 1)  # warm-up
                        rate = _wrk(port, bodies[kind], connections, args.seconds)
                        measured[(kind, connections, server)] = rate
                        rates.setdefault((kind, connections, server), []).append(rate)
                finally:
                    proc.terminate()
                    proc.wait(10)
            for (kind, connections, server), rate in measured.items():
                for base in ("bare", "bare_parse"):
                    if kind == "stream" and base == "bare":
                        continue
                    ratio = rate / measured[(kind, connections, base)]
                    ratios.setdefault((kind, connections, f"{server}/{base}"), []).append(ratio)
    head = ("load", "conns", "server", "req/s (median)", "/bare", "/bare_parse")
    print("{:<8}{:>6}  {:<11}{:>15}  {:>7}  {:>11}".format(*head))
    for kind, connections in loads:
        for server in SERVERS:
            if kind == "stream" and server == "bare":
                continue  # bare never reads the body, so it cannot know to stream
            rate = statistics.median(rates[(kind, connections, server)])
            bare = ratios.get((kind, connections, f"{server}/bare"))
            vs_bare = f"{statistics.median(bare):.2f}" if bare else "-"
            vs_parse = statistics.median(ratios[(kind, connections, f"{server}/bare_parse")])
            row = f"{kind:<8}{connections:>6}  {server:<11}{rate:>15.0f}"
            print(f"{row}  {vs_bare:>7}  {vs_parse:>11.2f}")
    print("target: mock/bare_parse >= 0.80 for json and stream at 64 connections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
