"""Command line on the same loop as the UI: ``USAGE`` below (its ``--help`` shows it).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import sys
import time

from core import cards, checkpoints, distributed, figures, gan_eval, i18n, runs, training
from core.config import ConfigError, from_dict
from core.data import fashion_mnist, load_images
from core.data.sources import DataSource
from core.data.text import CorpusError
from core.device import configure, describe
from core.gan_task import KeepBest
from core.i18n import N_, _
from core.registry import MODELS, load_config
from core.worker import where

USAGE = N_("""Command line on the same loop as the UI.

    python -m core.cli train cnn --epochs 5 --learning_rate 0.003
    python -m core.cli train resnet --preset recommended --export checkpoints/resnet.pt
    python -m core.cli train lm --corpus en-fortunes --cell gru --epochs 4
    python -m core.cli evaluate checkpoints/cnn.pt      # prints name=value lines
    python -m core.cli evaluate checkpoints/biggan.pt --store   # measure once, store in the file
    python -m core.cli card RUN                          # a run's card (Markdown; --json, --out DIR)

Data-parallel (one process per CPU share or GPU; --batch_size is the global batch):

    torchrun --nproc_per_node 2 -m core.cli train cnn --epochs 2

On a Ray cluster (DLSTUDIO_RAY_ADDRESS, or --ray; --ray_workers N trains data-parallel on N
workers with Ray Train):

    python -m core.cli train cnn --ray ray://head:10001 --ray_workers 2
