"""HTTP routes of facilities, for machines: each resident's ICS feed of bookings, each course's
ICS feed of sessions, and the QR-payment provider's callback. All run their DuckDB work in a thread."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from facilities.services import calendar_feed, courses, courses_calendar, courses_classes, payments
from kernel import offers
from kernel.errors import ManabiError, NotFound
from kernel.http import KIB, route, route_context
from kernel.provided import provided


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


async def _join(request: Request, make_link, back: str) -> Response:
    """GET /courses/join/<session id> (a course's online session, from "My courses") and
    /classes/join/<session id> (a teacher's online class), [?lang=en]: one click into the
    online room. The signed-in person's own token is made at the click (and their joining
    recorded), and the browser goes straight on to the room; a refusal is a page saying why."""
    rc = route_context()
    lang = "en" if request.query_params.get("lang") == "en" else "ja"
    find_actor = provided(offers.PORTAL_REQUEST_ACTOR)
    actor = await run_in_threadpool(find_actor, rc.store, rc.clock, request.cookies) if find_actor else None
    if actor is None:
        return RedirectResponse("/sign-in" + ("?lang=en" if lang == "en" else ""), status_code=303)
    try:
        link = await run_in_threadpool(make_link, rc.store, rc.clock, actor, request.path_params["session_id"])
    except ManabiError as exc:
        return HTMLResponse(_refusal_page(lang, exc, back), status_code=404 if isinstance(exc, NotFound) else 403,
                            headers={"Cache-Control": "no-store"})
    return RedirectResponse(link.url, status_code=303, headers={"Cache-Control": "no-store"})


async def join_course(request: Request) -> Response:
    return await _join(request, courses.join_online, "/courses-mine")


async def join_class(request: Request) -> Response:
    return await _join(request, courses_classes.teacher_link, "/online-classes")


def _refusal_page(lang: str, exc, back: str) -> str:
    """A join refused, in words, with the way back (a page of its own: the room was to open here)."""
    from html import escape
    from pathlib import Path

    from kernel.i18n import Translator, load_catalogue

    here = Path(__file__).resolve().parent
    t = Translator(lang, load_catalogue([*sorted(here.glob("messages*.toml")), here.parent / "kernel" / "messages.toml"]),
                   strict=False)
    back += "?lang=en" if lang == "en" else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(t('courses.join.refused_title'))}</title></head>"
            f'<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">'
            f"<h1>{escape(t('courses.join.refused_title'))}</h1><p>{escape(t.error(exc))}</p>"
            f'<p><a href="{back}">{escape(t("courses.join.back"))}</a></p></body></html>')


# A provider's callback is a few hundred bytes of JSON; more is refused before it is read.
CALLBACK_MAX_BYTES = 64 * KIB


def routes() -> list[Route]:
    return [
        route("/facilities/calendar/{token}.ics", calendar, methods=["GET"]),
        route("/courses/{code}.ics", course_calendar, methods=["GET"]),
        route("/courses/join/{session_id:int}", join_course, methods=["GET"]),
        route("/classes/join/{session_id:int}", join_class, methods=["GET"]),
        route("/payments/callback", payment_callback, methods=["POST"], max_body=CALLBACK_MAX_BYTES),
    ]
