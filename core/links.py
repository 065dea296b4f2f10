"""A page's settings as a link: the preset and every changed field in the URL's query string.

``encode`` writes what differs from the chosen preset (so a link stays short and says what was
changed); ``decode`` reads a link back and refuses, with a notice each, whatever is unknown or
out of range: every value goes through the config class's own checks (``core.config.from_dict``:
type, range, choices, and ``check()`` for rules that tie fields together) before it is used.
Nothing here draws; ``ui/links.py`` reads and writes ``st.query_params`` with it.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from core.config import ConfigError, coerce, from_dict
from core.i18n import _

PRESET = "preset"
# Query parameters that are not settings (a demo visitor's id, a comparison or shared run).
RESERVED = (PRESET, "visitor", "comparison", "share", "run", "lang")
MAX_VALUE_CHARS = 200


def preset_slug(title: str) -> str:
    """"Tutorial defaults (Adam 2e-4, ...)" -> "tutorial-defaults-adam-2e-4"."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")


def find_preset(spec, slug: str) -> str | None:
    """The preset title a link names (its slug, or a prefix of exactly one slug)."""
    slug = (slug or "").strip().lower()
    if not slug:
        return None
    slugs = {preset_slug(title): title for title in spec.presets}
    if slug in slugs:
        return slugs[slug]
    matches = [title for key, title in slugs.items() if key.startswith(slug)]
    return matches[0] if len(matches) == 1 else None


def first_preset(spec) -> str | None:
    return next(iter(spec.presets), None)


def preset_values(spec, title: str | None) -> dict:
    """Every field's value under a preset (defaults for what it leaves alone)."""
    defaults = dataclasses.asdict(spec.config_cls())
    return {**defaults, **(spec.presets.get(title, {}) if title else {})}


def text(value) -> str:
    """A value as a link writes it; floats by ``repr`` so they read back exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def encode(spec, preset: str | None, config) -> dict[str, str]:
    """Query parameters for ``config`` chosen from ``preset``: the preset and the changed fields."""
    values = config if isinstance(config, dict) else dataclasses.asdict(config)
    base = preset_values(spec, preset)
    params = {PRESET: preset_slug(preset)} if preset else {}
    for name, value in values.items():
        if name in base and base[name] != value:
            params[name] = text(value)
    return params


def url(base: str, params: dict[str, str]) -> str:
    """``base`` (the page's address) with ``params`` as its query string."""
    base = base.split("?", 1)[0].split("#", 1)[0]
    return f"{base}?{urlencode(params)}" if params else base


@dataclass
class Link:
    preset: str | None                       # the preset title the settings start from
    values: dict                             # every field's value (valid together)
    changed: dict = field(default_factory=dict)   # the fields the link set (accepted)
    notices: list[str] = field(default_factory=list)   # what was refused, and why


def decode(spec, params: dict, caps=None) -> Link:
    """Settings from a link's query parameters. A value is used only when the config class
    accepts it (alone on the preset, then together with the others); everything else is
    dropped with a notice saying which and why. ``caps(field) -> max or None``: the hosted
    demo's limits, applied the same way."""
    notices = []
    raw_preset = params.get(PRESET)
    preset = first_preset(spec)
    if raw_preset is not None:
        found = find_preset(spec, str(raw_preset))
        if found is None:
            notices.append(_("preset {preset!r} is not one of this page's presets: kept "
                             "{kept!r}").format(preset=str(raw_preset)[:40], kept=_(preset)))
        else:
            preset = found
    base = preset_values(spec, preset)
    fields = {f.name: f for f in dataclasses.fields(spec.config_cls)}
    accepted = {}
    for name, raw in params.items():
        if name in RESERVED:
            continue
        raw = raw[-1] if isinstance(raw, (list, tuple)) and raw else raw
        shown = str(raw)[:40]
        if name not in fields:
            notices.append(_("{name!r} is not a setting of {page}: dropped").format(
                name=name[:40], page=_(spec.title)))
            continue
        if len(str(raw)) > MAX_VALUE_CHARS:
            notices.append(_("{name}: the value is too long: dropped").format(name=name))
            continue
        try:
            value = coerce(fields[name], raw)
            if isinstance(value, float) and value != value:
                raise ConfigError(_("{name} must be a number; got NaN").format(name=name))
            cap = caps(fields[name]) if caps else None
            if cap is not None and not isinstance(value, bool) and \
                    isinstance(value, (int, float)) and value > cap:
                raise ConfigError(_("{name} = {value} is over this demo's limit of {cap:g}").format(
                    name=name, value=value, cap=cap))
            from_dict(spec.config_cls, {**base, name: value})
        except (ConfigError, TypeError, ValueError) as error:
            notices.append(_("{name}={value!r} refused: {error}").format(
                name=name, value=shown, error=error))
            continue
        accepted[name] = value
    # Together: a rule that ties fields together (check()) may refuse a combination.
    while accepted:
        try:
            from_dict(spec.config_cls, {**base, **accepted})
            break
        except ConfigError as error:
            name = list(accepted)[-1]
            notices.append(_("{name}={value!r} refused with the other settings of the link: "
                             "{error}").format(name=name, value=text(accepted.pop(name)),
                                               error=error))
    return Link(preset, {**base, **accepted}, accepted, notices)
