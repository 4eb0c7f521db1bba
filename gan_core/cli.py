"""The command line: ``models``, ``train``, ``sample``, ``project``, ``directions``,
``evaluate`` and ``export``.

Settings are flags named after the config fields (``--image-size`` or
``--image_size``), so the CLI, the web form and the JSON API share one
vocabulary. Every user error is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

EXIT_USAGE = 2
EXIT_FAILED = 1


class CLIError(Exception):
    """A user error, reported as one line with exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse prints the whole usage)."""

    def error(self, message: str):
        raise CLIError(f"{self.prog}: {message}")


def _flag_type(kind: str):
    return {"int": int, "float": float, "str": str}.get(kind, str)


def add_setting_flags(parser: argparse.ArgumentParser, schema: list[dict]) -> None:
    """One optional flag per setting; unset flags keep the family's defaults."""
    group = parser.add_argument_group("settings (see `python -m gan_core models`)")
    for spec in schema:
        names = [f"--{spec['name'].replace('_', '-')}"]
        if "_" in spec["name"]:
            names.append(f"--{spec['name']}")
        kwargs = {"dest": f"set_{spec['name']}", "default": None, "help": spec["help"]}
        if spec["type"] == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _flag_type(spec["type"])
            kwargs["metavar"] = spec["type"].upper()
        group.add_argument(*names, **kwargs)
    group.add_argument("--lr", type=float, default=None, help="Set both lr_g and lr_d.")


def settings_from_args(args: argparse.Namespace) -> dict:
    values = {
        k[4:]: v
        for k, v in vars(args).items()
        if k.startswith("set_") and v is not None
    }
    if getattr(args, "lr", None) is not None:
        values.setdefault("lr_g", args.lr)
        values.setdefault("lr_d", args.lr)
    return values


# -- models -------------------------------------------------------------------


def cmd_models(args: argparse.Namespace) -> int:
    from gan_core.config import config_schema
    from gan_core.registry import list_families

    families = list_families()
    if args.json:
        print(
            json.dumps(
                [_family_dict(f, config_schema(f.name)) for f in families], indent=2
            )
        )
        return 0
    for family in families:
        kinds = ", ".join(family.data_kinds)
        print(f"{family.name}: {family.title} ({kinds})")
        print(f"  {family.description}")
        if family.paper:
            print(f"  paper: {family.paper}")
        print(f"  presets: {', '.join(family.presets)}")
        for spec in config_schema(family.name):
            print(f"  {_setting_line(spec)}")
        print()
    return 0


def _family_dict(family, schema: list[dict]) -> dict:
    return {
        "name": family.name,
        "title": family.title,
        "description": family.description,
        "data_kinds": list(family.data_kinds),
        "presets": family.presets,
        "settings": schema,
    }


def _setting_line(spec: dict) -> str:
    bounds = ""
    if spec["choices"]:
        bounds = " {" + "|".join(str(c) for c in spec["choices"]) + "}"
    elif spec["min"] is not None or spec["max"] is not None:
        bounds = f" [{spec['min']}..{spec['max']}]"
    head = f"{spec['name']}={spec['default']!r} ({spec['type']}{bounds})"
    return f"{head:<44} {spec['help']}"


# -- train --------------------------------------------------------------------


