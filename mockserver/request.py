"""Parse and check a ``POST /responses`` body into a :class:`SearchRequest`.

Each refusal is a :class:`RequestError` whose message names the JSON path and quotes the
offending value. Which rules are documented and which are inferred is listed in the README.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .config import MockConfig
from .errors import RequestError, invalid

__all__ = ["SearchRequest", "check_depth", "decode_body", "parse_request"]

MAX_DEPTH = 64
MAX_IMAGES = 256  # documented: up to 256 images per request by URL [S7]
MAX_BASE64_CHARS = 10 * 1024 * 1024  # documented: a Base64 image's encoded length <= 10 MB [S7]
#: Documented formats [S7]; MIME subtypes as clients write them.
IMAGE_SUBTYPES = frozenset({"bmp", "jpeg", "jpg", "jpe", "png", "tiff", "tif", "webp", "heic"})
_DATA_URI = re.compile(r"data:image/([A-Za-z0-9.+-]+);base64,(.*)", re.DOTALL)
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]")
_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """The parts of a request that shape the answer."""

    model: str
    images: tuple[str, ...]
    text: str
    stream: bool
    tools: tuple[dict[str, Any], ...]
    tool_choice: str | dict[str, Any]
    thinking: bool
    max_output_tokens: int | None

    @property
    def image_search(self) -> bool:
        """Whether the request enables the image_search tool."""
        return any(t.get("type") == "image_search" for t in self.tools)


def _kind(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _short(value: object, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _wrong_type(path: str, expected: str, value: object) -> RequestError:
    return invalid(
        f"[400] invalid_type: Invalid type for '{path}': expected {expected}, "
        f"but got {_kind(value)} ({_short(value)})."
    )


def _missing(path: str) -> RequestError:
    # The documented wording of a missing parameter [S4].
    return invalid(f"[400] missing_required_parameter: Missing required parameter: '{path}'.")


def decode_body(raw: bytes) -> dict[str, Any]:
    """Decode a request body: UTF-8 JSON whose top level is an object, nested at most 64 deep."""
    if not raw.strip():
        raise invalid("The request body is empty: send a JSON object.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid(f"The request body is not valid UTF-8 (byte {exc.start}).") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise invalid(f"The request body is nested deeper than {MAX_DEPTH} levels.") from None
    except json.JSONDecodeError as exc:
        raise invalid(
            f"The request body is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}."
        ) from None
    if not isinstance(body, dict):
        raise invalid(f"The request body must be a JSON object, not {_kind(body)}.")
    check_depth(body)
    return body


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse values nested deeper than ``limit`` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise invalid(f"The request body is nested deeper than {limit} levels.")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))


def parse_request(
    body: dict[str, Any], config: MockConfig, *, oss_resolve: bool = False
) -> SearchRequest:
    """Check ``body`` against the documented rules and return what the answer depends on."""
    model = body.get("model")
    if model is None:
        raise _missing("model")
    if not isinstance(model, str):
        raise _wrong_type("model", "a string", model)
    if not model.strip():
        raise invalid("[400] invalid_value: 'model' must not be empty.")
    if "input" not in body or body["input"] is None:
        raise _missing("input")
    tools = _tools(body.get("tools"))
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise _wrong_type("stream", "a boolean", stream)
    images, text = _input(body["input"], oss_resolve)
    request = SearchRequest(
        model=model,
        images=tuple(images),
        text=text,
        stream=stream,
        tools=tuple(tools),
        tool_choice=_tool_choice(body.get("tool_choice")),
        thinking=_thinking(body),
        max_output_tokens=_max_output_tokens(body.get("max_output_tokens")),
    )
    if request.image_search:
        if model not in config.image_search_models:
            raise invalid(
                f"The model {model!r} does not support the image_search tool. Supported models: "
                f"{', '.join(sorted(config.image_search_models))}."
            )
        if not images:
            raise invalid(
                "The image_search tool needs an input_image: add "
                '{"type": "input_image", "image_url": "https://..."} to the user message content.'
            )
    return request


def _tools(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong_type("tools", "an array", value)
    for i, tool in enumerate(value):
        if not isinstance(tool, dict):
            raise _wrong_type(f"tools[{i}]", "an object", tool)
        if not isinstance(tool.get("type"), str):
            raise (
                _missing(f"tools[{i}].type")
                if "type" not in tool
                else _wrong_type(f"tools[{i}].type", "a string", tool["type"])
            )
    return value


def _tool_choice(value: Any) -> str | dict[str, Any]:
    if value is None:
        return "auto"
    if isinstance(value, str):
        if value not in ("auto", "none", "required"):
            raise invalid(
                f"[400] invalid_value: 'tool_choice' must be auto, none or required, got {value!r}."
            )
        return value
    if isinstance(value, dict):
        return value
    raise _wrong_type("tool_choice", "a string or an object", value)


def _thinking(body: dict[str, Any]) -> bool:
    # qwen3.5 models think by default [S3]; enable_thinking and reasoning.effort turn it off.
    enable = body.get("enable_thinking")
    if enable is not None and not isinstance(enable, bool):
        raise _wrong_type("enable_thinking", "a boolean", enable)
    reasoning = body.get("reasoning")
    effort = None
    if reasoning is not None:
        if not isinstance(reasoning, dict):
            raise _wrong_type("reasoning", "an object", reasoning)
        effort = reasoning.get("effort")
    return enable is not False and effort != "none"


def _max_output_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type("max_output_tokens", "an integer", value)
    if value < 1:
        raise invalid(f"[400] invalid_value: 'max_output_tokens' must be at least 1, got {value}.")
    return value


def _input(value: Any, oss_resolve: bool) -> tuple[list[str], str]:
    if isinstance(value, str):
        return [], value
    if not isinstance(value, list):
        raise _wrong_type("input", "a string or an array", value)
    images: list[str] = []
    texts: list[str] = []
    for i, item in enumerate(value):
        path = f"input[{i}]"
        if not isinstance(item, dict):
            raise _wrong_type(path, "an object", item)
        if "role" not in item:
            if not isinstance(item.get("type"), str):
                raise _missing(f"{path}.role")
            continue  # another item type (function_call_output...): not ours to judge
        role = item["role"]
        if role not in ("user", "system", "developer", "assistant"):
            raise invalid(
                f"[400] invalid_value: '{path}.role' must be user, system, developer or "
                f"assistant, got {_short(role)}."
            )
        if "content" not in item:
            raise _missing(f"{path}.content")
        content = item["content"]
        if isinstance(content, str):
            if role == "user":
                texts.append(content)
            continue
        if not isinstance(content, list):
            raise _wrong_type(f"{path}.content", "a string or an array", content)
        for j, part in enumerate(content):
            ppath = f"{path}.content[{j}]"
            if not isinstance(part, dict):
                raise _wrong_type(ppath, "an object", part)
            kind = part.get("type")
            if not isinstance(kind, str):
                raise (
                    _missing(f"{ppath}.type")
                    if kind is None
                    else _wrong_type(f"{ppath}.type", "a string", kind)
                )
            if kind == "input_text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise (
                        _missing(f"{ppath}.text")
                        if text is None
                        else _wrong_type(f"{ppath}.text", "a string", text)
                    )
                if role == "user":
                    texts.append(text)
            elif kind == "input_image":
                url = part.get("image_url")
                if url is None:
                    raise _missing(f"{ppath}.image_url")
                if not isinstance(url, str):
                    raise _wrong_type(f"{ppath}.image_url", "a string", url)
                check_image_url(f"{ppath}.image_url", url, oss_resolve)
                images.append(url)
    if len(images) > MAX_IMAGES:
        raise invalid(f"Too many images: {len(images)} input_image parts, at most {MAX_IMAGES}.")
    return images, "\n".join(texts)


def check_image_url(path: str, url: str, oss_resolve: bool = False) -> None:
    """Refuse an image reference the API cannot fetch, saying why."""
    if url.startswith("data:"):
        _check_data_uri(path, url)
        return
    if url.startswith(("/", "./", "../", "~", "\\")) or _WINDOWS_PATH.match(url):
        raise invalid(
            f"'{path}' looks like a local file path ({_short(url)}): the OpenAI-compatible API "
            "does not read local files. Pass a public http(s) URL or a data:image/...;base64, URI."
        )
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        raise invalid(
            f"'{path}' is a file:// URL ({_short(url)}): the API cannot read your disk. "
            "Pass a public http(s) URL or a data:image/...;base64, URI."
        )
    if scheme == "oss" and oss_resolve:
        return
    if scheme not in ("http", "https"):
        hint = " (oss:// needs the header X-DashScope-OssResourceResolve: enable)" * (
            scheme == "oss"
        )
        raise invalid(
            f"'{path}' must be an http(s) URL or a data:image/...;base64, URI, "
            f"got {_short(url)}{hint}."
        )
    if not parts.hostname or any(c.isspace() for c in url):
        raise invalid(f"'{path}' is not a valid URL: {_short(url)}.")


def _check_data_uri(path: str, url: str) -> None:
    match = _DATA_URI.fullmatch(url)
    if match is None:
        raise invalid(
            f"'{path}' is a data URI but not of the form data:image/<format>;base64,<data>: "
            f"{_short(url, 60)}."
        )
    subtype, payload = match.group(1).lower(), match.group(2)
    if subtype not in IMAGE_SUBTYPES:
        raise invalid(
            f"'{path}' has the unsupported image format {subtype!r}; supported: "
            f"{', '.join(sorted(IMAGE_SUBTYPES))}."
        )
    if len(payload) > MAX_BASE64_CHARS:
        raise invalid(
            f"'{path}' is {len(payload)} base64 characters; "
            f"the limit is {MAX_BASE64_CHARS} (10 MB)."
        )
    try:
        decoded = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"'{path}' holds broken base64 data: {exc}.") from None
    if not decoded:
        raise invalid(f"'{path}' holds no image data after 'base64,'.")
