"""Uncertainty for per-image metrics: bootstrap confidence intervals and paired tests.

The test is scipy.stats.wilcoxon, with Benjamini-Hochberg q over a file's tests (with_fdr); the
intervals are scipy.stats.bootstrap's percentile interval of the mean, computed here in one matrix
product per series length (bootstrap_cis says why) and tested against scipy's. Every interval is
seeded (PROTOCOL-independent REPORT_SEED), so a report is reproducible to the digit. Set-level
metrics (FID, KID) have no per-image values to resample; KID's subset standard deviation is
reported instead.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .masks import BUCKETS
from .metrics import METRIC_INFO, SET_METRICS

REPORT_SEED = 20190810  # IJCAI 2019's first day; any fixed number would do
CONFIDENCE = 0.95
RESAMPLES = 2000
ALPHA = 0.05
NO_DIFFERENCE = "no difference"
#: the verdict where fewer pairs differ than the signed-rank test needs to reach ALPHA at all (its
#: smallest p, every difference on one side, is 2 * 0.5**n: under 6 pairs at 0.05), so that its
#: silence says nothing; "no difference" there had read as a finding (`--limit 2`: every cell)
TOO_FEW = "too few pairs"
UNDECIDED = (NO_DIFFERENCE, TOO_FEW)


def interval_text(lo: float, hi: float, spec: str) -> str:
    """An interval as a table cell, each bound in format `spec`; "–" where there is none (one pair:
    nothing to resample), not "[+nan, +nan]"."""
    return "–" if np.isnan(lo) else f"[{lo:{spec}}, {hi:{spec}}]"


def bootstrap_ci(values: np.ndarray, seed: int = REPORT_SEED) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean; (nan, nan) below two values."""
    return bootstrap_cis([values], seed)[0]


#: resamples x values drawn at once (int64 indices and float64 counts: 64 MiB each), whatever the set's size
RESAMPLED_AT_ONCE = 2 ** 23


