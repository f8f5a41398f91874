"""Request size limit and ``Idempotency-Key`` (services/idempotency.py) around every route."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from services import idempotency as idem
from services.api.problems import problem_response
from services.errors import ServiceError


class BodyLimit(BaseHTTPMiddleware):
    """413 for bodies above ``max_request_bytes`` (declared or actual)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        declared = request.headers.get("content-length")
        too_big = declared is not None and declared.isdigit() and int(declared) > self.max_bytes
        if not too_big and request.method in ("POST", "PUT", "PATCH") and declared is None:
            too_big = len(await request.body()) > self.max_bytes
        if too_big:
            return problem_response(
                413,
                "Content Too Large",
                f"request bodies are limited to {self.max_bytes:,} bytes",
                instance=request.url.path,
            )
        return await call_next(request)


class Idempotency(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or key is None:
            return await call_next(request)
        sessions = request.app.state.sessions
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        client = await run_in_threadpool(idem.client_of, sessions, token)
        if client is None:  # no valid token: the route itself answers (401)
            return await call_next(request)
        body = await request.body()
        method_path = f"{request.method} {request.url.path}"
        digest = idem.request_digest(request.method, request.url.path, body)
        try:
            stored = await run_in_threadpool(
                idem.reserve, sessions, client, key, method_path, digest
            )
        except ServiceError as exc:
            return problem_response(
                exc.status, exc.title, exc.detail, instance=request.url.path, field=exc.field
            )
        if stored is not None:
            return Response(
                stored.body,
                stored.status,
                media_type=stored.content_type,
                headers={"Idempotent-Replayed": "true"},
            )
        response = await call_next(request)
        chunks = [c async for c in response.body_iterator]  # type: ignore[attr-defined]
        content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        ctype = response.headers.get("content-type", "application/json")
        keep = (
            None
            if response.status_code >= 500
            else idem.Stored(response.status_code, content, ctype)
        )
        await run_in_threadpool(idem.complete, sessions, client, key, keep)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(content, response.status_code, headers=headers)