class Progress:
    """Prints events: a one-line progress bar for steps, a line for the rest."""

    def __init__(self, stream=None, quiet: bool = False):
        self.stream, self.quiet = stream or sys.stderr, quiet
        self.last_draw = 0.0
        self.bar_open = False

    def __call__(self, event) -> None:
        d = event.to_dict()
        if d["type"] == "step":
            now = time.monotonic()
            if now - self.last_draw >= 0.2 or d["step"] == d["total_steps"]:
                self.last_draw = now
                self._bar(d)
            return
        if self.quiet and d["type"] in ("sample", "checkpoint"):
            return
        if self.bar_open:
            self.stream.write("\n")
            self.bar_open = False
        self.stream.write(self._line(d) + "\n")
        self.stream.flush()

    def _bar(self, d: dict) -> None:
        total = max(1, d["total_steps"])
        done = int(30 * d["step"] / total)
        losses = " ".join(
            f"{k}={v:.3f}" for k, v in d["losses"].items() if v is not None
        )
        eta = d.get("eta_seconds")
        eta_s = f" eta {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else ""
        rate = d.get("images_per_sec") or 0.0
        self.stream.write(
            f"\r[{'#' * done}{'.' * (30 - done)}] {d['step']}/{total} "
            f"{losses} {rate:.0f} img/s{eta_s}   "
        )
        self.stream.flush()
        self.bar_open = True

    @staticmethod
    def _line(d: dict) -> str:
        kind = d["type"]
        if kind == "started":
            line = (
                f"{d['family']} on {d['device']}: steps {d['start_step']} -> "
                f"{d['total_steps']}"
            )
            note = (d.get("init") or {}).get("note")
            return f"{line}\n{note}" if note else line
        if kind in ("sample", "checkpoint"):
            return f"{kind} at step {d['step']}: {d['path']}"
        if kind == "finished":
            seconds = f"{d['seconds']:.1f}s"
            return f"finished at step {d['step']} in {seconds}: {d['checkpoint']}"
        if kind == "stopped":
            return f"stopped at step {d['step']} ({d['reason']}): {d['checkpoint']}"
        if kind == "rollback":
            return (
                f"diverged at step {d['from_step']} ({d['reason']}): back to step "
                f"{d['step']}, learning rate x{d['lr_scale']:g}, "
                f"{d['rollbacks_left']} rollback(s) left"
            )
        return f"failed at step {d['step']}: {d['reason']}"


class InterruptStop:
    """``should_stop`` for the terminal: the first Ctrl-C checkpoints and stops."""

    reason = "interrupted"

    def __init__(self):
        self.requested = False
        self.previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self) -> bool:
        return self.requested

    def close(self) -> None:
        signal.signal(signal.SIGINT, self.previous)


