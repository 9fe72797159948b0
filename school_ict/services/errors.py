"""School ICT's errors: each names a catalogue message (ict.error.*)."""

from __future__ import annotations

from kernel.errors import InvalidInput, NotFound


class TransitionRefused(InvalidInput):
    """A change that makes no sense for the device as it is now (assigning a retired one…)."""

    key = "ict.error.refused"


class DeviceNotFound(NotFound):
    key = "ict.error.no_such_device"
