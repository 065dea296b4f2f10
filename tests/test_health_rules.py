"""The health monitor as an ordered list of rules: every rule a health lists exists, the first rule
that finds something decides, and a model's health can add, drop or reorder rules."""
import pytest

from core import diagnostics
from core.diagnostics import GANHealth, Verdict, Window
from core.models.gans.began import BEGANHealth
from core.models.gans.hinge_health import HingeHealth
from core.models.gans.stylegan import StyleGANHealth
from core.registry import MODELS
from tests.test_diagnostics import HEALTHY, history, noisy

HEALTHS = {"tutorial": diagnostics.TUTORIAL_RULES, "hinge": HingeHealth(), "began": BEGANHealth(),
           "stylegan": StyleGANHealth(),
           **{name: spec.health for name, spec in MODELS.items() if spec.health is not None}}
# D wins outright *and* the samples have collapsed: two rules find something.
BOTH = {**HEALTHY, "loss/discriminator": noisy(0.02, 0.005), "d_accuracy/mean": noisy(0.995, 0.002),
        "loss/generator": lambda step: 3 + step / 80, "diversity/ratio": noisy(0.1, 0.01)}


@pytest.mark.parametrize("name", list(HEALTHS))
def test_every_listed_rule_is_a_method(name):
    health = HEALTHS[name]
    assert health.rules and len(set(health.rules)) == len(health.rules)
    for rule in health.rules + health.collapse_signs + ("healthy", "numbers"):
        assert callable(getattr(health, rule, None)), f"{name}: no method {rule}"


def test_the_first_rule_that_finds_something_decides():
    frame = history(**BOTH)
    health = GANHealth()
    window = Window(health, frame, {})
    assert health.convergence_failure(window) is not None
    assert health.mode_collapse(window) is not None
    assert health.diagnose(frame).state == "convergence failure"

    class CollapseFirst(GANHealth):
        rules = ("warming_up", "mode_collapse", "convergence_failure")
    verdict = CollapseFirst().diagnose(frame)
    assert verdict.state == "mode collapse" and "generated images are 0.1" in verdict.evidence[0]


def test_a_health_can_add_a_rule_and_its_verdict_carries_the_numbers_and_remedies():
    class GradientWatch(GANHealth):
        rules = GANHealth.rules + ("exploding_gradient",)

        def exploding_gradient(self, w: Window) -> Verdict | None:
            """D's gradient norm above 100 in the window."""
            norms = w.recent("grad_norm/discriminator")
            if not norms.empty and norms.max() > 100:
                return w.verdict("oscillation", "Exploding gradient.", [f"max {norms.max():.0f}"])
            return None

    health = GradientWatch()
    assert health.diagnose(history(**HEALTHY)).state == "healthy"
    verdict = health.diagnose(history(**HEALTHY, **{"grad_norm/discriminator": lambda s: 500.0}),
                              {"latent_dim": 1})
    assert verdict.headline == "Exploding gradient." and verdict.evidence[0] == "max 500"
    assert verdict.evidence[1].startswith("mean d_loss")                  # the window's numbers
    assert verdict.remedies[0].changes == {"latent_dim": 100} and verdict.window == (1000, 1200)
    # An earlier rule still wins over the added one.
    assert health.diagnose(history(**BOTH, **{"grad_norm/discriminator": lambda s: 500.0})
                           ).state == "convergence failure"


def test_models_list_their_own_rules():
    assert BEGANHealth.rules[:3] == ("warming_up", "equilibrium_lost", "m_global_rising")
    assert "near_duplicates" not in BEGANHealth.collapse_signs
    cyclegan, pix2pix = MODELS["cyclegan"].health, MODELS["pix2pix"].health
    assert {"round_trip_broken", "not_translating"} <= set(cyclegan.rules)
    assert not {"round_trip_broken", "not_translating"} & set(pix2pix.rules)


def test_the_window_reads_each_metric_once(monkeypatch):
    reads = []
    original = diagnostics.series
    monkeypatch.setattr(diagnostics, "series",
                        lambda frame, name: reads.append(name) or original(frame, name))
    assert GANHealth().diagnose(history(**HEALTHY)).state == "healthy"
    assert reads.count("loss/discriminator") == 1 and reads.count("diversity/ratio") == 1
