"""Who is acting: a signed-in user with roles, or an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kernel.errors import PermissionDenied


class Role(StrEnum):
    RESIDENT = "resident"
    TEACHER = "teacher"
    SCHOOL_ADMIN = "school_admin"
    LIBRARIAN = "librarian"
    FACILITY_STAFF = "facility_staff"
    CURATOR = "curator"
    CITY_ADMIN = "city_admin"


ALL_ROLES: tuple[Role, ...] = tuple(Role)


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    login: str = ""
    display_name: str = ""
    roles: frozenset[Role] = field(default_factory=frozenset)
    school_id: int | None = None
    email: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    def has(self, *roles: Role | str) -> bool:
        """True when the actor holds any of `roles`."""
        return any(Role(r) in self.roles for r in roles)

    def require(self, *roles: Role | str) -> None:
        """Raise PermissionDenied unless signed in and holding one of `roles`
        (any signed-in user when no role is named)."""
        if not self.signed_in or (roles and not self.has(*roles)):
            raise PermissionDenied()


ANONYMOUS = Actor(user_id=None)

# The operator at the command line (`manabi users ...`): already trusted by holding the file.
SYSTEM = Actor(user_id=0, login="system", display_name="system", roles=frozenset(ALL_ROLES))
