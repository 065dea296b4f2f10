"""The visitor cookie, written by a few lines of our own JavaScript (a Streamlit v2 component:
it runs in the app's page, no iframe, no package to install).

Streamlit reads cookies (``st.context.cookies``, sent with the page's connection) but cannot set
them; the component sets ``document.cookie`` (``Path=/; SameSite=Lax``, ``Secure`` on https,
``Max-Age`` of days) and, when the browser did not keep it, says once (per tab) that the visitor's
runs stay with this tab. It sends nothing back: a component value would rerun the page while its
widgets are first drawn.
"""
from __future__ import annotations

import streamlit as st

_JS = """
export default function(component) {
  const { data, parentElement } = component;
  if (!data || !data.name || !data.value) { return; }
  let kept = false;
  try {
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${data.name}=${data.value}; Max-Age=${data.max_age}; Path=/; SameSite=Lax${secure}`;
    kept = navigator.cookieEnabled &&
      document.cookie.split("; ").some((item) => item === `${data.name}=${data.value}`);
  } catch (error) {
    kept = false;
  }
  let told = false;
  try { told = window.sessionStorage.getItem(`${data.name}.refused`) === "1"; } catch (e) {}
  if (!kept && !told && data.refused) {
    const note = document.createElement("div");
    note.textContent = data.refused;
    note.setAttribute("role", "status");
    note.style.cssText = "padding:0.5rem 0.75rem;border-radius:0.5rem;font-size:0.9rem;" +
      "background:rgba(255,189,69,0.2);margin-bottom:0.5rem";
    parentElement.appendChild(note);
    try { window.sessionStorage.setItem(`${data.name}.refused`, "1"); } catch (e) {}
  }
}
"""

_writer = None


def _component():
    global _writer
    if _writer is None:
        _writer = st.components.v2.component("dlstudio_cookie", js=_JS)
    return _writer


def write(name: str, value: str, max_age_s: int, key: str, refused: str = "") -> None:
    """Set cookie ``name`` in the visitor's browser. When the browser does not keep it, the
    element shows ``refused`` (once per tab); otherwise it draws nothing. It sends nothing back,
    so it never reruns the page."""
    _component()(key=key, data={"name": name, "value": value, "max_age": int(max_age_s),
                                "refused": refused}, height="content")
