"""Learning analytics (measure 4-1-4): the xAPI learning record store and dashboards."""

from pathlib import Path

from kernel.jobs import NIGHTLY, Job
from kernel.module import ModuleSpec, PageSpec, lazy, lazy_value

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"


SPEC = ModuleSpec(
    name="analytics",
    package_dir=_HERE,
    indicators=lazy("analytics.services.indicators:indicators"),
    pages=(
        PageSpec(_PAGES / "class_dashboard.py", "analytics.nav.class_dashboard", "learning", "schools",
                 frozenset({"teacher", "school_admin"}), ":material/insights:"),
        PageSpec(_PAGES / "board.py", "analytics.nav.board", "learning-board", "schools",
                 frozenset({"city_admin"}), ":material/leaderboard:"),
        PageSpec(_PAGES / "lrs_admin.py", "analytics.nav.xapi_admin", "learning-records", "admin",
                 frozenset({"city_admin", "school_admin"}), ":material/database:"),
    ),
    routes=lazy("analytics.routes:routes"),
    # The classes on a school's learner roster, for the portal's page that assigns teachers' classes.
    provides={"analytics.classes": lazy("analytics.services.dashboards:school_classes"),
              # The portal's school roster import: the learners the dashboards group by.
              "analytics.apply_roster": lazy("analytics.services.roster:apply_roster"),
              "analytics.statements_held": lazy("analytics.services.lrs:statements_held"),
              # The retention rule for a pupil's learning records after leaving school (portal retention).
              "analytics.apply_retention": lazy("analytics.services.retention:apply_retention"),
              # The learning facts and units, for the lake's export to the prefecture (lake/).
              "analytics.statement_facts": lazy("analytics.services.facts:statement_facts"),
              "analytics.units": lazy("analytics.services.facts:units"),
              # A subject (as MEXT names it) in the reader's language, for pages of other modules.
              "analytics.subject_label": lazy("analytics.services.roster:subject_label")},
    demo=lazy("analytics.demo:load"),
    # Each night: the day's statements reordered for the dashboards (analytics/services/clustering.py).
    jobs=(Job("analytics.cluster", NIGHTLY, lazy("analytics.services.clustering:nightly"),
              "analytics.xapi.job_cluster"),),
    cli=lazy_value("analytics.cli:app"),
)
