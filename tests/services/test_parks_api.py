"""The parks resource, tokens, problems and idempotency, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from services.orm import Park, ParkVersion, Token
from tests.services.conftest import Api, small_park

PROBLEM = "application/problem+json"


def test_token_flow_and_401s(api: Api) -> None:
    cid, _secret = api.credentials("operator")
    bad = api.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": "nope"},
    )
    assert bad.status_code == 401 and bad.headers["content-type"] == PROBLEM
    assert api.client.get("/parks").status_code == 401
    r = api.client.get("/parks", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    token = api.token("operator")
    ok = api.client.get("/parks", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    with api.sessions() as s:  # expire every token
        s.execute(update(Token).values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
        s.commit()
    gone = api.client.get("/parks", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401 and "expired" in gone.json()["detail"]


def test_create_read_update_with_versions(api: Api) -> None:
    h = api.headers("operator")
    r = api.client.post("/parks", json=small_park(), headers=h)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"' and r.json()["version"] == 1
    assert api.client.post("/parks", json=small_park(), headers=h).status_code == 409
    got = api.client.get("/parks/p1", headers=h)
    assert got.json()["spec"]["load"] == [100.0, 120.0, 110.0, 90.0]
    changed = small_park(demand_charge_yuan_per_kw_month=40.0)
    assert api.client.put("/parks/p1", json=changed, headers=h).status_code == 428
    stale = api.client.put("/parks/p1", json=changed, headers={**h, "If-Match": '"7"'})
    assert stale.status_code == 412 and "version 1" in stale.json()["detail"]
    ok = api.client.put("/parks/p1", json=changed, headers={**h, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    again = api.client.put("/parks/p1", json=changed, headers={**h, "If-Match": '"1"'})
    assert again.status_code == 412  # the second writer of version 1 loses
    history = api.client.get("/parks/p1/versions", headers=h).json()
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["spec"]["grid"]["demand_charge_yuan_per_kw_month"] == 40.0
    renamed = small_park("p2")
    bad = api.client.put("/parks/p1", json=renamed, headers={**h, "If-Match": '"2"'})
    assert bad.status_code == 422 and bad.json()["field"] == "id"


def test_strict_bodies_and_problems(api: Api) -> None:
    h = api.headers("operator")
    extra = {**small_park(), "colour": "red"}
    r = api.client.post("/parks", json=extra, headers=h)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["field"] == "colour"
    falsy = small_park()
    falsy["grid"]["import_limit_kw"] = False
    r = api.client.post("/parks", json=falsy, headers=h)
    assert r.status_code == 422 and r.json()["field"].startswith("grid.import_limit_kw")
    r = api.client.get("/parks?limit=100000", headers=h)
    assert r.status_code == 422 and r.json()["field"] == "limit"
    r = api.client.get("/nowhere", headers=h)
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    big = small_park()
    big["name"] = "x" * 300_000
    r = api.client.post("/parks", json=big, headers=h)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    # without Content-Length (chunked), the body is counted as it arrives
    payload = json.dumps(big).encode()
    chunks = (payload[i : i + 65_536] for i in range(0, len(payload), 65_536))
    r = api.client.post("/parks", content=chunks, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    small = json.dumps(small_park("chunked")).encode()
    r = api.client.post(
        "/parks",
        content=iter([small[:50], small[50:]]),
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text


def test_paging_and_organisations(api: Api) -> None:
    a = api.headers("operator", "org-a")
    b = api.headers("operator", "org-b")
    for i in range(5):
        assert api.client.post("/parks", json=small_park(f"a{i}"), headers=a).status_code == 201
    assert api.client.post("/parks", json=small_park("b0"), headers=b).status_code == 201
    page = api.client.get("/parks?limit=2&offset=2", headers=a).json()
    assert page["total"] == 5 and [p["id"] for p in page["items"]] == ["a2", "a3"]
    assert api.client.get("/parks/a0", headers=b).status_code == 404  # not visible
    grid = api.headers("grid", "state-grid")
    assert api.client.get("/parks", headers=grid).json()["total"] == 6


def test_idempotency_key(api: Api) -> None:
    h = api.headers("operator", **{"Idempotency-Key": "k-1"})
    first = api.client.post("/parks", json=small_park(), headers=h)
    second = api.client.post("/parks", json=small_park(), headers=h)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"
    other = api.client.post("/parks", json=small_park("p9"), headers=h)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    # a refused request is stored too: the same retry gets the same refusal, nothing created
    bad = {**small_park("p8"), "colour": "red"}
    h2 = api.headers("operator", **{"Idempotency-Key": "k-2"})
    r1, r2 = (api.client.post("/parks", json=bad, headers=h2) for _ in range(2))
    assert r1.status_code == r2.status_code == 422 and r2.headers["idempotent-replayed"] == "true"
    assert r2.headers["content-type"] == PROBLEM
    with api.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Park)) == 1


def test_concurrent_retries_create_once(api: Api) -> None:
    h = api.headers("operator", **{"Idempotency-Key": "same"})

    def post(_: int) -> tuple[int, str]:
        r = api.client.post("/parks", json=small_park("c1"), headers=h)
        return r.status_code, r.text

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(50)))
    assert {status for status, _ in results} == {201}
    assert len({text for _, text in results}) == 1
    with api.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ParkVersion)) == 1


@pytest.mark.parametrize(
    ("role", "create", "read_own", "read_other"),
    [
        ("operator", 201, 200, 404),
        ("planner", 403, 200, 404),
        ("viewer", 403, 200, 404),
        ("grid", 403, 200, 200),
        ("station", 403, 403, 403),
    ],
)
def test_authorization_matrix(
    api: Api, role: str, create: int, read_own: int, read_other: int
) -> None:
    owner = api.headers("operator", "org-a")
    assert api.client.post("/parks", json=small_park("mine"), headers=owner).status_code == 201
    other = api.headers("operator", "org-b")
    assert api.client.post("/parks", json=small_park("theirs"), headers=other).status_code == 201
    h = api.headers(role, "org-a")
    assert api.client.post("/parks", json=small_park("new"), headers=h).status_code == create
    assert api.client.get("/parks/mine", headers=h).status_code == read_own
    assert api.client.get("/parks/mine/versions", headers=h).status_code == read_own
    assert api.client.get("/parks/theirs", headers=h).status_code == read_other
    put = api.client.put("/parks/mine", json=small_park("mine"), headers={**h, "If-Match": '"1"'})
    assert put.status_code == (200 if role == "operator" else 403)
    assert api.client.get("/parks", headers=h).status_code == (403 if role == "station" else 200)


def test_openapi_documents_every_problem(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert {"/oauth/token", "/parks", "/parks/{doc_id}", "/vpps", "/dr-events"} <= set(
        spec["paths"]
    )
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "422" in codes, (method, path)
            if path != "/oauth/token":
                assert {"401", "403"} <= codes, (method, path)
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert "application/problem+json" in resp["content"], (method, path, code)
