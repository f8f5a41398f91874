"""Routes of a versioned document (``/parks``, ``/vpps``): create, list, read, replace
(``If-Match``), history. One factory, so both resources behave the same."""

# No ``from __future__ import annotations`` here: FastAPI reads the body type of the endpoints
# made in ``versioned_router`` from their (closure) annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from services import documents
from services.api.deps import PrincipalDep, SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import DocumentOut, DocumentPage, DocumentVersionOut
from services.errors import ServiceError


def _etag(version: int) -> str:
    return f'"{version}"'


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ServiceError(400, "Bad Request", 'If-Match must be the version as "<n>"', "If-Match")
    return int(text)


def versioned_router(
    kind: documents.Kind, body: type[BaseModel], prefix: str, check: documents.Check | None = None
) -> APIRouter:
    """The five routes of one document kind; ``check`` validates a body against the database
    (e.g. a VPP's parks exist) before it is stored."""
    router = APIRouter(prefix=prefix, tags=[prefix.strip("/")])
    label = kind.label
    read_responses = documented(401, 403, 404, 422)

    def _stored(spec: BaseModel) -> dict[str, Any]:
        return spec.model_dump(mode="json", exclude_none=True)

    @router.post(
        "",
        status_code=201,
        response_model=DocumentOut,
        responses=documented(400, 401, 403, 409, 413, 422),
        summary=f"Create a {label}",
    )
    def create(
        spec: body,  # type: ignore[valid-type]
        session: SessionDep,
        who: PrincipalDep,
        response: Response,
    ) -> DocumentOut:
        row = documents.create(session, who, kind, _stored(spec), check)
        response.headers["ETag"] = _etag(row.version)
        response.headers["Location"] = f"{prefix}/{row.id}"
        return DocumentOut.model_validate(row)

    @router.get(
        "",
        response_model=DocumentPage,
        responses=documented(401, 403, 422),
        summary=f"List {label}s",
    )
    def list_(
        session: SessionDep,
        who: PrincipalDep,
        settings: SettingsDep,
        limit: Annotated[int, Query(ge=1, le=10_000, description="Page size")] = 50,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> DocumentPage:
        if limit > settings.max_page_size:
            raise ServiceError(
                422, "Unprocessable Entity", f"limit is at most {settings.max_page_size}", "limit"
            )
        pg = documents.page(session, who, kind, limit, offset)
        return DocumentPage(
            items=[DocumentOut.model_validate(p) for p in pg.items],
            total=pg.total,
            limit=pg.limit,
            offset=pg.offset,
        )

    @router.get(
        "/{doc_id}", response_model=DocumentOut, responses=read_responses, summary=f"Read a {label}"
    )
    def read(
        doc_id: str, session: SessionDep, who: PrincipalDep, response: Response
    ) -> DocumentOut:
        row = documents.get(session, who, kind, doc_id)
        response.headers["ETag"] = _etag(row.version)
        return DocumentOut.model_validate(row)

    @router.put(
        "/{doc_id}",
        response_model=DocumentOut,
        responses=documented(400, 401, 403, 404, 412, 413, 422, 428),
        summary=f"Replace a {label} (versioned)",
    )
    def replace(
        doc_id: str,
        spec: body,  # type: ignore[valid-type]
        session: SessionDep,
        who: PrincipalDep,
        response: Response,
        if_match: Annotated[
            str | None, Header(description='The version being replaced, as "<n>"')
        ] = None,
    ) -> DocumentOut:
        row = documents.replace(
            session, who, kind, doc_id, _stored(spec), _if_match(if_match), check
        )
        response.headers["ETag"] = _etag(row.version)
        return DocumentOut.model_validate(row)

    @router.get(
        "/{doc_id}/versions",
        response_model=list[DocumentVersionOut],
        responses=read_responses,
        summary=f"Every version of a {label}",
    )
    def versions(doc_id: str, session: SessionDep, who: PrincipalDep) -> list[DocumentVersionOut]:
        return [
            DocumentVersionOut.model_validate(v)
            for v in documents.history(session, who, kind, doc_id)
        ]

    return router
