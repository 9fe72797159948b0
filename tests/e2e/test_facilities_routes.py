"""The facility routes on the real server: the ICS feed and the QR provider's payment callback."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import httpx
import pytest
from icalendar import Calendar

from facilities.services import booking, catalogue, payments, vacancy
from kernel.clock import SystemClock
from kernel.store import Store
from portal.services import accounts
from tests.facilities.live_server import PAYMENT_SECRET, serve


@pytest.fixture(scope="module")
def live(demo_db, tmp_path_factory):
    """A booking by resident06 and its calendar token, made before the server holds the file."""
    folder = tmp_path_factory.mktemp("facilities-routes")
    db = folder / "routes.duckdb"
    shutil.copy(demo_db, db)
    store, clock = Store(db), SystemClock()
    user_id = store.scalar("SELECT id FROM portal_users WHERE login = 'resident06'")
    actor = accounts.actor_for(store, user_id)
    today = clock.now().date()
    match = vacancy.search(store, clock, people=2, days=[today + timedelta(days=n) for n in range(15, 25)],
                           blocks=["pm"])[0]
    made = booking.book(store, clock, actor, match.room.id, match.day, "pm", purpose="route test", attendees=2)
    token = catalogue.calendar_token(store, clock, actor)
    store.close()
    with serve(db, folder) as base:
        yield base, made, token


def _post(base, body: dict, secret=PAYMENT_SECRET):
    raw = json.dumps(body).encode()
    return httpx.post(f"{base}/payments/callback", content=raw,
                      headers={payments.SIGNATURE_HEADER: payments.sign(raw, secret),
                               "Content-Type": "application/json"}, timeout=10)


def test_ics_feed_is_valid_and_secret(live):
    base, made, token = live
    answer = httpx.get(f"{base}/facilities/calendar/{token}.ics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    uids = [str(e["uid"]) for e in calendar.walk("VEVENT")]
    assert f"facilities-booking-{made.id}@manabi.iizuka" in uids
    assert httpx.get(f"{base}/facilities/calendar/wrong-token.ics", timeout=10).status_code == 404


def test_payment_callback_refuses_bad_signature_wrong_amount_and_replay(live):
    base, made, _ = live
    body = {"reference": made.payment_ref, "amount": made.total_yen, "transaction_id": "ROUTE-TX-1"}
    bad = _post(base, body, secret="not-the-secret")
    assert (bad.status_code, bad.json()["reason"]) == (401, "bad_signature")
    wrong = _post(base, {**body, "amount": made.total_yen + 10})
    assert (wrong.status_code, wrong.json()["owed"]) == (422, made.total_yen)
    ok = _post(base, body)
    assert ok.status_code == 200 and ok.json() == {"status": "paid", "booking": made.id}
    again = _post(base, body)
    assert (again.status_code, again.json()["reason"]) == (409, "replayed")
    unknown = _post(base, {**body, "reference": "MNB-NOPE", "transaction_id": "ROUTE-TX-2"})
    assert unknown.status_code == 404
