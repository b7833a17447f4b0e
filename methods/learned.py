"""The harness adapter shared by every learned method: load weights, run the network.

A weights file is what `python -m methods.<name>.train --export` writes: a dict with
`format` "inpaintbench.<name>.v1", an fp16 `state_dict`, the `model_config` that rebuilds the
network, and how it was trained. A method whose authors published PyTorch checkpoints also
accepts those (its Recipe's `from_foreign`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import torch

from inpaintbench import registry
from inpaintbench.errors import InputError, MethodError, torch_file_note
from inpaintbench.method import InpaintingMethod
from inpaintbench.networks import sha256_of
from inpaintbench.paths import repo_path

from .tf_checkpoint import tf_refusal
from .training.photos import photo_summary
from .training.trainer import Recipe, run_folder_note, upgrade_layout


def load_weights(recipe: type[Recipe], path: Path, shipped: Path | None = None) -> tuple[torch.nn.Module, dict]:
    """Rebuild the network a weights file describes; one clear error for every way a file can be wrong."""
    path, name, fmt = Path(path), recipe.name, recipe.weights_format()
    accepted = f"a file from `python -m methods.{name}.train --export`" + (f" or {recipe.foreign_formats}" if recipe.foreign_formats else "")
    folder = recipe.foreign_folder
    if refusal := tf_refusal(path, name, recipe.converts_tf, "--weights"):
        raise InputError(refusal)
    if path.is_dir() and folder and all((path / f).is_file() for f in folder.values()):
        files = {k: path / f for k, f in folder.items()}
    elif note := run_folder_note(path):  # its checkpoints load as weights
        raise InputError(f"{name} weights {path} {note}, or export it to a small file with "
                         f"`inpaintbench train {name} --out {path} --export FILE.pt`")
    elif not path.is_file():
        raise InputError(f"{name} weights {path} " + ("is a folder" if path.is_dir() else "not found") + f"; expected {accepted}"
                         + (" (the shipped weights are missing from this checkout)" if path == shipped else ""))
    else:
        files = {None: path}
    blobs = {}
    for k, f in files.items():
        try:
            blobs[k] = torch.load(f, map_location="cpu", weights_only=False)
        except Exception as e:
            why = f": {note}" if (note := torch_file_note(f)) else f", perhaps truncated ({type(e).__name__}: {e})"
            raise InputError(f"{f}: not a readable {name} weights file{why}") from None
    blob = upgrade_layout(blobs[None]) if None in blobs else blobs
    if isinstance(blob, dict) and "nets" in blob and "model_config" in blob:  # a training checkpoint of ours
        blob = {"format": f"inpaintbench.{blob.get('method', 'rwconv')}.v1", "state_dict": blob["nets"]["model"],
                **{k: v for k, v in blob.items() if k not in ("nets", "optims")}}
    if isinstance(blob, dict) and blob.get("format") != fmt:
        foreign = recipe.from_foreign(blob) if "format" not in blob else None
        if foreign is None:
            held = f"it holds {blob['format']!r}" if isinstance(blob.get("format"), str) else f"top-level keys {sorted(map(str, blob))[:6]}"
            other = re.fullmatch(r"inpaintbench\.([\w.-]+)\.v\d+", str(blob.get("format")))
            if other and other[1] in registry.available():  # another method's weights: the --method they are for
                held += f": --method {other[1]}'s weights"
            raise InputError(f"{path}: not {name} weights ({held}; expected format {fmt!r}, {accepted})")
        blob = {"format": fmt, **foreign, "source": "foreign checkpoint"}
    elif not isinstance(blob, dict):
        raise InputError(f"{path}: not {name} weights (a {type(blob).__name__}, expected a dict with format {fmt!r})")
    try:
        model = recipe.build_model(blob["model_config"])
    except (TypeError, KeyError) as e:
        raise InputError(f"{path}: unknown {name} model settings {blob.get('model_config')} ({e})") from None
    try:
        model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    except RuntimeError as e:
        first = str(e).splitlines()[1:2] or [str(e)[:200]]
        raise InputError(f"{path}: weights do not fit the {name} architecture {blob['model_config']}: {first[0].strip()}") from None
    return model.eval(), blob


_NOT_TRAINING = {"out", "data", "val_data", "loss_net_weights", "init_from", "device", "threads", "time_limit_min"}


class LearnedMethod(InpaintingMethod):
    """A trained network behind the harness interface. Subclasses set `recipe` and `shipped`."""

    recipe: ClassVar[type[Recipe]]
    shipped: ClassVar[Path]
    takes_weights = True

    def __init__(self, device: str = "cpu", weights: str | None = None):
        super().__init__(device, weights)  # no options: registry.create refuses any given
        self.path = Path(weights) if weights else self.shipped
        self.model, self.meta = load_weights(self.recipe, self.path, self.shipped)
        # NHWC, the layout oneDNN's and cuDNN's convolutions run fastest in: on this repository's
        # 2-core CPU rwconv takes 302 ms an image at batch 1 instead of 410 (`inpaintbench bench
        # rwconv`, both measured in one session), pconv and gated 13% less at batch 8; outputs equal
        # to 5e-6, a 2e-5 share of 8-bit values a level apart (the demo's rwconv PSNR per pair: 2e-4 dB)
        self.model.to(self.device, memory_format=torch.channels_last)
        self.sha256 = sha256_of(self.path)

    def size_problem(self, h: int, w: int) -> str | None:
        return self.recipe.size_problem(h, w, self.meta.get("model_config"))

    def inpaint(self, masked: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        # called from Python with other shapes, pconv, gated and edgeconnect broadcast a 3-D image
        # into a batch of one or ended in a PyTorch error deep in a layer
        if masked.dim() != 4 or masked.shape[1] != 3 or tuple(hole.shape) != (masked.shape[0], 1, *masked.shape[2:]):
            raise MethodError(f"{self.name}: inpaint takes masked (B,3,H,W) and hole (B,1,H,W) of the same B, H and W; "
                              f"got {tuple(masked.shape)} and {tuple(hole.shape)}")
        if problem := self.size_problem(*masked.shape[-2:]):
            raise MethodError(problem)
        with torch.no_grad():
            nhwc = dict(device=self.device, memory_format=torch.channels_last)
            out = self.recipe.prediction(self.model, masked.to(**nhwc), hole.to(**nhwc))
        return out.clamp(0, 1)

    def describe(self) -> dict:
        cfg = self.meta.get("config") or {}
        return {**super().describe(), "weights": repo_path(self.path), "weights_sha256": self.sha256,
                "model_config": self.meta.get("model_config"), "trained_steps": self.meta.get("step"),
                "loss_network": self.meta.get("loss_network"), "source": self.meta.get("source", "inpaintbench trainer"),
                # every training setting except where the files were and what ran it: a report must tell
                # an ablation (e.g. rwconv --no-correlation) from the full model by its manifest alone
                "training": {k: v for k, v in cfg.items() if k not in _NOT_TRAINING} if cfg else None,
                # methods compared in one table may have seen different photos; the caption says so
                # (counted by the trainer as it found them; weights older than that record: from the config,
                # where a folder counts once)
                **({"training_photos": self.meta.get("training_photos") or photo_summary(cfg["data"])} if cfg.get("data") else {}),
                # weights continued from others say which, by sha256 (the path may since hold another file)
                **({"continued_from": self.meta["init_from"]} if self.meta.get("init_from") else {})}

    def benchmark_training(self, device: str = "cpu", batch: int = 8, crop: int = 256, steps: int = 2, precision: str = "fp32",
                           channels_last: bool = False, compile: bool = False) -> dict:
        """Seconds per training step at this width: the trainer's own step (forward, every loss,
        critics first, backward, Adam); `precision`, `channels_last` and `compile` as the trainer's
        (bf16: autocast, fp32 weights). The first step (warm-up, and the compile) is timed apart."""
        import time

        from .training.loss_network import load_loss_network
        from .training.trainer import autocast_enabled, compiled_for_training, train_step

        recipe = self.recipe(self.recipe.Config(crop=crop, batch_size=batch))
        layout = torch.channels_last if channels_last else torch.preserve_format
        model = self.recipe.build_model(self.meta["model_config"]).to(device, memory_format=layout).train()
        for k, v in (self.meta.get("config") or {}).items():  # the trained run's loss settings
            if hasattr(recipe.cfg, k) and k not in ("crop", "batch_size", "device"):
                setattr(recipe.cfg, k, v)
        critics = {k: c.to(device).train() for k, c in recipe.build_critics().items()}
        if recipe.uses_loss_network:
            recipe.loss_net = load_loss_network().to(device, memory_format=layout)
        recipe.calibration = self.meta.get("calibration") or {"lambdas": self.meta.get("lambdas") or [1.0, 1.0]}
        opts = {k: torch.optim.Adam(n.parameters(), 1e-4) for k, n in {"model": model, **critics}.items()}
        x, hole = torch.rand(batch, 3, crop, crop, device=device), torch.zeros(batch, 1, crop, crop, device=device)
        hole[..., crop // 4 : crop // 2, crop // 4 : 3 * crop // 4] = 1
        x, hole = x.to(memory_format=layout), hole.to(memory_format=layout)
        dev = torch.device(device)
        times, bf16 = [], autocast_enabled(precision, dev)
        step_model = compiled_for_training(model, recipe) if compile else model
        for _ in range(steps + 1):
            t0 = time.perf_counter()
            train_step(recipe, step_model, critics, opts, x, hole, bf16)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        s = min(times[1:])
        return {"batch": batch, "crop": crop, "precision": "bf16 autocast" if bf16 else "fp32", "loss_network": recipe.loss_net.name if recipe.loss_net else None,
                "critics": sorted(critics), "channels_last": channels_last, "compile": compile, "first_step_s": times[0],
                "seconds_per_step": s, "images_per_s": batch / s}

    def benchmark_gpu(self, batch: int = 64) -> dict:
        """Inference throughput at 256x256 in bf16 with channels_last."""
        import time

        from inpaintbench.bench import eager_bytes

        model = self.recipe.build_model(self.meta["model_config"]).cuda().eval().to(memory_format=torch.channels_last)
        x = torch.rand(batch, 3, 256, 256, device="cuda").to(memory_format=torch.channels_last)
        hole = torch.zeros(batch, 1, 256, 256, device="cuda")
        hole[..., 64:160, 48:200] = 1
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16):
            for _ in range(3):
                self.recipe.prediction(model, x, hole)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(10):
                self.recipe.prediction(model, x, hole)
            torch.cuda.synchronize()
        s = (time.perf_counter() - t0) / 10
        with torch.autocast("cuda", torch.bfloat16):
            moved = eager_bytes(self.recipe.prediction, model, x[:1], hole[:1])
        return {"batch": batch, "dtype": "bf16", "memory_format": "channels_last", "images_per_s": batch / s,
                "bytes_per_image_forward_eager": moved, "device": torch.cuda.get_device_name()}
