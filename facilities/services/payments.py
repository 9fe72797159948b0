"""Paying for a booking: the QR code's payment reference, the QR provider's signed callback,
counter payments recorded by staff, and receipts (PDF).

The provider's callback (`POST /payments/callback`, facilities/routes.py) carries the raw JSON
body {"reference": "MNB-…", "amount": 1300, "transaction_id": "…"} and the header
`X-Manabi-Signature: sha256=<hex HMAC-SHA256 of the body with the shared secret>`. The secret
comes from configuration (MANABI_PAYMENT_SECRET); without it every callback is refused.
A payment is accepted once, for exactly the owed amount.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from pathlib import Path

import segno

from facilities.services import booking as bookings
from facilities.services import courses
from facilities.services.booking import LIVE, Booking
from facilities.services.catalogue import STAFF
from kernel import http
from kernel.actor import Actor
from kernel.clock import Clock
from kernel.config import setting
from kernel.errors import Conflict, InvalidInput, ManabiError, NotFound, PermissionDenied
from kernel.outbox import notify
from kernel.store import Store

SIGNATURE_HEADER = "X-Manabi-Signature"
QR_SCHEME = "MANABIPAY"


class PaymentRejected(ManabiError):
    """A provider callback we refuse; `status` is the HTTP status the route answers with."""

    key = "payments.rejected"

    def __init__(self, key: str, status: int, **params: object) -> None:
        super().__init__(key, **params)
        self.status = status


def payment_secret() -> str | None:
    return setting("payment_secret")


def sign(body: bytes, secret: str) -> str:
    """The signature header value the provider sends (and tests compute)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def qr_payload(booking: Booking | courses.Registration) -> str:
    """What the QR code carries: the scheme, the payment reference and the amount owed
    (a booking, or a course registration that owes a fee: reference "C-<registration id>")."""
    return f"{QR_SCHEME}:{booking.payment_ref}:{booking.owed_yen}"


