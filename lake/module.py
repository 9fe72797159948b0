"""The learning-records lake (measure 4-1-4, shared use across municipalities): this
municipality's learning facts and yearly indicators exported as Parquet partitions, and the
prefecture's board computed over them on DuckDB or Apache Spark."""

from pathlib import Path

from kernel.jobs import NIGHTLY, Job
from kernel.module import ModuleSpec, PageSpec, lazy, lazy_value

_HERE = Path(__file__).resolve().parent

SPEC = ModuleSpec(
    name="lake",
    package_dir=_HERE,
    pages=(
        PageSpec(_HERE / "pages" / "prefecture_board.py", "lake.nav.board", "prefecture-board", "schools",
                 frozenset({"city_admin"}), ":material/account_tree:"),
    ),
    # Each night, what is new goes into MANABI_LAKE_DIR (nothing when it is not set).
    jobs=(Job("lake.export", NIGHTLY, lazy("lake.services.export:nightly"), "lake.job_export"),),
    cli=lazy_value("lake.cli:app"),
    # It exports analytics' statements and units and the portal's schools and indicators.
    depends_on=("portal", "analytics"),
)
