"""The imgsearch-mock command, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from mockserver import SCENARIOS
from mockserver.__main__ import main

from .support import AUTH, LEGACY_PATH, search_body


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start ``python -m mockserver serve --port 0 ARGS``; yield it and its base URL; stop it."""
    with subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            second = proc.stdout.readline()
            match = re.search(r"base_url = (http://127\.0\.0\.1:\d+\S*)", second)
            assert match, f"no base URL printed: {first!r} {second!r}"
            assert "listening on http://127.0.0.1:" in first
            yield proc, match.group(1)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _post(base_url: str, body: object) -> dict[str, object]:
    request = urllib.request.Request(
        base_url + "/responses", data=json.dumps(body).encode(), method="POST",
        headers={**AUTH, "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


def test_serve_prints_the_base_url_logs_requests_and_stops_cleanly() -> None:
    with running(
        "--scenario", "zero_results", "--seed", "3", "--fixed-ids", "--created-at", "1771165900"
    ) as (proc, base):
        assert base.endswith("/api/v2/apps/protocols/compatible-mode/v1")
        body = _post(base, search_body())
        assert body["created_at"] == 1771165900
        assert _post(base, search_body())["id"] == body["id"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert proc.stderr is not None
        log = proc.stderr.read()
    assert re.search(
        rf"POST {re.escape(LEGACY_PATH)} scenario=zero_results status=200 \d+\.\dms", log
    ), log
    assert "Traceback" not in log


def test_api_key_option() -> None:
    with running("--api-key", "sk-only-this", "--quiet") as (_proc, base):
        request = urllib.request.Request(
            base + "/responses", data=json.dumps(search_body()).encode(), method="POST",
            headers={"Authorization": "Bearer sk-other", "Content-Type": "application/json"},
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        with caught.value as error:
            assert error.code == 401
            assert json.loads(error.read())["code"] == "InvalidApiKey"


def test_scenarios_command_lists_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    scenarios, faults = capsys.readouterr().out.split("\n\n")
    assert [line.split()[0] for line in scenarios.splitlines()] == list(SCENARIOS)
    listed = [line.split()[0].split("=")[0] for line in faults.splitlines()[1:]]
    assert listed == [
        "first_byte_delay", "event_delay", "seed", "close_after", "reset_after", "malformed_at",
        "stall_after", "byte_at_a_time", "fail_times", "retry_after", "duplicate", "reorder",
    ]  # fmt: skip


def test_serve_fault_and_journal_size_options() -> None:
    with running("--fault", "fail_times=1; fail_status=500", "--journal-size", "2", "--quiet") as (
        _proc,
        base,
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            _post(base, search_body())
        with caught.value as error:
            assert error.code == 500
        assert _post(base, search_body())["status"] == "completed"
        _post(base, search_body())
        root = base.split("/api/")[0]
        with urllib.request.urlopen(root + "/__admin/requests", timeout=10) as response:
            journal = json.loads(response.read())
    assert journal["capacity"] == 2
    assert [e["attempt"] for e in journal["requests"]] == [2, 3]  # the ring kept the last two
    assert [e["status"] for e in journal["requests"]] == [200, 200]


def test_bad_arguments_exit_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["serve", "--speed", "-1"],
        ["serve", "--port", "x"],
        ["serve", "--fault", "close_after=soon"],
    ):
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
    # Checked after parsing: a cassette folder may hold the name.
    assert main(["serve", "--scenario", "nope"]) == 2
    assert main(["serve", "--cassettes", "/nonexistent/folder"]) == 2
    err = capsys.readouterr().err
    assert "speed must be from 0 to 1000" in err
    assert "argument --fault: close_after must be a whole number, got 'soon'" in err
    assert "Unknown mock scenario 'nope'. Valid scenarios: default, doc_example" in err
    assert "/nonexistent/folder: no such folder of cassettes" in err


def test_busy_port_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "--port", str(port), "--quiet"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"imgsearch-mock: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
