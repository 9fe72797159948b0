"""The portal's own part: schools, accounts, sign-in, home and administration."""

from pathlib import Path

from kernel.jobs import NIGHTLY, Job
from kernel.module import PUBLIC, SIGNED_IN, ModuleSpec, PageSpec, lazy

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
        PageSpec(_PAGES / "admin_system.py", "nav.admin_system", "admin-system", "admin",
                 frozenset({"city_admin"}), ":material/dns:"),
    ),
    # Which classes a teacher teaches, for the modules that show a teacher their classes.
    provides={
        "portal.teacher_classes": lazy("portal.services.teacher_classes:classes_of"),
        "portal.demo_homerooms": lazy("portal.services.teacher_classes:assign_demo_homerooms"),
    },
    routes=lazy("portal.routes:routes"),
    demo=lazy("portal.demo:load"),
    # A backup each night into MANABI_BACKUP_DIR, kept MANABI_BACKUP_KEEP days (off without the folder).
    jobs=(Job("portal.backup", NIGHTLY, lazy("portal.services.system:nightly_backup"),
              "admin_system.job_backup"),),
)
