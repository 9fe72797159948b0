"""The one server process: the Streamlit UI and every module's HTTP routes.

`manabi serve` runs `streamlit run` on this file; Streamlit finds `app` (st.App)
and serves both the UI (web/app.py) and the routes on one port.
"""

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from kernel import nightly
from portal.auth import auth_secrets
from portal.modules import all_modules
from portal.runtime import open_runtime
from portal.services import mail

runtime = open_runtime()

# We navigate with st.navigation only: never look for a legacy (v1) pages folder.
PagesManager.uses_pages_directory = False

# Each module's nightly work (kernel.nightly), in a background thread of this process, which
# holds the database file (a command run by cron could not open it).
nightly.start(runtime.store, runtime.clock, {spec.name: spec.nightly for spec in all_modules() if spec.nightly})

# The mail sender (portal/services/mail.py): delivers the outbox over SMTP and runs the modules'
# mail jobs (loan due, session starting) every minute, in a background thread of this process.
mail.start(runtime.store, runtime.clock, {name: job for spec in all_modules() for name, job in spec.mail_jobs.items()})

app = st.App(
    Path(__file__).resolve().parent.parent / "web" / "app.py",
    routes=[route for spec in all_modules() if spec.routes for route in spec.routes()],
    secrets=auth_secrets(runtime.settings),
)
