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


def test_a_run_that_ended_before_the_first_verdict_says_it_was_too_short():
    short = history(steps=80, **HEALTHY)
    assert diagnose(short).state == "warming up"                        # still running: wait
    verdict = MODELS["dcgan"].health.judge(short, {}, ended=True)
    assert verdict.state == "too short" and "ended at step 80" in verdict.headline
    assert MODELS["dcgan"].health.judge(history(**HEALTHY), {}, ended=True).state == "healthy"


def test_a_healthy_run_near_equilibrium_is_explained_not_contradicted():
    """D near chance (d_loss 1.34, right 64%), as the shipped DCGAN ends: healthy, and the note
    says why the tutorial's band does not describe it; classes are whole numbers."""
    near_chance = {**HEALTHY, "loss/discriminator": noisy(1.34, 0.02),
                   "d_accuracy/mean": noisy(0.64, 0.01), "classes/covered": lambda step: 8 + step % 2}
    verdict = diagnose(history(**near_chance))
    assert verdict.state == "healthy"
    note = next(line for line in verdict.evidence if line.startswith("d_loss 1.3"))
    assert "near its value at chance" in note and "still right 64%" in note
    assert "D is near chance" not in note         # D right 64% of the time is not at chance
    assert "2 ln 2" in note and "fine early on" not in note
    assert any(line.startswith("about 8 of 10 classes covered") or
               line.startswith("about 9 of 10 classes covered") for line in verdict.evidence)
    assert "2 ln 2" in MODELS["dcgan"].health.explanation
