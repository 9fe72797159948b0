"""The booking part of facilities: pages, routes, CLI and demo rows."""

from __future__ import annotations

import typer

from kernel.module import DemoContext

BOOKING_PAGES: tuple = ()


def booking_routes() -> list:
    return []


def booking_cli() -> typer.Typer:
    return typer.Typer(help="Facilities: rooms, vacancy, bookings, lottery.", no_args_is_help=True)


def booking_demo(ctx: DemoContext) -> None:
    """Facilities, rooms, blocks and fees of the demo city."""
