"""`rwconv` for the harness: loads shipped or user weights and inpaints through the model."""
from __future__ import annotations

from pathlib import Path

import torch

from methods.learned import LearnedMethod, load_weights

from .model import RegionWiseInpainter
from .train import RWRecipe, RWTrainConfig

SHIPPED = Path(__file__).with_name("weights") / "rwconv.pt"


def load_model(path: Path) -> tuple[RegionWiseInpainter, dict]:
    return load_weights(RWRecipe, path, SHIPPED)


class RegionWise(LearnedMethod):
    """Region-wise convolutions + non-local correlation, coarse-to-fine (Ma et al., IJCAI 2019)."""

    name = "rwconv"
    recipe = RWRecipe
    shipped = SHIPPED

    def benchmark_training(self, device: str = "cpu", batch: int = 8, crop: int = 256, steps: int = 2) -> dict:
        """Seconds per training step (forward, the paper's losses, backward, Adam) at this width."""
        import time

        from methods.loss_network import load_loss_network

        recipe = RWRecipe(RWTrainConfig(**self.model.config.as_dict()))
        recipe.calibration = {"lambdas": list(self.meta.get("lambdas") or (1.0, 1.0))}
        model = RegionWiseInpainter(self.model.config).to(device).train()
        net = recipe.loss_net = load_loss_network().to(device)
        opt = torch.optim.Adam(model.parameters(), 1e-4)
        x, hole = torch.rand(batch, 3, crop, crop, device=device), torch.zeros(batch, 1, crop, crop, device=device)
        hole[..., crop // 4 : crop // 2, crop // 4 : 3 * crop // 4] = 1
        times = []
        for _ in range(steps + 1):
            t0 = time.perf_counter()
            loss = recipe.generator_losses(recipe.forward(model, x, hole), {}, x, hole)["total"]
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
