"""The app's pages as Streamlit pages (``st.Page``): a file in views/, or a model's page, which
``ui.shell.render`` draws from the model's spec. app.py hands them to ``st.navigation``; a link
or a switch to a model's page (``st.page_link``, ``st.switch_page``) takes its ``page(...)``."""
from __future__ import annotations

from functools import partial

import streamlit as st

from core.i18n import _
from ui.navigation import SECTIONS, PageEntry, entry_for
from ui.shell import render


def page(target: str | PageEntry) -> st.Page:
    """The page of an entry, of a URL path ("" for home) or of a model's name, titled in the
    visitor's language (the URL path is the page's identity, the same in every language)."""
    entry = target if isinstance(target, PageEntry) else entry_for(target)
    source = entry.script or partial(render, entry.model)
    return st.Page(source, title=_(entry.title), icon=entry.icon,
                   url_path=entry.url_path or None, default=not entry.url_path)


def navigation() -> dict[str, list[st.Page]]:
    """What ``st.navigation`` takes: every page, by section (the headings and titles translated:
    app.py builds it on every run, in the visitor's language)."""
    return {_(section): [page(entry) for entry in entries]
            for section, entries in SECTIONS.items()}
