"""`rwconv` for the harness: loads shipped or user weights and inpaints through the model."""
from __future__ import annotations

from pathlib import Path

from methods.learned import LearnedMethod, load_weights

from .model import RegionWiseInpainter
from .train import RWRecipe

SHIPPED = Path(__file__).with_name("weights") / "rwconv.pt"


def load_model(path: Path) -> tuple[RegionWiseInpainter, dict]:
    return load_weights(RWRecipe, path, SHIPPED)


class RegionWise(LearnedMethod):
    """Region-wise convolutions + non-local correlation, coarse-to-fine (Ma et al., IJCAI 2019)."""

    name = "rwconv"
    recipe = RWRecipe
    shipped = SHIPPED
