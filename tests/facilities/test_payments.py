"""Payment: the provider's signed callback, counter payments, refunds, receipts, the ICS feed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from icalendar import Calendar

from facilities.services import booking, calendar_feed, catalogue, payments
from facilities.services.payments import PaymentRejected, accept_provider_callback, sign
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.i18n import Translator
from portal.runtime import catalogue as messages

SECRET = "test-secret"


def _booked(store, clock, town, actor=None, days=20, block="pm"):
    day = clock.now().date() + timedelta(days=days)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    return booking.book(store, clock, actor or town.bob, town.room_id, day, block)


def _callback(store, clock, made, amount=None, tx="TX-1", secret=SECRET, signature=None):
    body = json.dumps({"reference": made.payment_ref, "amount": made.owed_yen if amount is None else amount,
                       "transaction_id": tx}).encode()
    return accept_provider_callback(store, clock, body, signature or sign(body, secret), secret=SECRET)


def test_a_signed_callback_for_the_owed_amount_pays_the_booking(store, clock, town):
    made = _booked(store, clock, town)
    assert _callback(store, clock, made) == made.id
    paid = booking.get_booking(store, town.bob, made.id)
    assert (paid.paid_yen, paid.owed_yen, paid.payment_method) == (made.total_yen, 0, "qr")


def test_bad_signature_is_refused(store, clock, town):
    made = _booked(store, clock, town)
    with pytest.raises(PaymentRejected) as err:
        _callback(store, clock, made, secret="wrong-secret")
    assert (err.value.key, err.value.status) == ("payments.bad_signature", 401)
    with pytest.raises(PaymentRejected):
        _callback(store, clock, made, signature="sha256=00")
    assert booking.get_booking(store, town.bob, made.id).paid_yen == 0


def test_replay_is_refused(store, clock, town):
    made = _booked(store, clock, town)
    _callback(store, clock, made)
    with pytest.raises(PaymentRejected) as err:
        _callback(store, clock, made)
    assert (err.value.key, err.value.status) == ("payments.replayed", 409)
    with pytest.raises(PaymentRejected) as err:  # a new transaction for an already paid booking
        _callback(store, clock, made, tx="TX-2")
    assert err.value.status == 409
    assert booking.get_booking(store, town.bob, made.id).paid_yen == made.total_yen


def test_wrong_amount_is_refused(store, clock, town):
    made = _booked(store, clock, town)
    with pytest.raises(PaymentRejected) as err:
        _callback(store, clock, made, amount=made.owed_yen - 1)
    assert (err.value.key, err.value.status, err.value.params) == ("payments.wrong_amount", 422,
                                                                   {"owed": made.owed_yen})


def test_no_secret_configured_refuses_everything(store, clock, town, monkeypatch):
    monkeypatch.delenv("MANABI_PAYMENT_SECRET", raising=False)
    _booked(store, clock, town)
    body = b"{}"
    with pytest.raises(PaymentRejected) as err:
        accept_provider_callback(store, clock, body, sign(body, ""))
    assert err.value.status == 503


def test_a_cancelled_booking_cannot_be_paid(store, clock, town):
    made = _booked(store, clock, town)
    booking.cancel(store, clock, town.bob, made.id)
    with pytest.raises(PaymentRejected) as err:
        _callback(store, clock, made)
    assert err.value.key == "payments.not_payable"


def test_paying_stops_the_release(store, clock, town):
    made = _booked(store, clock, town)
    unpaid = _booked(store, clock, town, block="ev")
    _callback(store, clock, made)
    clock.advance(timedelta(days=8))
    assert booking.release_overdue(store, clock) == [unpaid.id]


def test_staff_record_counter_payments_for_the_exact_amount(store, clock, town):
    made = _booked(store, clock, town)
    with pytest.raises(PermissionDenied):
        payments.record_counter_payment(store, clock, town.bob, made.id, made.owed_yen)
    with pytest.raises(InvalidInput):
        payments.record_counter_payment(store, clock, town.staff, made.id, made.owed_yen + 100)
    paid = payments.record_counter_payment(store, clock, town.staff, made.id, made.owed_yen)
    assert paid.payment_method == "counter" and paid.owed_yen == 0
    with pytest.raises(InvalidInput):
        payments.record_counter_payment(store, clock, town.staff, made.id, 1)


def test_refund_is_full_when_cancelled_early_and_partial_later(store, clock, town):
    early = _booked(store, clock, town, days=20)
    late = _booked(store, clock, town, days=4, block="ev")
    for made, tx in ((early, "TX-E"), (late, "TX-L")):
        _callback(store, clock, made, tx=tx)
    assert booking.cancel(store, clock, town.bob, early.id).refund_yen == early.total_yen
    assert booking.cancel(store, clock, town.bob, late.id).refund_yen == late.total_yen * 50 // 100
    refunds = store.query("SELECT sum(yen) FROM facilities_payments WHERE kind = 'refund'")[0][0]
    assert refunds == early.total_yen + late.total_yen // 2


def test_qr_code_carries_the_reference_and_amount(store, clock, town):
    made = _booked(store, clock, town)
    assert payments.qr_payload(made) == f"MANABIPAY:{made.payment_ref}:{made.owed_yen}"
    assert payments.qr_png(made).startswith(b"\x89PNG")


def test_receipt_is_a_pdf_only_after_payment_and_only_for_its_owner(store, clock, town):
    t = Translator("ja", messages())
    made = _booked(store, clock, town)
    with pytest.raises(InvalidInput):
        payments.receipt_pdf(store, town.bob, made.id, t, "Bob")
    _callback(store, clock, made)
    assert payments.receipt_pdf(store, town.bob, made.id, t, "Bob").startswith(b"%PDF")
    with pytest.raises(NotFound):
        payments.receipt_pdf(store, town.alice, made.id, t, "Alice")


def test_ics_feed_lists_live_bookings_behind_the_secret_token(store, clock, town):
    kept = _booked(store, clock, town, days=10)
    dropped = _booked(store, clock, town, days=12)
    booking.cancel(store, clock, town.bob, dropped.id)
    _booked(store, clock, town, actor=town.alice, days=14)
    token = catalogue.calendar_token(store, clock, town.bob)
    assert catalogue.calendar_token(store, clock, town.bob) == token  # stable
    parsed = Calendar.from_ical(calendar_feed.ics_for_token(store, clock, token))
    events = list(parsed.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"facilities-booking-{kept.id}@manabi.iizuka"]
    assert events[0].decoded("dtstart") == kept.starts
    assert events[0].decoded("dtend") == kept.ends
    with pytest.raises(NotFound):
        calendar_feed.ics_for_token(store, clock, "not-a-token")


def test_one_booking_downloads_as_a_calendar_entry_for_its_owner_only(store, clock, town):
    made = _booked(store, clock, town)
    parsed = Calendar.from_ical(calendar_feed.ics_for_booking(store, clock, town.bob, made.id, "en"))
    (event,) = parsed.walk("VEVENT")
    assert str(event["summary"]) == "Test Centre, Meeting room"
    assert event.decoded("dtstart") == made.starts
    with pytest.raises(NotFound):
        calendar_feed.ics_for_booking(store, clock, town.alice, made.id)
