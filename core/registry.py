"""MODELS: one explicit dict from name to ModelSpec (no registration as an import side effect)."""
from core.models import cnn, mlp, resnet, softmax
from core.models.spec import ModelSpec

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in
                                (softmax.SPEC, mlp.SPEC, cnn.SPEC, resnet.SPEC)}


def get(name: str) -> ModelSpec:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name]
