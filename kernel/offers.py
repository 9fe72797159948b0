"""Every function one module offers the others (kernel.provided), by name, with the signature
it keeps: the contract between modules, in the one place the kernel owns. The offering module
names its function in its SPEC (`provides=`); the asking one writes `provided(offers.X)` and
gets the function typed as declared here (or None when the offering module is not part of
this portal). A row type a module owns is `Any` here: the kernel imports no module.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import duckdb

from kernel.actor import Actor
from kernel.clock import Clock
from kernel.errors import Message
from kernel.indicators import Indicator
from kernel.store import Store

F = TypeVar("F", bound=Callable[..., Any])
Cursor = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Offer(Generic[F]):
    """An offer's name; its type parameter is the signature of the function offered."""

    name: str


# A relation another module joins in its SQL (kernel.provided.offered_view); its columns are the contract.
Relation = Callable[[Cursor], duckdb.DuckDBPyRelation]
# The portal's roster import, followed in its transaction: (cur, classes (school id, grade, name),
# pupils (sourcedId, school id, grade, class name), leavers' sourcedIds, now).
RosterFollower = Callable[[Cursor, list[tuple[int, int, str]], list[tuple[str, int, int, str]], list[str], datetime],
                          None]


class Notify(Protocol):
    """Mail a person of an event, in the event's transaction (kernel.outbox.notify)."""

    def __call__(self, cur: Cursor, clock: Clock, recipient: int | str, kind: str, params: dict, *,
                 dedupe_key: str | None = None) -> int | None: ...


class StatementFacts(Protocol):
    def __call__(self, cur: Cursor, after_seq: int, up_to_seq: int | None = None) -> duckdb.DuckDBPyRelation: ...


# A module's rule for the data of pupils who left longer ago than `kept`: how many were cleared.
RetentionRule = Callable[[Store, Clock, timedelta], int]

PORTAL_SCHOOLS: Offer[Relation] = Offer("portal.schools")
PORTAL_USERS: Offer[Relation] = Offer("portal.users")
PORTAL_USER_ROLES: Offer[Relation] = Offer("portal.user_roles")
PORTAL_TEACHER_CLASSES: Offer[Callable[[Store, int], list[tuple[int, int, str]]]] = Offer("portal.teacher_classes")
PORTAL_REQUEST_ACTOR: Offer[Callable[[Store, Clock, Any], Actor | None]] = Offer("portal.request_actor")
PORTAL_DEMO_HOMEROOMS: Offer[Callable[[Cursor, dict[int, list[tuple[int, str]]]], int]] = Offer(
    "portal.demo_homerooms")
PORTAL_NOTIFY: Offer[Notify] = Offer("portal.notify")
PORTAL_RESIDENCE: Offer[Callable[[Store, int], dict | None]] = Offer("portal.residence")
PORTAL_LIBRARY_CARD: Offer[Callable[[Store, int], str | None]] = Offer("portal.library_card")
PORTAL_PUPIL_NAMES: Offer[Callable[[Store, Actor, int, int, str], dict[str, tuple[str, str]]]] = Offer(
    "portal.pupil_names")
PORTAL_PUPILS_LEFT_LONGER_THAN: Offer[Callable[[Cursor, timedelta, date], list[str]]] = Offer(
    "portal.pupils_left_longer_than")
PORTAL_DEMO_SESSION: Offer[Callable[[Store, Clock, str], str | None]] = Offer("portal.demo_session")
PORTAL_INDICATORS: Offer[Callable[[Store, Clock], list[Indicator]]] = Offer("portal.indicators")

SCHOOL_ICT_CLASSROOMS: Offer[Callable[[Store, int, date], list[Any]]] = Offer("school_ict.classrooms")
SCHOOL_ICT_PUPILS: Offer[Callable[[Store, int, date], list[tuple[str, bool]]]] = Offer("school_ict.pupils")
SCHOOL_ICT_REPAIR_WEEKS: Offer[Callable[[Store, list[str], date, date], dict[str, list[date]]]] = Offer(
    "school_ict.repair_weeks")
SCHOOL_ICT_REPAIR_SPANS: Offer[Callable[[Store, list[str], date, date], dict[str, list[tuple[date, date | None]]]]] = (
    Offer("school_ict.repair_spans"))
SCHOOL_ICT_APPLY_ROSTER: Offer[RosterFollower] = Offer("school_ict.apply_roster")
SCHOOL_ICT_APPLY_RETENTION: Offer[RetentionRule] = Offer("school_ict.apply_retention")

ANALYTICS_CLASSES: Offer[Callable[[Store, int], list[tuple[int, str]]]] = Offer("analytics.classes")
ANALYTICS_APPLY_ROSTER: Offer[RosterFollower] = Offer("analytics.apply_roster")
# A block in which the roster's transaction runs, so that statements being written meanwhile
# are stamped with the class their learner is in after it (analytics.services.lrs).
ANALYTICS_STATEMENTS_HELD: Offer[Callable[[Store], AbstractContextManager]] = Offer("analytics.statements_held")
ANALYTICS_APPLY_RETENTION: Offer[RetentionRule] = Offer("analytics.apply_retention")
ANALYTICS_STATEMENT_FACTS: Offer[StatementFacts] = Offer("analytics.statement_facts")
ANALYTICS_UNITS: Offer[Relation] = Offer("analytics.units")
ANALYTICS_SUBJECT_LABEL: Offer[Callable[[Callable[[str], str], str], str]] = Offer("analytics.subject_label")

LIBRARY_EBOOKS_END_FOR_LEAVING: Offer[Callable[[Cursor, datetime, int], int]] = Offer("library_ebooks.end_for_leaving")
FACILITIES_RECORD_RESIDENCY: Offer[Callable[[Cursor, datetime, int, bool], None]] = Offer(
    "facilities.record_residency")
FACILITIES_OPEN_COMMITMENTS: Offer[Callable[[Cursor, datetime, int], list[Message]]] = Offer(
    "facilities.open_commitments")

DECLARED: frozenset[str] = frozenset(value.name for value in dict(globals()).values() if isinstance(value, Offer))
