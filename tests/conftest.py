import numpy as np
import pytest
import torch

from inpaintbench.data import get_dataset


@pytest.fixture(scope="session")
def demo():
    return get_dataset("demo")


@pytest.fixture(scope="session")
def photo_pair(demo):
    """Two different real photos as float64 HxWx3 in [0,1]."""
    return demo.load("china_c") / 255.0, demo.load("coffee_full") / 255.0


def to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
