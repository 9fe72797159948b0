"""The Streamlit entry script: the shell runs around whichever page is open.

It lives in its own folder on purpose: Streamlit treats a `pages/` folder beside the
entry script as a legacy multipage app, and portal/pages/ would be taken for one."""

from portal.ui.shell import run

run()
