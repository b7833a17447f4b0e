"""`rwconv` for the harness: loads shipped or user weights and inpaints through the model."""
from __future__ import annotations

from pathlib import Path

import torch

from inpaintbench.errors import InputError, MethodError
from inpaintbench.method import InpaintingMethod

from inpaintbench.networks import sha256_of
from .model import RegionWiseInpainter, RWConfig

SHIPPED = Path(__file__).with_name("weights") / "rwconv.pt"
FORMAT = "inpaintbench.rwconv.v1"


def load_model(path: Path) -> tuple[RegionWiseInpainter, dict]:
    """Rebuild the model a weights file describes; one clear error for every way a file can be wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"rwconv weights {path} not found" + (" (the shipped weights are missing from this checkout)" if path == SHIPPED else ""))
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        raise InputError(f"{path}: not a readable rwconv weights file, perhaps truncated ({type(e).__name__}: {e})") from None
    if isinstance(blob, dict) and "model" in blob and "model_config" in blob:  # a training checkpoint
        blob = {"format": FORMAT, "state_dict": blob["model"], **{k: v for k, v in blob.items() if k != "model"}}
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise InputError(f"{path}: not an rwconv weights file (expected format {FORMAT!r}, made by methods.rwconv.train --export)")
    try:
        config = RWConfig(**blob["model_config"])
    except TypeError as e:
        raise InputError(f"{path}: unknown model settings {blob.get('model_config')} ({e})") from None
    model = RegionWiseInpainter(config)
    try:
        model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    except RuntimeError as e:
        first = str(e).splitlines()[1:2] or [str(e)[:200]]
        raise InputError(f"{path}: weights do not fit the rwconv architecture {config.as_dict()}: {first[0].strip()}") from None
    return model.eval(), blob


class RegionWise(InpaintingMethod):
    """Region-wise convolutions + non-local correlation, coarse-to-fine (Ma et al., IJCAI 2019)."""

    name = "rwconv"

    def __init__(self, device: str = "cpu", weights: str | None = None, **options):
        super().__init__(device, weights, **options)
        self.path = Path(weights) if weights else SHIPPED
        self.model, self.meta = load_model(self.path)
        self.model.to(self.device)
        self.sha256 = sha256_of(self.path)

    def inpaint(self, masked: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        h, w = masked.shape[-2:]
        if h % 4 or w % 4:
            raise MethodError(f"rwconv needs image sizes divisible by 4, got {h}x{w}")
        with torch.no_grad():
            out = self.model(masked.to(self.device), hole.to(self.device))
        return ((out["p2"] + 1) / 2).clamp(0, 1)

    def describe(self) -> dict:
        return {**super().describe(), "weights": str(self.path), "weights_sha256": self.sha256,
                "model_config": self.meta.get("model_config"), "trained_steps": self.meta.get("step"),
                "loss_network": self.meta.get("loss_network"), "training": self.meta.get("config", {}).get("data") and {
                    k: self.meta["config"].get(k) for k in ("crop", "batch_size", "lr", "steps", "seed")}}

    def benchmark_training(self, device: str = "cpu", batch: int = 8, crop: int = 256, steps: int = 2) -> dict:
        """Seconds per training step (forward, the paper's losses, backward, Adam) at this width."""
        import time

        from .features import load_loss_network
        from .train import TrainConfig, compute_losses

        cfg = TrainConfig(cnum=self.model.config.cnum, region_wise=self.model.config.region_wise,
                          coarse_only=self.model.config.coarse_only)
        lambdas = tuple(self.meta.get("lambdas") or (1.0, 1.0))
        model = RegionWiseInpainter(self.model.config).to(device).train()
        net = load_loss_network().to(device)
        opt = torch.optim.Adam(model.parameters(), 1e-4)
        x, hole = torch.rand(batch, 3, crop, crop, device=device), torch.zeros(batch, 1, crop, crop, device=device)
        hole[..., crop // 4 : crop // 2, crop // 4 : 3 * crop // 4] = 1
        times = []
        for _ in range(steps + 1):
            t0 = time.perf_counter()
            loss = compute_losses(model, net, x, hole, cfg, lambdas)["total"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
        s = min(times[1:])
        return {"batch": batch, "crop": crop, "loss_network": net.name, "seconds_per_step": s, "images_per_s": batch / s}

    def benchmark_gpu(self, batch: int = 64) -> dict:
        import time

        model = RegionWiseInpainter(self.model.config).cuda().eval().to(memory_format=torch.channels_last)
        x = torch.rand(batch, 3, 256, 256, device="cuda").to(memory_format=torch.channels_last)
        hole = torch.zeros(batch, 1, 256, 256, device="cuda")
        hole[..., 64:160, 48:200] = 1
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16):
            for _ in range(3):
                model(x, hole)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(10):
                model(x, hole)
            torch.cuda.synchronize()
        s = (time.perf_counter() - t0) / 10
        return {"batch": batch, "dtype": "bf16", "memory_format": "channels_last", "images_per_s": batch / s,
                "device": torch.cuda.get_device_name()}
