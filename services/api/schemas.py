"""Response bodies (request bodies are the file formats' own pydantic models)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """An RFC 7807 problem (``application/problem+json``)."""

    type: str = Field("about:blank", description="A URI naming the problem type")
    title: str
    status: int
    detail: str = ""
    instance: str | None = Field(None, description="The request path")
    field: str | None = Field(None, description="The request field that failed, dotted")
    errors: list[dict[str, Any]] | None = Field(
        None, description="Every failing field: {field, reason, asset_id}"
    )


class TokenOut(BaseModel):
    """An OAuth2 access token (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Lifetime [s]")


class ParkOut(BaseModel):
    """A stored park: its current version of the park file."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    organisation: str
    version: int = Field(description="Increases by one with every update (send it as If-Match)")
    spec: dict[str, Any] = Field(description="The park file (schema: `vpp schema park`)")
    created_at: dt.datetime
    updated_at: dt.datetime


class ParkVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    spec: dict[str, Any]
    client_id: str = Field(description="Who wrote this version")
    created_at: dt.datetime


class ParkPage(BaseModel):
    items: list[ParkOut]
    total: int = Field(description="Parks visible to the caller")
    limit: int
    offset: int
