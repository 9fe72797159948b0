"""The portal's own part: schools, accounts, sign-in, home and administration."""

from pathlib import Path

from kernel.jobs import NIGHTLY, Job
from kernel.module import ANONYMOUS_ONLY, PUBLIC, SIGNED_IN, ModuleSpec, PageSpec, lazy

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"


SPEC = ModuleSpec(
    name="portal",
    package_dir=_HERE,
    depends_on=(),
    pages=(
        PageSpec(_PAGES / "home.py", "nav.home", "home", "home", PUBLIC, ":material/home:", default=True),
        PageSpec(_PAGES / "account.py", "nav.account", "account", "home", SIGNED_IN, ":material/person:"),
        PageSpec(_PAGES / "review.py", "nav.review", "review", "admin",
                 frozenset({"city_admin", "school_admin"}), ":material/monitoring:"),
        PageSpec(_PAGES / "admin_users.py", "nav.admin_users", "admin-users", "admin",
                 frozenset({"city_admin"}), ":material/manage_accounts:"),
        PageSpec(_PAGES / "teacher_classes.py", "nav.teacher_classes", "teacher-classes", "admin",
                 frozenset({"city_admin", "school_admin"}), ":material/groups:"),
        PageSpec(_PAGES / "roster_import.py", "nav.roster_import", "roster", "admin",
                 frozenset({"city_admin"}), ":material/badge:"),
        PageSpec(_PAGES / "roster_edit.py", "nav.roster_edit", "roster-edit", "admin",
                 frozenset({"city_admin", "school_admin"}), ":material/edit_note:"),
        PageSpec(_PAGES / "admin_system.py", "nav.admin_system", "admin-system", "admin",
                 frozenset({"city_admin"}), ":material/dns:"),
        # Residents register themselves; staff at a counter confirm residence.
        PageSpec(_PAGES / "register.py", "nav.register", "register", "home", ANONYMOUS_ONLY,
                 ":material/person_add:"),
        PageSpec(_PAGES / "forgot_password.py", "nav.forgot_password", "forgot-password", "home",
                 ANONYMOUS_ONLY, ":material/lock_reset:", visible=False),
        PageSpec(_PAGES / "confirm_email.py", "nav.confirm_email", "confirm-email", "home", PUBLIC,
                 ":material/mark_email_read:", visible=False),
        PageSpec(_PAGES / "reset_password.py", "nav.reset_password", "reset-password", "home", PUBLIC,
                 ":material/password:", visible=False),
        PageSpec(_PAGES / "registrations.py", "nav.registrations", "registrations", "admin",
                 frozenset({"city_admin", "facility_staff"}), ":material/how_to_reg:"),
    ),
    # Which classes a teacher teaches, for the modules that show a teacher their classes.
    provides={
        "portal.teacher_classes": lazy("portal.services.teacher_classes:classes_of"),
        # Who a request's session cookie stands for, for a route a signed-in person follows from a page.
        "portal.request_actor": lazy("portal.session_cookie:actor_of_request"),
        "portal.demo_homerooms": lazy("portal.services.teacher_classes:assign_demo_homerooms"),
        # Mail a person of an event, in the event's transaction (kernel.outbox.notify).
        "portal.notify": lazy("portal.services.notify:notify"),
        # A self-registered resident's standing (address and residence confirmed, tie to the city).
        "portal.residence": lazy("portal.services.registration:residence"),
        "portal.library_card": lazy("portal.services.registration:card_of"),
        # Pupils' names from the school roster, for their own class teachers only.
        "portal.pupil_names": lazy("portal.services.roster:pupil_names"),
        # Who left school longer ago than a kept period, for the modules' rules keeping pupils' data.
        "portal.pupils_left_longer_than": lazy("portal.services.roster:pupils_left_longer_than"),
        # A demo account's session as if it had signed in, for benchmarks of signed-in pages.
        "portal.demo_session": lazy("portal.services.accounts:demo_session"),
        # The yearly review's indicators of every module, for the lake's export to the prefecture.
        "portal.indicators": lazy("portal.services.review:all_indicators"),
        # Relations the modules read (kernel.provided.offered_view), never the portal's tables:
        # the schools (id, code, name_ja, name_en, kind, pupils), the accounts without anything
        # secret (id, login, display_name, email, school_id, disabled) and their roles (user_id, role).
        "portal.schools": lazy("portal.services.schools:schools_relation"),
        "portal.users": lazy("portal.services.accounts:users_relation"),
        "portal.user_roles": lazy("portal.services.accounts:user_roles_relation"),
    },
    # The retention rules for personal data (portal/services/retention.py).
    nightly=lazy("portal.services.retention:apply"),
    routes=lazy("portal.routes:routes"),
    demo=lazy("portal.demo:load"),
    # A backup each night into MANABI_BACKUP_DIR, kept MANABI_BACKUP_KEEP days (off without the folder).
    jobs=(Job("portal.backup", NIGHTLY, lazy("portal.services.system:nightly_backup"),
              "admin_system.job_backup"),),
)
