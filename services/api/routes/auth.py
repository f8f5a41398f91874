"""``POST /oauth/token``: OAuth2 client credentials (RFC 6749 §4.4)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form

from services.api.deps import SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import TokenOut
from services.auth import issue_token

router = APIRouter(tags=["auth"])


@router.post("/oauth/token", response_model=TokenOut, responses=documented(401, 422))
def token(
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[Literal["client_credentials"], Form()],
    client_id: Annotated[str, Form(max_length=64)],
    client_secret: Annotated[str, Form(max_length=200)],
) -> TokenOut:
    """Exchange client credentials for a bearer token (valid ``expires_in`` seconds)."""
    issued = issue_token(session, client_id, client_secret, settings.token_ttl_s)
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)
