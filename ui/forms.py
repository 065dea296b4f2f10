"""A config form generated from the config dataclass, with presets that set every widget."""
from __future__ import annotations

import dataclasses

import streamlit as st

from core.config import LR_RANGES, ConfigError, from_dict
from core.demo import field_cap
from core.i18n import N_, _
from ui import state

LR_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 5e-2, 0.1,
           0.2, 0.3, 0.5, 1.0, 3.0, 10.0)
BATCH_GRID = (1, 2, 4, 8, 16, 20, 32, 50, 64, 100, 128, 200, 256, 512, 1024, 2048, 4096)
DECAY_GRID = (0.0, 1e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1)
# Settings that matter close to 1 (Adam's betas, momentum, decays of running averages): a slider
# in steps of 0.01 would show 0.999 as "1.00" and could not reach it.
NEAR_ONE_GRID = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)
UI_MAX_EPOCHS = 60
# The preset box's value when the form no longer shows a preset (the box shows it translated).
CUSTOM = N_("Custom settings (changed from the preset)")


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.field.{name}"


def _preset_values(spec, preset: str) -> dict:
    defaults = dataclasses.asdict(spec.config_cls())
    return {**defaults, **spec.presets.get(preset, {})}


def _apply_preset(spec, prefix: str) -> None:
    preset = st.session_state[f"{prefix}.preset"]
    if preset not in spec.presets:      # "Custom": the form keeps what it shows
        return
    hidden = {f.name for f in dataclasses.fields(spec.config_cls) if f.metadata.get("hidden")}
    for name, value in _preset_values(spec, preset).items():
        if name not in hidden or _key(prefix, name) not in st.session_state:
            st.session_state[_key(prefix, name)] = value


def _differs_from_preset(spec, prefix: str, preset: str) -> bool:
    """Whether the form (as the last run left it) no longer shows ``preset``'s values."""
    wanted = _preset_values(spec, preset)
    for field in dataclasses.fields(spec.config_cls):
        key = _key(prefix, field.name)
        if field.metadata.get("hidden") or key not in st.session_state:
            continue
        if st.session_state[key] != wanted.get(field.name, field.default):
            return True
    return False


