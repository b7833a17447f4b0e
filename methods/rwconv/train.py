"""Training recipe of the region-wise model; the loop itself is methods/training/trainer.py.

    python -m methods.rwconv.train --out train_runs/rwconv [--data DIR ...] [--steps N] ...
    torchrun --nproc_per_node 2 -m methods.rwconv.train ...     (DistributedDataParallel)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from methods.training import trainer
from methods.training.photos import PhotoPool
from methods.training.trainer import Recipe, TrainConfig, mean_fill_reference, same_setting

from .losses import correlation_loss, reconstruction_loss, seam_loss, style_loss
from .model import MASK_RESIZES, MIN_SIDE, RegionWiseInpainter, RWConfig
from .widen import widen_state_dict


@dataclass
class RWTrainConfig(TrainConfig):
    FLOORS: ClassVar[dict] = {**TrainConfig.FLOORS, "cnum": 2}  # cnum 1 halves to an empty layer
    cnum: int = 32  # channel width of both stages; 32 = the paper
    region_wise: bool = True  # region-wise convolutions in SINet's decoder; off = ablation (b), standard convolutions
    coarse_only: bool = False  # ablation (e): SINet alone, no fine stage
    correlation: bool = True  # the non-local correlation loss; off = ablation (c)
    same_stage: bool = False  # ablation (d): correlation and style loss both on the fine composite
    corr_fraction: float = 0.1  # lambda1 makes L_c this fraction of L_r at the mean-fill reference
    style_fraction: float = 0.1  # lambda2 makes L_s this fraction of L_r at the mean-fill reference
    #: 1 = the paper's L_r; w > 1 weighs hole pixels w times (see losses.reconstruction_loss). λ1, λ2
    #: stay calibrated against the paper's L_r, so only the hole part of L_r grows
    hole_weight: float = 1.0
    #: w > 0 (not the paper) adds w x losses.seam_loss of the final composite: its gradients against
    #: the truth's over the pixel pairs touching the hole, the border step included
    seam_weight: float = 0.0
    #: how the region-wise layers resize the mask: nearest (PyTorch's) or tf-align-corners (the
    #: authors' TensorFlow, which weights from convert_tf.py use: continue those with it)
    mask_resize: str = "nearest"

    def setting_problems(self) -> list[str]:
        problems = super().setting_problems()
        if self.mask_resize not in MASK_RESIZES:  # before the photos load, not at the model
            problems.append(f"--mask-resize must be one of {', '.join(MASK_RESIZES)}, got {self.mask_resize!r}")
        return problems

    def model_config(self) -> RWConfig:
        return RWConfig(self.cnum, self.region_wise, self.coarse_only, self.mask_resize)


class RWRecipe(Recipe):
    name = "rwconv"
    converts_tf = True
    Config = RWTrainConfig
    min_side = MIN_SIDE
    calibrated_by = ("corr_fraction", "style_fraction")  # in the order of calibrate()'s lambdas

    def model_config(self) -> dict:
        return self.cfg.model_config().as_dict()

    @classmethod
    def build_model(cls, model_config: dict) -> RegionWiseInpainter:
        return RegionWiseInpainter(RWConfig(**model_config))

    def calibrate(self, pool: PhotoPool) -> dict:
        """lambda1, lambda2 such that at the mean-fill reference (holes filled with the image's
        mean colour) L_c = corr_fraction * L_r and L_s = style_fraction * L_r."""
        cfg = self.cfg
        gt, hole, ref = mean_fill_reference(pool, cfg)
        net = self.loss_net.cpu()
        with torch.no_grad():
            fr, fg = net(ref), net(gt)
            lr_ = (ref - gt).abs().mean() * 2  # in [-1, 1] units, like L_r
            # image by image (each has as many positions, so the mean of the means is the mean): the
            # position gram of the whole batch of 32 is 32 x (crop/4)^4 floats, 44 GB at --crop 544,
            # which stopped a run of batch 1 there as out of memory before its first step
            lc = torch.stack([correlation_loss([f[i : i + 1] for f in fr], [f[i : i + 1] for f in fg])
                              for i in range(len(gt))]).mean()
            ls = style_loss(fr, fg)
        return {"lambdas": [float(cfg.corr_fraction * lr_ / lc), float(cfg.style_fraction * lr_ / ls)]}

    def recalibrate(self, calibration: dict, before: dict) -> dict | None:
        """Each λ is its fraction times a ratio measured on the reference batch, so a changed fraction
        rescales its own λ and leaves the other as it was (calibrating anew would also move the
        other with the crop size and photos of this run). A fraction that was 0 has no ratio left."""
        lam = list(calibration["lambdas"])
        for i, k in enumerate(self.calibrated_by):
            new, old = getattr(self.cfg, k), before[k]
            if not same_setting(new, old):  # the test train()'s restore uses to call it stale
                if not old:
                    return None
                lam[i] = lam[i] * new / old
        return {**calibration, "lambdas": lam}

    def adapt_init(self, ck, model):
        """Narrower weights of the same design start a wider run through function-preserving
        widening (widen.py): the paper's cnum 32 from the shipped cnum 16, say."""
        theirs, ours = dict(ck.get("model_config") or {}), self.model_config()
        if "cnum" not in theirs or {k: v for k, v in theirs.items() if k != "cnum"} != {k: v for k, v in ours.items() if k != "cnum"} \
                or ours["cnum"] <= theirs["cnum"] or ours["cnum"] % theirs["cnum"]:
            return None
        narrow = self.build_model(theirs)
        narrow.load_state_dict({k: v.float() for k, v in ck["state_dict"].items()})
        generator = torch.Generator().manual_seed(self.cfg.seed)
        return widen_state_dict(narrow, model, generator), {
            "how": f"widened from cnum {theirs['cnum']} to {ours['cnum']} (function-preserving, methods/rwconv/widen.py)",
            "from_model_config": theirs}

    #: copies of the position gram alive at a CPU step's peak, from peak RSS against crop (cnum 16,
    #: batch 2: 0.9 / 1.2 / 2.7 / 16.0 GB at 68 / 136 / 272 / 544 px, fitted as base + area + gram terms)
    GRAM_COPIES_AT_PEAK = 4.7

    def step_memory_floor(self) -> tuple[int, str] | None:
        """The correlation loss's position gram, batch x (crop/4)^4 floats: it passes the model's own
        activations past ~300 px and is ~80% of a step at 544 (cnum 16)."""
        cfg = self.cfg
        if not cfg.correlation:
            return None
        n = (cfg.crop // 4) ** 2  # positions at pool2 (stride 4 in VGG16 and EfficientNet-Lite0 alike)
        size = 2 if cfg.precision == "bf16" else 4  # autocast's bmm gives bf16 (a CPU's "auto" is fp32)
        return (int(self.GRAM_COPIES_AT_PEAK * cfg.batch_size * n * n * size),
                "the correlation loss's position gram (batch x (crop/4)^4 floats, ~5 copies at the step's peak)")

    def forward(self, model, gt, hole):
        return model(gt, hole)

    def generator_losses(self, out, critics, gt, hole):
        cfg, net = self.cfg, self.loss_net
        lambdas = self.calibration["lambdas"]
        terms = {"rec": reconstruction_loss(out, gt * 2 - 1, not cfg.coarse_only, hole, cfg.hole_weight)}
        f_gt = net(gt)
        f_c1 = net((out["c1"] + 1) / 2)
        f_c2 = f_c1 if cfg.coarse_only else net((out["c2"] + 1) / 2)
        if cfg.correlation:
            terms["corr"] = lambdas[0] * correlation_loss(f_c2 if cfg.same_stage else f_c1, f_gt)
        terms["style"] = lambdas[1] * style_loss(f_c2, f_gt)
        if cfg.seam_weight:
            terms["seam"] = cfg.seam_weight * seam_loss(out["c2"], gt * 2 - 1, hole)  # c2 is c1 when coarse_only
        terms["total"] = sum(terms.values())
        return terms

    @classmethod
    def prediction(cls, model, image, hole):
        return (model(image, hole)["p2"] + 1) / 2

    @classmethod
    def card_rows(cls, blob):
        cfg, lam = blob["config"], blob.get("lambdas") or blob.get("calibration", {}).get("lambdas")
        return {"width": f"cnum {blob['model_config']['cnum']} (paper: 32)",
                "losses": f"L_r + λ1 L_c (stage-1 composite, pool2-level position Gram) + λ2 L_s (stage-2 composite, 3-level "
                          f"channel Gram); λ1 = {lam[0]:.4g}, λ2 = {lam[1]:.4g}, each term {cfg.get('corr_fraction')} / "
                          f"{cfg.get('style_fraction')} of L_r at the mean-fill reference (methods/rwconv/losses.py)"
                          + (f"; hole pixels weighted {cfg['hole_weight']:g}x in L_r (not the paper)" if cfg.get("hole_weight", 1) != 1 else "")
                          + (f"; + {cfg['seam_weight']:g} x seam loss of the composite's gradients (not the paper)" if cfg.get("seam_weight", 0) else "")}


def train(cfg: RWTrainConfig, log=print, on_step=None):
    return trainer.train(RWRecipe(cfg), log, on_step)


def main(argv=None):
    trainer.main(RWRecipe, argv)


if __name__ == "__main__":
    main()
