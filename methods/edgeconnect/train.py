"""Training recipe of EdgeConnect for the shared trainer (methods/training/trainer.py).

The reference trains the edge model, then the inpainting model on ground-truth edges, then
both jointly (its MODEL=4). With one fixed budget this recipe trains the joint stage from
the start: the inpainting generator sees the edge generator's completed edges and its loss
back-propagates into the edge generator, as in the reference's joint stage. Losses and
weights as knazeri/edge-connect's config:
  edge:    nsgan adversarial (BCE) + 10 * feature matching over the discriminator's layers
  inpaint: 1 * l1 / mean(hole) + 0.1 * nsgan adversarial + 0.1 * perceptual + 250 * style
           (style on hole regions), perceptual/style on the loss network's three taps
Adam lr 1e-4, betas (0, 0.9), discriminators at 0.1x the generators' lr.
The reference's perceptual/style weights were tuned for VGG19; with VGG16 they are used as
is, with EfficientNet-Lite0 (offline) they are rescaled like PConv's (methods/pconv/train.py).

    python -m methods.edgeconnect.train --out train_runs/edgeconnect [--steps N] ...
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from methods.training import trainer
from methods.training.loss_network import feature_scales, gram
from methods.training.trainer import Recipe, TrainConfig, mean_fill_reference

from .model import GRAY, EdgeConnect, EdgeConnectConfig, PatchDiscriminator

WEIGHTS = {"l1": 1.0, "adv": 0.1, "content": 0.1, "style": 250.0, "fm": 10.0}


@dataclass
class EdgeConnectTrainConfig(TrainConfig):
    FLOORS: ClassVar[dict] = {**TrainConfig.FLOORS, "width": 1}
    ABOVE_ZERO: ClassVar[tuple] = ("sigma",)
    width: int = 64  # channels of the first conv; 64 = the paper
    blocks: int = 8  # residual blocks of each generator
    sigma: float = 2.0  # Canny's Gaussian for the edge maps
    lr: float = 1e-4
    betas: tuple = (0.0, 0.9)
    feature_fraction: float = 0.1  # used only when the loss network is not VGG


def _bce(scores, real: bool):
    return F.binary_cross_entropy(scores, torch.full_like(scores, float(real)))


class EdgeConnectRecipe(Recipe):
    name = "edgeconnect"
    Config = EdgeConnectTrainConfig
    min_side = 12  # the residual blocks at 1/4 scale reflect-pad 2 px: a 3-px map at least
    critic_lr_ratio = 0.1

    def model_config(self) -> dict:
        return EdgeConnectConfig(self.cfg.width, self.cfg.blocks, self.cfg.sigma).as_dict()

    @classmethod
    def build_model(cls, model_config: dict) -> EdgeConnect:
        return EdgeConnect(EdgeConnectConfig(**model_config))

    def build_critics(self):
        return {"edge_discriminator": PatchDiscriminator(2), "inpaint_discriminator": PatchDiscriminator(3)}

    def forward(self, model, gt, hole):
        out = model(gt, hole)
        net = model.module if hasattr(model, "module") else model
        gray = (gt * gt.new_tensor(GRAY).view(1, 3, 1, 1)).sum(1, keepdim=True)
        return {**out, "gt_gray": gray, "gt_edges": net.edges(gray)}

    def critic_losses(self, critics, o, gt, hole):
        de, di = critics["edge_discriminator"], critics["inpaint_discriminator"]
        edge = (_bce(de(torch.cat([o["gt_gray"], o["gt_edges"]], 1))[0], True)
                + _bce(de(torch.cat([o["gt_gray"], o["edge_pred"]], 1))[0], False)) / 2
        inpaint = (_bce(di(gt)[0], True) + _bce(di(o["output"])[0], False)) / 2
        return {"edge": edge, "inpaint": inpaint, "total": edge + inpaint}

    def _inpaint_terms(self, output, gt, hole) -> dict:
        f_out, f_gt = self.loss_net(output), self.loss_net(gt)
        f_out_h, f_gt_h = self.loss_net(output * hole), self.loss_net(gt * hole)
        return {"l1": WEIGHTS["l1"] * (output - gt).abs().mean() / hole.mean().clamp_min(1e-8),
                "content": WEIGHTS["content"] * sum((a - b).abs().mean() for a, b in zip(f_out, f_gt)),
                "style": WEIGHTS["style"] * sum((gram(a) - gram(b)).abs().mean() for a, b in zip(f_out_h, f_gt_h))}

    def calibrate(self, pool) -> dict:
        return {"feature_scales": feature_scales(self.loss_net, self._inpaint_terms, mean_fill_reference(pool, self.cfg),
                                                 ("l1",), ("content", "style"), self.cfg.feature_fraction)}

    def generator_losses(self, o, critics, gt, hole):
        de, di = critics["edge_discriminator"], critics["inpaint_discriminator"]
        fake_scores, fake_feats = de(torch.cat([o["gt_gray"], o["edge_pred"]], 1))
        with torch.no_grad():
            _, real_feats = de(torch.cat([o["gt_gray"], o["gt_edges"]], 1))
        terms = {"edge_adv": _bce(fake_scores, True),
                 "edge_fm": WEIGHTS["fm"] * sum(F.l1_loss(a, b) for a, b in zip(fake_feats, real_feats))}
        terms["adv"] = WEIGHTS["adv"] * _bce(di(o["output"])[0], True)
        for k, v in self._inpaint_terms(o["output"], gt, hole).items():
            terms[k] = v * self.calibration["feature_scales"].get(k, 1.0)
        terms["total"] = sum(terms.values())
        return terms

    @classmethod
    def prediction(cls, model, image, hole):
        return model(image, hole)["output"]

    @classmethod
    def card_rows(cls, blob):
        mc = blob["model_config"]
        return {"width": f"first conv {mc['width']} channels, residual blocks {4 * mc['width']} (paper: 64 / 256), {mc['blocks']} blocks; "
                         f"Canny sigma {mc['sigma']}",
                "losses": "edge: BCE adversarial + 10 feature matching; inpaint: l1/mean(hole) + 0.1 adversarial + 0.1 perceptual "
                          "+ 250 style, as the authors' config; perceptual/style multiplied by the calibration scales below; "
                          "joint stage from step 0 (methods/edgeconnect/train.py)"}

    foreign_formats = ("a folder holding knazeri/edge-connect's EdgeModel_gen.pth and InpaintingModel_gen.pth, "
                       "or one file {'edge': <EdgeModel_gen.pth>, 'inpaint': <InpaintingModel_gen.pth>}")

    foreign_folder = {"edge": "EdgeModel_gen.pth", "inpaint": "InpaintingModel_gen.pth"}

    @classmethod
    def from_foreign(cls, blob: dict) -> dict | None:
        if not (isinstance(blob.get("edge"), dict) and isinstance(blob.get("inpaint"), dict)):
            return None
        e, i = blob["edge"].get("generator", blob["edge"]), blob["inpaint"].get("generator", blob["inpaint"])
        w = e["encoder.1.weight_orig"].shape[0] if "encoder.1.weight_orig" in e else None
        if w is None or "encoder.1.weight" not in i:
            return None
        blocks = len({k.split(".")[1] for k in i if k.startswith("middle.")})
        sd = {**{f"edge_generator.{k}": v for k, v in e.items()}, **{f"inpaint_generator.{k}": v for k, v in i.items()}}
        return {"model_config": EdgeConnectConfig(w, blocks).as_dict(), "state_dict": sd,
                "step": blob["inpaint"].get("iteration")}


def main(argv=None):
    trainer.main(EdgeConnectRecipe, argv)


if __name__ == "__main__":
    main()
