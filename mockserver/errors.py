"""Error bodies in DashScope's documented flat shape ``{request_id, code, message}``."""

from __future__ import annotations

from typing import Any

__all__ = ["RequestError", "error_body"]


class RequestError(Exception):
    """A request the mock refuses: carries the HTTP status, DashScope code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(request_id: str, code: str, message: str) -> dict[str, Any]:
    """The flat error body documented for this endpoint [S4]."""
    return {"request_id": request_id, "code": code, "message": message}


def invalid(message: str) -> RequestError:
    """A 400 ``InvalidParameter``: the documented code for bad request parameters."""
    return RequestError(400, "InvalidParameter", message)