class CacheBar:
    """``progress`` of a training-cache build: one line rewritten in place."""

    def __init__(self, image_size: int, stream=None):
        self.image_size, self.stream = image_size, stream or sys.stderr

    def __call__(self, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        self.stream.write(
            f"\rpreparing {self.image_size} px: {done:,} / {total:,}{end}"
        )
        self.stream.flush()


def load_training_data(data: str, image_size: int, cache_dir: str | None):
    """The data, a folder through its training cache (built here when missing,
    with a progress line)."""
    from gan_core.data.cache import open_or_build
    from gan_core.data.loading import load_data, load_opened_cache

    folder, where = Path(data).expanduser(), Path(cache_dir) if cache_dir else None
    if folder.is_dir():  # build (or find) the cache here, to say what was skipped
        cache = open_or_build(
            folder,
            image_size=image_size,
            cache_dir=where,
            progress=CacheBar(image_size),
        )
        if cache.built and cache.header["skipped"]:
            print(
                f"skipped {cache.header['skipped']} image(s) that cannot be decoded",
                file=sys.stderr,
            )
        return load_opened_cache(cache)  # opened once: no second listing
    return load_data(data, image_size=image_size, cache_dir=where)


def cmd_train(args: argparse.Namespace, settings: dict) -> int:
    from gan_core import distributed
    from gan_core.config import config_from_dict
    from gan_core.registry import get_family
    from gan_core.trainer import TrainingDiverged, train

    family = get_family(args.model)
    values, origin_size = {}, 0
    if args.init_from:  # its settings are the base: widths and size then match
        from gan_core.transfer import origin_settings

        values, origin_size = origin_settings(Path(args.init_from), family.name)
    values.update(family.presets.get(args.preset, {}) if args.preset else {})
    if args.preset and args.preset not in family.presets:
        raise CLIError(
            f"unknown preset '{args.preset}' for {family.name} "
            f"(presets: {', '.join(family.presets)})"
        )
    values.update(settings)
    config = config_from_dict(family.name, values)
    if origin_size and config.image_size != origin_size:  # before any data work
        raise CLIError(
            f"{Path(args.init_from).name} was trained with image size "
            f"{origin_size}, this run has {config.image_size}: they must match"
        )
    # Under torchrun every rank runs this; rank 0 builds the cache first.
    with distributed.session(args.device) as (world, _):
        with distributed.main_first():
            data = load_training_data(args.data, config.image_size, args.cache_dir)
        stop = InterruptStop()
        try:
            result = train(
                config,
                data=data,
                out_dir=Path(args.out),
                device=args.device,
                on_event=Progress(quiet=args.quiet or not world.main),
                should_stop=stop,
                resume=args.resume,
                init_from=args.init_from,
            )
        except TrainingDiverged:
            return EXIT_FAILED  # the failed event already printed the reason
        finally:
            stop.close()
    return 0 if result.status == "finished" else 130


# -- sample -------------------------------------------------------------------


def cmd_sample(args: argparse.Namespace) -> int:
    from gan_core.sampling import load_generator, save_grid, save_points_plot
    from gan_core.sampling_cli import run_playground

    handle = load_generator(Path(args.checkpoint), device=args.device)
    labels = args.label if args.label is not None else None
    if labels is not None and not handle.conditional:
        raise CLIError(f"--label: {handle.family} is not a conditional model")
    from gan_core.directions_cli import edit_requested, run_edit

    if edit_requested(args):  # --direction INDEX --alpha A
        print(run_edit(handle, args))
        return 0
    written = run_playground(handle, args)  # --interpolate, --style-mix, ...
    if written is not None:
        print(written)
        return 0
    if args.out is None:
        raise CLIError("sample: the following arguments are required: --out")
    out = handle.sample(
        args.n, seed=args.seed, truncation_psi=args.truncation, labels=labels
    )
    path = Path(args.out)
    if handle.kind == "points":
        if path.suffix.lower() == ".csv":
            path.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in out.tolist()))
        else:
            save_points_plot(out, out[:0], path)
    else:
        save_grid(out, path, nrow=args.nrow)
    print(path)
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    """Find the latent closest to an image; write the image and the projection
    side by side, and the latent beside them as .pt."""
    import torch

    from gan_core.projection import project
    from gan_core.sampling import load_generator, save_grid

    handle = load_generator(Path(args.checkpoint), device=args.device)
    image = Path(args.image)
    if not image.is_file():
        raise CLIError(f"--image: no such file {image}")

    def show(step: int, distance: float) -> None:
        sys.stderr.write(
            f"\rprojecting: step {step}/{args.steps} distance {distance:.5f}"
        )

    features = None
    if args.classifier:
        from gan_core.projection import classifier_features

        features = classifier_features(args.classifier, device=args.device)
    try:
        result = project(
            handle,
            image,
            steps=args.steps,
            seed=args.seed,
            label=args.label,
            on_step=show,
            features=features,
        )
    except ValueError as exc:
        raise CLIError(f"project: {exc}") from exc
    sys.stderr.write("\n")
    out = Path(args.out)
    save_grid(torch.stack([result.target, result.image]), out, nrow=2)
    torch.save({"space": result.space, "latent": result.latent}, out.with_suffix(".pt"))
    print(f"{out} (distance {result.losses[-1]:.5f}, latent in {result.space})")
    return 0


# -- wiring ---------------------------------------------------------------------


def _add_evaluate(sub) -> None:
    try:
        from gan_core.evaluation.cli import add_evaluate_parser
    except ImportError:
        parser = sub.add_parser("evaluate", help="evaluation (not installed)")
        parser.set_defaults(func=None)
        return
    add_evaluate_parser(sub)


