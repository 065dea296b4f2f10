import numpy as np
import pandas as pd

from core.diagnostics import THRESHOLDS, diagnose
from core.registry import MODELS


def history(steps=1200, every=10, **series):
    """A metrics frame (long form) from per-name functions of the step."""
    rows = []
    for step in range(every, steps + 1, every):
        for name, value in series.items():
            rows.append([step, step / 100, name, value(step)])
    return pd.DataFrame(rows, columns=["step", "epoch", "name", "value"])


rng = np.random.default_rng(0)
noisy = lambda centre, spread: (lambda step: centre + rng.normal(0, spread))
HEALTHY = {"loss/discriminator": noisy(0.65, 0.05), "loss/generator": noisy(1.2, 0.2),
           "d_accuracy/mean": noisy(0.8, 0.03), "diversity/ratio": noisy(0.9, 0.05),
           "classes/covered": lambda step: 10, "classes/entropy": lambda step: 0.95}


def test_healthy_history_is_healthy():
    verdict = diagnose(history(**HEALTHY))
    assert verdict.state == "healthy" and not verdict.remedies and not verdict.is_problem


def test_early_runs_are_warming_up():
    assert diagnose(history(steps=THRESHOLDS.warmup_steps - 10, **HEALTHY)).state == "warming up"
    assert diagnose(pd.DataFrame(columns=["step", "epoch", "name", "value"])).state == "warming up"


def test_convergence_failure_is_flagged_with_remedies():
    series = {**HEALTHY, "loss/discriminator": noisy(0.02, 0.005),
              "d_accuracy/mean": noisy(0.995, 0.002),
              "loss/generator": lambda step: 3 + step / 80}
    verdict = MODELS["dcgan"].health.diagnose(history(**series), {
        "generator_width": 2, "discriminator_width": 2, "learning_rate_d": 2e-4})
    assert verdict.state == "convergence failure"
    labels = [remedy.label for remedy in verdict.remedies]
    assert labels[0].startswith("More capacity") and "Label smoothing (real = 0.9)" in labels
    assert any("d_loss < 0.1" in line for line in verdict.evidence)
    assert verdict.window == (1000, 1200)


def test_d_winning_briefly_is_not_failure():
    series = {**HEALTHY, "loss/discriminator": lambda step: 0.02 if step > 1180 else 0.6,
              "d_accuracy/mean": lambda step: 0.99 if step > 1180 else 0.8,
              "loss/generator": lambda step: 5.0 if step > 1180 else 1.0}
    assert diagnose(history(**series)).state != "convergence failure"


def test_mode_collapse_from_diversity_or_classes():
    low_diversity = diagnose(history(**{**HEALTHY, "diversity/ratio": noisy(0.1, 0.01)}),
                             {"latent_dim": 1})
    assert low_diversity.state == "mode collapse"
    assert low_diversity.remedies[0].changes == {"latent_dim": 100}
    few_classes = diagnose(history(**{**HEALTHY, "classes/covered": lambda step: 2}))
    assert few_classes.state == "mode collapse" and "only 2.0 of 10 classes" in few_classes.evidence[0]
    early = diagnose(history(steps=600, **{**HEALTHY, "classes/covered": lambda step: 2}))
    assert early.state == "healthy"  # blurry early samples: classes are not judged yet
    partial = diagnose(history(**{**HEALTHY, "classes/covered": lambda step: 5,
                                  "classes/entropy": lambda step: 0.6}))
    assert partial.state == "mode collapse" and partial.headline.startswith("Partial")


def test_oscillation():
    series = {**HEALTHY, "loss/discriminator": lambda step: 0.2 if (step // 10) % 2 else 1.6,
              "loss/generator": lambda step: 0.4 if (step // 10) % 2 else 4.5}
    verdict = diagnose(history(**series), {"learning_rate_d": 2e-4, "learning_rate_g": 2e-4})
    assert verdict.state == "oscillation"
    assert any(r.changes == {"learning_rate_d": 4e-4, "learning_rate_g": 1e-4} for r in verdict.remedies)


def test_near_duplicates_flag_collapse_before_the_class_checks_start():
    """nz = 1: many z draw almost the same picture. Caught by the nearest-neighbour ratio at a
    few hundred steps, before the class checks (1,000 steps) and while the spread looks fine."""
    early = {**HEALTHY, "diversity/nearest": noisy(0.01, 0.001)}
    verdict = diagnose(history(steps=400, **early), {"latent_dim": 1})
    assert verdict.state == "mode collapse"
    assert "near-duplicates" in verdict.evidence[0]
    assert any(remedy.changes == {"latent_dim": 100} for remedy in verdict.remedies)
    fine = diagnose(history(steps=400, **{**HEALTHY, "diversity/nearest": noisy(0.5, 0.05)}))
    assert fine.state == "healthy" and any("nearest-neighbour" in note for note in fine.evidence)


def test_nearest_neighbour_distance_sees_duplicates():
    import torch
    from core.models.gans.base import nearest_neighbour_distance
    varied = torch.rand(64, 1, 28, 28)
    duplicated = varied[:8].repeat(8, 1, 1, 1) + 1e-4 * torch.randn(64, 1, 28, 28)
    assert float(nearest_neighbour_distance(duplicated)) < 0.01 * float(
        nearest_neighbour_distance(varied))
