"""School ICT (measures 4-1-1 … 4-1-3): devices, e-blackboards, repairs, network load."""

from pathlib import Path

from kernel.module import MailKind, ModuleSpec, PageSpec, lazy, lazy_value

_HERE = Path(__file__).resolve().parent
_PAGES = _HERE / "pages"
_STAFF = frozenset({"teacher", "school_admin", "city_admin"})
_MANAGERS = frozenset({"school_admin", "city_admin"})
_BOARD = frozenset({"city_admin"})


SPEC = ModuleSpec(
    name="school_ict",
    package_dir=_HERE,
    indicators=lazy("school_ict.services.indicators:indicators"),
    provides={
        "school_ict.classrooms": lazy("school_ict.services.rosters:classrooms_with_readiness"),
        "school_ict.pupils": lazy("school_ict.services.rosters:pupils_with_readiness"),
        "school_ict.repair_weeks": lazy("school_ict.services.rosters:repair_weeks"),
        "school_ict.repair_spans": lazy("school_ict.services.rosters:repair_spans"),
        # The portal's school roster import: classrooms, pupils, tablets of leavers to return.
        "school_ict.apply_roster": lazy("school_ict.services.rosters:apply_roster"),
        # The retention rule for what the registry keeps of a pupil who left (portal retention).
        "school_ict.apply_retention": lazy("school_ict.services.retention:apply_retention"),
    },
    pages=(
        PageSpec(_PAGES / "dashboard.py", "ict.nav.dashboard", "school-devices", "schools", _STAFF,
                 ":material/devices:"),
        PageSpec(_PAGES / "device.py", "ict.nav.device", "device", "schools", _STAFF, ":material/tablet_android:"),
        PageSpec(_PAGES / "checkout.py", "ict.nav.checkout", "check-out", "schools", _STAFF,
                 ":material/swap_horiz:"),
        PageSpec(_PAGES / "audit.py", "ict.nav.audit", "device-audit", "schools", _STAFF,
                 ":material/qr_code_scanner:"),
        PageSpec(_PAGES / "repairs.py", "ict.nav.repairs", "repairs", "schools", _STAFF, ":material/build:"),
        PageSpec(_PAGES / "import_devices.py", "ict.nav.import", "device-import", "schools", _MANAGERS,
                 ":material/upload_file:"),
        PageSpec(_PAGES / "replacement.py", "ict.nav.replacement", "replacement-plan", "schools", _BOARD,
                 ":material/event_repeat:"),
        PageSpec(_PAGES / "network.py", "ict.nav.network", "school-network", "schools", _MANAGERS,
                 ":material/network_check:"),
    ),
    cli=lazy_value("school_ict.cli:app"),
    cli_name="devices",
    demo=lazy("school_ict.demo:load"),
    mail_kinds=(MailKind("school_ict.repair_finished", frozenset({"teacher", "school_admin"})),),
)
