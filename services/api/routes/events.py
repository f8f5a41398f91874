"""``/dr-events``: the grid company posts, modifies and cancels events; plans are read here."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from services import events
from services.api.deps import PrincipalDep, SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import EventOut, EventVersionOut

router = APIRouter(prefix="/dr-events", tags=["dr-events"])


@router.post(
    "",
    response_model=EventOut,
    status_code=202,
    responses={
        200: {"model": EventOut, "description": "Already received: the stored event"},
        **documented(400, 401, 403, 409, 413, 422),
    },
)
def post_event(
    body: events.EventIn,
    session: SessionDep,
    who: PrincipalDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> EventOut:
    """Send an event (role: grid). 202: accepted, allocation running (poll ``Location``);
    200: this modification was already received, nothing is dispatched again."""
    row, new = events.receive(session, who, body)
    response.headers["Location"] = f"/dr-events/{row.id}"
    if new:
        request.app.state.jobs.submit(
            events.run_allocation,
            request.app.state.sessions,
            row.id,
            row.modification,
            Path(settings.files_dir),
            settings.allocation_scheduler,
        )
    else:
        response.status_code = 200
    return EventOut.model_validate(row)


@router.get("/{event_id}", response_model=EventOut, responses=documented(401, 403, 404))
def read_event(event_id: str, session: SessionDep, who: PrincipalDep) -> EventOut:
    """An event with its status and, once allocated, its per-park plan."""
    return EventOut.model_validate(events.get(session, who, event_id))


@router.get(
    "/{event_id}/history",
    response_model=list[EventVersionOut],
    responses=documented(401, 403, 404),
)
def event_history(event_id: str, session: SessionDep, who: PrincipalDep) -> list[EventVersionOut]:
    """Every modification, plan and cancellation of an event, oldest first."""
    return [EventVersionOut.model_validate(v) for v in events.history(session, who, event_id)]


@router.post(
    "/{event_id}/cancel", response_model=EventOut, responses=documented(401, 403, 404, 409)
)
def cancel_event(event_id: str, session: SessionDep, who: PrincipalDep) -> EventOut:
    """Cancel an event (role: grid, the sender): its plan is released."""
    return EventOut.model_validate(events.cancel(session, who, event_id))
