"""``/parks``: create, read, update (versioned, ``If-Match``), list, history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from models.spec import ParkSpec
from services import parks
from services.api.deps import PrincipalDep, SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import ParkOut, ParkPage, ParkVersionOut
from services.errors import ServiceError

router = APIRouter(prefix="/parks", tags=["parks"])

READ = documented(401, 403, 404, 422)


def _etag(version: int) -> str:
    return f'"{version}"'


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ServiceError(
            400, "Bad Request", 'If-Match must be the park version as "<n>"', "If-Match"
        )
    return int(text)


@router.post(
    "", status_code=201, response_model=ParkOut, responses=documented(401, 403, 409, 413, 422)
)
def create(park: ParkSpec, session: SessionDep, who: PrincipalDep, response: Response) -> ParkOut:
    """Register a park (the park file as JSON). Role: operator."""
    row = parks.create_park(session, who, park)
    response.headers["ETag"] = _etag(row.version)
    response.headers["Location"] = f"/parks/{row.id}"
    return ParkOut.model_validate(row)


@router.get("", response_model=ParkPage, responses=documented(401, 403, 422))
def list_(
    session: SessionDep,
    who: PrincipalDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ParkPage:
    """Parks visible to the caller, by id."""
    if limit > settings.max_page_size:
        raise ServiceError(
            422, "Unprocessable Entity", f"limit is at most {settings.max_page_size}", "limit"
        )
    page = parks.list_parks(session, who, limit, offset)
    return ParkPage(
        items=[ParkOut.model_validate(p) for p in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{park_id}", response_model=ParkOut, responses=READ)
def read(park_id: str, session: SessionDep, who: PrincipalDep, response: Response) -> ParkOut:
    """One park, with its version as ``ETag``."""
    row = parks.get_park(session, who, park_id)
    response.headers["ETag"] = _etag(row.version)
    return ParkOut.model_validate(row)


@router.put(
    "/{park_id}",
    response_model=ParkOut,
    responses=documented(400, 401, 403, 404, 412, 413, 422, 428),
)
def update(
    park_id: str,
    park: ParkSpec,
    session: SessionDep,
    who: PrincipalDep,
    response: Response,
    if_match: Annotated[
        str | None, Header(description='The version being replaced, as "<n>"')
    ] = None,
) -> ParkOut:
    """Replace a park's file; the previous version stays in its history. Role: operator."""
    row = parks.update_park(session, who, park_id, park, _if_match(if_match))
    response.headers["ETag"] = _etag(row.version)
    return ParkOut.model_validate(row)


@router.get("/{park_id}/versions", response_model=list[ParkVersionOut], responses=READ)
def versions(park_id: str, session: SessionDep, who: PrincipalDep) -> list[ParkVersionOut]:
    """Every version of a park, oldest first."""
    return [ParkVersionOut.model_validate(v) for v in parks.park_history(session, who, park_id)]
