"""Credentials, tokens and roles (OAuth2 client credentials).

Secrets and tokens are stored hashed: client secrets with scrypt (salted, slow), tokens with
SHA-256 (they are random 256-bit values, so a fast hash is enough). A token is shown once, when
issued, and expires after ``token_ttl_s``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.errors import ServiceError, unauthorized
from services.orm import Client, Token, utcnow


class Role(StrEnum):
    grid = "grid"  # the grid company: sends DR events, reads plans and settlements
    operator = "operator"  # the VPP operator: parks, VPPs, schedules, bids
    planner = "planner"  # reads, runs planning scenarios
    viewer = "viewer"  # reads
    station = "station"  # a storage station: reports its meters (metering issue)


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewCredentials:
    client_id: str
    client_secret: str
    role: Role
    organisation: str


def create_client(session: Session, role: Role, organisation: str) -> NewCredentials:
    """A new client; its secret is returned once and stored only hashed."""
    client_id = f"{role.value}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    session.add(
        Client(
            id=client_id,
            secret_hash=hash_secret(secret),
            role=role.value,
            organisation=organisation,
        )
    )
    session.commit()
    return NewCredentials(client_id, secret, role, organisation)


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    client_id: str
    role: Role
    organisation: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_token(session: Session, client_id: str, secret: str, ttl_s: int) -> IssuedToken:
    """Exchange client credentials for a bearer token.

    Raises
    ------
    ServiceError
        401 for an unknown client, a wrong secret or a disabled client (one message for all,
        so the endpoint tells nothing about which client ids exist).
    """
    client = session.get(Client, client_id)
    if client is None or client.disabled or not verify_secret(secret, client.secret_hash):
        raise ServiceError(401, "Unauthorized", "invalid client credentials", "client_secret")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(Token).where(Token.client_id == client_id, Token.expires_at < now))
    session.add(
        Token(
            token_hash=token_hash(token),
            client_id=client_id,
            expires_at=now + dt.timedelta(seconds=ttl_s),
        )
    )
    session.commit()
    return IssuedToken(token, ttl_s)


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal of a bearer token.

    Raises
    ------
    ServiceError
        401: no token, an unknown one, an expired one, or a disabled client.
    """
    if not token:
        raise unauthorized("a bearer token is required (POST /oauth/token)")
    row = session.execute(
        select(Token, Client)
        .join(Client, Client.id == Token.client_id)
        .where(Token.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise unauthorized("unknown token")
    tok, client = row
    expires = tok.expires_at
    if expires.tzinfo is None:  # SQLite returns naive datetimes
        expires = expires.replace(tzinfo=dt.UTC)
    if expires <= utcnow():
        raise unauthorized("the token has expired")
    if client.disabled:
        raise unauthorized("the client is disabled")
    return Principal(client.id, Role(client.role), client.organisation)
