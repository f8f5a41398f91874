"""``/schedules``: day-ahead schedules of a park or a VPP, computed as background jobs."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from services import schedules
from services.api.deps import PrincipalDep, SessionDep, SettingsDep
from services.api.problems import documented
from services.api.schemas import JobOut

router = APIRouter(prefix="/schedules", tags=["schedules"])


@router.post("", status_code=202, response_model=JobOut, responses=documented(401, 403, 404, 413))
def request_schedule(
    body: schedules.ScheduleIn,
    session: SessionDep,
    who: PrincipalDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> JobOut:
    """Ask for a day-ahead schedule (role: operator); poll ``Location`` for the result."""
    job = schedules.create_job(session, who, body)
    request.app.state.jobs.submit(
        schedules.run, request.app.state.sessions, job.id, Path(settings.files_dir)
    )
    response.headers["Location"] = f"/schedules/{job.id}"
    return JobOut.model_validate(job)


@router.get("/{job_id}", response_model=JobOut, responses=documented(401, 403, 404))
def read_schedule(job_id: str, session: SessionDep, who: PrincipalDep) -> JobOut:
    """A schedule job: status, progress and, when done, the result."""
    return JobOut.model_validate(schedules.get(session, who, job_id))