def build_parser(model: str | None = None) -> Parser:
    parser = Parser(prog="gan_core", description="GAN Studio's training engine.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    models = sub.add_parser("models", help="list the model families and settings")
    models.add_argument("--json", action="store_true", help="machine-readable")

    train = sub.add_parser("train", help="train a model")
    train.add_argument("--model", required=True, help="family name, e.g. dcgan")
    train.add_argument(
        "--data", required=True, help="folder, points .csv or builtin:NAME"
    )
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps")
    train.add_argument("--preset", default=None, help="quick or quality")
    train.add_argument("--resume", action="store_true", help="continue from latest.pt")
    train.add_argument(
        "--init-from",
        default=None,
        metavar="CHECKPOINT",
        help="start from this checkpoint's weights (same family and image shape; "
        "its settings are the base, fresh optimizers, step 0)",
    )
    train.add_argument("--quiet", action="store_true", help="only the progress bar")
    train.add_argument(
        "--cache-dir",
        default=None,
        help="where a folder's training cache lives (default: FOLDER/.gan_cache)",
    )
    if model is not None:
        from gan_core.config import config_schema

        add_setting_flags(train, config_schema(model))

    sample = sub.add_parser("sample", help="draw a grid from a checkpoint")
    sample.add_argument("--checkpoint", required=True, help="a .pt checkpoint")
    sample.add_argument("--n", type=int, default=64, help="how many samples")
    sample.add_argument("--seed", type=int, default=0, help="noise seed")
    sample.add_argument("--label", default=None, help="class index or name")
    sample.add_argument("--truncation", type=float, default=1.0, help="psi <= 1")
    sample.add_argument("--nrow", type=int, default=8, help="images per grid row")
    sample.add_argument("--device", default="cpu", help="auto, cpu, cuda, ...")
    sample.add_argument("--out", default=None, help="PNG (or .csv for points)")
    from gan_core.sampling_cli import add_playground_flags

    add_playground_flags(sample)
    from gan_core.directions_cli import add_directions_parser, add_edit_flags

    add_edit_flags(sample)
    add_directions_parser(sub)

    proj = sub.add_parser("project", help="find the latent closest to an image")
    proj.add_argument("--checkpoint", required=True, help="a .pt checkpoint")
    proj.add_argument("--image", required=True, help="the image to project")
    proj.add_argument("--out", required=True, help="PNG: the image and its projection")
    proj.add_argument("--steps", type=int, default=200, help="optimization steps")
    proj.add_argument("--seed", type=int, default=0, help="starting z (not StyleGAN2)")
    proj.add_argument("--label", default=None, help="class, for conditional models")
    proj.add_argument("--device", default="cpu", help="auto, cpu, cuda, ...")
    proj.add_argument(
        "--classifier",
        choices=("digits", "mnist"),
        default=None,
        help="add our digit classifier's features to the distance",
    )

    _add_evaluate(sub)
    from gan_core.export import add_export_parser

    add_export_parser(sub)
    return parser


def _model_arg(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--model" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--model="):
            return arg.split("=", 1)[1]
    return None


def _run(argv: list[str]) -> int:
    from gan_core.registry import get_family

    model = _model_arg(argv) if argv[:1] == ["train"] else None
    if model is not None:
        get_family(model)  # unknown model: one clear line before argparse's
    args = build_parser(model).parse_args(argv)
    if args.command == "models":
        return cmd_models(args)
    if args.command == "train":
        return cmd_train(args, settings_from_args(args))
    if args.command == "sample":
        return cmd_sample(args)
    if args.command == "project":
        return cmd_project(args)
    if args.command == "directions":
        from gan_core.directions_cli import cmd_directions

        return cmd_directions(args)
    if getattr(args, "func", None) is None:
        raise CLIError("evaluate is not available in this installation")
    return args.func(args)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for user errors, one line on stderr)."""
    from gan_core.checkpoint import CheckpointError
    from gan_core.config import ConfigError
    from gan_core.data.loading import DataError
    from gan_core.devices import DeviceError
    from gan_core.registry import UnknownFamilyError

    argv = list(sys.argv[1:] if argv is None else argv)
    user_errors = (
        CLIError,
        ConfigError,
        DataError,
        CheckpointError,
        DeviceError,
        UnknownFamilyError,
        ValueError,
        FileNotFoundError,
    )
    try:
        return _run(argv)
    except user_errors as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
