"""All metrics of one run, computed together: one decode, one pass per network per batch.

`MetricSuite.score` returns the per-image metrics of a batch and the Inception pool3 features
of the composites (stored by the runner for FID/KID). `reference_features` gives the pool3
features of the ground-truth images, cached on disk under a key made from the images' pixel
hashes, the network's weights hash and the resize convention, so a stale cache cannot be hit.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError, counted
from .backbones import load_fid_network, load_vgg16
from .perceptual import LPIPSMetric, lpips_unavailable_reason, perceptual_error
from .pixel import pixel_metrics

FEATURE_DIM = 2048


def run_networks(m: dict) -> dict[tuple[str, str | None], dict]:
    """The networks that made a run's numbers, from its manifest (MetricSuite.describe's), keyed by
    (role, metric): the `perceptual` role holds perceptual_vgg16's network in one run and
    perceptual_inception's in another, two columns."""
    return {(k, v.get("metric")): v for k, v in m.get("metrics", {}).get("networks", {}).items()}


def network_ids(m: dict) -> dict[str, tuple[str, ...]]:
    """Each network's weights by the metric it made (fid, perceptual_vgg16, lpips_alex, ...): its
    sha256 fields (LPIPS's is its backbone's). What report, check and a resumed run compare."""
    return {metric or role: tuple(net[f] for f in sorted(net) if f.endswith("sha256"))
            for (role, metric), net in run_networks(m).items()}


def cache_dir() -> Path:
    return Path(os.environ.get("INPAINTBENCH_CACHE", Path.home() / ".cache" / "inpaintbench")) / "features"


class MetricSuite:
    def __init__(self, device: str = "cpu", fid_network: str = "inception-tf", perceptual: str = "auto",
                 vgg_weights: str | None = None, lpips_nets: tuple[str, ...] = ("alex", "vgg")):
        self.device = torch.device(device)
        self.inception = load_fid_network(fid_network).to(self.device)
        self.unavailable: dict[str, str] = {}
        self.vgg = None
        if perceptual in ("auto", "vgg16"):
            self.vgg = load_vgg16(vgg_weights)
            if self.vgg is None and perceptual == "vgg16":
                raise InputError("perceptual error with VGG16 asked for, but no VGG16 weights: "
                                 "copy vgg16-397923af.pth to $TORCH_HOME/hub/checkpoints/ or pass --vgg-weights")
        if self.vgg is not None:
            self.vgg.to(self.device)
            self.perceptual_name = "perceptual_vgg16"
        elif getattr(self.inception, "TAPS", None):
            self.perceptual_name = "perceptual_inception"
            self.unavailable["perceptual_vgg16"] = "VGG16 ImageNet weights absent; perceptual_inception reported instead"
        else:
            self.perceptual_name = None
            self.unavailable["perceptual_vgg16"] = "VGG16 ImageNet weights absent and the FID network has no early taps"
        self.lpips = {}
        for net in lpips_nets:
            # --vgg-weights is VGG16's ImageNet file: LPIPS-vgg's trunk is the same network
            given = vgg_weights if net == "vgg" else None
            reason = lpips_unavailable_reason(net, given)
            if reason:
                self.unavailable[f"lpips_{net}"] = reason
            else:
                self.lpips[net] = LPIPSMetric(net, given).to(self.device)

    def describe(self) -> dict:
        nets = {"fid": {"network": self.inception.name, "weights": self.inception.weights_path,
                        "sha256": self.inception.weights_sha256, "resize": self.inception.resize,
                        "input_range": self.inception.input_range}}
        if self.perceptual_name == "perceptual_vgg16":
            nets["perceptual"] = {"metric": self.perceptual_name, "network": "vgg16 pool1-3",
                                  "weights": self.vgg.weights_path, "sha256": self.vgg.weights_sha256}
        elif self.perceptual_name:
            nets["perceptual"] = {"metric": self.perceptual_name, "network": "inception-tf pool0, pool1, mixed_2",
                                  "weights": self.inception.weights_path, "sha256": self.inception.weights_sha256}
        for net, m in self.lpips.items():
            nets[f"lpips_{net}"] = {"version": "0.1", "input_range": "[-1, 1]", **m.weights}
        return {"networks": nets, "unavailable": self.unavailable}

    @torch.no_grad()
    def score(self, composite: torch.Tensor, gt: torch.Tensor, hole: torch.Tensor,
              gt_keys: list[str]) -> tuple[dict[str, torch.Tensor], np.ndarray]:
        """gt_keys names each ground truth, so a batch holding one image under several masks
        runs that image through the networks once."""
        out = {k: v.cpu() for k, v in pixel_metrics(composite, gt, hole).items()}
        uniq = list(dict.fromkeys(gt_keys))
        first = [gt_keys.index(k) for k in uniq]
        gather = torch.tensor([uniq.index(k) for k in gt_keys])
        gt_u = gt[first]
        use_inception_taps = self.perceptual_name == "perceptual_inception"
        taps_c, pool3 = self.inception(composite, taps=use_inception_taps, pool3=True)
        if self.perceptual_name == "perceptual_vgg16":
            f_c, f_g = self.vgg(composite), [f[gather] for f in self.vgg(gt_u)]
            out[self.perceptual_name] = perceptual_error(f_c, f_g).cpu()
        elif use_inception_taps:
            taps_g, _ = self.inception(gt_u, taps=True, pool3=False)
            out[self.perceptual_name] = perceptual_error(taps_c, [f[gather] for f in taps_g]).cpu()
        for net, m in self.lpips.items():
            out[f"lpips_{net}"] = m(composite, gt).cpu()
        return out, pool3.cpu().numpy().astype(np.float32)

    @torch.no_grad()
    def reference_features(self, images, batch_size: int = 16, log=print) -> np.ndarray:
        """images: list of (pixel_sha256, loader) in order; cached by content, network and resize."""
        key_src = {"images": [h for h, _ in images], "network": self.inception.name,
                   "weights_sha256": self.inception.weights_sha256, "resize": self.inception.resize,
                   "input_range": self.inception.input_range}
        key = hashlib.sha256(json.dumps(key_src, sort_keys=True).encode()).hexdigest()[:32]
        path = cache_dir() / f"{key}.npy"
        if path.is_file():
            try:
                feats = np.load(path)
            except (OSError, ValueError, EOFError):  # a file cut short (disk full, a kill): computed again
                feats = None
            if feats is not None and feats.shape == (len(images), FEATURE_DIM):
                return feats
        self.reference_computations = getattr(self, "reference_computations", 0) + 1
        feats = []
        for i in range(0, len(images), batch_size):
            batch = torch.stack([torch.from_numpy(np.array(load())).permute(2, 0, 1) for _, load in images[i : i + batch_size]])
            _, p3 = self.inception(batch.to(self.device).float() / 255, taps=False, pool3=True)
            feats.append(p3.cpu().numpy().astype(np.float32))
        feats = np.concatenate(feats)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # a temporary name of its own: runs into other folders share this cache, and two finishing
            # together (methods launched side by side) renamed each other's file away mid-write
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npy")
            with os.fdopen(fd, "wb") as f:
                np.save(f, feats)
            os.replace(tmp, path)
        except OSError as e:
            # a cache is a saving, not a result: a home that cannot be written (a container's, a full
            # quota) ended a run's last step, its set metrics, hours in; the features are in hand
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)
            log(f"reference features not cached ({e.strerror or e}: {e.filename or path.parent}); "
                f"set INPAINTBENCH_CACHE to a writable folder to keep them")
            return feats
        log(f"reference features for {counted(len(images), 'image')} cached in {path}")
        return feats
