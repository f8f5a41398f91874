"""VPPs in the service: their parks are stored park ids (or inline park files)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models.spec import validate_park
from services import documents
from services.auth import Principal
from services.errors import ServiceError


def check_parks(session: Session, who: Principal, doc: dict[str, Any]) -> None:
    """Every park a VPP names exists, is visible and belongs to the VPP's organisation.

    Raises
    ------
    ServiceError
        422 naming ``parks[i]``.
    """
    for i, item in enumerate(doc["parks"]):
        if isinstance(item, str):
            try:
                park = documents.get(session, who, documents.PARKS, item)
            except ServiceError as exc:
                raise ServiceError(
                    422, "Unprocessable Entity", f"park {item!r}: {exc.detail}", f"parks[{i}]"
                ) from exc
            if park.organisation != who.organisation:
                raise ServiceError(
                    422,
                    "Unprocessable Entity",
                    f"park {item!r} belongs to another organisation",
                    f"parks[{i}]",
                )
        else:
            validate_park(item, source=f"parks[{i}]")
