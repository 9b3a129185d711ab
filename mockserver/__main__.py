"""``imgsearch-mock`` (also ``python -m mockserver``): serve and list scenarios; record,
regenerate, verify and diff cassettes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from . import cassette as cs
from .app import RESPONSES_PATHS, create_app
from .config import DOCUMENTED_MODELS, MockConfig
from .errors import RequestError
from .faults import FAULT_HELP, FaultError, Faults
from .record import RecorderConfig, create_recorder_app
from .replay import bundled_dir
from .scenarios import SCENARIOS

__all__ = ["build_parser", "main"]


def _speed(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"speed must be from 0 to 1000, got {text}")
    return value


def _faults(text: str) -> Faults:
    try:
        return Faults.parse(text)
    except FaultError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(
        prog="imgsearch-mock",
        description="A local mock of the DashScope Responses API with the image_search tool.",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the mock server (the default command)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port (0 picks a free one; default 8000)"
    )
    serve.add_argument(
        "--scenario",
        default="default",
        help="scenario (or cassette) for requests that name none and match no cassette",
    )
    serve.add_argument("--api-key", help="accept only this API key (default: any non-empty key)")
    serve.add_argument(
        "--seed", type=int, default=0, help="seed of the synthesized results (default 0)"
    )
    serve.add_argument(
        "--speed", type=_speed, default=1.0, help="factor on scripted delays (0 = none)"
    )
    serve.add_argument(
        "--fixed-ids", action="store_true", help="derive ids from the request (snapshot tests)"
    )
    serve.add_argument("--created-at", type=int, help="fixed created_at timestamp (snapshot tests)")
    serve.add_argument(
        "--framing",
        choices=("dashscope", "openai"),
        default="dashscope",
        help="SSE framing: DashScope's documented one, or OpenAI's",
    )
    serve.add_argument(
        "--done", action="store_true", help="send data: [DONE] after the terminal event"
    )
    serve.add_argument(
        "--no-status-comment", action="store_true", help="omit the :HTTP_STATUS/200 lines"
    )
    serve.add_argument(
        "--models",
        help="comma-separated models accepted with image_search "
        "(default: the eight documented ones)",
    )
    serve.add_argument(
        "--cassettes",
        action="append",
        nargs="?",
        const=str(bundled_dir()),
        metavar="DIR",
        help="serve the cassettes in DIR as scenarios (repeatable; no DIR: the bundled library)",
    )
    serve.add_argument(
        "--cassette-miss",
        choices=("fallback", "error"),
        default="fallback",
        help="a request matching no cassette: the default scenario (logged), or a 404 that "
        "explains the nearest recordings",
    )
    serve.add_argument(
        "--fault",
        type=_faults,
        help="faults for every request, as in X-Mock-Fault (e.g. 'close_after=3'); "
        "`imgsearch-mock scenarios` lists them",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=1000,
        help="requests kept in the journal (/__admin/requests; default 1000, 0 = none)",
    )
    serve.add_argument(
        "--admin-remote",
        action="store_true",
        help="serve /__admin/ to other hosts too (default: loopback clients only)",
    )
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    sub.add_parser("scenarios", help="list the scenarios and the faults")
    _cassette_commands(sub)
    return parser


def _cassette_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = sub.add_parser("record", help="a recording proxy: forward, relay, write cassettes")
    record.add_argument(
        "--upstream", required=True, help="where to forward (https://dashscope-intl.aliyuncs.com)"
    )
    record.add_argument("--out", default="cassettes", help="folder for cassettes (./cassettes)")
    record.add_argument(
        "--name", help="cassette for requests without X-Record-Name (default: one per session)"
    )
    record.add_argument("--overwrite", action="store_true", help="replace existing cassettes")
    record.add_argument(
        "--redact",
        action="append",
        default=[],
        metavar="REGEX",
        help="also redact what this regular expression matches (repeatable)",
    )
    record.add_argument("--description", default="", help="written into each cassette")
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    record.add_argument("--port", type=int, default=8001, help="port (default 8001; 0 = any)")
    record.add_argument("--quiet", action="store_true", help="no per-request log lines")
    regen = sub.add_parser(
        "regenerate", help="rebuild the bundled synthesized cassettes through the proxy"
    )
    regen.add_argument("names", nargs="*", help="scenarios (default: all)")
    regen.add_argument("--out", default=str(bundled_dir()), help="folder (default: bundled)")
    regen.add_argument("--force", action="store_true", help="also replace recorded cassettes")
    verify = sub.add_parser("verify", help="check cassettes: schemas, grammar, secrets, age")
    verify.add_argument("paths", nargs="*", help="cassettes or folders (default: bundled)")
    verify.add_argument(
        "--max-age-days",
        type=float,
        default=90.0,
        help="recordings older than this are a problem (default 90; 0 = no limit)",
    )
    diff = sub.add_parser("diff", help="contract changes between two cassettes or folders")
    diff.add_argument("old")
    diff.add_argument("new")


def _config(args: argparse.Namespace) -> MockConfig:
    models = DOCUMENTED_MODELS
    if args.models:
        models = frozenset(m.strip() for m in args.models.split(",") if m.strip())
    return MockConfig(
        scenario=args.scenario,
        api_key=args.api_key,
        seed=args.seed,
        speed=args.speed,
        fixed_ids=args.fixed_ids,
        created_at=args.created_at,
        framing=args.framing,
        done_sentinel=args.done,
        status_comment=not args.no_status_comment,
        image_search_models=models,
        cassette_dirs=tuple(args.cassettes or ()),
        cassette_miss=args.cassette_miss,
        faults=args.fault,
        journal_size=max(0, args.journal_size),
        admin_remote=args.admin_remote,
    )


async def serve(app: web.Application, host: str, port: int, banner: str) -> None:
    """Run ``app`` until SIGINT or SIGTERM, printing the root URL once listening."""
    # A client that leaves cancels its handler at once: a stalled stream holds nothing.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{bound}"
    print(banner.format(root=root), flush=True)
    print(f"  base_url = {root}{RESPONSES_PATHS[0].removesuffix('/responses')}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows event loops have no add_signal_handler; Ctrl+C still raises KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _listen(app: web.Application, args: argparse.Namespace, banner: str) -> int:
    try:
        asyncio.run(serve(app, args.host, args.port, banner))
    except OSError as exc:
        print(
            f"imgsearch-mock: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


def _fail(message: str) -> int:
    print(f"imgsearch-mock: {message}", file=sys.stderr)
    return 2


def _run_serve(args: argparse.Namespace) -> int:
    try:
        app = create_app(_config(args))
    except cs.CassetteError as exc:
        return _fail(str(exc))
    except RequestError as exc:  # an unknown --scenario
        return _fail(exc.message)
    count = f", {len(args.cassettes)} cassette folders" if args.cassettes else ""
    return _listen(
        app, args, f"imgsearch mock listening on {{root}} (scenario: {args.scenario}{count})"
    )


def _run_record(args: argparse.Namespace) -> int:
    config = RecorderConfig(
        upstream=args.upstream,
        out_dir=Path(args.out),
        name=args.name,
        overwrite=args.overwrite,
        patterns=tuple(args.redact),
        description=args.description,
    )
    banner = f"imgsearch recorder on {{root}} -> {args.upstream}, writing to {args.out}/"
    return _listen(create_recorder_app(config), args, banner)


def _run_regenerate(args: argparse.Namespace) -> int:
    from .library import regenerate

    try:
        written = regenerate(args.out, args.names or None, force=args.force)
    except cs.CassetteError as exc:
        return _fail(str(exc))
    for path in written:
        print(path)
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    from .verify import verify_paths

    limit = args.max_age_days or None
    count, problems = verify_paths(args.paths or [bundled_dir()], max_age_days=limit)
    for problem in problems:
        print(problem)
    print(f"{count} cassettes checked, {len(problems)} problems", file=sys.stderr)
    return 1 if problems or count == 0 else 0


def _run_diff(args: argparse.Namespace) -> int:
    from .contract import diff_paths

    try:
        report, notes = diff_paths(Path(args.old), Path(args.new))
    except cs.CassetteError as exc:
        return _fail(str(exc))
    for line in (*report, *notes):
        print(line)
    if not report:
        print("no contract change", file=sys.stderr)
    return 1 if report else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``imgsearch-mock``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "serve")
    args = build_parser().parse_args(argv)
    if args.command == "scenarios":
        width = max(map(len, SCENARIOS))
        for scenario in SCENARIOS.values():
            print(f"{scenario.name:<{width}}  {scenario.description}")
        print("\nFaults (X-Mock-Fault header, --fault, the pytest marker; joined by ';'):")
        print("\n".join(f"  {line}" for line in FAULT_HELP.splitlines()))
        return 0
    if args.command in ("serve", "record") and not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    commands = {
        "serve": _run_serve,
        "record": _run_record,
        "regenerate": _run_regenerate,
        "verify": _run_verify,
        "diff": _run_diff,
    }
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
