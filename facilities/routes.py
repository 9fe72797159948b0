"""HTTP routes of facilities, for machines: each resident's ICS feed of bookings, each course's
ICS feed of sessions, and the QR-payment provider's callback. All run their DuckDB work in a thread."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from facilities.services import calendar_feed, courses, courses_calendar, payments
from kernel.errors import NotFound
from kernel.http import KIB, route, route_context


async def calendar(request: Request) -> Response:
    """GET /facilities/calendar/<token>.ics: the bookings of the user holding that secret token."""
    rc = route_context()
    token = request.path_params["token"]
    try:
        body = await run_in_threadpool(calendar_feed.ics_for_token, rc.store, rc.clock, token)
    except NotFound:
        return Response("not found\n", status_code=404, media_type="text/plain")
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


async def payment_callback(request: Request) -> JSONResponse:
    """POST /payments/callback: the QR-payment provider reports a payment (HMAC-signed body)."""
    rc = route_context()
    body = await request.body()
    signature = request.headers.get(payments.SIGNATURE_HEADER)
    try:
        paid_id = await run_in_threadpool(payments.accept_provider_callback, rc.store, rc.clock, body, signature)
    except payments.PaymentRejected as exc:
        return JSONResponse({"status": "rejected", "reason": exc.key.split(".")[-1], **exc.params},
                            status_code=exc.status)
    # A course fee's reference (C-<registration>) pays a registration; any other, a booking.
    reference = str(json.loads(body).get("reference", ""))
    paid = "registration" if reference.startswith(courses.PAYMENT_PREFIX) else "booking"
    return JSONResponse({"status": "paid", paid: paid_id})


async def course_calendar(request: Request) -> Response:
    """GET /courses/<code>.ics[?lang=en]: a course's sessions for the visitor's calendar."""
    rc = route_context()
    lang = "en" if request.query_params.get("lang") == "en" else "ja"
    try:
        body = await run_in_threadpool(courses_calendar.course_ics, rc.store, rc.clock,
                                       request.path_params["code"], lang)
    except NotFound:
        return Response("not found\n", status_code=404, media_type="text/plain")
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


# A provider's callback is a few hundred bytes of JSON; more is refused before it is read.
CALLBACK_MAX_BYTES = 64 * KIB


def routes() -> list[Route]:
    return [
        route("/facilities/calendar/{token}.ics", calendar, methods=["GET"]),
        route("/courses/{code}.ics", course_calendar, methods=["GET"]),
        route("/payments/callback", payment_callback, methods=["POST"], max_body=CALLBACK_MAX_BYTES),
    ]
