"""One place that turns errors into RFC 7807 problems (``application/problem+json``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from models.errors import ParkInputError, ParkVppError
from services.api.schemas import Problem
from services.errors import ServiceError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("parkvpp.service")


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    *,
    instance: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=title, status=status, detail=detail, instance=instance, field=field, errors=errors
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "<body>"


def install(app: FastAPI) -> None:
    """Register the handlers (domain errors, validation, HTTP, anything else)."""

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            instance=request.url.path,
            field=exc.field,
            headers=exc.headers or None,
        )

    @app.exception_handler(ParkInputError)
    async def _input(request: Request, exc: ParkInputError) -> JSONResponse:
        errors = [
            {"field": p.field, "reason": p.reason, "asset_id": p.asset_id} for p in exc.problems
        ]
        first = exc.problems[0] if exc.problems else None
        return problem_response(
            422,
            "Unprocessable Entity",
            str(exc),
            instance=request.url.path,
            field=first.field if first else None,
            errors=errors,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _loc(tuple(e.get("loc", ()))), "reason": e.get("msg", ""), "asset_id": None}
            for e in exc.errors()
        ]
        return problem_response(
            422,
            "Unprocessable Entity",
            "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5]),
            instance=request.url.path,
            field=errors[0]["field"] if errors else None,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette lists only the first matching route's methods; a path served by
            # several routes (GET and POST /parks) allows all of theirs (RFC 9110 §15.5.6).
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return problem_response(
            exc.status_code,
            _TITLES.get(exc.status_code, "Error"),
            str(exc.detail or ""),
            instance=request.url.path,
            headers=headers or None,
        )

    @app.exception_handler(ParkVppError)
    async def _domain(request: Request, exc: ParkVppError) -> JSONResponse:
        return problem_response(422, "Unprocessable Entity", str(exc), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(
            500, "Internal Server Error", "unexpected error (logged)", instance=request.url.path
        )


def _allowed_methods(request: Request) -> set[str]:
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        methods = getattr(route, "methods", None)
        if match is not Match.NONE and methods:
            allowed |= set(methods)
    return allowed


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    428: "Precondition Required",
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problem codes a route can return (400 and 422 always:
    any request can be malformed or invalid, and the problem replaces FastAPI's default
    validation body)."""
    codes = tuple(sorted({*codes, 400, 422}))
    return {
        code: {
            "model": Problem,
            "description": _TITLES.get(code, "Error"),
            "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
        }
        for code in codes
    }
