"""A cap on request bodies that are not uploads (uploads are capped as they stream, in ``uploads.py``)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import OPENAI_PATHS, openai_error, problem


class BodyLimit:
    """Refuse a non-multipart body over ``max_bytes`` with 413: by its Content-Length, or while it arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            await self.app(scope, receive, send)
            return
        detail = f"the request body is larger than {self.max_bytes} bytes"
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            # in the shape the route's clients parse, as every other error on that route
            answer = openai_error if str(scope.get("path", "")).startswith(OPENAI_PATHS) else problem
            await answer(413, detail, "body_too_large")(scope, receive, send)
            return
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, capped, send)
