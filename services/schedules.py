"""Day-ahead schedules as background jobs: a park's, or every park of a VPP.

``request`` stores a queued job and returns at once; ``run`` (in the service's job pool)
schedules each park with the park model (models/results.py), records progress after each park,
and stores the result: per park the summary (costs, energy, solver block) and the schedule's
columns. A failure is stored with its message; nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models.results import schedule_park
from models.series import confined_data_paths
from models.spec import resolve_park, validate_park
from services import documents
from services.auth import Principal
from services.background import guarded
from services.errors import not_found
from services.orm import Job, Park, Vpp, utcnow
from services.policy import Action, can_see, require, require_owner


class ScheduleIn(BaseModel):
    """A day-ahead schedule request: one park or a whole VPP, for one day."""

    model_config = ConfigDict(extra="forbid")
    park_id: str | None = Field(None, max_length=64)
    vpp_id: str | None = Field(None, max_length=64)
    date: dt.date = Field(description="The day to schedule (96 × 15 min, Asia/Shanghai)")

    @model_validator(mode="after")
    def _one_target(self) -> ScheduleIn:
        if (self.park_id is None) == (self.vpp_id is None):
            raise ValueError("give exactly one of park_id and vpp_id")
        return self


def create_job(session: Session, who: Principal, body: ScheduleIn) -> Job:
    require(who, Action.schedules_write)
    if body.park_id is not None:
        target = documents.get(session, who, documents.PARKS, body.park_id)
        kind: Literal["park", "vpp"] = "park"
    else:
        assert body.vpp_id is not None
        target = documents.get(session, who, documents.VPPS, body.vpp_id)
        kind = "vpp"
    require_owner(who, target.organisation)
    job = Job(
        id=str(uuid.uuid4()),
        kind=f"schedule-{kind}",
        organisation=who.organisation,
        client_id=who.client_id,
        target_id=target.id,
        params={"date": body.date.isoformat()},
        status="queued",
        progress_frac=0.0,
        created_at=utcnow(),
    )
    session.add(job)
    session.commit()
    return job


def get(session: Session, who: Principal, job_id: str) -> Job:
    require(who, Action.schedules_read)
    job = session.get(Job, job_id)
    if job is None or not can_see(who, job.organisation):
        raise not_found(f"schedule job {job_id!r}")
    return job


def _park_specs(session: Session, job: Job) -> list[dict[str, Any]]:
    if job.kind == "schedule-park":
        park = session.get(Park, job.target_id)
        return [] if park is None else [park.spec]
    vpp = session.get(Vpp, job.target_id)
    if vpp is None:
        return []
    out = []
    for item in vpp.spec["parks"]:
        if isinstance(item, str):
            park = session.get(Park, item)
            if park is not None:
                out.append(park.spec)
        else:
            out.append(item)
    return out


def _result(sched: Any) -> dict[str, Any]:
    frame = sched.frame.copy()
    frame["timestamp"] = [
        str(t) if isinstance(t, str) else t.isoformat() for t in frame["timestamp"]
    ]
    return {"summary": sched.summary, "schedule": frame.to_dict(orient="list")}


def run(sessions: sessionmaker[Session], job_id: str, files_dir: Path) -> None:
    """Compute a queued job and store its result (or its failure)."""
    with sessions() as s:
        job = s.get(Job, job_id)
        if job is None or job.status != "queued":
            return
        job.status = "running"
        s.commit()
        specs = _park_specs(s, job)
        day = dt.date.fromisoformat(job.params["date"])

    def compute() -> dict[str, Any]:
        if not specs:
            raise ValueError("the park or VPP no longer exists")
        results: dict[str, Any] = {}
        for i, raw in enumerate(specs):
            spec = validate_park(raw, source=str(raw.get("id")))
            with confined_data_paths(files_dir):
                resolved = resolve_park(spec, base_dir=files_dir, source=spec.id, date=day)
            sched = schedule_park(resolved)
            results[spec.id] = _result(sched)
            with sessions() as s:
                s.execute(
                    update(Job).where(Job.id == job_id).values(progress_frac=(i + 1) / len(specs))
                )
                s.commit()
        return {"date": day.isoformat(), "parks": results}

    result, error = guarded(compute, f"schedule job {job_id}")
    with sessions() as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status="failed" if error else "done",
                result=result,
                error=error,
                finished_at=utcnow(),
            )
        )
        s.commit()