def qr_png(booking: Booking | courses.Registration, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(qr_payload(booking), error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


def _record_payment(cur, clock: Clock, booking_id: int, method: str, yen: int, transaction_id: str | None,
                    recorded_by: int | None) -> None:
    now = clock.now()
    cur.execute(
        """INSERT INTO facilities_payments (booking_id, kind, method, yen, transaction_id, recorded_at, recorded_by)
           VALUES (?, 'payment', ?, ?, ?, ?, ?)""", [booking_id, method, yen, transaction_id, now, recorded_by])
    cur.execute("UPDATE facilities_bookings SET paid_at = ?, paid_yen = paid_yen + ?, payment_method = ? WHERE id = ?",
                [now, yen, method, booking_id])
    paid = bookings.select_bookings(cur, "b.id = ?", [booking_id])[0]
    notify(cur, clock, paid.user_id, "facilities.payment_received",
           {"what": {"ja": f"{paid.place('ja')}（{paid.day:%Y/%m/%d}）", "en": f"{paid.place('en')} ({paid.day:%Y-%m-%d})"},
            "paid_yen": yen, "paid_at": now, "reference": paid.payment_ref})


def _owed(cur, where: str, value) -> tuple[int, int, str, int, int] | None:
    return cur.execute(
        f"SELECT id, user_id, status, total_yen, paid_yen FROM facilities_bookings WHERE {where} = ?",
        [value]).fetchone()


def accept_provider_callback(store: Store, clock: Clock, body: bytes, signature: str | None,
                             secret: str | None = None) -> int:
    """Check and record a QR-provider payment; returns the booking id. Raises PaymentRejected."""
    secret = secret if secret is not None else payment_secret()
    if not secret:
        raise PaymentRejected("payments.not_configured", 503)
    if not signature or not hmac.compare_digest(sign(body, secret), signature.strip()):
        raise PaymentRejected("payments.bad_signature", 401)
    try:
        message = http.loads(body)
        reference = str(message["reference"])
        amount = message["amount"]
        transaction_id = str(message["transaction_id"])
    except (ValueError, KeyError, TypeError, http.JsonTooDeep):
        raise PaymentRejected("payments.bad_message", 400) from None
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PaymentRejected("payments.bad_message", 400)

    def work(cur) -> int:
        # A provider's transaction pays once, whether it named a booking or a course fee.
        if cur.execute(
            """SELECT 1 FROM facilities_payments WHERE transaction_id = $1
               UNION ALL SELECT 1 FROM facilities_course_payments WHERE transaction_id = $1""",
            [transaction_id],
        ).fetchone():
            raise PaymentRejected("payments.replayed", 409)
        if reference.startswith(courses.PAYMENT_PREFIX):
            return _pay_course(cur, clock, reference, amount, transaction_id)
        row = _owed(cur, "payment_ref", reference)
        if row is None:
            raise PaymentRejected("payments.unknown_reference", 404)
        booking_id, _, status, total, paid = row
        if status not in LIVE or status == "won":
            raise PaymentRejected("payments.not_payable", 409)
        if paid >= total:
            raise PaymentRejected("payments.replayed", 409)
        if amount != total - paid:
            raise PaymentRejected("payments.wrong_amount", 422, owed=total - paid)
        _record_payment(cur, clock, booking_id, "qr", amount, transaction_id, None)
        return booking_id

    try:
        return store.write(work)
    except Conflict:  # two deliveries of the same callback at once: one is recorded
        raise PaymentRejected("payments.replayed", 409) from None


def _pay_course(cur, clock: Clock, reference: str, amount: int, transaction_id: str) -> int:
    """A QR payment of a course fee (the transaction id is already checked); returns the
    registration id."""
    number = reference[len(courses.PAYMENT_PREFIX):]
    row = None
    if number.isdigit() and len(number) < 10 and reference == courses.payment_ref(int(number)):  # no "C-007"
        row = cur.execute("SELECT id, status, fee_yen, paid_yen FROM facilities_course_registrations WHERE id = ?",
                          [int(number)]).fetchone()
    if row is None:
        raise PaymentRejected("payments.unknown_reference", 404)
    registration_id, status, fee, paid = row
    if status != "registered" or fee <= 0:
        raise PaymentRejected("payments.not_payable", 409)
    if paid >= fee:
        raise PaymentRejected("payments.replayed", 409)
    if amount != fee - paid:
        raise PaymentRejected("payments.wrong_amount", 422, owed=fee - paid)
    courses.record_course_payment(cur, clock, registration_id, "qr", amount, transaction_id, None)
    return registration_id


def record_counter_payment(store: Store, clock: Clock, actor: Actor, booking_id: int, yen: int) -> Booking:
    """Staff take the owed fee in cash at the counter."""
    actor.require(*STAFF)

    def work(cur) -> None:
        row = _owed(cur, "id", booking_id)
        if row is None:
            raise NotFound("facilities.unknown_booking", booking=booking_id)
        _, _, status, total, paid = row
        if status != "confirmed" or paid >= total:
            raise InvalidInput("payments.nothing_owed")
        if yen != total - paid:
            raise InvalidInput("payments.wrong_amount", owed=total - paid)
        _record_payment(cur, clock, booking_id, "counter", yen, None, actor.user_id)

    store.write(work)
    return bookings.get_booking(store, actor, booking_id)


def payments_of(store: Store, actor: Actor, booking_id: int) -> list[dict]:
    bookings.get_booking(store, actor, booking_id)  # owner or staff only
    return store.query_dicts(
        """SELECT kind, method, yen, transaction_id, recorded_at FROM facilities_payments
           WHERE booking_id = ? ORDER BY recorded_at, id""", [booking_id])


# --- receipts -------------------------------------------------------------------------------

_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


def _font(size: int):
    from PIL import ImageFont

    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def receipt_pdf(store: Store, actor: Actor, booking_id: int, t, holder_name: str) -> bytes:
    """A one-page receipt (領収書) for a paid booking, as PDF bytes."""
    from PIL import Image, ImageDraw

    booking = bookings.get_booking(store, actor, booking_id)
    if booking.paid_yen == 0 and booking.total_yen > 0:
        raise InvalidInput("payments.not_paid")
    if not actor.has(*STAFF) and actor.user_id != booking.user_id:
        raise PermissionDenied()
    page = Image.new("RGB", (1240, 1754), "white")  # A4 at 150 dpi
    draw = ImageDraw.Draw(page)
    draw.text((620, 150), t("receipt.title"), font=_font(72), fill="black", anchor="mm")
    draw.text((120, 300), t("receipt.to", name=holder_name), font=_font(40), fill="black")
    draw.line((120, 360, 1120, 360), fill="black", width=3)
    draw.text((620, 470), t.money(booking.paid_yen), font=_font(96), fill="black", anchor="mm")
    draw.text((620, 570), t("receipt.tax", tax=t.money(booking.paid_yen * bookings.TAX_PERCENT
                                                       // (100 + bookings.TAX_PERCENT))),
              font=_font(32), fill="black", anchor="mm")
    rows = [
        (t("receipt.number"), booking.payment_ref),
        (t("receipt.for"), booking.place(t.lang)),
        (t("receipt.when"), f"{t.date(booking.day, 'full')} {t('block.' + booking.block_code)} "
                            f"{booking.starts:%H:%M}–{booking.ends:%H:%M}"),
        (t("receipt.fee"), t.money(booking.room_yen)),
        (t("receipt.reduction"), f"−{t.money(booking.reduction_yen)} {booking.reduction_reason or ''}"
                                 if booking.reduction_yen else "—"),
        (t("receipt.addons"), t.money(booking.addon_yen) if booking.addon_yen else "—"),
        (t("receipt.paid_at"), t.datetime(booking.paid_at) if booking.paid_at else "—"),
        (t("receipt.method"), t("payment_method." + (booking.payment_method or "none"))),
    ]
    y = 700
    for label, value in rows:
        draw.text((120, y), label, font=_font(34), fill="#444444")
        draw.text((480, y), str(value), font=_font(34), fill="black")
        y += 70
    draw.text((120, 1500), t("receipt.issuer"), font=_font(36), fill="black")
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150.0, title=booking.payment_ref)
    return out.getvalue()
