"""Service-level domain errors; one exception handler maps them to RFC 7807 problems."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from models.errors import ParkVppError


@dataclass
class ServiceError(ParkVppError):
    """An error the API reports as a problem (status, title, detail, offending field)."""

    status: int
    title: str
    detail: str = ""
    field: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def unauthorized(detail: str) -> ServiceError:
    return ServiceError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ServiceError:
    return ServiceError(403, "Forbidden", detail)


def not_found(what: str) -> ServiceError:
    return ServiceError(404, "Not Found", f"{what} does not exist or is not visible to you")


def conflict(detail: str, field: str | None = None) -> ServiceError:
    return ServiceError(409, "Conflict", detail, field)
