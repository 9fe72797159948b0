"""What the device registry keeps of a pupil who left school (offered as
"school_ict.apply_retention"; the portal's retention rules call it every night).

The same period as their learning records (5 years after leaving, the roster's date, asked of
the portal as "portal.pupils_left_longer_than"), and only once the tablet they held is back: a
pupil still holding one stays on the registry (and on the list of tablets to collect) until it
is checked in. Then their pseudonym goes from the registry: the pupil row, the return flag, the
repairs (the repair stays, without the pupil) and the device history (each event stays, as the
asset's history, with the pupil's pseudonym replaced by "—").
"""

from __future__ import annotations

from datetime import timedelta

from kernel import offers
from kernel.clock import Clock
from kernel.provided import provided
from kernel.store import Store

ERASED = "—"


def apply_retention(store: Store, clock: Clock, kept: timedelta) -> int:
    """Erase the pupils who left more than `kept` ago and hold no device; returns how many."""
    left_longer_than = provided(offers.PORTAL_PUPILS_LEFT_LONGER_THAN)
    if left_longer_than is None:
        return 0
    today = clock.now().date()

    def work(cur) -> int:
        leavers = left_longer_than(cur, kept, today)
        if not leavers:
            return 0
        cur.execute("""CREATE OR REPLACE TEMP TABLE _erased AS SELECT id, pseudonym FROM school_ict_pupils p
                       WHERE pseudonym IN (SELECT unnest(?::VARCHAR[])) AND NOT active
                         AND NOT EXISTS (SELECT 1 FROM school_ict_devices d WHERE d.pupil_id = p.id)""", [leavers])
        erased = cur.execute("SELECT count(*) FROM _erased").fetchone()[0]
        if erased:
            # A check-out, check-in or status change names the holder by pseudonym (registry.py).
            cur.execute(f"""UPDATE school_ict_events e SET detail = '{ERASED}' FROM _erased x
                            WHERE e.detail = x.pseudonym""")
            cur.execute("UPDATE school_ict_repairs SET pupil_id = NULL WHERE pupil_id IN (SELECT id FROM _erased)")
            cur.execute("DELETE FROM school_ict_device_returns WHERE pupil_id IN (SELECT id FROM _erased)")
            cur.execute("DELETE FROM school_ict_holders WHERE holder IN (SELECT 'pupil:' || id FROM _erased)")
            cur.execute("DELETE FROM school_ict_pupils WHERE id IN (SELECT id FROM _erased)")
        cur.execute("DROP TABLE _erased")
        return int(erased)

    return store.write(work)