def showable(spec, values: dict) -> dict:
    """The ``values`` (a loaded model's settings) the form's widgets can show: fields of this
    config whose value is one of a select's choices, or inside a slider's range (learning rates
    and batch sizes join their grid). What cannot be shown keeps the form's value."""
    fields = {f.name: f for f in dataclasses.fields(spec.config_cls)}
    shown = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None or field.metadata.get("hidden"):
            continue
        meta = field.metadata
        if meta.get("choices"):
            if value in meta["choices"]:
                shown[name] = value
        elif field.type in (bool, "bool"):
            if isinstance(value, bool):
                shown[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            low, high = meta.get("low"), meta.get("high")
            if meta.get("log") or name in ("batch_size", "weight_decay", "epochs") or (
                    (low is None or value >= low) and (high is None or value <= high)):
                shown[name] = int(value) if field.type in (int, "int") else float(value)
    return shown


def _grid(base: tuple, value) -> list:
    return sorted(set(base) | {value})


def _within(base: tuple, low, high) -> tuple:
    return tuple(v for v in base if (low is None or v >= low) and (high is None or v <= high))


def lr_options(field: dataclasses.Field, value: float, optimizer: str | None = None) -> list:
    """A learning rate's slider stops: ``LR_GRID`` within the field's range and, for a config
    with an optimizer choice, within that optimizer's ``LR_RANGES`` (Adam 1e-5…1e-2, SGD
    1e-4…10); the current value joins them (a link or a loaded model may hold another)."""
    low, high = field.metadata.get("low"), field.metadata.get("high")
    if optimizer in LR_RANGES:
        low = max(low or 0.0, LR_RANGES[optimizer][0])
        high = min(high if high is not None else float("inf"), LR_RANGES[optimizer][1])
    return _grid(_within(LR_GRID, low, high), value)


def near_one(field: dataclasses.Field) -> bool:
    """A float setting in [0, 1) whose useful values crowd near 1 (β, momentum, a decay)."""
    high = field.metadata.get("high")
    return field.type in (float, "float") and high is not None and 0.99 <= high < 1.0


def field_label(field: dataclasses.Field) -> str:
    """A field's label as the form shows it, translated: its ``label`` (marked where the config
    declares it) or its name with spaces (those are collected for the catalog separately)."""
    return _(field.metadata.get("label") or field.name.replace("_", " "))


def _widget(field: dataclasses.Field, key: str):
    meta = dict(field.metadata)
    label = field_label(field)
    help_text = _(meta.get("help"))    # param()'s help: Babel extracts it where it is declared
    cap = field_cap(state.limits(), field)
    if cap is not None and meta.get("high") is not None and cap < meta["high"]:
        meta["high"] = cap  # the hosted demo's limit: the slider stops there
        help_text = _("{help} (this shared demo allows at most {cap:g})").format(
            help=help_text, cap=cap)
        if field.name == "time_budget_s":   # every job is capped: 0 is not "no limit" here
            help_text = _("stop after this many seconds; the schedule follows the budget. On "
                          "this shared demo every job stops after at most {cap:g} s (0 = "
                          "{cap:g} s)").format(cap=cap)
        if isinstance(st.session_state[key], (int, float)) and st.session_state[key] > cap:
            st.session_state[key] = type(st.session_state[key])(cap)
    value = st.session_state[key]
    # Each widget is also given its value as its default (`value=`/`index=`; the key stays its
    # identity): a browser that drops a widget's state (a rerun cut short just after a page
    # opened from a link) then paints the real value, not the slider's minimum.
    if meta.get("choices"):
        off = meta.get("zero_means")   # e.g. "off": what a 0 in the select stands for
        choices = list(meta["choices"])
        return st.selectbox(label, choices, key=key, help=help_text,
                            index=choices.index(value) if value in choices else 0,
                            format_func=lambda v: _(off) if off and v == 0 else
                            (f"{v:g}" if isinstance(v, float) else str(v)))
    if field.type in (bool, "bool"):
        return st.toggle(label, value=bool(value), key=key, help=help_text)
    if meta.get("log"):
        optimizer = st.session_state.get(key.rsplit(".", 1)[0] + ".optimizer")
        return st.select_slider(label, lr_options(field, value, optimizer), value, key=key,
                                help=help_text, format_func=lambda v: f"{v:g}")
    if near_one(field):
        options = _grid(_within(NEAR_ONE_GRID, meta.get("low"), meta.get("high")), value)
        return st.select_slider(label, options, value, key=key, help=help_text,
                                format_func=lambda v: f"{v:g}")
    if field.name == "batch_size":
        return st.select_slider(label, _grid(BATCH_GRID, value), value, key=key,
                                help=help_text)
    if field.name == "weight_decay":
        return st.select_slider(label, _grid(DECAY_GRID, value), value, key=key, help=help_text,
                                format_func=lambda v: f"{v:g}")
    low, high = meta.get("low"), meta.get("high")
    if field.type in (int, "int"):
        if field.name == "epochs":
            high = max(UI_MAX_EPOCHS, value) if cap is None else int(cap)
        if high - low <= 4096 and field.name not in ("seed", "train_subset"):
            return st.slider(label, int(low), int(high), int(value), key=key, help=help_text)
        return st.number_input(label, int(low), int(high), int(value), key=key, help=help_text,
                               step=1)
    if field.name == "time_budget_s":
        return st.number_input(label, float(low), float(high), float(value), key=key,
                               help=help_text, step=30.0)
    return st.slider(label, float(low), float(high), float(value), key=key, help=help_text,
                     step=0.01)


def config_form(spec, prefix: str):
    """Render the preset select and one widget per field; return (config or None, error or None)."""
    preset_key = f"{prefix}.preset"
    if preset_key not in st.session_state:
        st.session_state[preset_key] = next(iter(spec.presets))
        _apply_preset(spec, prefix)
    chosen = st.session_state[preset_key]
    if chosen in spec.presets and _differs_from_preset(spec, prefix, chosen):
        st.session_state[preset_key] = CUSTOM   # a slider moved, a remedy or a loaded model
        st.session_state[f"{prefix}.preset_base"] = chosen   # what the settings started from
    # The options stay the presets' English names (links and the code compare them); the box
    # shows them translated.
    st.selectbox(_("Preset"), [*spec.presets, CUSTOM], key=preset_key, on_change=_apply_preset,
                 args=(spec, prefix), format_func=_,
                 help=_("sets every control below; change any of them after (the box then says "
                        "Custom)"))
    fields = dataclasses.fields(spec.config_cls)
    for field in fields:  # a field added to the config later gets its default
        st.session_state.setdefault(_key(prefix, field.name), field.default)
    # Hidden fields (a language model's corpus) are set by the page's own widgets, not here.
    values = {f.name: st.session_state[_key(prefix, f.name)] for f in fields
              if f.metadata.get("hidden")}
    fields = [f for f in fields if not f.metadata.get("hidden")]
    basic = [f for f in fields if not f.metadata.get("advanced")]
    advanced = [f for f in fields if f.metadata.get("advanced")]
    for field in basic:
        values[field.name] = _widget(field, _key(prefix, field.name))
    with st.expander(_("Advanced settings")):
        for field in advanced:
            values[field.name] = _widget(field, _key(prefix, field.name))
    try:
        return from_dict(spec.config_cls, values), None
    except ConfigError as error:
        return None, str(error)
