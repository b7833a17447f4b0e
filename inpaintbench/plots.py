"""Each metric against hole ratio, one line per method, 95% bootstrap bands (PNG and PDF)."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from .masks import BUCKETS
from .metrics import METRIC_INFO
from .protocol import PROTOCOL

MID = {b.name: (b.lo_pct + b.hi_pct) / 2 for b in BUCKETS}
#: text drawn as given: method names, labels and image ids are users' strings, in which matplotlib
#: read `$...$` as TeX (an image 'a$\frac$b.png' ended the report in a ParseSyntaxException, one
#: named 'x_$1$_y.png' was shown as a formula); a context, so a caller's own figures keep TeX
LITERAL_TEXT = {"text.parse_math": False}
# Figures are made as Figure objects, not through pyplot: files need no display, and pyplot's
# matplotlib.use("Agg") at import had switched a notebook's (or a GUI script's) own backend, so its
# plots stopped showing once a report was written from it.


def kid_spread(sets: pd.DataFrame) -> pd.Series:
    """KID's std over subsets where it measures something: with kid_subset_size images or fewer every
    subset is the whole set, the std is 0 up to rounding, and a band of 0 would read as certainty."""
    if "n_outputs" not in sets:
        return sets.kid_std
    return sets.kid_std.where(sets[["n_outputs", "n_reference"]].min(axis=1) > PROTOCOL.kid_subset_size)


def band_label(metric: str, drawn: bool) -> str:
    if metric == "kid":
        return ("bands: ±1 std over KID subsets" if drawn else
                f"no band: every subset is the whole set (≤{PROTOCOL.kid_subset_size})")
    return "no band: set-level" if metric == "fid" else "bands: 95% bootstrap CI"


def metric_plots(summary: pd.DataFrame, out: Path, sets: pd.DataFrame | None = None, methods: list[str] | None = None,
                 metrics: list[str] | None = None) -> list[Path]:
    """summary: stats.summary() output; sets: per-bucket FID/KID rows (method, bucket, fid, kid, kid_std).
    Each method keeps one colour and legend position across all plots (order of `methods`).
    `metrics`: the report's (`--metrics`), which FID and KID are drawn only if among; None: both."""
    methods = methods or list(dict.fromkeys(summary.method))
    palette = matplotlib.colormaps["tab10"]
    colour = {m: palette(i % 10) for i, m in enumerate(methods)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    # no per-image metric asked for (report --metrics fid): an empty summary, without its columns
    series = {m: g for m, g in summary.groupby("metric", sort=False)} if len(summary) else {}
    if sets is not None and len(sets):
        s = sets[sets.bucket != "all"]
        if "fid" in s and (metrics is None or "fid" in metrics):
            series["fid"] = pd.DataFrame({"metric": "fid", "bucket": s.bucket, "method": s.method, "mean": s.fid,
                                          "ci_low": float("nan"), "ci_high": float("nan")})
        if "kid" in s and (metrics is None or "kid" in metrics):
            spread = kid_spread(s)
            series["kid"] = pd.DataFrame({"metric": "kid", "bucket": s.bucket, "method": s.method, "mean": s.kid,
                                          "ci_low": s.kid - spread, "ci_high": s.kid + spread})
    for metric, g in series.items():
        with matplotlib.rc_context(LITERAL_TEXT):
            written += _metric_plot(metric, g, methods, colour, out)
    return written


def _metric_plot(metric: str, g: pd.DataFrame, methods: list[str], colour: dict, out: Path) -> list[Path]:
    written = []
    higher, scale, label = METRIC_INFO[metric]
    fig = Figure(figsize=(5.2, 3.6), dpi=120)
    ax = fig.subplots()
    for method in methods:
        h = g[g.method == method]
        if h.empty:
            continue
        h = h.assign(x=h.bucket.map(MID)).sort_values("x")
        if len(h) == 1:  # a lone point's bar is set a little aside, so the methods' bars do not hide each other
            h = h.assign(x=h.x + (methods.index(method) - (len(methods) - 1) / 2) * min(1.0, 6 / len(methods)))
        ax.plot(h.x, h["mean"] * scale, marker="o", ms=3.5, lw=1.5, label=method, color=colour[method])
        if h.ci_low.notna().any():
            lo, hi = h.ci_low.astype(float) * scale, h.ci_high.astype(float) * scale
            ax.fill_between(h.x, lo, hi, color=colour[method], alpha=0.18, lw=0)
            if len(h) == 1:  # a band over one bucket has no width: a run of one bucket showed no interval
                m = h["mean"] * scale
                ax.errorbar(h.x, m, yerr=[m - lo, hi - m], color=colour[method], capsize=4, lw=1.2)
    ax.set_xlabel("hole ratio bucket (%)")
    ax.set_xticks(sorted(MID.values()), [b.name for b in BUCKETS])
    band = band_label(metric, bool(g.ci_low.notna().any()))
    ax.set_ylabel(f"{label} ({'higher' if higher else 'lower'} is better)")
    ax.set_title(f"{label} by hole size; {band}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, frameon=False)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        p = out / f"{metric}.{ext}"
        fig.savefig(p, metadata={"CreationDate": None} if ext == "pdf" else None)  # byte-identical reruns
        written.append(p)
    return written
