"""`pconv` for the harness: the PConv U-Net with shipped or user weights."""
from __future__ import annotations

from pathlib import Path

from methods.learned import LearnedMethod

from .train import PConvRecipe


class PConv(LearnedMethod):
    """Partial convolutions, U-Net (Liu et al., ECCV 2018)."""

    name = "pconv"
    recipe = PConvRecipe
    shipped = Path(__file__).with_name("weights") / "pconv.pt"
