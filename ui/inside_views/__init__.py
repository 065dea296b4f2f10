"""The *Inside* panels: on the classifier pages the first layer's weights as pictures, the forward
pass layer by layer, what decided a prediction and where the classes live (``classifier``); on the
GAN pages D's scores over training and now, what D's gradient asks of a generated image, and the
nearest training images of a generated one (``gan``); what both share (``common``). The
computing is ``core/inside/``; these modules only lay it out.

``ClassifierPanel.inside`` and ``GANPanel.inside`` call ``classifier_inside`` and ``gan_inside``.
"""
from __future__ import annotations

from ui.inside_views.classifier import classifier_inside
from ui.inside_views.common import wait_for
from ui.inside_views.gan import gan_inside

__all__ = ["classifier_inside", "gan_inside", "wait_for"]
