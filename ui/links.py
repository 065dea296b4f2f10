"""A page's settings in its URL (``st.query_params``): read once when a page opens from a link,
written back whenever a field changes, and a "Copy link" button.

The checking is ``core.links.decode``'s (the config class's own rules): a link never sets a
value the form would not accept; what it refuses is listed in a notice on the page.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from core import i18n, links
from core.demo import field_cap
from core.i18n import _
from ui import state
from ui.navigation import ALL

MODEL = "model"


def read_link(panel) -> None:
    """The first time this session shows ``panel``'s page: apply the link's settings (before any
    widget is drawn; widget values cannot change after)."""
    flag = panel.key("link", "read")
    if st.session_state.get(flag):
        return
    st.session_state[flag] = True
    params = st.query_params.to_dict()
    if params.get(MODEL, panel.name) != panel.name:
        return     # another page's settings (the link names its model): not for this page
    if not any(name not in links.RESERVED and name != MODEL for name in params) and \
            links.PRESET not in params:
        return
    limits = state.limits()
    link = links.decode(panel.spec, {k: v for k, v in params.items() if k != MODEL},
                        caps=lambda field: field_cap(limits, field))
    st.session_state[panel.key("preset")] = link.preset
    for name, value in link.values.items():
        st.session_state[panel.key("field", name)] = value
    panel.link_opened(link)
    st.session_state[panel.key("link", "opened")] = {"changed": link.changed,
                                                     "notices": link.notices}


def show_notices(panel) -> None:
    """What the link set and what it refused (once, above the settings)."""
    opened = st.session_state.pop(panel.key("link", "opened"), None)
    if not opened:
        return
    if opened["changed"]:
        st.caption(_("Opened from a link: {settings}").format(settings=", ".join(
            f"{name} = {links.text(value)}" for name, value in opened["changed"].items())))
    if opened["notices"]:
        st.warning(_("Some of the link's settings were not applied:\n\n{notices}").format(
            notices="\n".join(f"- {notice}" for notice in opened["notices"])))


def page_params(panel, config) -> dict[str, str]:
    """The query parameters that reopen this page with ``config``."""
    preset = st.session_state.get(panel.key("preset"))
    if preset not in panel.spec.presets:     # "Custom": the link names the preset it started from
        preset = st.session_state.get(panel.key("preset_base"))
    return {MODEL: panel.name, **links.encode(panel.spec, preset, config)}


def write_link(panel, config) -> dict[str, str]:
    """Keep the URL in step with the form: the page's settings and nothing else."""
    wanted = page_params(panel, config)
    current = st.query_params.to_dict()
    if current != wanted:
        st.query_params.from_dict(wanted)
    return wanted


def page_url(panel) -> str:
    """This page's address: the browser's origin (and the app's base path) + the page's path."""
    return app_url(panel.spec.url_path)


def app_url(path: str) -> str:
    """The address of the app's page ``path`` as the browser reaches the app."""
    try:
        current = urlsplit(st.context.url or "")
    except Exception:   # (a test harness without a browser request)
        return f"/{path}"
    prefix = current.path.rstrip("/")
    for entry in ALL:   # the address may be another page's: keep only the app's base path
        if entry.url_path and prefix.endswith("/" + entry.url_path):
            prefix = prefix[:-len(entry.url_path) - 1]
            break
    origin = f"{current.scheme}://{current.netloc}" if current.netloc else ""
    return f"{origin}{prefix}/{path}"


def copy_link(panel, params: dict[str, str]) -> None:
    """A "Copy link" popover: the page's address with its settings (the copy icon copies it).
    Only settings: nothing of who the sender is (that lives in a cookie, never a URL)."""
    shared = {k: v for k, v in params.items() if k not in links.RESERVED or k == links.PRESET}
    if i18n.current() != i18n.DEFAULT:      # a Chinese page is shared as a Chinese page
        shared["lang"] = i18n.current()
    link = links.url(page_url(panel), shared)
    with st.popover(_("Copy link"), icon=":material/link:", width="stretch"):
        st.caption(_("This page with these settings (the copy icon at the right copies it):"))
        st.code(link, language=None, wrap_lines=True)
