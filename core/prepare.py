"""Compute once, at set-up, the slow results the pages would otherwise compute on a learner's
first click: the shipped CNN's features of the 60,000 training images (a GAN's *nearest
training images*), and the t-SNE class maps of every shipped classifier and of the raw pixels
(the *Inside* panel's class maps). They go to the same disk cache the pages read
(``core.paths.cache_root()``), under the same names, so a page finds them at once.

``python -m core.cli prepare`` (``make run`` calls it) does only what is missing: a second call
only checks (about 10 s on 2 cores: loading the data and the models).
"""
from __future__ import annotations

import time
from typing import Callable

from core import checkpoints, gan_eval, inside
from core.data import images_status, load_images
from core.i18n import _, shown
from core.paths import shipped_checkpoint
from core.registry import CLASSIFIERS, MODELS, load_model


def _compute(name: str, compute: Callable, say: Callable[[str], None], what: str) -> bool:
    """Compute and store ``name`` unless it is on disk; True when it was computed now."""
    if inside.load_cached(name) is not None:
        say(_("  {what}: ready").format(what=what))
        return False
    started = time.perf_counter()
    last = [0.0]

    def progress(fraction: float, text: str) -> None:
        if time.perf_counter() - last[0] > 5:
            last[0] = time.perf_counter()
            words = shown(text)   # a marked message, or a Message with its values
            say(_("  {what}: {fraction:.0%} ({text})").format(what=what, fraction=fraction,
                                                              text=words))
    inside.save_cached(name, compute(progress))
    say(_("  {what}: computed in {seconds:.0f} s").format(
        what=what, seconds=time.perf_counter() - started))
    return True


def prepare(say: Callable[[str], None] = print) -> list[str]:
    """Fill the cache for the shipped models; returns the names of what was computed now."""
    available, where = images_status()
    if not available:
        say(_("Fashion-MNIST is not here ({where}): nothing to prepare").format(where=where))
        return []
    data = load_images()
    computed = []
    say(_("Preparing what the pages would compute on a first click (once; kept in the runs "
          "folder):"))
    judge = gan_eval.shipped_judge()
    if judge is not None:
        name = inside.bank_name(gan_eval.CLASSIFIER, data)
        if _compute(name, lambda progress: inside.training_bank(judge, data, progress), say,
                    _("nearest training images (the shipped CNN's features of every "
                      "training image)")):
            computed.append(name)
    count = min(inside.MAP_IMAGES, len(data.test_images))
    name = inside.pixel_map_name(data, count)
    if _compute(name, lambda progress: inside.pixel_map(data, count, progress), say,
                _("class map of the raw pixels")):
        computed.append(name)
    for model_name in CLASSIFIERS:
        path = shipped_checkpoint(model_name)
        if not path.exists():
            continue
        model = load_model(checkpoints.load(str(path)))
        name = inside.class_map_name(inside.model_fingerprint(model), data, count)
        if _compute(name, lambda progress, model=model: inside.class_map(model, data, count, progress), say,
                    _("class map of the shipped {model}").format(
                        model=_(MODELS[model_name].title))):
            computed.append(name)
    return computed
