"""Course fees paid through the booking part's QR flow: reference "C-<registration id>",
the provider's signed callback, replays, wrong amounts, and counter payments recorded alike."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from facilities.services import booking, courses, payments
from facilities.services.payments import PaymentRejected, accept_provider_callback, sign

from .conftest import make_user

SECRET = "course-payment-secret"


def _course(store, clock, town, fee_yen=1500, capacity=1):
    lecturer = make_user(store, clock, "lecturer01", "resident")
    now = clock.now()
    return courses.create_course(
        store, clock, town.staff, code="PAY-1", title_ja="有料講座", title_en="Paid course",
        lecturer_id=lecturer.user_id, capacity=capacity, fee_yen=fee_yen, facility_id=town.facility_id,
        registration_opens=now - timedelta(days=1), registration_closes=now + timedelta(days=10))


def _callback(store, clock, reference, amount, tx="TX-C1"):
    body = json.dumps({"reference": reference, "amount": amount, "transaction_id": tx}).encode()
    return accept_provider_callback(store, clock, body, sign(body, SECRET), secret=SECRET)


def _payments(store, registration_id):
    return store.cursor().execute(
        "SELECT method, yen, transaction_id FROM facilities_course_payments WHERE registration_id = ?",
        [registration_id]).fetchall()


def test_a_registration_with_a_fee_is_paid_by_qr_once(store, clock, town):
    course = _course(store, clock, town)
    reg = courses.register(store, clock, town.alice, course.id)
    assert reg.owed_yen == 1500 and reg.payment_ref == f"C-{reg.id}"
    assert payments.qr_payload(reg) == f"{payments.QR_SCHEME}:C-{reg.id}:1500"
    assert payments.qr_png(reg).startswith(b"\x89PNG")

    with pytest.raises(PaymentRejected) as wrong:
        _callback(store, clock, reg.payment_ref, 1000)
    assert (wrong.value.status, wrong.value.params["owed"]) == (422, 1500)

    assert _callback(store, clock, reg.payment_ref, 1500) == reg.id
    paid = courses.my_registration(store, town.alice, course.id)
    assert (paid.paid_yen, paid.owed_yen) == (1500, 0)
    assert _payments(store, reg.id) == [("qr", 1500, "TX-C1")]

    with pytest.raises(PaymentRejected) as replay:
        _callback(store, clock, reg.payment_ref, 1500)
    assert replay.value.status == 409
    with pytest.raises(PaymentRejected) as paid_again:
        _callback(store, clock, reg.payment_ref, 1500, tx="TX-C2")
    assert paid_again.value.status == 409


def test_unknown_and_waitlisted_registrations_are_refused(store, clock, town):
    course = _course(store, clock, town, capacity=1)
    courses.register(store, clock, town.alice, course.id)
    waiting = courses.register(store, clock, town.bob, course.id)
    assert waiting.status == "waitlisted"
    with pytest.raises(PaymentRejected) as unknown:
        _callback(store, clock, "C-999999", 1500)
    assert unknown.value.status == 404
    with pytest.raises(PaymentRejected) as not_payable:
        _callback(store, clock, waiting.payment_ref, 1500)
    assert not_payable.value.status == 409


def test_a_transaction_id_used_for_a_booking_cannot_pay_a_course(store, clock, town):
    day = clock.now().date() + timedelta(days=20)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    made = booking.book(store, clock, town.bob, town.room_id, day, "pm")
    assert _callback(store, clock, made.payment_ref, made.owed_yen, tx="TX-SHARED") == made.id
    assert booking.get_booking(store, town.bob, made.id).owed_yen == 0

    course = _course(store, clock, town)
    reg = courses.register(store, clock, town.alice, course.id)
    with pytest.raises(PaymentRejected) as replay:
        _callback(store, clock, reg.payment_ref, 1500, tx="TX-SHARED")
    assert replay.value.status == 409
    assert courses.my_registration(store, town.alice, course.id).owed_yen == 1500


def test_counter_payment_is_recorded_like_a_qr_payment(store, clock, town):
    course = _course(store, clock, town)
    reg = courses.register(store, clock, town.alice, course.id)
    paid = courses.record_fee_paid(store, clock, town.staff, course.id, town.alice.user_id)
    assert (paid.paid_yen, paid.owed_yen) == (1500, 0)
    assert _payments(store, reg.id) == [("counter", 1500, None)]
    with pytest.raises(PaymentRejected) as after_counter:
        _callback(store, clock, reg.payment_ref, 1500)
    assert after_counter.value.status == 409


def test_a_transaction_that_paid_a_course_cannot_pay_a_booking(store, clock, town):
    """The provider's transaction id is spent once, across course fees and bookings."""
    course = _course(store, clock, town)
    reg = courses.register(store, clock, town.alice, course.id)
    assert _callback(store, clock, reg.payment_ref, 1500, tx="TX-SPENT") == reg.id
    day = clock.now().date() + timedelta(days=20)
    while day.isoweekday() == 1:
        day += timedelta(days=1)
    made = booking.book(store, clock, town.bob, town.room_id, day, "pm")
    with pytest.raises(PaymentRejected) as replay:
        _callback(store, clock, made.payment_ref, made.owed_yen, tx="TX-SPENT")
    assert replay.value.status == 409
    assert booking.get_booking(store, town.bob, made.id).owed_yen == made.owed_yen
