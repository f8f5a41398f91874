"""Day-ahead schedules as background jobs through the service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.conftest import Api
from tests.services.test_events_api import flexible_park


def wait_job(api: Api, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    return api.poll(f"/schedules/{job_id}", headers, "running")


def test_park_and_vpp_schedules(api: Api) -> None:
    op = api.headers("operator", "org-a")
    for pid in ("pa", "pb"):
        assert api.client.post("/parks", json=flexible_park(pid), headers=op).status_code == 201
    vpp = {"id": "vpp-1", "name": "demo", "parks": ["pa", "pb"]}
    assert api.client.post("/vpps", json=vpp, headers=op).status_code == 201

    r = api.client.post("/schedules", json={"park_id": "pa", "date": "2026-07-15"}, headers=op)
    assert r.status_code == 202 and r.json()["status"] == "queued"
    doc = wait_job(api, op, r.json()["id"])
    assert doc["status"] == "done", doc["error"]
    assert doc["progress_frac"] == 1.0
    park = doc["result"]["parks"]["pa"]
    assert park["summary"]["solver"]["status"] == "ok"
    assert len(park["schedule"]["timestamp"]) == 96
    assert park["schedule"]["timestamp"][0].startswith("2026-07-15T00:00:00+08:00")

    r = api.client.post("/schedules", json={"vpp_id": "vpp-1", "date": "2026-07-16"}, headers=op)
    doc = wait_job(api, op, r.json()["id"])
    assert doc["status"] == "done" and set(doc["result"]["parks"]) == {"pa", "pb"}

    viewer = api.headers("viewer", "org-a")
    assert api.client.get(f"/schedules/{doc['id']}", headers=viewer).status_code == 200
    assert (
        api.client.get(
            f"/schedules/{doc['id']}", headers=api.headers("viewer", "org-b")
        ).status_code
        == 404
    )
    assert (
        api.client.get(f"/schedules/{doc['id']}", headers=api.headers("grid", "sgcc")).status_code
        == 403
    )
    planner = api.headers("planner", "org-a")
    body = {"park_id": "pa", "date": "2026-07-15"}
    assert api.client.post("/schedules", json=body, headers=planner).status_code == 403


def test_bad_schedule_requests(api: Api) -> None:
    op = api.headers("operator", "org-a")
    assert api.client.post("/parks", json=flexible_park("pa"), headers=op).status_code == 201
    both = {"park_id": "pa", "vpp_id": "v", "date": "2026-07-15"}
    r = api.client.post("/schedules", json=both, headers=op)
    assert r.status_code == 422 and "exactly one" in r.json()["detail"]
    r = api.client.post("/schedules", json={"park_id": "nope", "date": "2026-07-15"}, headers=op)
    assert r.status_code == 404
    r = api.client.post("/schedules", json={"park_id": "pa", "date": "15/07/2026"}, headers=op)
    assert r.status_code == 422 and r.json()["field"] == "date"


def test_a_failing_schedule_is_stored_as_failed(api: Api) -> None:
    op = api.headers("operator", "org-a")
    park = flexible_park("pf")
    park["load"] = "missing.csv#load_kw"  # not under the service's files_dir
    assert api.client.post("/parks", json=park, headers=op).status_code == 201
    r = api.client.post("/schedules", json={"park_id": "pf", "date": "2026-07-15"}, headers=op)
    doc = wait_job(api, op, r.json()["id"])
    assert doc["status"] == "failed" and "missing.csv" in doc["error"]
    assert doc["result"] is None


def test_park_files_cannot_name_files_outside_the_data_folder(api: Api) -> None:
    op = api.headers("operator", "org-a")
    for pid, path in (("abs", "/etc/passwd#root"), ("up", "../../../../etc/passwd"), ("dir", ".")):
        park = {**flexible_park(pid), "load": path}
        assert api.client.post("/parks", json=park, headers=op).status_code == 201
        r = api.client.post("/schedules", json={"park_id": pid, "date": "2026-07-15"}, headers=op)
        doc = wait_job(api, op, r.json()["id"])
        assert doc["status"] == "failed"
        assert "root:" not in doc["error"]  # nothing of the file is told
        reason = {
            "abs": "must be a path relative to the data folder",
            "up": "leaves the data folder",
            "dir": "does not exist (or is not a file)",
        }[pid]
        assert reason in doc["error"], doc["error"]


def test_data_path_outside_the_service_is_not_confined(tmp_path: Any) -> None:
    from pathlib import Path

    from models.series import SeriesError, confined_data_paths, data_path

    assert data_path("/etc/passwd", tmp_path) == Path("/etc/passwd")
    assert data_path("../x.csv", tmp_path) == tmp_path / "../x.csv"
    with confined_data_paths(tmp_path):
        assert data_path("data/x.csv", tmp_path) == (tmp_path / "data/x.csv").resolve()
        with pytest.raises(SeriesError, match="leaves the data folder"):
            data_path("../x.csv", tmp_path)
    assert data_path("../x.csv", tmp_path) == tmp_path / "../x.csv"  # the block ended
