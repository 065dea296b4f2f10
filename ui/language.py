"""Which language a visitor reads (English / 中文), chosen before anything is drawn.

In this order: a link's ``?lang=zh`` (a teacher shares the Chinese page; read once per value, so
the switch still works after it), the switch in the sidebar (this session), the visitor's cookie
(a reload or a new tab keeps the choice, never through the URL), the browser's language
(``st.context.locale``, else the ``Accept-Language`` header), English.
"""
from __future__ import annotations

import streamlit as st

from core import i18n
from core.i18n import _
from ui import cookies

COOKIE = "dlstudio_lang"
PARAM = "lang"
KEY = "language"
LIFETIME_S = 365 * 24 * 3600


def _session_language() -> str | None:
    """The visitor's language, for a thread of this session that app.py did not start (a
    fragment's rerun); outside a session (a worker thread) None: English."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return st.session_state.get(KEY)


i18n.set_resolver(_session_language)


def browser_language() -> str | None:
    """The browser's own language, when it is one the app speaks."""
    try:
        locale = st.context.locale
    except Exception:      # (a test harness without a browser)
        locale = None
    found = i18n.normalise(locale)
    if found:
        return found
    try:
        header = st.context.headers.get("Accept-Language")
    except Exception:
        header = None
    return i18n.from_accept_language(header)


def choose() -> str:
    """Set this script run's language (call first on every run, before anything is drawn)."""
    linked = i18n.normalise(st.query_params.get(PARAM))
    if linked and st.session_state.get(f"{KEY}.link") != linked:
        st.session_state[KEY] = linked        # a link's language, once: the switch can change it
        st.session_state[f"{KEY}.link"] = linked
    if i18n.normalise(st.session_state.get(KEY)) is None:
        try:
            kept = st.context.cookies.get(COOKIE)
        except Exception:
            kept = None
        st.session_state[KEY] = (i18n.normalise(kept) or browser_language() or i18n.DEFAULT)
    return i18n.use(st.session_state[KEY])


def _switched() -> None:
    st.session_state[f"{KEY}.chosen"] = True


def switch() -> None:
    """The language box in the sidebar; the choice is kept in a cookie for the next visit."""
    with st.sidebar:
        st.selectbox("Language / 语言", list(i18n.LANGUAGES), key=KEY,
                     format_func=lambda code: i18n.LANGUAGES[code], on_change=_switched,
                     help=_("English / 中文: every page, chart and message of the app"))
        if st.session_state.get(f"{KEY}.chosen") or st.session_state.get(f"{KEY}.link"):
            cookies.write(COOKIE, st.session_state[KEY], LIFETIME_S, key="dlstudio.language")
