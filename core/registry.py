"""MODELS: one explicit dict from name to ModelSpec (no registration as an import side effect)."""
from core.models import cnn, lm, mlp, resnet, softmax
from core.models.gans import dcgan, gan
from core.models.gans import began, infogan
from core.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in
                                (softmax.SPEC, mlp.SPEC, cnn.SPEC, resnet.SPEC,
                                 gan.SPEC, dcgan.SPEC, infogan.SPEC, began.SPEC,
                                 lm.SPEC)}
CLASSIFIERS = [name for name, spec in MODELS.items() if spec.task == "classification"]
GANS = [name for name, spec in MODELS.items() if spec.task == "gan"]


def get(name: str) -> ModelSpec:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name]
