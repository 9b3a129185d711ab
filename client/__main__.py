"""``imgsearch search IMAGE_URL...``: print what the seed pages' examples print.

The labels are the zh-Hant seed page's, so the output can be compared with the page line for
line. ``--json`` prints the whole typed response instead (with ``--stream``: one JSON event per
line). Errors print one line and exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._client import ImageSearchClient
from ._errors import ImageSearchError
from ._events import ContentPartEvent, OutputItemEvent, ResponseEvent, TextDeltaEvent
from ._models import ImageSearchCall, Message, Response, Usage

__all__ = ["main"]


def _print_call(call: ImageSearchCall, head: str) -> None:
    print(head)
    if call.results is None:
        return
    results = call.results
    print(f"  搜尋到 {len(results)} 張圖片:")
    for result in results[:5]:
        print(f"  [{result.index}] {result.title}")
        print(f"      {result.url}")
    if len(results) > 5:
        print(f"  ... 共 {len(results)} 張圖片")


def _print_usage(usage: Usage | None, lead: str) -> None:
    if usage is None:
        return
    print(
        f"{lead}[Token 用量] 輸入: {usage.input_tokens}, 輸出: {usage.output_tokens},"
        f" 合計: {usage.total_tokens}"
    )
    for tool, count in usage.tool_calls.items():
        print(f"[工具統計] {tool} 調用次數: {count}")


def _print_response(response: Response) -> None:
    for item in response.output:
        if isinstance(item, ImageSearchCall):
            _print_call(item, f"[工具調用] 圖搜圖 (status: {item.status})")
        elif isinstance(item, Message):
            print("\n[模型回複]")
            print(response.output_text)
    _print_usage(response.usage, "\n")


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


async def _search(args: argparse.Namespace) -> None:
    params = {"model": args.model} if args.model else {}
    async with ImageSearchClient(base_url=args.base_url, **params) as client:
        if not args.stream:
            response = await client.search(args.images, args.text)
            if args.json:
                print(json.dumps(_jsonable(response), ensure_ascii=False, indent=2))
            else:
                _print_response(response)
            return
        async with client.stream(args.images, args.text) as stream:
            async for event in stream:
                if args.json:
                    print(json.dumps(_jsonable(event), ensure_ascii=False), flush=True)
                elif isinstance(event, OutputItemEvent) and isinstance(event.item, ImageSearchCall):
                    if event.type.endswith(".added"):
                        print("[工具調用] 圖搜圖搜尋中...", flush=True)
                    else:
                        _print_call(
                            event.item, f"[工具調用] 圖搜圖完成 (status: {event.item.status})"
                        )
                elif isinstance(event, ContentPartEvent) and event.type.endswith(".added"):
                    print("\n[模型回複]")
                elif isinstance(event, TextDeltaEvent):
                    print(event.delta, end="", flush=True)
                elif isinstance(event, ResponseEvent) and event.type == "response.completed":
                    _print_usage(event.response.usage, "\n\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imgsearch", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search", help="search with one image URL or several")
    search.add_argument("images", nargs="+", metavar="IMAGE_URL")
    search.add_argument("--text", help="a text prompt to send with the images")
    search.add_argument("--stream", action="store_true", help="stream the answer as it arrives")
    search.add_argument("--model", help="the model (default qwen3.5-plus)")
    search.add_argument(
        "--base-url", help="the API base URL (default $DASHSCOPE_BASE_URL or the seeds' one)"
    )
    search.add_argument("--json", action="store_true", help="print the typed response as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the API key comes from ``$DASHSCOPE_API_KEY``."""
    args = _parser().parse_args(argv)
    try:
        asyncio.run(_search(args))
    except ImageSearchError as exc:
        print(f"imgsearch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
