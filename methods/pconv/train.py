"""Training recipe of PConv (Liu et al. 2018) for the shared trainer (methods/training/trainer.py).

Losses as published and as in naoto0804/pytorch-inpainting-with-partial-conv:
L = 1 L_valid + 6 L_hole + 0.05 L_perceptual + 120 (L_style_out + L_style_comp) + 0.1 L_tv,
pixel terms as means over ImageNet-normalised images, perceptual and style terms on the
loss network's three taps, Gram = F F^T / (C H W), TV on the composite.
Adam lr 2e-4 with PyTorch's default betas, as the reference.

The weights 0.05 and 120 were tuned for VGG16 pool1-3 and are used unchanged when VGG16 is
the loss network. Offline the loss network is EfficientNet-Lite0 (methods/training/loss_network.py),
whose taps are not ReLU-pooled and are far larger: at initialisation its style term was
~400x the pixel terms, which would train a style-only model. Then both weights are
multiplied by a scale that makes each term `feature_fraction` of the pixel terms at the
mean-fill reference, the same rule rwconv uses for its feature losses (stored in the
checkpoint as `calibration`).

    python -m methods.pconv.train --out train_runs/pconv [--steps N] ...
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from methods.training import trainer
from methods.training.loss_network import feature_scales, gram
from methods.training.trainer import Recipe, TrainConfig, mean_fill_reference

from .model import PConvConfig, PConvUNet, imagenet_normalize, imagenet_unnormalize

WEIGHTS = {"valid": 1.0, "hole": 6.0, "perceptual": 0.05, "style": 120.0, "tv": 0.1}


@dataclass
class PConvTrainConfig(TrainConfig):
    FLOORS: ClassVar[dict] = {**TrainConfig.FLOORS, "width": 1, "layers": 1}
    width: int = 64  # channels of the first layer; 64 = the paper
    layers: int = 7  # encoder depth; crops must be multiples of 2**layers
    lr: float = 2e-4
    betas: tuple = (0.9, 0.999)
    freeze_encoder_bn: bool = False  # the paper's fine-tuning phase (lr 5e-5)
    feature_fraction: float = 0.1  # used only when the loss network is not VGG16


def total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., :, :-1] - x[..., :, 1:]).abs().mean() + (x[..., :-1, :] - x[..., 1:, :]).abs().mean()


class PConvRecipe(Recipe):
    name = "pconv"
    Config = PConvTrainConfig
    multiple_of = 128  # 2 ** the default 7 stride-2 layers

    @classmethod
    def multiple_for(cls, model_config: dict | None) -> int:
        # --layers 12 at --crop 128 passed the check of the default depth and stopped in the model
        return 2 ** model_config["layers"] if model_config and "layers" in model_config else cls.multiple_of

    def model_config(self) -> dict:
        return PConvConfig(self.cfg.width, self.cfg.layers).as_dict()

    @classmethod
    def build_model(cls, model_config: dict) -> PConvUNet:
        return PConvUNet(PConvConfig(**model_config))

    def forward(self, model, gt, hole):
        net = model.module if hasattr(model, "module") else model
        net.freeze_encoder_bn = self.cfg.freeze_encoder_bn
        out = model(gt * (1 - hole), hole)
        gt_n = imagenet_normalize(gt)
        return {"out": out, "comp": gt_n * (1 - hole) + out * hole, "gt": gt_n}

    def _terms(self, o, gt, hole) -> dict:
        valid = 1 - hole
        terms = {"valid": (valid * (o["out"] - o["gt"])).abs().mean(), "hole": (hole * (o["out"] - o["gt"])).abs().mean()}
        f_out, f_comp, f_gt = (self.loss_net(imagenet_unnormalize(o["out"])), self.loss_net(imagenet_unnormalize(o["comp"])),
                               self.loss_net(gt))
        terms["perceptual"] = sum((a - g).abs().mean() + (b - g).abs().mean() for a, b, g in zip(f_out, f_comp, f_gt))
        terms["style"] = sum((gram(a) - gram(g)).abs().mean() + (gram(b) - gram(g)).abs().mean() for a, b, g in zip(f_out, f_comp, f_gt))
        terms["tv"] = total_variation(o["comp"])
        return {k: WEIGHTS[k] * v for k, v in terms.items()}

    def calibrate(self, pool) -> dict:
        terms_at = lambda ref, gt, hole: self._terms({"out": imagenet_normalize(ref), "comp": imagenet_normalize(ref),
                                                      "gt": imagenet_normalize(gt)}, gt, hole)
        return {"feature_scales": feature_scales(self.loss_net, terms_at, mean_fill_reference(pool, self.cfg),
                                                 ("valid", "hole"), ("perceptual", "style"), self.cfg.feature_fraction)}

    def generator_losses(self, o, critics, gt, hole):
        terms = self._terms(o, gt, hole)
        for k, s in self.calibration["feature_scales"].items():
            terms[k] = s * terms[k]
        terms["total"] = sum(terms.values())
        return terms

    @classmethod
    def prediction(cls, model, image, hole):
        return imagenet_unnormalize(model(image, hole)).clamp(0, 1)

    @classmethod
    def card_rows(cls, blob):
        return {"width": f"first layer {blob['model_config']['width']} channels (paper: 64), {blob['model_config']['layers']} encoder layers",
                "losses": "1 valid + 6 hole + 0.05 perceptual + 120 style (output and composite) + 0.1 TV, as published; "
                          "perceptual/style multiplied by the calibration scales below (methods/pconv/train.py)"}

    foreign_formats = "a naoto0804/pytorch-inpainting-with-partial-conv checkpoint ({'model': state_dict, 'n_iter': ...})"

    @classmethod
    def from_foreign(cls, blob: dict) -> dict | None:
        """naoto0804's PartialConv divides by sum(M) where NVIDIA's (ours) multiplies by
        sum(1)/sum(M): the same layer up to the constant C_in k k, folded into the weights here.
        Its `mask_conv` holds constant ones and is dropped."""
        sd = blob.get("model") if isinstance(blob.get("model"), dict) else None
        if not sd or "enc_1.conv.input_conv.weight" not in sd:
            return None
        out = {}
        for k, v in sd.items():
            if ".mask_conv." in k:
                continue
            if k.endswith("input_conv.weight"):
                v = v / (v.shape[1] * v.shape[2] * v.shape[3])
            out[k] = v
        layers = sum(1 for k in sd if k.startswith("enc_") and k.endswith("input_conv.weight"))
        width = sd["enc_1.conv.input_conv.weight"].shape[0]
        return {"model_config": PConvConfig(width, layers).as_dict(), "state_dict": out, "step": blob.get("n_iter")}


def main(argv=None):
    trainer.main(PConvRecipe, argv)


if __name__ == "__main__":
    main()