def bootstrap_cis(series: list[np.ndarray], seed: int = REPORT_SEED) -> list[tuple[float, float]]:
    """bootstrap_ci of each series: scipy.stats.bootstrap's percentile interval of the mean, the
    same numbers (to rounding; tests compare), made here. By hand because scipy gathers every
    resample's values: 0.3-0.5 s an interval at Places2's 36,500 pairs a bucket, 4.5-9 minutes for
    the ~900 of a ten-run report (`inpaintbench bench report`). The mean is linear, so a resample's
    mean is its index counts times the values / n: one draw of scipy's indices per series length
    (every interval is seeded alike, so all series of a length see the same indices, in scipy
    too) and one matrix product for all of them, ~100x faster."""
    out: list[tuple[float, float]] = [(np.nan, np.nan)] * len(series)
    by_length: dict[int, list[int]] = {}
    for i, values in enumerate(series):
        values = np.asarray(values, dtype=float)
        if len(values) < 2:  # one value says nothing of its spread: no interval, not one of width 0
            continue
        if np.all(values == values[0]):  # scipy calls a constant sample degenerate
            out[i] = (float(values[0]), float(values[0]))
        else:
            by_length.setdefault(len(values), []).append(i)
    for n, rows in by_length.items():
        sample = np.stack([np.asarray(series[i], dtype=float) for i in rows])
        rng, means = np.random.default_rng(seed), []
        batch = max(1, min(RESAMPLES, RESAMPLED_AT_ONCE // n))
        for start in range(0, RESAMPLES, batch):
            b = min(batch, RESAMPLES - start)
            idx = rng.integers(0, n, (b, n))  # scipy's draw, batched or not the same stream
            counts = np.bincount((idx + n * np.arange(b)[:, None]).ravel(), minlength=b * n).reshape(b, n)
            means.append(sample @ counts.T.astype(float) / n)
        alpha = (1 - CONFIDENCE) / 2
        lows, highs = np.percentile(np.concatenate(means, axis=1), [100 * alpha, 100 * (1 - alpha)], axis=1)
        for i, lo, hi in zip(rows, lows, highs):
            out[i] = (float(lo), float(hi))
    return out


def _per_image_metrics(df: pd.DataFrame, metrics) -> list[str]:
    return [m for m in metrics if m in df.columns and m not in SET_METRICS and df[m].notna().any()]


def summary(df: pd.DataFrame, metrics) -> pd.DataFrame:
    """Long table: metric, bucket, method, n, mean, ci_low, ci_high (raw units, not display scale)."""
    rows, series = [], []
    shown = _per_image_metrics(df, metrics)
    # one grouping for every metric: at Places2's scale each costs a second or more. The rows'
    # order is set by the sort below; an interval does not depend on the other series
    for (bucket, method), g in df.groupby(["bucket", "method"], sort=False):
        for m in shown:
            v = g[m].dropna().to_numpy()
            series.append(v)
            rows.append({"metric": m, "bucket": bucket, "method": method, "n": len(v), "mean": float(v.mean()) if len(v) else np.nan,
                         "ci_low": np.nan, "ci_high": np.nan})  # filled below, all at once
    for row, (lo, hi) in zip(rows, bootstrap_cis(series)):
        row.update(ci_low=lo, ci_high=hi)
    order = {b.name: i for i, b in enumerate(BUCKETS)}
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["metric", "bucket", "method"], key=lambda s: s.map(order) if s.name == "bucket" else s,
                              kind="stable").reset_index(drop=True)
    return out


def paired(df: pd.DataFrame, a: str, b: str, metrics, pooled: bool = False) -> pd.DataFrame:
    """A vs B on the (image, mask) pairs both scored, per metric and bucket (and with `pooled`,
    over every pair as bucket "all"): mean difference A - B with its 95% paired bootstrap
    interval, how many pairs each is better on, the Wilcoxon signed-rank p-value, and the verdict
    at alpha 0.05 in the metric's own direction ("A better", "B better", "no difference", or "too
    few pairs" where fewer differ than any verdict needs, see TOO_FEW). The
    verdict's side is the one the test found, the larger signed-rank sum; the mean can point the
    other way when a few pairs differ by much, and the row shows both."""
    rows, series = [], []
    key = ["image_id", "mask_file"]
    da, db = df[df.method == a], df[df.method == b]
    if da.empty or db.empty:
        missing = a if da.empty else b
        raise ValueError(f"no records of method {missing!r} to compare")
    shown = _per_image_metrics(df, metrics)
    # one merge and one bucket split for every metric (each a second at Places2's scale); a
    # metric's pairs are then those where both runs have its value
    joined = da[key + ["bucket"] + shown].merge(db[key + shown], on=key, suffixes=("_a", "_b"))
    groups = [(x.name, (joined.bucket == x.name).to_numpy()) for x in BUCKETS]
    groups += [("all", np.ones(len(joined), dtype=bool))] if pooled else []
    for m in shown:
        va, vb = joined[f"{m}_a"].to_numpy(dtype=float), joined[f"{m}_b"].to_numpy(dtype=float)
        both = ~(np.isnan(va) | np.isnan(vb))
        for bucket, in_bucket in groups:
            sel = in_bucket & both
            if not sel.any():
                continue
            d = va[sel] - vb[sel]
            series.append(d)
            p = float(stats.wilcoxon(d).pvalue) if len(d) >= 2 and np.any(d != 0) else 1.0
            higher = METRIC_INFO[m][0]
            a_wins = d > 0 if higher else d < 0
            if p < ALPHA:
                verdict = f"{a} better" if (_rank_sum_side(d) > 0) == higher else f"{b} better"
            elif 2 * 0.5 ** int(np.count_nonzero(d)) >= ALPHA:
                verdict = TOO_FEW
            else:
                verdict = NO_DIFFERENCE
            rows.append({"metric": m, "bucket": bucket, "a": a, "b": b, "n_pairs": len(d), "mean_diff": float(d.mean()),
                         "ci_low": np.nan, "ci_high": np.nan, "n_a_better": int(a_wins.sum()), "n_b_better": int(((d != 0) & ~a_wins).sum()),
                         "wilcoxon_p": p, "verdict": verdict})
    for row, (lo, hi) in zip(rows, bootstrap_cis(series)):
        row.update(ci_low=lo, ci_high=hi)
    return pd.DataFrame(rows)


def with_fdr(cmp: pd.DataFrame) -> pd.DataFrame:
    """`cmp` with `wilcoxon_q` beside `wilcoxon_p`: each p adjusted by Benjamini-Hochberg over every
    row of the frame, the family a claim such as "better in 38 cells" is counted over (the demo
    report's 270 tests at alpha 0.05 would give ~13 verdicts by chance alone). The verdict stays
    the cell's own test; q < alpha says which verdicts hold at a 5% false discovery rate.
    scipy.stats.false_discovery_control does the adjustment."""
    out = cmp.copy()
    if out.empty:
        return out
    p = out.wilcoxon_p.to_numpy(dtype=float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    out.insert(out.columns.get_loc("wilcoxon_p") + 1, "wilcoxon_q", q)
    return out


def _rank_sum_side(d: np.ndarray) -> float:
    """R+ - R-: which way the signed-rank test leans (zeros dropped, as scipy's default)."""
    d = d[d != 0]
    ranks = stats.rankdata(np.abs(d))
    return float(ranks[d > 0].sum() - ranks[d < 0].sum())
