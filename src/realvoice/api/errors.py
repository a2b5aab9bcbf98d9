"""Every error leaves the API as RFC 9457 problem+json ``{type, title, status, detail, code}``; mapped here only."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    BusyError,
    ConsentError,
    DuplicateVoiceError,
    EngineError,
    InvalidInputError,
    InvalidSampleError,
    LimitExceededError,
    ModelFileError,
    NotEnoughSamplesError,
    RealVoiceError,
    StorageError,
    VoiceNotFoundError,
)

log = logging.getLogger("realvoice.api")
PROBLEM_JSON = "application/problem+json"


class ApiError(RealVoiceError):
    """An error that only the API raises (auth, rate limits); it carries its HTTP status and headers."""

    def __init__(self, status: int, message: str, *, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.headers = headers or {}


class Problem(BaseModel):
    """The body of every error response (RFC 9457), plus the package's stable error ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


# A stable code decides first; the exception's class is the fallback.
_BY_CODE: dict[str, int] = {
    "job_not_found": 404,
    "text_too_long": 422,
    "too_many_files": 422,
    "too_long": 422,
    "file_too_large": 413,
    "upload_too_large": 413,
    "body_too_large": 413,
    "engine_assets": 503,
    "server_busy": 503,
    "rate_limited": 429,
    "refine_running": 409,
}
_BY_CLASS: tuple[tuple[type[RealVoiceError], int], ...] = (
    (BusyError, 429),
    (VoiceNotFoundError, 404),
    (DuplicateVoiceError, 409),
    (LimitExceededError, 413),
    (InvalidSampleError, 422),
    (NotEnoughSamplesError, 422),
    (InvalidInputError, 422),
    (ConsentError, 422),
    (EngineError, 503),
    (ModelFileError, 500),
    (StorageError, 500),
)


def status_for(exc: RealVoiceError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    if exc.code in _BY_CODE:
        return _BY_CODE[exc.code]
    return next((status for cls, status in _BY_CLASS if isinstance(exc, cls)), 400)


def status_for_code(code: str | None) -> int:
    """Status for a failed result that carries only its ``error_code`` (``CloneResult``, ``SpeechResult``)."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code == "voice_not_found":
        return 404
    if code in ("duplicate_voice", "refine_running"):
        return 409
    return 422


def problem(status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = Problem(
        type=f"urn:realvoice:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


# OpenAI-compatible routes answer errors in the shape OpenAI's clients parse.
OPENAI_PATHS = ("/v1/audio/", "/v1/models")
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def openai_error(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None, param: str | None = None
) -> JSONResponse:
    """``{"error": {message, type, param, code}}``; a malformed request is 400 there, as OpenAI answers it."""
    status = 400 if status == 422 else status
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": detail, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _answer(
    request: Request, status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    if request.url.path.startswith(OPENAI_PATHS):
        errors = extra.get("errors") or []
        param = errors[0]["loc"][-1] if errors and errors[0].get("loc") else None
        return openai_error(status, detail, code, headers, param)
    return problem(status, detail, code, headers, **extra)


async def _realvoice_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RealVoiceError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s: %s", exc.code, exc.message)
    return _answer(request, status, exc.message, exc.code, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0] if e['loc'] else 'body'}: {e['msg']}" for e in errors)
    return _answer(request, 422, detail or "the request is malformed", "validation_error", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(status, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if not detail or detail == HTTPStatus(status).phrase:
        detail = {
            404: f"there is nothing at {request.url.path}; see /docs for the API",
            405: f"{request.method} is not allowed on {request.url.path}; see /docs for the API",
        }.get(status, HTTPStatus(status).description)
    return _answer(request, status, detail, code, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return _answer(request, 500, "Something went wrong on our side; the error has been logged.", "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RealVoiceError, _realvoice_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


# For route decorators, so /docs shows the shape of the errors each route may answer.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": Problem, "description": HTTPStatus(s).phrase, "content": {PROBLEM_JSON: {}}} for s in statuses}
