"""Training recipe of DeepFill v2 / gated convolution for the shared trainer (methods/training/trainer.py).

As the authors' code (v2 inpaint.yml): generator loss = 1 * (|x1 - gt| + |x2 - gt|) (means
over the whole image in [-1, 1]) + 1 * hinge GAN loss -mean(D(fake)); SN-PatchGAN loss
0.5 mean(relu(1 - D(real))) + 0.5 mean(relu(1 + D(fake))), fake = the stage-2 composite,
the hole concatenated to both. Adam lr 1e-4, betas (0.5, 0.999), one D step per G step.

    python -m methods.gated.train --out train_runs/gated [--steps N] ...
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch.nn.functional as F

from methods.training import trainer
from methods.training.trainer import Recipe, TrainConfig

from .model import GatedConfig, GatedInpainter, SNPatchGAN


@dataclass
class GatedTrainConfig(TrainConfig):
    FLOORS: ClassVar[dict] = {**TrainConfig.FLOORS, "cnum": 1, "dis_cnum": 1}
    cnum: int = 48  # generator width; 48 = the paper
    attention: bool = True  # the contextual attention branch of the fine stage
    dis_cnum: int = 64  # SN-PatchGAN width
    l1_alpha: float = 1.0  # weight of the l1 term of both stages
    gan_alpha: float = 1.0  # weight of the generator's hinge GAN term
    lr: float = 1e-4
    betas: tuple = (0.5, 0.999)
    #: TensorFlow's padding and resizing (model.py), which weights from convert_tf.py use: continue those with it
    tf_compat: bool = False

    def setting_problems(self) -> list[str]:
        problems = super().setting_problems()
        # a gated layer of cnum carries cnum/2 channels and the last feeds cnum/4 on: other widths
        # ended at the first step in a PyTorch channel-count error
        if self.cnum >= 1 and self.cnum % 4:
            problems.append(f"--cnum must be a multiple of 4, got {self.cnum}")
        return problems


class GatedRecipe(Recipe):
    name = "gated"
    converts_tf = True
    Config = GatedTrainConfig
    uses_loss_network = False
    multiple_of = 8

    def model_config(self) -> dict:
        return GatedConfig(self.cfg.cnum, self.cfg.attention, self.cfg.tf_compat).as_dict()

    @classmethod
    def build_model(cls, model_config: dict) -> GatedInpainter:
        return GatedInpainter(GatedConfig(**model_config))

    def build_critics(self):
        return {"sn_patchgan": SNPatchGAN(self.cfg.dis_cnum)}

    def forward(self, model, gt, hole):
        out = model(gt, hole)
        gt11 = gt * 2 - 1
        return {**out, "complete": out["x2"] * hole + gt11 * (1 - hole)}

    def critic_losses(self, critics, out, gt, hole):
        d = critics["sn_patchgan"]
        pos, neg = d(gt * 2 - 1, hole), d(out["complete"], hole)
        hinge = 0.5 * F.relu(1 - pos).mean() + 0.5 * F.relu(1 + neg).mean()
        return {"hinge": hinge, "total": hinge}

    def generator_losses(self, out, critics, gt, hole):
        gt11 = gt * 2 - 1
        terms = {"l1": self.cfg.l1_alpha * ((out["x1"] - gt11).abs().mean() + (out["x2"] - gt11).abs().mean()),
                 "gan": -self.cfg.gan_alpha * critics["sn_patchgan"](out["complete"], hole).mean()}
        terms["total"] = terms["l1"] + terms["gan"]
        return terms

    @classmethod
    def prediction(cls, model, image, hole):
        return (model(image, hole)["x2"] + 1) / 2

    @classmethod
    def card_rows(cls, blob):
        cfg = blob["config"]
        return {"width": f"cnum {blob['model_config']['cnum']} (paper: 48), contextual attention "
                         f"{'on' if blob['model_config']['attention'] else 'off'}; SN-PatchGAN cnum {cfg.get('dis_cnum')} (paper: 64)",
                "losses": f"{cfg.get('l1_alpha')} x (l1 coarse + l1 fine) + {cfg.get('gan_alpha')} x hinge GAN, as the authors' v2 config"}


def main(argv=None):
    trainer.main(GatedRecipe, argv)


if __name__ == "__main__":
    main()
