"""The app's pages, in order and by section: app.py builds its navigation from this list and the
tests visit every page in it.

A model's page comes from its spec (``ModelSpec.section``, ``icon``, ``url_path``; the menu label
is ``menu_title`` or ``title``), in the registry's order: adding a model to ``core/registry.py``
puts its page here. The pages that are not a model's are files in views/, listed below.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.i18n import N_
from core.registry import MODELS


@dataclass(frozen=True)
class PageEntry:
    script: str          # a file in views/; "" for a model's page
    title: str           # in English (marked for translation): ui/pages.py shows it translated
    icon: str
    url_path: str        # "" for the home page
    model: str = ""      # a model's page: the name ``ui.shell.render`` draws it from


def model_entry(spec) -> PageEntry:
    if not (spec.section and spec.icon and spec.url_path):
        raise ValueError(f"{spec.name}: its spec names no page (section, icon, url_path)")
    return PageEntry("", spec.menu_title or spec.title, spec.icon, spec.url_path, spec.name)


# The pages that are files, by section: a section's files come after its models' pages. Sections
# and titles are English here (the keys the code compares); the menu shows them translated.
FILES: dict[str, list[PageEntry]] = {
    "": [PageEntry("views/home.py", N_("Home"), ":material/home:", "")],
    N_("GANs"): [PageEntry("views/gans_compared.py", N_("GANs compared"),
                           ":material/leaderboard:", "gans-compared")],
    N_("Workspace"): [
        PageEntry("views/workspace.py", N_("Runs"), ":material/folder_open:", "runs"),
        PageEntry("views/compare.py", N_("Compare"), ":material/compare_arrows:", "compare"),
        PageEntry("views/class_board.py", N_("Class board"), ":material/groups:", "class")],
}


def sections() -> dict[str, list[PageEntry]]:
    """Home first, then the models' sections in the order they first appear in the registry,
    then the workspace."""
    found: dict[str, list[PageEntry]] = {"": []}
    for spec in MODELS.values():
        found.setdefault(spec.section, []).append(model_entry(spec))
    for section in FILES:
        found.setdefault(section, [])
    found["Workspace"] = found.pop("Workspace")      # last, whatever the models named
    return {section: entries + FILES.get(section, []) for section, entries in found.items()}


SECTIONS: dict[str, list[PageEntry]] = sections()
ALL = [entry for entries in SECTIONS.values() for entry in entries]


def entry_for(page: str) -> PageEntry:
    """A page by its URL path ("" for home) or, for a model's page, by the model's name."""
    for entry in ALL:
        if page == entry.url_path or (page and page == entry.model):
            return entry
    raise KeyError(f"no page {page!r}; the pages: "
                   + ", ".join(repr(entry.url_path) for entry in ALL))
