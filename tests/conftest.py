import numpy as np
import pytest
import torch
from PIL import Image

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


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path_factory, monkeypatch):
    """No test sees the developer's torch cache or feature cache: offline paths stay offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
    monkeypatch.setenv("INPAINTBENCH_CACHE", str(tmp_path_factory.mktemp("ib_cache")))


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory):
    """Training photos made from the demo set, so tests need no Debian wallpaper packages."""
    from inpaintbench.data import get_dataset

    d = tmp_path_factory.mktemp("photos")
    ds = get_dataset("demo")
    for i in ds.ids()[:6]:
        Image.fromarray(ds.load(i)).save(d / f"{i}.png")
    # and held-out ones beside them (the trainers refuse to validate on training photos)
    held_out(d).mkdir()
    for i in ds.ids()[8:10]:
        Image.fromarray(ds.load(i)).save(held_out(d) / f"{i}.png")
    return d


def held_out(photo_dir):
    """The validation photos made beside photo_dir's training photos: another photo (coffee)."""
    return photo_dir.parent / f"{photo_dir.name}_val"
