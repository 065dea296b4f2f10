"""Looking inside trained models, for the pages' *Inside* panels (pure torch/numpy: no Streamlit).

  looking        one look at a shared network at a time, on one thread, in eval mode
  classifier     a classifier's first-layer weights, every layer's output for one image,
                 saliency, SmoothGrad and Grad-CAM, its predictions
  class_map      2-D t-SNE maps of a classifier's features and of the raw pixels
  discriminator  GANs: D's score histograms (recorded during training and now) and the
                 gradient of its score with respect to a generated image
  nearest        GANs: the nearest training images of a generated one in the shipped CNN's features
  cache          slow results computed once in a worker thread and kept on disk; fingerprints
  pictures       values as pictures along plotly's colour scales

The names the pages use are gathered here (``from core import inside``; ``inside.saliency``).
They are the submodules' own objects: to replace one in a test, patch it where it is defined and
used (``core.inside.cache.cache_root``, not ``core.inside.cache_root``).
"""
from __future__ import annotations

from core.inside.cache import (CACHE_VERSION, Computations, Progress, cache_path,
                               computations, data_fingerprint, fingerprint_tensors, load_cached,
                               model_fingerprint, save_cached)
from core.inside.class_map import (MAP_IMAGES, TSNE_ITERATIONS, class_map, class_map_name,
                                   data_urls, embed_2d, features_words, neighbour_agreement,
                                   penultimate_features, pixel_map, pixel_map_name, png_data_url)
from core.inside.classifier import (SKIPPED_LAYERS, Activation, WeightPictures, explain,
                                    feature_maps, first_layer_weights, grad_cam, layers_of,
                                    predict, recording, saliency)
from core.inside.discriminator import (HISTOGRAM_BINS, HISTOGRAM_PREFIX, Push, ScoreHistogram,
                                       decision_boundary, discriminator_histogram,
                                       discriminator_push, histogram_metrics, real_for,
                                       reconstructs, recorded_histograms, scores_figure, scores_now,
                                       untouched)
from core.inside.looking import (as_batch, device_of, evaluation, looking, network_lock,
                                 network_of, one_thread)
from core.inside.nearest import bank_name, bank_tensor, nearest, training_bank, unit_features
from core.inside.pictures import (DIVERGING, HEAT, SEQUENTIAL, colour, grey, heat_overlay,
                                  magnitude_colours, signed_colours, to_rgb, viridis)

__all__ = [
    # looking
    "as_batch", "device_of", "evaluation", "looking", "network_lock", "network_of", "one_thread",
    # classifier
    "SKIPPED_LAYERS", "Activation", "WeightPictures", "explain", "feature_maps",
    "first_layer_weights", "grad_cam", "layers_of", "predict", "recording", "saliency",
    # class_map
    "MAP_IMAGES", "TSNE_ITERATIONS", "class_map", "class_map_name", "data_urls", "embed_2d",
    "features_words", "neighbour_agreement", "penultimate_features", "pixel_map", "pixel_map_name", "png_data_url",
    # discriminator
    "HISTOGRAM_BINS", "HISTOGRAM_PREFIX", "Push", "ScoreHistogram", "decision_boundary",
    "discriminator_histogram", "discriminator_push", "histogram_metrics", "real_for",
    "reconstructs", "recorded_histograms", "scores_figure", "scores_now", "untouched",
    # nearest
    "bank_name", "bank_tensor", "nearest", "training_bank", "unit_features",
    # cache
    "CACHE_VERSION", "Computations", "Progress", "cache_path", "computations", "data_fingerprint",
    "fingerprint_tensors", "load_cached", "model_fingerprint", "save_cached",
    # pictures
    "DIVERGING", "HEAT", "SEQUENTIAL", "colour", "grey", "heat_overlay", "magnitude_colours",
    "signed_colours", "to_rgb", "viridis",
]
