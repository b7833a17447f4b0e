"""FID and KID between two sets of Inception pool3 features, with update/compute like torchmetrics.

FID is ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2), as in pytorch-fid, but the last
trace is taken from symmetric eigenvalue problems instead of scipy's general `sqrtm`: with A1,
A2 the centred feature matrices, the eigenvalues of S1 S2 are those of the n1 x n1 matrix
(A1 A2^T)(A1 A2^T)^T / ((n1-1)(n2-1)) when a set is smaller than the feature dimension, and those
of sqrt(S1) S2 sqrt(S1) otherwise. pytorch-fid's `calculate_frechet_distance` takes about 50 s
per 2048-d call on a 2-core CPU (seven calls per run: six buckets and all); this takes well
under a second to a few seconds and needs no eps offset for rank-deficient covariances. The
tests hold it against pytorch-fid's function and a direct scipy sqrtm computation. KID is the unbiased MMD^2 with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3 averaged over random subsets (Binkowski et al. 2018); no
dependency of ours implements it, so it is written here and tested against a direct NumPy
double loop.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch


#: rows made float64 at a time. A whole Places2 run is 219,000 x 2048 float32 features (1.8 GB, a
#: memmap); as float64 copies, centred and squared at once, FID over it peaked at 16 GB
CHUNK_ROWS = 8192


class Moments:
    """Mean and covariance (ddof 1) of a feature set, accumulated CHUNK_ROWS rows at a time in
    float64 (mean first, then the centred scatter, so no cancellation), from any array-like,
    a memmap included. The square root of the covariance is made once, when first asked: the
    ground truth of every bucket of a run is the same images, so one root serves them all."""

    def __init__(self, x):
        n, d = x.shape
        if n < 2:
            raise ValueError("FID needs at least 2 samples per set")
        self.n, self.mean = n, np.zeros(d)
        for s in range(0, n, CHUNK_ROWS):
            self.mean += np.asarray(x[s : s + CHUNK_ROWS], np.float64).sum(0)
        self.mean /= n
        scatter = np.zeros((d, d))
        for s in range(0, n, CHUNK_ROWS):
            c = np.asarray(x[s : s + CHUNK_ROWS], np.float64) - self.mean
            scatter += c.T @ c
        self.cov = scatter / (n - 1)
        self._root: np.ndarray | None = None

    @property
    def root(self) -> np.ndarray:
        if self._root is None:
            w, v = np.linalg.eigh(self.cov)
            self._root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        return self._root


def fid_from_moments(a: Moments, b: Moments) -> float:
    """FID of two full-rank sets (each at least as many samples as dimensions); b's root is used,
    so pass the set shared by several calls (the ground truth) as b."""
    ev = np.linalg.eigvalsh(b.root @ a.cov @ b.root)
    tr_sqrt = np.sqrt(np.clip(ev, 0, None)).sum()
    diff = a.mean - b.mean
    return float(diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2 * tr_sqrt)


def fid_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """a, b: (n, d) features, any array-like (a memmap is read a chunk at a time)."""
    if min(len(a), len(b)) < a.shape[1]:
        warnings.warn(f"FID on {min(len(a), len(b))} samples < {a.shape[1]} feature dimensions: the covariance "
                      f"is rank deficient and FID is biased upward; compare KID, and report N", stacklevel=2)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("FID needs at least 2 samples per set")
    if min(len(a), len(b)) >= a.shape[1]:
        return fid_from_moments(Moments(a), Moments(b))
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)  # fewer rows than 2048: small
    da, db = a - a.mean(0), b - b.mean(0)
    na, nb = len(a) - 1, len(b) - 1
    if len(a) > len(b):
        da, db, na, nb = db, da, nb, na
    m = da @ db.T
    ev = np.linalg.eigvalsh(m @ m.T / (na * nb))
    tr_sqrt = np.sqrt(np.clip(ev, 0, None)).sum()
    diff = a.mean(0) - b.mean(0)
    return float(diff @ diff + (da * da).sum() / na + (db * db).sum() / nb - 2 * tr_sqrt)


def _poly_mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
                 - 2 * kxy.mean())


def kid_from_features(a: np.ndarray, b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
                      seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over `subsets` random subsets of min(subset_size, N) each."""
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least 2 samples per set")
    rng = np.random.default_rng(seed)
    # each subset made float64 on its own: the whole of a Places2 run's features would be 3.6 GB
    take = lambda x: np.asarray(x[rng.choice(len(x), size, replace=False)], np.float64)
    vals = [_poly_mmd2_unbiased(take(a), take(b)) for _ in range(subsets)]
    return float(np.mean(vals)), float(np.std(vals))


class FeatureSetMetric:
    """Collects features of generated images batch by batch; compute() against reference features."""

    def __init__(self):
        self._feats: list[np.ndarray] = []

    def update(self, features: torch.Tensor | np.ndarray) -> None:
        f = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
        self._feats.append(f.astype(np.float64))

    @property
    def features(self) -> np.ndarray:
        return np.concatenate(self._feats) if self._feats else np.zeros((0, 2048))


class FID(FeatureSetMetric):
    def compute(self, reference: np.ndarray) -> float:
        return fid_from_features(self.features, reference)


class KID(FeatureSetMetric):
    def __init__(self, subsets: int = 100, subset_size: int = 1000, seed: int = 0):
        super().__init__()
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed

    def compute(self, reference: np.ndarray) -> tuple[float, float]:
        return kid_from_features(self.features, reference, self.subsets, self.subset_size, self.seed)
