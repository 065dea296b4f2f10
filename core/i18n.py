"""The app's languages: gettext catalogs (``core/locale/<lang>/LC_MESSAGES/dlstudio.po`` and its
compiled ``.mo``), maintained with Babel (``make i18n``; docs/i18n.md says how to add a language).

Every user-visible string goes through ``_()`` (``ngettext`` for counts) where it is shown. A
string defined once at import time (a config field's help, a model's summary, a preset's name)
is marked with ``N_()`` where it is written, so Babel extracts it, and translated with ``_()``
where it is drawn: the language is chosen per visitor, after import.

The language is per thread of work (a ``ContextVar``): each Streamlit session's script run sets it
(``use``) from the visitor's choice; the CLI follows ``LANG`` (``from_environment``). Core stays
free of Streamlit: it calls ``_()`` when it builds a sentence (the monitor's verdicts are built
when a page draws them, in the page's language).
"""
from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
import contextvars
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

DOMAIN = "dlstudio"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"en": "English", "zh": "中文"}     # code -> its own name (the switch shows these)
DEFAULT = "en"

_current: ContextVar[str | None] = ContextVar("dlstudio_language", default=None)
# Where a thread that was never told its language asks (the app: the visitor's session; a
# fragment's rerun runs in a thread of its own, without app.py's choose()). None: English.
_resolver = None


def set_resolver(resolve) -> None:
    """``resolve()`` -> a language code or None: asked once by a thread that was not told."""
    global _resolver
    _resolver = resolve


def normalise(code: str | None) -> str | None:
    """"zh", "zh-CN", "zh_CN.UTF-8", "zh-Hans-CN" -> "zh"; an unsupported language -> None."""
    if not code:
        return None
    base = code.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first supported language of an ``Accept-Language`` header (by its q weights)."""
    if not header:
        return None
    ranked = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, rest = part.strip().partition(";")
        weight = 1.0
        if rest.strip().startswith("q="):
            try:
                weight = float(rest.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, position, tag))
    for _weight, _position, tag in sorted(ranked):
        code = normalise(tag)
        if code:
            return code
    return None


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The CLI's language: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (the first set),
    English when it names no supported language."""
    found: Mapping[str, str] = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = found.get(name)
        if value:
            return normalise(value.split(":")[0]) or DEFAULT
    return DEFAULT


@lru_cache(maxsize=None)
def catalog(code: str) -> gettext.NullTranslations:
    """The compiled catalog of ``code`` (English, or a missing file: the strings as written)."""
    if code == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[code],
                               fallback=True)


def use(code: str | None) -> str:
    """Speak ``code`` from now on in this thread of work (unsupported: English). Returns it."""
    chosen = normalise(code) or DEFAULT
    _current.set(chosen)
    return chosen


def current() -> str:
    code = _current.get()
    if code is None:
        found = None
        if _resolver is not None:
            try:
                found = _resolver()
            except Exception:
                found = None
        code = normalise(found) or DEFAULT
        _current.set(code)
    return code


def _(message: Any) -> Any:
    """``message`` in the current language (as written when it has no translation; a value that
    is not a text, such as None, comes back as it is)."""
    if not message or not isinstance(message, str):
        return message
    return catalog(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for the count ``n``, translated."""
    return catalog(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for translation where it is written; ``_()`` translates it when shown."""
    return message


class Message(str):
    """A sentence made where no visitor's language is known — a computation shared by every
    visitor, a corpus built once and cached — that a page says again in its own language.

    It is the English text itself (a ``str``: what logs, tests and the CLI read), and it keeps its
    template (marked with ``N_`` where it is written) and values: ``shown(message)`` formats the
    translated template."""

    template: str
    values: dict

    def __new__(cls, template: str, **values) -> "Message":
        message = super().__new__(cls, template.format(**values))
        message.template, message.values = template, values
        return message

    def __getnewargs_ex__(self):        # a cache that pickles it gets the same message back
        return (self.template,), self.values


def shown(text: Any) -> Any:
    """``text`` in the current language: a ``Message`` said again from its template, a marked
    message (a class name, a statistic's name, a verdict the data hold) translated, anything
    else as it is."""
    if isinstance(text, Message):
        return _(text.template).format(**text.values)
    return _(text)


def spoken(language: str, build):
    """``build()`` in ``language`` (a job's messages, made outside its visitor's page), leaving
    this thread's own language as it was."""
    def run():
        use(language)
        return build()
    return contextvars.copy_context().run(run)
