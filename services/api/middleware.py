"""Request size limit and ``Idempotency-Key`` (services/idempotency.py) around every route.

Both are plain ASGI middleware, not Starlette's ``BaseHTTPMiddleware``: a request they have
nothing to do with (every GET) passes straight through, without the extra task and response
re-streaming that ``BaseHTTPMiddleware`` costs on each request.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import idempotency as idem
from services.api.problems import problem_response
from services.errors import ServiceError

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _TooLargeError(Exception):
    pass


async def _read_body(receive: Receive, limit: int | None = None) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise _TooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class BodyLimit:
    """413 for bodies above ``max_bytes``: by ``Content-Length`` when declared, otherwise by
    counting the body as it arrives (it is then buffered, at most ``max_bytes``)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        if declared is None and scope["method"] in _BODY_METHODS:
            try:
                body = await _read_body(receive, self.max_bytes)
            except _TooLargeError:
                await self._refuse(scope, receive, send)
                return
            receive = _replay(body)
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            "Content Too Large",
            f"request bodies are limited to {self.max_bytes:,} bytes",
            instance=scope["path"],
        )
        await response(scope, receive, send)


class Idempotency:
    """Same client, key and request → the stored response; same key, other request → 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        sessions = scope["app"].state.sessions
        settings = scope["app"].state.settings
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        client = await run_in_threadpool(idem.client_of, sessions, token)
        body = await _read_body(receive)
        if client is None:  # no valid token: the route itself answers (401)
            await self.app(scope, _replay(body), send)
            return
        path = scope["path"]
        digest = idem.request_digest("POST", path, body)
        try:
            stored = await run_in_threadpool(
                idem.reserve,
                sessions,
                client,
                key,
                f"POST {path}",
                digest,
                settings.single_instance,
                settings.idempotency_lease_s,
            )
        except ServiceError as exc:
            problem = problem_response(
                exc.status, exc.title, exc.detail, instance=path, field=exc.field
            )
            await problem(scope, receive, send)
            return
        if stored is not None:
            replayed = Response(
                stored.body,
                stored.status,
                media_type=stored.content_type,
                headers={"Idempotent-Replayed": "true"},
            )
            await replayed(scope, receive, send)
            return

        status, content_type, chunks = 500, "application/json", []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, _replay(body), capture)
        finally:
            # A 5xx (or a crash) is not stored: the retry runs again, which is what a client
            # retrying after a server failure wants.
            keep = None if status >= 500 else idem.Stored(status, b"".join(chunks), content_type)
            await run_in_threadpool(idem.complete, sessions, client, key, keep)
