"""Command line on the same loop as the UI.

    python -m core.cli train cnn --epochs 5 --learning_rate 0.003
    python -m core.cli train resnet --preset recommended --export checkpoints/resnet.pt
    python -m core.cli train lm --corpus en-fortunes --cell gru --epochs 4
    python -m core.cli evaluate checkpoints/cnn.pt      # prints name=value lines
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import sys
import time
from pathlib import Path

from core import checkpoints, jobs, runs, training
from core.config import ConfigError, coerce, from_dict
from core.data import fashion_mnist, load_images
from core.data.text import CorpusError
from core.device import configure
from core.registry import MODELS


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line instead of usage + message
        self.exit(2, f"error: {message}\n")


def preset_values(spec, name: str | None) -> dict:
    """Look a preset up by its first word, case-insensitive ("tutorial", "recommended")."""
    if not name:
        return {}
    for title, values in spec.presets.items():
        if title.lower().startswith(name.lower()):
            return dict(values)
    raise ConfigError(f"unknown preset {name!r} for {spec.name}; choose one of "
                      + ", ".join(title.split()[0].lower() for title in spec.presets))


def export(payload: dict, path: str) -> None:
    """A shipped checkpoint: no optimizer state, float weights stored as float16 (half the bytes)."""
    slim = {key: value for key, value in payload.items() if key not in ("optimizer", "format_version")}
    slim["state_dict"] = {net: {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
                          for net, sd in payload["state_dict"].items()}
    checkpoints.save(path, slim)


def load_trainer(payload: dict):
    spec = MODELS[payload["model"]]
    config = from_dict(spec.config_cls, payload["config"], strict=False)
    return spec, config


def evaluate_gan(spec, config, payload: dict, data) -> dict[str, float]:
    from core import gan_eval
    from core.gan_task import image_shape_for, make_trainer
    trainer = make_trainer(spec, config, image_shape_for(config, data), configure())
    trainer.load_state(payload, with_optimizer=False)  # load_state_dict casts float16 back
    values = gan_eval.evaluate_generator(trainer, data)
    if hasattr(trainer, "latent"):   # infoGAN: what each code learned, 10,000 samples
        values.update(gan_eval.code_metrics(gan_eval.code_meanings(trainer, gan_eval.judge_for(data))))
    return values


class BestKeeper:
    """``--keep_best N`` for GANs: every N epochs, score the checkpoint on 10,000 samples (classes
    covered, then Fréchet distance to 10,000 *training* images, so the test set plays no part in
    the choice) and copy it to ``best.pt`` when it beats the best so far. GAN quality wanders
    from epoch to epoch; the last epoch is rarely the best one."""

    SAMPLES = 10_000

    def __init__(self, spec, config, data, every: int, folder):
        from core import gan_eval
        from core.gan_task import image_shape_for, make_trainer
        self.every, self.data = every, data
        self.trainer = make_trainer(spec, config, image_shape_for(config, data), configure())
        judge = gan_eval.judge_for(data, self.trainer.device)
        if judge is None:
            raise ValueError("needs Fashion-MNIST-like data and checkpoints/cnn.pt")
        # The reference images never change: their features are computed once.
        self.reference = gan_eval.reference_features(judge, data.train_images[-self.SAMPLES:])
        self.path = Path(folder) / "best.pt"
        self.best: tuple[float, float] | None = None
        self.best_epoch = self.last_epoch = self.steps_per_epoch = 0

    def on_event(self, event) -> str | None:
        """Score the checkpoint written at the end of every N-th epoch; a line to print, or None."""
        if isinstance(event, training.Started):
            self.steps_per_epoch = event.steps_per_epoch
            return None
        if not isinstance(event, training.Checkpointed) or "snapshots" in event.path:
            return None
        epoch, within = divmod(event.step, self.steps_per_epoch)
        # A timed save can fall on the epoch's end too: score each epoch once.
        if within or epoch % self.every or epoch == self.last_epoch:
            return None
        self.last_epoch = epoch
        from core import gan_eval
        self.trainer.load_state(checkpoints.load(event.path), with_optimizer=False)
        values = gan_eval.evaluate_generator(self.trainer, self.data, count=self.SAMPLES, seed=1,
                                             real_features=self.reference)
        score = (values["quality/covered"], -values["quality/frechet_distance"])
        is_best = self.best is None or score > self.best
        if is_best:
            self.best, self.best_epoch = score, epoch
            shutil.copyfile(event.path, self.path)
        return (f"epoch {epoch} selection: classes={values['quality/covered']:.0f} "
                f"frechet_distance/train={values['quality/frechet_distance']:.1f}"
                + (" (best so far)" if is_best else f" (best: epoch {self.best_epoch})"))


def load_data(spec, config):
    return spec.load_data(config) if spec.load_data else load_images()


def evaluate_language_model(config, payload: dict) -> dict[str, float]:
    """Validation perplexity of the checkpoint and of the n-gram models on the same tokens."""
    from core import lm_task, ngram
    from core.models.lm import SPEC
    corpus = SPEC.load_data(config)
    model = lm_task.LanguageModel.from_checkpoint(payload, configure())
    if model.vocab.itos != corpus.vocab.itos:
        raise ConfigError("the checkpoint's vocabulary differs from its corpus's: the corpus "
                          "changed since it was trained")
    val = corpus.val_ids[:lm_task.MAX_EVAL_TOKENS]
    metrics = {"perplexity/val": lm_task.perplexity(model.network, val)}
    curve = ngram.perplexity_curve(ngram.NGramCounts(corpus.train_ids, len(corpus.vocab)), val)
    for smoothing, values in curve.items():
        for order, value in enumerate(values, 1):
            metrics[f"ngram/{smoothing}/n{order}"] = value
    metrics["ngram/best"] = min(min(values) for values in curve.values())
    metrics["val_tokens"] = float(len(val))
    return metrics


def evaluate_checkpoint(path: str) -> dict[str, float]:
    payload = checkpoints.load(path)
    spec, config = load_trainer(payload)
    if spec.task == "language_model":
        return evaluate_language_model(config, payload)
    data = load_data(spec, config)
    if spec.task == "gan":
        return evaluate_gan(spec, config, payload, data)
    trainer = training.build_trainer(spec, config, data)
    trainer.load_state(payload, with_optimizer=False)
    _, _, test_x, test_y = training.prepare(data, trainer.device)
    result = training.evaluate(trainer, test_x, test_y, len(data.class_names))
    metrics = {"accuracy/test": result["accuracy"], "loss/test": result["loss"]}
    confusion = result["confusion"].double()
    for index, name in enumerate(data.class_names):
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        metrics[f"accuracy/class/{slug}"] = (confusion[index, index] / confusion[index].sum()).item()
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m core.cli", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help="train a model (flags: its config fields)",
                                       add_help=False)
    train_parser.add_argument("model")
    evaluate_parser = commands.add_parser("evaluate", help="evaluate a checkpoint on the test set")
    evaluate_parser.add_argument("checkpoint")
    arguments, rest = parser.parse_known_args(argv)

    if arguments.command == "evaluate":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        try:
            metrics = evaluate_checkpoint(arguments.checkpoint)
        except (checkpoints.CheckpointError, ConfigError, fashion_mnist.DataUnavailable,
                CorpusError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        for name, value in metrics.items():
            print(f"{name}={value:.4f}")
        return 0

    if arguments.model not in MODELS:
        parser.error(f"unknown model {arguments.model!r}; choose one of {', '.join(MODELS)}")
    spec = MODELS[arguments.model]
    # Flags generated from the config dataclass: one --field per hyper-parameter.
    flags = OneLineParser(prog=f"python -m core.cli train {spec.name}")
    for field in dataclasses.fields(spec.config_cls):
        flags.add_argument(f"--{field.name}", help=field.metadata.get("help"))
    flags.add_argument("--preset", help="start from a preset: " +
                       ", ".join(title.split()[0].lower() for title in spec.presets))
    flags.add_argument("--export", help="also write a slim shipped checkpoint here")
    flags.add_argument("--resume", help="continue from this checkpoint")
    if spec.task == "gan":
        flags.add_argument("--keep_best", type=int, default=0, metavar="N",
                           help="every N epochs score the model on 10,000 samples (classes "
                           "covered, then Fréchet distance to training images) and export the "
                           "best epoch")
    options = vars(flags.parse_args(rest))
    keep_best = options.pop("keep_best", 0)
    try:
        if keep_best < 0:
            raise ConfigError("--keep_best must be 0 (off) or a number of epochs")
        values = preset_values(spec, options.pop("preset"))
        export_path, resume_path = options.pop("export"), options.pop("resume")
        fields = {f.name: f for f in dataclasses.fields(spec.config_cls)}
        values.update({k: coerce(fields[k], v) for k, v in options.items() if v is not None})
        config = from_dict(spec.config_cls, values)
        resume = checkpoints.load(resume_path, expected_model=spec.name) if resume_path else None
        data = load_data(spec, config)
    except (ConfigError, checkpoints.CheckpointError, fashion_mnist.DataUnavailable,
            CorpusError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    run = runs.create(spec.name, config, note="cli")
    print(f"run {run.id}: {spec.name} {dataclasses.asdict(config)}", flush=True)
    started = time.perf_counter()
    final = None
    keeper = None
    if keep_best:
        try:
            keeper = BestKeeper(spec, config, data, keep_best, run.folder)
        except ValueError as error:   # not Fashion-MNIST-like data: nothing to judge with
            print(f"error: --keep_best {error}", file=sys.stderr)
            return 2
    for event in training.train(spec, config, data, checkpoint_dir=run.folder, resume=resume,
                                snapshot_every_steps=jobs.SNAPSHOT_EVERY_STEPS.get(spec.task, 0)):
        runs.record(run, event)
        line = keeper.on_event(event) if keeper else None
        if line:
            print(f"{line} elapsed={time.perf_counter() - started:.0f}s", flush=True)
        if isinstance(event, training.Started):
            print(f"device={event.device} parameters={event.parameters} steps={event.total_steps}",
                  flush=True)
        elif isinstance(event, training.Metrics) and spec.task == "gan" and \
                event.step % 200 == 0 and "loss/discriminator" in event.values:
            print(f"step {event.step} " + " ".join(
                f"{k}={v:.3f}" for k, v in event.values.items() if "/" in k and "speed" not in k)
                + f" elapsed={time.perf_counter() - started:.0f}s", flush=True)
        elif isinstance(event, training.Metrics) and "perplexity/val" in event.values:
            print(f"epoch {event.epoch:g} step {event.step} perplexity/val="
                  f"{event.values['perplexity/val']:.3f} elapsed={time.perf_counter() - started:.0f}s",
                  flush=True)
        elif isinstance(event, training.Metrics) and "speed/tokens_per_s" in event.values and \
                event.step % 500 == 0:
            print(f"step {event.step} perplexity/train={event.values['perplexity/train']:.3f} "
                  f"tokens/s={event.values['speed/tokens_per_s']:.0f}", flush=True)
        elif isinstance(event, training.Metrics) and "accuracy/test" in event.values:
            print(f"epoch {event.epoch:g} step {event.step} " + " ".join(
                f"{k}={v:.4f}" for k, v in event.values.items())
                + f" elapsed={time.perf_counter() - started:.0f}s", flush=True)
        elif isinstance(event, training.Failed):
            print(f"error: {event.message}", file=sys.stderr)
            return 1
        elif isinstance(event, training.Finished):
            final = event
    if export_path:
        chosen = run.checkpoint_path
        if keeper and keeper.best is not None:
            chosen = str(keeper.path)
            print(f"kept epoch {keeper.best_epoch} (best of the epochs scored)")
        export(checkpoints.load(chosen), export_path)
        print(f"exported {export_path}")
    for name, value in final.values.items():
        print(f"{name}={value:.4f}")
    print(f"time/seconds={time.perf_counter() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
