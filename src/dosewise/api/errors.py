"""Every error the API returns has one shape: ``{"error": {"code", "field", "message"}}``.

A :class:`~dosewise.errors.DosewiseError` becomes its class's ``http_status`` (422 unless the
class says otherwise: 401 not authenticated, 403 forbidden, 404 not found, 409 conflict, 423
locked, 503 busy) with its ``code``; a request that fails validation is a 422 naming the field.
Nothing a client sends can produce a 500; an unexpected failure is logged and answered with a
500 in the same shape, without internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from dosewise.errors import DosewiseError
from dosewise.http.language import negotiate
from dosewise.trial.state.reasons import error_reason

log = logging.getLogger("dosewise.api")


class ErrorBody(BaseModel):
    """What went wrong, for people and programs."""

    code: str = Field(description="Stable machine-readable code", examples=["invalid"])
    field: str | None = Field(description="The input field at fault, if one is", examples=["role"])
    message: str = Field(
        description="One line for a person",
        examples=["role='nurse': must be one of admin, investigator, coordinator"],
    )
    reason: str | None = Field(
        None,
        description="The rule in the request's language (Accept-Language), when it has a code",
    )
    reason_code: str | None = Field(
        None, description="The stable code of the rule, if it has one", examples=["wait_pending"]
    )
    reason_params: dict[str, Any] | None = Field(None, description="The rule's parameters")


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx response."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "forbidden",
                        "field": "site_id",
                        "message": "site_id='S02': inv1 works at site S01 only",
                    }
                }
            ]
        }
    )

    error: ErrorBody


_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    423: "account_locked",
    429: "too_many_requests",
    503: "unavailable",
}

#: The error responses every route documents (a route adds its own on top).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 422)
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, in the error shape."""
    return {s: {"model": ErrorResponse, "description": HTTPStatus(s).phrase} for s in statuses}


def error_response(
    status: int,
    code: str,
    field: str | None,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "field": field, "message": message}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _message(exc: DosewiseError) -> str:
    return f"{exc.field}: {exc.rule}" if exc.value is None else exc.message


def _auth_headers(status: int) -> dict[str, str]:
    return {"WWW-Authenticate": "Bearer"} if status == 401 else {}


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) if parts else (str(loc[0]) if loc else "body")


def _located(error: Mapping[str, Any]) -> Mapping[str, Any]:
    """Malformed JSON is located at a character offset: report it as the body."""
    if error.get("type") == "json_invalid":
        offset = error.get("loc", ("body", "?"))[-1]
        return {"loc": ("body",), "msg": f"not valid JSON (at character {offset})"}
    return error


async def _dosewise_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DosewiseError)
    status = int(getattr(exc, "http_status", 422))
    code = str(getattr(exc, "code", "invalid"))
    lang = "zh" if negotiate(request.headers.get("accept-language")) == "zh_CN" else "en"
    reason = error_reason(exc, lang)
    if reason is not None:
        body = {
            "error": {
                "code": code,
                "field": exc.field,
                "message": _message(exc),
                "reason": reason,
                "reason_code": exc.reason_code,
                "reason_params": exc.reason_params,
            }
        }
        return JSONResponse(body, status_code=status, headers=_auth_headers(status))
    return error_response(status, code, exc.field, _message(exc), _auth_headers(status))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_located(e) for e in exc.errors()]
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    field = _field(first.get("loc", ()))
    parts = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    return error_response(422, "invalid", field, "; ".join(parts) or "invalid request")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _CODES.get(status, "error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    headers = {**(exc.headers or {}), **_auth_headers(status)}
    return error_response(status, code, None, detail, headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal", None, "internal error; it has been logged")


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""
    app.add_exception_handler(DosewiseError, _dosewise_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
