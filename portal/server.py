"""The one server process: the Streamlit UI and every module's HTTP routes.

`manabi serve` runs `streamlit run` on this file; Streamlit finds `app` (st.App)
and serves both the UI (portal/app.py) and the routes on one port.
"""

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from portal.auth import auth_secrets
from portal.modules import all_modules
from portal.runtime import open_runtime

runtime = open_runtime()

# portal/pages/ sits beside app.py, which Streamlit would take for a legacy (v1) pages
# folder until st.navigation first runs: the very first visitor after a start would
# then see "Page not found" on a deep link. We navigate with st.navigation only.
PagesManager.uses_pages_directory = False

app = st.App(
    Path(__file__).with_name("app.py"),
    routes=[route for spec in all_modules() if spec.routes for route in spec.routes()],
    secrets=auth_secrets(runtime.settings),
)