""")

PRINT_EVERY_STEPS = 200


class _TranslatedUsage:
    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, _("usage: ") if prefix is None else prefix)


class HelpFormatter(_TranslatedUsage, argparse.HelpFormatter):
    """argparse's help, its own words ("usage:", the headings) in the CLI's language too."""


class RawDescriptionHelpFormatter(_TranslatedUsage, argparse.RawDescriptionHelpFormatter):
    pass


class OneLineParser(argparse.ArgumentParser):
    def __init__(self, *args, add_help: bool = True, formatter_class=HelpFormatter, **kwargs):
        kwargs.update(add_help=False, formatter_class=formatter_class)
        super().__init__(*args, **kwargs)
        self._positionals.title = _("positional arguments")
        self._optionals.title = _("options")
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help=_("show this help message and exit"))

    def error(self, message: str):  # one clear line instead of usage + message
        self.exit(2, _("error: {message}").format(message=message) + "\n")


def preset_values(spec, name: str | None) -> dict:
    """Look a preset up by its first word, case-insensitive ("tutorial", "recommended")."""
    if not name:
        return {}
    for title, values in spec.presets.items():
        if title.lower().startswith(name.lower()):
            return dict(values)
    raise ConfigError(_("unknown preset {name!r} for {model}; choose one of {presets}").format(
        name=name, model=spec.name,
        presets=", ".join(title.split()[0].lower() for title in spec.presets)))


def export(payload: dict, path: str, trained: dict | None = None) -> None:
    """A shipped checkpoint: no optimizer state, float weights stored as float16 (half the bytes).
    ``trained`` (device, wall seconds) goes with it for the GAN history table."""
    slim = {key: value for key, value in payload.items() if key not in ("optimizer", "format_version")}
    if trained:
        slim["trained"] = dict(trained)
    slim["state_dict"] = {net: {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
                          for net, sd in payload["state_dict"].items()}
    checkpoints.save(path, slim)


def load_data(spec, config):
    return spec.load_data(config) if spec.load_data else load_images()


def evaluate_checkpoint(path: str, recompute: bool = False, store: bool = False,
                        say=lambda line: None) -> dict[str, float]:
    """The figures its model family measures a trained model by (accuracy per class; sample
    quality; perplexity against the n-grams), as name=value pairs. Read from the checkpoint when
    they were stored with these very weights (``core/figures.py``), else measured; ``store``
    also measures the model's page figures (``ModelSpec.figures``) and writes all of them into
    the checkpoint file."""
    payload = checkpoints.load(path)
    spec, config = load_config(payload)
    values = None if recompute else figures.stored(payload, figures.EVALUATE)
    # --store measures the page figures not yet stored with these weights (all with --recompute)
    missing = {name: measure for name, measure in spec.page_figures().items()
               if recompute or figures.stored(payload, name) is None} if store else {}
    if values is not None and not missing:
        say(_("(figures stored with this checkpoint; its weights match them: "
              "--recompute measures them again)"))
        return values
    model = spec.restore(spec, config, payload, configure())
    data = load_data(spec, config)
    if values is None:
        started = time.perf_counter()
        values = spec.evaluate(model, data)
        say(_("(measured in {seconds:.0f} s)").format(seconds=time.perf_counter() - started))
    if store:
        extra = {figures.EVALUATE: figures.plain(values)}
        judge = gan_eval.judge_for(data, model.device) if missing else None
        for name, measure in missing.items():
            started = time.perf_counter()
            extra[name] = figures.plain(measure(model, judge, data))
            say(_("(page figure {name}: {seconds:.0f} s)").format(
                name=name, seconds=time.perf_counter() - started))
        stored_payload = figures.attach({k: v for k, v in payload.items()
                                         if k != "format_version"}, extra)
        checkpoints.save(path, stored_payload)
        say(_("(stored {count} figure sets in {path})").format(count=len(extra), path=path))
    return values


def print_card(reference: str, as_json: bool, out: str | None) -> int:
    """``card RUN``: the run card the Runs page shows, as Markdown (pictures embedded) or JSON."""
    try:
        run = cards.resolve(reference)
        model = run.info["model"]
        if model not in MODELS:
            raise KeyError(_("the run is of a model this version does not know: {model!r}")
                           .format(model=model))
        card = cards.build(run, MODELS[model])
    except (KeyError, OSError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(_("error: {message}").format(message=message), file=sys.stderr)
        return 1
    if out:
        for path in cards.write(card, out):
            print(_("wrote {path}").format(path=path))
        return 0
    print(cards.to_json(card) if as_json else cards.markdown(card))
    return 0


def progress_line(event: training.Metrics, elapsed: float) -> str | None:
    """The line the CLI prints for a metrics event: every evaluation, and the training figures
    every PRINT_EVERY_STEPS steps."""
    if event.kind == "window" and event.step % PRINT_EVERY_STEPS:
        return None
    shown = " ".join(f"{name}={value:.4f}" for name, value in event.values.items()
                     if "/" in name and not name.startswith("speed/"))
    if event.kind == "window":
        return _("step {step} {metrics} elapsed={seconds:.0f}s").format(
            step=event.step, metrics=shown, seconds=elapsed)
    return _("epoch {epoch:g} step {step} {metrics} elapsed={seconds:.0f}s").format(
        epoch=event.epoch, step=event.step, metrics=shown, seconds=elapsed)


def help_text(text: str | None) -> str | None:
    """A config field's help, translated, as argparse reads it: a lone % would start a format
    of its own (StyleGAN's generator_ema says "5%")."""
    return _(text).replace("%", "%%") if text else text


def main(argv: list[str] | None = None) -> int:
    i18n.use(i18n.from_environment())     # English unless LANG (or LANGUAGE, LC_*) says otherwise
    parser = OneLineParser(prog="python -m core.cli", description=_(USAGE),
                           formatter_class=RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help=_("train a model (flags: its config fields)"),
                                       add_help=False)
    train_parser.add_argument("model")
    evaluate_parser = commands.add_parser("evaluate",
                                          help=_("evaluate a checkpoint on the test set"))
    evaluate_parser.add_argument("checkpoint")
    evaluate_parser.add_argument("--store", action="store_true",
                                 help=_("measure the figures (the page's too) not yet stored with "
                                        "these weights and store them in the checkpoint, beside "
                                        "a digest of its weights (all of them with --recompute)"))
    evaluate_parser.add_argument("--recompute", action="store_true",
                                 help=_("measure again even when the checkpoint has them stored"))
    card_parser = commands.add_parser("card", help=_("print a run's card (Markdown), or write it"))
    card_parser.add_argument("run", help=_("a run id or a run folder"))
    card_parser.add_argument("--json", action="store_true", help=_("print the card as JSON"))
    card_parser.add_argument("--out", metavar="FOLDER",
                             help=_("write card.md (pictures beside it) and card.json there"))
    commands.add_parser("prepare", help=_("compute once what the pages would on a first click "
                                          "(nearest training images, class maps); make run "
                                          "calls it"))
    arguments, rest = parser.parse_known_args(argv)
    unrecognized = _("unrecognized arguments: {arguments}").format(arguments=" ".join(rest))

    if arguments.command == "prepare":
        if rest:
            parser.error(unrecognized)
        from core.prepare import prepare
        prepare()
        return 0

    if arguments.command == "card":
        if rest:
            parser.error(unrecognized)
        return print_card(arguments.run, arguments.json, arguments.out)

    if arguments.command == "evaluate":
        if rest:
            parser.error(unrecognized)
        try:
            metrics = evaluate_checkpoint(arguments.checkpoint, arguments.recompute,
                                          arguments.store,
                                          say=lambda line: print(line, file=sys.stderr))
        except (checkpoints.CheckpointError, ConfigError, fashion_mnist.DataUnavailable,
                CorpusError) as error:
            print(_("error: {message}").format(message=error), file=sys.stderr)
            return 1
        for name, value in metrics.items():
            print(f"{name}={value:.4f}")
        return 0

    if arguments.model not in MODELS:
        parser.error(_("unknown model {name!r}; choose one of {models}").format(
            name=arguments.model, models=", ".join(MODELS)))
    spec = MODELS[arguments.model]
    # Flags generated from the config dataclass: one --field per hyper-parameter.
    flags = OneLineParser(prog=f"python -m core.cli train {spec.name}")
    for field in dataclasses.fields(spec.config_cls):
        flags.add_argument(f"--{field.name}", help=help_text(field.metadata.get("help")))
    flags.add_argument("--preset", help=_("start from a preset: {presets}").format(
        presets=", ".join(title.split()[0].lower() for title in spec.presets)))
    flags.add_argument("--export", help=_("also write a slim shipped checkpoint here"))
    flags.add_argument("--resume", help=_("continue from this checkpoint"))
    flags.add_argument("--ray", metavar="ADDRESS", default=os.environ.get("DLSTUDIO_RAY_ADDRESS"),
                       help=_("train on this Ray cluster (default: $DLSTUDIO_RAY_ADDRESS; "
                              "'local' starts one on this machine)"))
    flags.add_argument("--ray_workers", type=int, default=None, metavar="N",
                       help=_("with --ray: N data-parallel workers under Ray Train"))
    if spec.family == "gan":
        flags.add_argument("--keep_best", type=int, default=0, metavar="N",
                           help=_("every N epochs score the model on 10,000 samples (classes "
                                  "covered, then Fréchet distance to training images) and "
                                  "export the best epoch"))
    options = vars(flags.parse_args(rest))
    keep_best = options.pop("keep_best", 0)
    ray_address, ray_workers = options.pop("ray"), options.pop("ray_workers")
    try:
        if keep_best < 0:
            raise ConfigError(_("--keep_best must be 0 (off) or a number of epochs"))
        values = preset_values(spec, options.pop("preset"))
        export_path, resume_path = options.pop("export"), options.pop("resume")
        values.update({k: v for k, v in options.items() if v is not None})
        config = from_dict(spec.config_cls, values)   # strings are converted and checked here
        resume = checkpoints.load(resume_path, expected_model=spec.name) if resume_path else None
        data = None if ray_address else load_data(spec, config)   # (a cluster loads its own)
    except (ConfigError, checkpoints.CheckpointError, fashion_mnist.DataUnavailable,
            CorpusError) as error:
        print(_("error: {message}").format(message=error), file=sys.stderr)
        return 2

    if ray_address:
        return train_on_ray(spec, config, ray_address, ray_workers, resume, export_path)
    group = distributed.start()     # under torchrun: this is one of several workers
    try:
        return train_here(spec, config, data, resume, export_path, keep_best, group)
    finally:
        distributed.finish(group)


def train_on_ray(spec, config, address: str, workers: int | None, resume, export_path) -> int:
    """The job on a Ray cluster, through the app's own launcher; live lines as it goes."""
    os.environ["DLSTUDIO_RAY_ADDRESS"] = address
    if workers:
        os.environ["DLSTUDIO_RAY_WORKERS"] = str(workers)
    from core.data.sources import DataSource
    from core.jobs import JobManager
    jobs = JobManager(max_concurrent=1, backend="ray")
    job = jobs.submit(spec, config, DataSource.for_spec(spec), resume=resume)
    print(_("run {run}: {model} on Ray at {address}").format(
        run=job.run.id, model=spec.name, address=address), flush=True)
    started, printed = time.perf_counter(), 0
    while job.is_active or printed < len(job.rows):
        rows = job.rows[printed:]
        printed += len(rows)
        for step, epoch, name, value in rows:
            if "/" in name and not name.startswith("speed/") and step % PRINT_EVERY_STEPS == 0:
                print(_("step {step} {metric}").format(step=step, metric=f"{name}={value:.4f}"),
                      flush=True)
        time.sleep(0.5)
    if job.state != "finished":
        print(_("error: {message}").format(message=f"{job.state}: {job.message}"),
              file=sys.stderr)
        return 1
    if export_path:
        export(checkpoints.load(job.run.checkpoint_path), export_path)
        print(_("exported {path}").format(path=export_path))
    for name, value in job.final.items():
        print(f"{name}={value:.4f}")
    print(f"time/seconds={time.perf_counter() - started:.1f}")
    return 0


def train_here(spec, config, data, resume, export_path, keep_best: int, group) -> int:
    """Train in this process: alone, or as one rank of ``torchrun`` (rank 0 writes the run,
    prints and exports; the others train their shards)."""
    is_main = group is None or group.is_main
    device = distributed.device_of(group)
    if group is not None and device.type == "cpu":
        configure(threads=int(os.environ.get("DLSTUDIO_THREADS", "0"))
                  or distributed.threads_per_rank())
    if not is_main:
        for event in training.train(spec, config, data, resume=resume, device=device,
                                    parallel=group):
            if isinstance(event, training.Failed):
                return 1
        return 0
    run = runs.create(spec.name, config, note="cli" if group is None else "torchrun")
    run.set_status(data=cards.data_label(DataSource.for_spec(spec), dataclasses.asdict(config)))
    print(_("run {run}: {model} {settings}").format(
        run=run.id, model=spec.name, settings=dataclasses.asdict(config)), flush=True)
    started = time.perf_counter()
    final = None
    keeper = None
    if keep_best:
        try:
            keeper = KeepBest(spec, config, data, keep_best, run.folder)
        except ValueError as error:   # not Fashion-MNIST-like data: nothing to judge with
            print(_("error: --keep_best {message}").format(message=error), file=sys.stderr)
            return 2
    for event in training.train(spec, config, data, checkpoint_dir=run.folder, resume=resume,
                                device=device, parallel=group):
        runs.record(run, event)
        if isinstance(event, training.Started):
            backend = "cli" if group is None else "torchrun"
            run.set_status(backend=backend, host=socket.gethostname(),
                           ran_on=where(backend, group))
        line = keeper.on_event(event) if keeper else None
        if line:
            print(_("{line} elapsed={seconds:.0f}s").format(
                line=line, seconds=time.perf_counter() - started), flush=True)
        if isinstance(event, training.Started):
            if group is None:
                print(_("device={device} parameters={parameters} steps={steps}").format(
                    device=event.device, parameters=event.parameters, steps=event.total_steps),
                    flush=True)
            else:
                print(_("device={device} parameters={parameters} steps={steps} "
                        "workers={workers} backend={backend}").format(
                    device=event.device, parameters=event.parameters, steps=event.total_steps,
                    workers=group.world, backend=group.backend), flush=True)
        elif isinstance(event, training.Metrics):
            line = progress_line(event, time.perf_counter() - started)
            if line:
                print(line, flush=True)
        elif isinstance(event, training.Failed):
            print(_("error: {message}").format(message=event.message), file=sys.stderr)
            return 1
        elif isinstance(event, training.Finished):
            final = event
    if final is None:    # the loop ended without a Finished event: nothing to export
        print(_("error: training ended without finishing"), file=sys.stderr)
        return 1
    if export_path:
        chosen = str(run.checkpoint_path)
        if keeper and keeper.best is not None:
            chosen = str(keeper.path)
            print(_("kept epoch {epoch} (best of the epochs scored)").format(
                epoch=keeper.best_epoch))
        ran_on = describe() if group is None else where("torchrun", group)
        export(checkpoints.load(chosen), export_path,
               trained={"device": ran_on, "seconds": round(time.perf_counter() - started, 1)})
        print(_("exported {path}").format(path=export_path))
    for name, value in final.values.items():
        print(f"{name}={value:.4f}")
    print(f"time/seconds={time.perf_counter() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
