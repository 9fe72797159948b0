"""Time for services comes from a clock handed to them, never from datetime.now().

Loan expiry, lottery windows and idle sign-out are then testable: tests use
FixedClock and move it forward. MANABI_NOW pins the server's clock for demos.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in Asia/Tokyo."""

    def now(self) -> datetime:
        return datetime.now(TOKYO)


class FixedClock:
    """A clock that stands still until moved: for tests and pinned demos."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=TOKYO)
        self._at = at.astimezone(TOKYO)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._at = self._at + delta

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at if at.tzinfo else at.replace(tzinfo=TOKYO)


def clock_from_env() -> Clock:
    pinned = os.environ.get("MANABI_NOW")
    return FixedClock(datetime.fromisoformat(pinned)) if pinned else SystemClock()
