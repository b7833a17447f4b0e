"""`gated` for the harness: DeepFill v2 (gated convolution) with shipped or user weights.

`--weights` takes files written by `python -m methods.gated.train --export`, or the authors'
TensorFlow checkpoints once converted by `python -m methods.gated.convert_tf`."""
from __future__ import annotations

from pathlib import Path

from methods.learned import LearnedMethod

from .train import GatedRecipe


class GatedConv(LearnedMethod):
    """Gated convolution + contextual attention, SN-PatchGAN (Yu et al., ICCV 2019)."""

    name = "gated"
    recipe = GatedRecipe
    shipped = Path(__file__).with_name("weights") / "gated.pt"
