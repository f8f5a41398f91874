"""Idempotency-Key reservations left behind by a process that died mid-request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from services import idempotency as idem
from services.errors import ServiceError
from services.orm import IdempotencyRecord
from tests.services.conftest import Api


def _orphan(api: Api, owner: str, age_s: float = 0.0) -> None:
    with api.sessions() as s:
        s.add(
            IdempotencyRecord(
                client_id="c1",
                key="k",
                method_path="POST /x",
                body_sha256="d",
                owner=owner,
                created_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s),
            )
        )
        s.commit()


def test_key_of_a_dead_process_is_taken_over_at_once(api: Api) -> None:
    _orphan(api, owner="a-process-that-died")
    assert idem.reserve(api.sessions, "c1", "k", "POST /x", "d") is None
    with api.sessions() as s:
        assert s.get(IdempotencyRecord, ("c1", "k")).owner == idem.BOOT_ID  # type: ignore[union-attr]


def test_shared_database_waits_for_the_lease(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idem, "WAIT_FOR_FIRST_S", 0.2)
    _orphan(api, owner="another-live-instance")
    with pytest.raises(ServiceError) as err:
        idem.reserve(api.sessions, "c1", "k", "POST /x", "d", single_instance=False, lease_s=60)
    assert err.value.status == 409
    with api.sessions() as s:  # the reservation is now older than the lease
        old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)
        s.execute(update(IdempotencyRecord).values(created_at=old))
        s.commit()
    assert idem.reserve(api.sessions, "c1", "k", "POST /x", "d", single_instance=False) is None


def test_own_in_progress_key_is_not_taken_over(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idem, "WAIT_FOR_FIRST_S", 0.2)
    _orphan(api, owner=idem.BOOT_ID)
    with pytest.raises(ServiceError) as err:
        idem.reserve(api.sessions, "c1", "k", "POST /x", "d")
    assert err.value.status == 409
