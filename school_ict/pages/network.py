"""placeholder"""
import streamlit as st

from kernel.ui import page_context

ctx = page_context("teacher", "school_admin", "city_admin")
st.title(ctx.t("ict.nav.network"))
