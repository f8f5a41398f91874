"""Background work (allocations, schedules, bids): its failure becomes a stored message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from models.errors import ParkVppError

log = logging.getLogger("parkvpp.service")
T = TypeVar("T")


def guarded(work: Callable[[], T], what: str) -> tuple[T | None, str | None]:
    """``(result, None)``, or ``(None, message)``: a domain error as it reads, anything else as
    an internal error (logged), since a bug must fail the job rather than leave it running."""
    try:
        return work(), None
    except (ParkVppError, ValueError) as exc:
        return None, str(exc)[:2000]
    except Exception as exc:
        log.exception("%s failed", what)
        return None, f"internal error ({type(exc).__name__}); logged"
