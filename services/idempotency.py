"""``Idempotency-Key`` on every POST: the same key and body give the stored response; the same
key with another body is refused (422); a request still running under the key gets 409.

Keys are per client (two clients may use the same key). The record is reserved *before* the
request runs, inside the database's primary key, so fifty concurrent retries of one DR event run
the handler once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.auth import authenticate
from services.errors import ServiceError
from services.orm import IdempotencyRecord, utcnow

# This process: an in-progress key held by another one is from a process that died (when one
# process serves the database; see Settings.single_instance).
BOOT_ID = str(uuid.uuid4())
MAX_KEY_LENGTH = 200
# How long a retry waits for the first request under its key to finish [s].
WAIT_FOR_FIRST_S = 30.0


@dataclass(frozen=True)
class Stored:
    status: int
    body: bytes
    content_type: str


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def client_of(sessions: sessionmaker[Session], token: str | None) -> str | None:
    """The client a bearer token belongs to (None: let the route answer 401)."""
    with sessions() as s:
        try:
            return authenticate(s, token).client_id
        except ServiceError:
            return None


def _abandoned(rec: IdempotencyRecord, single_instance: bool, lease_s: float) -> bool:
    if rec.status is not None:
        return False
    if single_instance and rec.owner != BOOT_ID:
        return True
    created = rec.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (utcnow() - created).total_seconds() > lease_s


def reserve(
    sessions: sessionmaker[Session],
    client_id: str,
    key: str,
    method_path: str,
    digest: str,
    single_instance: bool = True,
    lease_s: float = 60.0,
) -> Stored | None:
    """Reserve ``key`` for this request, or return the response stored under it.

    Raises
    ------
    ServiceError
        422 when the key was used with another request; 409 when the first request under the
        key is still running after :data:`WAIT_FOR_FIRST_S`.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ServiceError(
            400,
            "Bad Request",
            f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} characters",
            "Idempotency-Key",
        )
    with sessions() as s:
        s.add(
            IdempotencyRecord(
                client_id=client_id,
                key=key,
                method_path=method_path,
                body_sha256=digest,
                owner=BOOT_ID,
                created_at=utcnow(),
            )
        )
        try:
            s.commit()
            return None
        except IntegrityError:
            s.rollback()
    deadline = time.monotonic() + WAIT_FOR_FIRST_S
    while True:
        with sessions() as s:
            rec = s.get(IdempotencyRecord, (client_id, key))
            if rec is None:  # the first request failed and released the key: take it over
                return reserve(
                    sessions, client_id, key, method_path, digest, single_instance, lease_s
                )
            if rec.body_sha256 != digest or rec.method_path != method_path:
                raise ServiceError(
                    422,
                    "Unprocessable Entity",
                    "this Idempotency-Key was already used with a different request",
                    "Idempotency-Key",
                )
            if rec.status is not None:
                return Stored(
                    rec.status, rec.response or b"", rec.content_type or "application/json"
                )
            if _abandoned(rec, single_instance, lease_s):
                # Its process died mid-request: whatever that request stored, the handlers
                # are idempotent by content (the same event, the same readings), so running
                # the request again is safe. Deleting only this exact record lets one retry
                # of many take it over.
                s.execute(
                    delete(IdempotencyRecord).where(
                        IdempotencyRecord.client_id == client_id,
                        IdempotencyRecord.key == key,
                        IdempotencyRecord.status.is_(None),
                        IdempotencyRecord.created_at == rec.created_at,
                    )
                )
                s.commit()
                return reserve(
                    sessions, client_id, key, method_path, digest, single_instance, lease_s
                )
        if time.monotonic() > deadline:
            raise ServiceError(
                409,
                "Conflict",
                "a request with this Idempotency-Key is still running",
                "Idempotency-Key",
            )
        time.sleep(0.05)


def complete(
    sessions: sessionmaker[Session], client_id: str, key: str, stored: Stored | None
) -> None:
    """Store the response under the key (``None``: release the key, e.g. after a 5xx)."""
    with sessions() as s:
        if stored is None:
            s.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
                )
            )
        else:
            rec = s.get(IdempotencyRecord, (client_id, key))
            if rec is not None:
                rec.status = stored.status
                rec.response = stored.body
                rec.content_type = stored.content_type
        s.commit()
