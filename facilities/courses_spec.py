"""The courses part of facilities: pages, routes, CLI and demo rows."""

from __future__ import annotations

import typer

from kernel.module import DemoContext

COURSE_PAGES: tuple = ()


def course_routes() -> list:
    return []


def course_cli() -> typer.Typer | None:
    return None


def course_demo(ctx: DemoContext) -> None:
    """Courses of the demo city (after booking_demo: sessions take rooms)."""
