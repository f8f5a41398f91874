"""Who may do what: each action's roles, and the ownership rule.

Objects belong to an organisation (the one of the client that created them). Reading needs the
same organisation, except for the grid company, which reads every park its events reach.
Writing always needs the same organisation.
"""

from __future__ import annotations

from enum import StrEnum

from services.auth import Principal, Role
from services.errors import forbidden


class Action(StrEnum):
    parks_read = "parks.read"
    parks_write = "parks.write"
    vpps_read = "vpps.read"
    vpps_write = "vpps.write"
    events_read = "events.read"
    events_write = "events.write"
    schedules_read = "schedules.read"
    schedules_write = "schedules.write"
    bids_read = "bids.read"
    bids_write = "bids.write"
    stations_read = "stations.read"
    stations_write = "stations.write"
    readings_write = "readings.write"
    ledger_read = "ledger.read"
    ledger_write = "ledger.write"
    green_write = "green.write"


_READERS = frozenset({Role.operator, Role.planner, Role.viewer, Role.grid})
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.parks_read: _READERS,
    Action.parks_write: frozenset({Role.operator}),
    Action.vpps_read: _READERS,
    Action.vpps_write: frozenset({Role.operator}),
    Action.events_read: _READERS,
    Action.events_write: frozenset({Role.grid}),
    Action.schedules_read: frozenset({Role.operator, Role.planner, Role.viewer}),
    Action.schedules_write: frozenset({Role.operator}),
    Action.bids_read: _READERS,
    Action.bids_write: frozenset({Role.operator}),
    # Stations read their own registration and intervals; the ledger is the operator's and the
    # finance office's (a viewer), not the grid company's.
    Action.stations_read: frozenset({Role.operator, Role.planner, Role.viewer, Role.station}),
    Action.stations_write: frozenset({Role.operator}),
    Action.readings_write: frozenset({Role.station}),
    Action.ledger_read: frozenset({Role.operator, Role.planner, Role.viewer}),
    Action.ledger_write: frozenset({Role.operator}),
    Action.green_write: frozenset({Role.operator}),
}

# Roles that read every organisation's objects.
READ_ALL: frozenset[Role] = frozenset({Role.grid})


def require(principal: Principal, action: Action) -> None:
    """403 unless the principal's role may do ``action``."""
    if principal.role not in ALLOWED[action]:
        allowed = ", ".join(sorted(r.value for r in ALLOWED[action]))
        raise forbidden(f"role {principal.role.value!r} may not {action.value} (needs: {allowed})")


def can_see(principal: Principal, organisation: str) -> bool:
    return principal.organisation == organisation or principal.role in READ_ALL


def require_owner(principal: Principal, organisation: str) -> None:
    if principal.organisation != organisation:
        raise forbidden("the object belongs to another organisation")
