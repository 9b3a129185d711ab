"""``imgsearch-mock`` (also ``python -m mockserver``): run the mock server or list scenarios."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from .app import RESPONSES_PATHS, create_app
from .config import DOCUMENTED_MODELS, MockConfig
from .scenarios import SCENARIOS

__all__ = ["build_parser", "main"]


def _speed(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"speed must be from 0 to 1000, got {text}")
    return value


def _scenario(text: str) -> str:
    if text not in SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {text!r}; valid: {', '.join(SCENARIOS)}"
        )
    return text


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
        "--scenario", type=_scenario, default="default", help="scenario for requests that name none"
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
    serve.add_argument("--quiet", action="store_true", help="no per-request log lines")
    sub.add_parser("scenarios", help="list the scenarios")
    return parser


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
    )


async def serve(config: MockConfig, host: str, port: int) -> None:
    """Run until SIGINT or SIGTERM, printing the base URL once listening."""
    # A client that leaves cancels its handler at once: a stalled stream holds nothing.
    runner = web.AppRunner(
        create_app(config), access_log=None, handle_signals=False, handler_cancellation=True
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or ()
    bound = sockets[0].getsockname()[1] if sockets else port
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{bound}"
    print(f"imgsearch mock listening on {root} (scenario: {config.scenario})", flush=True)
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
        return 0
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(serve(_config(args), args.host, args.port))
    except OSError as exc:
        print(
            f"imgsearch-mock: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
