"""Requests per second of the mock against bare aiohttp baselines, measured in the same run.

Usage: ``python benchmarks/run.py [--seconds 4] [--rounds 3] [--sequential]`` (or
``tox -e bench``). Needs Debian's ``wrk``. Servers are pinned to core 0 and wrk to core 1. Loads:
a JSON answer and a 30-odd-event stream, at 1 and 64 connections.

By default the servers are measured *side by side*: all of them run at once on core 0, and one
wrk per server loads them during the same seconds, so a noisy neighbour slows all of them alike.
With ``--sequential`` each server runs alone in turn (rotated order), which gives absolute figures
comparable to other tools', but on a shared machine those swing by 20 % from run to run.

Two ratios are printed against each baseline measured in the same round (median over rounds):

* ``req/s``: requests per second, the figure users feel;
* ``per CPU s``: requests per second of the server's own CPU time (from ``/proc``), i.e. the
  inverse ratio of CPU cost per request. It does not depend on how the scheduler shared the core
  or on time stolen by neighbours, so it is the steadier of the two; under saturation, and with
  the scheduler fair, the two agree.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PATH = "/api/v2/apps/protocols/compatible-mode/v1/responses"
SERVERS = ("bare", "bare_parse", "mock")
BASELINES = ("bare", "bare_parse")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    kind: str
    proc: subprocess.Popen[bytes]
    port: int

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass(frozen=True)
class Rate:
    per_second: float
    per_cpu_second: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pinned(core: str) -> list[str]:
    return ["taskset", "-c", core] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def _start(kind: str) -> Server:
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
                return Server(kind, proc, port)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} did not start")


def _stop(servers: list[Server]) -> None:
    for server in servers:
        server.proc.terminate()
        server.proc.wait(10)


def _wrk(server: Server, body: Path, connections: int, seconds: int) -> Rate:
    cpu_before = server.cpu_seconds()
    result = subprocess.run(
        [*_pinned("1"), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
         "-s", str(HERE / "post.lua"), f"http://127.0.0.1:{server.port}{PATH}"],
        capture_output=True, text=True, env={**os.environ, "BODY_FILE": str(body)}, check=True,
    )  # fmt: skip
    cpu = server.cpu_seconds() - cpu_before
    if "Non-2xx" in result.stdout:
        raise RuntimeError(f"non-2xx answers: {result.stdout}")
    count = re.search(r"(\d+) requests in ([\d.]+)(m?s)", result.stdout)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    assert count and rate, result.stdout
    return Rate(float(rate.group(1)), int(count.group(1)) / max(cpu, 1 / _TICKS))


Key = tuple[str, int, str]  # load, connections, server
Measured = dict[Key, Rate]
Loads = list[tuple[str, int]]


def _servers_for(kind: str) -> tuple[str, ...]:
    # bare never reads the body, so it cannot know to stream
    return tuple(s for s in SERVERS if not (kind == "stream" and s == "bare"))


def _sequential(round_: int, loads: Loads, bodies: dict[str, Path], seconds: int) -> Measured:
    measured: Measured = {}
    for kind in SERVERS[round_ % 3 :] + SERVERS[: round_ % 3]:
        server = _start(kind)
        try:
            for load, connections in loads:
                if kind in _servers_for(load):
                    _wrk(server, bodies[load], connections, 1)  # warm-up
                    rate = _wrk(server, bodies[load], connections, seconds)
                    measured[(load, connections, kind)] = rate
        finally:
            _stop([server])
    return measured


def _side_by_side(round_: int, loads: Loads, bodies: dict[str, Path], seconds: int) -> Measured:
    measured: Measured = {}
    servers = [_start(kind) for kind in SERVERS]
    try:
        for load, connections in loads:
            loaded = [s for s in servers if s.kind in _servers_for(load)]
            with ThreadPoolExecutor(len(loaded)) as pool:
                for duration in (1, seconds):  # warm-up, then the measurement
                    futures = [
                        pool.submit(_wrk, s, bodies[load], connections, duration) for s in loaded
                    ]
                    rates = [f.result() for f in futures]
            for server, rate in zip(loaded, rates, strict=True):
                measured[(load, connections, server.kind)] = rate
    finally:
        _stop(servers)
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--sequential", action="store_true", help="measure each server alone, in turn"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks/run.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    request = json.loads((HERE / "request.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        bodies = {"json": HERE / "request.json", "stream": Path(tmp) / "stream.json"}
        bodies["stream"].write_text(json.dumps({**request, "stream": True}))
        loads = [(load, c) for load in bodies for c in (1, 64)]
        rates: dict[Key, list[float]] = {}
        ratios: dict[tuple[str, int, str, str, str], list[float]] = {}
        measure = _sequential if args.sequential else _side_by_side
        for round_ in range(args.rounds):
            measured = measure(round_, loads, bodies, args.seconds)
            for (load, connections, server), rate in measured.items():
                rates.setdefault((load, connections, server), []).append(rate.per_second)
                for base in BASELINES:
                    ref = measured.get((load, connections, base))
                    if ref is None:
                        continue
                    for unit, mine, theirs in (
                        ("s", rate.per_second, ref.per_second),
                        ("cpu", rate.per_cpu_second, ref.per_cpu_second),
                    ):
                        key = (load, connections, server, base, unit)
                        ratios.setdefault(key, []).append(mine / theirs)

    def ratio(load: str, connections: int, server: str, base: str, unit: str) -> str:
        values = ratios.get((load, connections, server, base, unit))
        return f"{statistics.median(values):.2f}" if values else "-"

    head = ("load", "conns", "server", "req/s", "/bare req/s", "/bare_parse req/s", "per CPU s")
    print("{:<7}{:>6}  {:<11}{:>8}  {:>12}  {:>18}  {:>10}".format(*head))
    for load, connections in loads:
        for server in _servers_for(load):
            median = statistics.median(rates[(load, connections, server)])
            print(
                f"{load:<7}{connections:>6}  {server:<11}{median:>8.0f}"
                f"  {ratio(load, connections, server, 'bare', 's'):>12}"
                f"  {ratio(load, connections, server, 'bare_parse', 's'):>18}"
                f"  {ratio(load, connections, server, 'bare_parse', 'cpu'):>10}"
            )
    mode = "one at a time" if args.sequential else "side by side on one core"
    print(f"servers measured {mode}; median of {args.rounds} rounds of {args.seconds} s")
    print("per CPU s: requests per CPU second of the server, relative to bare_parse")
    print("target: mock/bare_parse >= 0.80 for json and stream at 64 connections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
