"""Reports: bootstrap CIs and paired tests against direct scipy/numpy computations, every
format written, the HTML self-contained (and rendered by Chromium where installed), refusals."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats as sps

from inpaintbench.errors import InputError
from inpaintbench.html import find_chromium, screenshot
from inpaintbench.report import caption_for, load_runs, load_table, render, table1, write_report
from inpaintbench.runner import RunConfig, read_records, run
from inpaintbench.stats import bootstrap_ci, paired


def test_bootstrap_interval_matches_the_normal_approximation_and_is_seeded():
    x = np.random.default_rng(1).normal(10, 2, size=400)
    lo, hi = bootstrap_ci(x)
    half = 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert lo < x.mean() < hi
    assert abs((hi - lo) / 2 - half) / half < 0.1
    assert bootstrap_ci(x) == (lo, hi)  # same seed, same digits
    # a hand-written percentile bootstrap with the same number of resamples agrees closely
    rng = np.random.default_rng(7)
    means = x[rng.integers(0, len(x), size=(4000, len(x)))].mean(axis=1)
    assert np.allclose(np.percentile(means, [2.5, 97.5]), [lo, hi], atol=0.05)


def test_intervals_made_together_are_scipys_one_at_a_time(monkeypatch):
    """A report's ~900 intervals are made by hand, all series of one length in one matrix product
    (scipy took 0.3-0.5 s each at Places2's 36,500 pairs a bucket); each must still be what scipy's
    own call gives, also when the memory bound splits the resamples into many batches."""
    from scipy import stats as sps

    from inpaintbench import stats

    rng = np.random.default_rng(3)
    series = [rng.normal(size=50), rng.exponential(size=50), rng.normal(size=31), np.full(7, 2.5), np.array([1.0]),
              np.array([]), rng.normal(5, 1, size=50)]
    monkeypatch.setattr(stats, "RESAMPLED_AT_ONCE", 50 * 7)  # 7 resamples a batch at length 50, 11 at 31
    got = stats.bootstrap_cis(series)
    for v, (lo, hi) in zip(series, got):
        if len(v) >= 2 and np.ptp(v) > 0:
            r = sps.bootstrap((v,), np.mean, confidence_level=0.95, n_resamples=stats.RESAMPLES, method="percentile",
                              rng=np.random.default_rng(stats.REPORT_SEED))
            assert np.allclose([lo, hi], [r.confidence_interval.low, r.confidence_interval.high], rtol=0, atol=1e-12)
    assert got[3] == (2.5, 2.5) and all(np.isnan(got[4])) and all(np.isnan(got[5]))
    assert got[0] != got[6] and got[0] != got[1]  # rows resampled alike are still their own series


def _frame(a_minus_b: np.ndarray, metric="psnr"):
    n = len(a_minus_b)
    base = np.random.default_rng(0).normal(25, 3, size=n)
    rows = []
    for m, v in (("A", base + a_minus_b), ("B", base)):
        rows += [{"method": m, "image_id": f"img{i}", "mask_file": f"10-20/{i}.png", "bucket": "10-20", metric: v[i]} for i in range(n)]
    return pd.DataFrame(rows)


def test_paired_comparison_equals_scipy_wilcoxon_and_respects_direction():
    d = np.random.default_rng(3).normal(0.4, 0.3, size=40)
    r = paired(_frame(d), "A", "B", ["psnr"]).iloc[0]
    assert r.n_pairs == 40 and np.isclose(r.mean_diff, d.mean())
    assert np.isclose(r.wilcoxon_p, sps.wilcoxon(d).pvalue)
    assert r.verdict == "A better" and r.ci_low > 0
    # for a lower-is-better metric the same positive difference means B is better
    assert paired(_frame(d, "l1"), "A", "B", ["l1"]).iloc[0].verdict == "B better"
    noise = np.random.default_rng(4).normal(0, 0.3, size=40)
    assert paired(_frame(noise), "A", "B", ["psnr"]).iloc[0].verdict == "no difference"
    # five pairs all one way: scipy's exact p is 2/2**5 = 0.0625, the smallest five can give, so no
    # outcome could have been a verdict; "no difference" read as a finding. Six reach 0.03125.
    for n, verdict in ((5, "too few pairs"), (6, "A better")):
        r = paired(_frame(np.linspace(0.5, 1.0, n)), "A", "B", ["psnr"]).iloc[0]
        assert np.isclose(r.wilcoxon_p, 2 / 2**n) and r.verdict == verdict, (n, r.wilcoxon_p, r.verdict)
    # differences of 0 are no evidence: six pairs of which two tie are four that differ
    r = paired(_frame(np.array([0.0, 0.0, 0.5, 0.6, 0.7, 0.8])), "A", "B", ["psnr"]).iloc[0]
    assert r.verdict == "too few pairs", (r.wilcoxon_p, r.verdict)
    # pairs won, counted in the metric's direction; ties go to neither
    d[:3] = [-0.1, 0.0, -0.2]
    r = paired(_frame(d), "A", "B", ["psnr"]).iloc[0]
    assert (r.n_a_better, r.n_b_better) == ((d > 0).sum(), (d < 0).sum()) and r.n_a_better + r.n_b_better == 39
    r = paired(_frame(d, "l1"), "A", "B", ["l1"]).iloc[0]
    assert (r.n_a_better, r.n_b_better) == ((d < 0).sum(), (d > 0).sum())
    # A ahead on 30 pairs by a little, behind on 2 by much: the mean favours B, the signed ranks
    # (what the test tests: scipy's one-sided "greater" rejects, "less" does not) favour A
    d = np.r_[np.random.default_rng(6).uniform(0.05, 0.15, 30), -4.0, -5.0]
    r = paired(_frame(d), "A", "B", ["psnr"]).iloc[0]
    assert r.mean_diff < 0 and sps.wilcoxon(d, alternative="greater").pvalue < 0.05 < sps.wilcoxon(d, alternative="less").pvalue
    assert r.verdict == "A better" and (r.n_a_better, r.n_b_better) == (30, 2)
    assert paired(_frame(d, "l1"), "A", "B", ["l1"]).iloc[0].verdict == "B better"


def test_pooled_comparison_is_over_every_pair_of_every_bucket():
    d = np.random.default_rng(5).normal(0.1, 0.3, size=30)
    f = _frame(d)
    f.loc[f.image_id.isin([f"img{i}" for i in range(12)]), "bucket"] = "40-50"
    cmp = paired(f, "A", "B", ["psnr"], pooled=True).set_index("bucket")
    assert list(cmp.index) == ["10-20", "40-50", "all"] and list(cmp.n_pairs) == [18, 12, 30]
    assert np.isclose(cmp.loc["all", "mean_diff"], d.mean()) and np.isclose(cmp.loc["all", "wilcoxon_p"], sps.wilcoxon(d).pvalue)
    assert np.isclose(cmp.loc["40-50", "wilcoxon_p"], sps.wilcoxon(d[:12]).pvalue)
    assert "all" not in set(paired(f, "A", "B", ["psnr"]).bucket)


def test_each_metric_is_compared_on_the_pairs_where_both_runs_have_it():
    """One merge serves every metric; a value missing for one metric (a pair whose perceptual
    error a run lacks) drops that pair from that metric's comparison only."""
    rng = np.random.default_rng(8)
    f = _frame(rng.normal(0.3, 0.2, 20))
    f["l1"] = rng.uniform(0.01, 0.05, len(f))
    f.loc[(f.method == "A") & f.image_id.isin(["img0", "img1", "img2"]), "l1"] = np.nan
    f.loc[(f.method == "B") & (f.image_id == "img7"), "psnr"] = np.nan
    got = paired(f, "A", "B", ["psnr", "l1"]).set_index("metric")
    for metric, dropped in (("psnr", {"img7"}), ("l1", {"img0", "img1", "img2"})):
        a = f[(f.method == "A") & ~f.image_id.isin(dropped)].set_index("image_id")[metric]
        b = f[(f.method == "B") & ~f.image_id.isin(dropped)].set_index("image_id")[metric]
        d = (a - b.loc[a.index]).to_numpy()
        assert got.loc[metric, "n_pairs"] == 20 - len(dropped) and np.isclose(got.loc[metric, "mean_diff"], d.mean())
        assert np.isclose(got.loc[metric, "wilcoxon_p"], sps.wilcoxon(d).pvalue)


def test_records_read_as_columns_are_the_records_frame_with_each_string_kept_once(tmp_path):
    """The report reads runs column by column (a list of dicts at Places2's scale took 4.8 GB
    for ten runs): the same frame as pandas makes of the records, a key some records lack NaN
    there, a torn last line left out; one identifier string shared by every run that has it."""
    from inpaintbench.runner import read_record_columns

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"image_id": "x.jpg", "psnr": 20.5, "n": 1}\n{"image_id": "y.jpg", "ok": true, "n": 2}\n'
                 '{"psnr": 21.0, "image_id": "x.jpg", "extra": "e"}\n{"image_id": "torn')
    b.write_text('{"image_id": "x.jpg", "psnr": 19.0}\n')
    strings = {}
    cols_a, cols_b = read_record_columns(a, strings), read_record_columns(b, strings)
    pd.testing.assert_frame_equal(pd.DataFrame(cols_a), pd.DataFrame(read_records(a)))
    assert list(cols_a) == ["image_id", "psnr", "n", "ok", "extra"] and len(cols_a["n"]) == 3
    assert cols_a["image_id"][0] is cols_a["image_id"][2] is cols_b["image_id"][0]
    assert read_record_columns(tmp_path / "none.jsonl") == {}


def test_compare_command_on_two_runs_of_one_method(two_runs, tmp_path):
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    other = tmp_path / "again"
    shutil.copytree(two_runs[0], other)  # the same method twice: named by folder in the comparison
    recs = read_records(other / "records.jsonl")
    for r in recs[:2]:
        r["psnr"] += 1.0
    (other / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    res = CliRunner().invoke(app, ["compare", str(other), str(two_runs[0]), "--metrics", "psnr", "--out", str(tmp_path / "c.csv")])
    assert res.exit_code == 0, res.output
    cmp = pd.read_csv(tmp_path / "c.csv")
    assert set(cmp.a) == {str(other)} and set(cmp.b) == {str(two_runs[0])}
    pooled = cmp[cmp.bucket == "all"].iloc[0]
    assert (pooled.n_pairs, pooled.n_a_better, pooled.n_b_better) == (len(recs), 2, 0)
    assert np.isclose(pooled.mean_diff, 2.0 / len(recs))
    res = CliRunner().invoke(app, ["compare", str(two_runs[0]), str(tmp_path)])
    assert res.exit_code == 2 and f"{tmp_path}: a folder of 1 run (again), not one run" in " ".join(res.output.split())


def test_an_unfinished_run_is_named_in_the_caption_and_the_page(two_runs, tmp_path):
    """A run stopped before its last pair tabled beside finished ones with only the N row to tell
    that its means cover fewer images."""
    short = tmp_path / "biharmonic"
    shutil.copytree(two_runs[1], short)
    recs = read_records(short / "records.jsonl")
    (short / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs[:-2]))
    df, manifests = load_runs([two_runs[0], short])
    assert "biharmonic is UNFINISHED (4 of 6 pairs scored" in caption_for(manifests, df)
    full_df, full_manifests = load_runs(two_runs)
    assert "UNFINISHED" not in caption_for(full_manifests, full_df) and "UNFINISHED" not in caption_for(manifests)
    write_report([two_runs[0], short], tmp_path / "rep", formats=("md", "html"), log=lambda s: None)
    assert "UNFINISHED" in (tmp_path / "rep" / "table1.md").read_text() and "UNFINISHED" in (tmp_path / "rep" / "index.html").read_text()


def _with_metrics(src: Path, dst: Path, metrics: dict) -> Path:
    shutil.copytree(src, dst)
    m = json.loads((dst / "manifest.json").read_text())
    m["metrics"] = metrics
    (dst / "manifest.json").write_text(json.dumps(m))
    return dst


def _deep(perceptual: str, sha: str, unavailable: dict | None = None) -> dict:
    net = "vgg16 pool1-3" if perceptual == "perceptual_vgg16" else "inception-tf pool0, pool1, mixed_2"
    return {"networks": {"fid": {"network": "inception-tf", "sha256": "f" * 64},
                         "perceptual": {"metric": perceptual, "network": net, "sha256": sha}},
            "unavailable": unavailable or {}}


def test_the_caption_names_every_runs_networks_and_which_runs_had_none(two_runs, tmp_path):
    """The caption took the networks and the missing metrics from the first run alone: a run made
    with --no-deep-metrics first and a deep one beside it gave a table with FID and perceptual
    columns and no word of the network that made them."""
    deep = _with_metrics(two_runs[1], tmp_path / "deep", _deep("perceptual_inception", "f" * 64,
                                                               {"lpips_alex": "alexnet weights absent"}))
    caption = caption_for(load_runs([two_runs[0], deep])[1])
    assert "Networks: fid: inception-tf sha256 ffffffffffff; perceptual: inception-tf pool0, pool1, mixed_2" in caption
    assert "lpips_alex unavailable (alexnet weights absent)" in caption
    assert "Deep metrics off (pixel metrics only) for telea." in caption and "FID/KID per bucket" in caption
    pixel_only = caption_for(load_runs(two_runs)[1])
    assert "Pixel metrics only" in pixel_only and "FID/KID" not in pixel_only and "Networks" not in pixel_only
    other = _with_metrics(two_runs[0], tmp_path / "other", _deep("perceptual_inception", "f" * 64))
    assert "lpips_alex unavailable for biharmonic (alexnet weights absent)" in caption_for(load_runs([other, deep])[1])


def test_runs_scored_by_different_weights_of_one_network_do_not_share_a_table(two_runs, tmp_path):
    """Only the FID network was checked, and only against the first run: two VGG16 files gave
    perceptual_vgg16 numbers in one column, and a pixel-only first run let any FID networks mix."""
    a = _with_metrics(two_runs[0], tmp_path / "a", _deep("perceptual_vgg16", "a" * 64))
    b = _with_metrics(two_runs[1], tmp_path / "b", _deep("perceptual_vgg16", "b" * 64))
    with pytest.raises(InputError, match="the perceptual_vgg16 network's weights differ .sha256 bbbbbbbbbbbb vs aaaaaaaaaaaa"):
        write_report([a, b], tmp_path / "x", log=lambda s: None)
    c = _with_metrics(two_runs[1], tmp_path / "c", _deep("perceptual_inception", "b" * 64))
    load_runs([a, c])  # perceptual_vgg16 and perceptual_inception are two columns, nothing to disagree on
    m = json.loads((c / "manifest.json").read_text())
    m["metrics"]["networks"]["fid"]["sha256"] = "e" * 64
    (c / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InputError, match="the fid network's weights differ"):
        load_runs([two_runs[0], a, c], names=["p", "q", "r"])


def test_compare_takes_runs_of_different_length_on_their_shared_pairs(two_runs, tmp_path):
    """A quick --limit 1 run against a full one was refused ("dataset differs"), though compare
    only uses the pairs both scored; a table still needs the same images. A run against itself
    is refused by name."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    run(RunConfig(method="biharmonic", limit=1, buckets=["10-20"], deep_metrics=False), tmp_path / "short", log=lambda s: None)
    res = CliRunner().invoke(app, ["compare", str(tmp_path / "short"), str(two_runs[0]), "--metrics", "psnr",
                                   "--out", str(tmp_path / "c.csv")])
    assert res.exit_code == 0, res.output
    cmp = pd.read_csv(tmp_path / "c.csv")
    short, full = read_records(tmp_path / "short" / "records.jsonl"), read_records(two_runs[0] / "records.jsonl")
    (mine,) = short
    (theirs,) = [r for r in full if (r["image_id"], r["mask_file"]) == (mine["image_id"], mine["mask_file"])]
    pooled = cmp[cmp.bucket == "all"].iloc[0]
    assert pooled.n_pairs == 1 and np.isclose(pooled.mean_diff, mine["psnr"] - theirs["psnr"])
    with pytest.raises(InputError, match=r"number of images scored \(--limit\) differs \(3 vs 1\); .*compare"):
        write_report([tmp_path / "short", two_runs[0]], tmp_path / "rep", log=lambda s: None)
    res = CliRunner().invoke(app, ["compare", str(two_runs[0]), str(two_runs[0]) + "/"])
    assert res.exit_code == 2 and "compare needs two runs; both are" in " ".join(res.output.split())


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    for m in ("telea", "biharmonic"):
        run(RunConfig(method=m, limit=3, buckets=["10-20", "40-50"], deep_metrics=False), d / m, log=lambda s: None)
    return [d / "telea", d / "biharmonic"]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.srcs, self.rows = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for k in ("src", "href"):
            if k in a:
                self.srcs.append(a[k])
        if tag == "tr" and "data-m" in a:
            self.rows += 1


def test_every_format_is_written_and_the_page_is_self_contained(two_runs, tmp_path):
    files = write_report(two_runs, tmp_path / "rep", reference="biharmonic", log=lambda s: None)
    names = {p.relative_to(tmp_path / "rep").as_posix() for p in files}
    for f in ("table1.md", "table1.tex", "table1.csv", "table1_ci.csv", "comparisons.csv", "index.html",
              "plots/psnr.png", "plots/psnr.pdf", "plots/ssim.png", "grids/random.png", "grids/random.jpg",
              "grids/worst_biharmonic.png"):
        assert f in names, f
    ci = pd.read_csv(tmp_path / "rep" / "table1_ci.csv")
    df, _ = load_runs(two_runs)
    g = df[(df.method == "telea") & (df.bucket == "40-50")].psnr
    row = ci[(ci.metric == "psnr") & (ci.method == "telea") & (ci.bucket == "40-50")].iloc[0]
    assert np.isclose(row["mean"], g.mean()) and row.n == 3 and row.ci_low <= row["mean"] <= row.ci_high
    assert "±" in (tmp_path / "rep" / "table1.md").read_text()
    cmp = pd.read_csv(tmp_path / "rep" / "comparisons.csv")
    assert set(cmp.a) == {"biharmonic"} and set(cmp.b) == {"telea"}
    # every record of both runs, as each run's records.jsonl holds it
    rows = pd.read_csv(tmp_path / "rep" / "per_image.csv")
    for d in two_runs:
        recs = read_records(d / "records.jsonl")
        mine = rows[rows.method == recs[0]["method"]]
        assert len(mine) == len(recs) and list(mine.mask_file) == [r["mask_file"] for r in recs]
        assert np.allclose(mine.psnr, [r["psnr"] for r in recs]) and np.allclose(mine.ssim_hole, [r["ssim_hole"] for r in recs])
    assert {"feature_row", "image_index"}.isdisjoint(rows.columns)
    page = (tmp_path / "rep" / "index.html").read_text()
    p = _Collect()
    p.feed(page)
    assert p.rows == len(df)  # one drill-down row per (method, image, mask)
    assert all(s.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")) for s in p.srcs), \
        [s[:40] for s in p.srcs if not s.startswith("data:")]
    assert len(p.srcs) >= 4 + 2  # plots + both grids
    assert "ib1-" in page and "&quot;config&quot;" in page  # protocol and manifests (escaped JSON)
    # a grid is (input | telea | biharmonic | ground truth) x 2 buckets, with red hole outlines
    grid = np.asarray(Image.open(tmp_path / "rep" / "grids" / "random.png").convert("RGB"))
    assert ((grid[..., 0] > 240) & (grid[..., 1] < 60) & (grid[..., 2] < 60)).sum() > 100


def test_the_page_names_each_manifest_by_its_run(two_runs, tmp_path):
    """The manifests' headings said the method: rwconv, rwconv+poisson and rwconv+hflip+poisson
    (or two --label runs of one method) were three headings 'rwconv', told apart only by reading
    the JSON under each."""
    other = tmp_path / "telea_v2"
    shutil.copytree(two_runs[0], other)
    m = json.loads((other / "manifest.json").read_text())
    m["config"]["label"] = "telea_v2"
    (other / "manifest.json").write_text(json.dumps(m))
    recs = read_records(other / "records.jsonl")
    (other / "records.jsonl").write_text("".join(json.dumps({**r, "method": "telea_v2"}) + "\n" for r in recs))
    write_report([two_runs[0], other], tmp_path / "rep", formats=("html",), log=lambda s: None)
    page = (tmp_path / "rep" / "index.html").read_text()
    assert re.findall(r"<details><summary>([^<]*)</summary><pre>", page) == [recs[0]["method"], "telea_v2"]


def test_grids_of_a_learned_run_refuse_weights_changed_since(tmp_path):
    """Without --save-images the grids run the method again: only with the weights the run was
    scored with (the same path may hold a retrained file by now)."""
    from inpaintbench.paths import REPO_ROOT

    ablations = REPO_ROOT / "methods" / "rwconv" / "weights" / "ablations"
    w = tmp_path / "w.pt"
    shutil.copy(ablations / "f-full.pt", w)
    run(RunConfig(method="rwconv", weights=str(w), limit=1, buckets=["10-20"], deep_metrics=False), tmp_path / "r",
        log=lambda s: None)
    said = []
    write_report([tmp_path / "r"], tmp_path / "rep", formats=("html",), log=said.append)
    assert (tmp_path / "rep" / "grids" / "random.png").is_file() and not any("not drawn" in x for x in said), said
    shutil.copy(ablations / "b-standard-conv.pt", w)
    write_report([tmp_path / "r"], tmp_path / "rep2", formats=("html",), log=said.append)
    assert any("not drawn" in x and "the run's rwconv weights had sha256" in x for x in said), said
    assert not (tmp_path / "rep2" / "grids" / "random.png").exists()


def test_grids_share_fills_only_between_runs_of_the_same_weights(tmp_path, monkeypatch):
    """The grids compute a method's fills once for the runs that differ only in what is done with
    them (rwconv, rwconv+poisson): one network, one file. Two runs of rwconv with other weights
    (an ablation under --label) must each show their own."""
    from inpaintbench import grids, registry
    from inpaintbench.data import get_dataset
    from inpaintbench.paths import REPO_ROOT

    ablations = REPO_ROOT / "methods" / "rwconv" / "weights" / "ablations"
    one = dict(method="rwconv", limit=1, buckets=["10-20"], deep_metrics=False)
    runs = {"full": dict(weights=str(ablations / "f-full.pt")),
            "full_blended": dict(weights=str(ablations / "f-full.pt"), blend="poisson", label="full_blended"),
            "standard": dict(weights=str(ablations / "b-standard-conv.pt"), label="standard")}
    for name, kw in runs.items():
        run(RunConfig(**one, **kw), tmp_path / name, log=lambda s: None)
    shown, fills = {}, []
    real_outputs, real_inpaint = grids.run_outputs, type(registry.create("rwconv")).inpaint

    def outputs(run_dir, manifest, *args, **kw):
        shown[run_dir.name] = real_outputs(run_dir, manifest, *args, **kw)
        return shown[run_dir.name]

    def inpaint(self, masked, hole):
        fills.append(self.describe()["weights_sha256"])
        return real_inpaint(self, masked, hole)

    monkeypatch.setattr(grids, "run_outputs", outputs)
    monkeypatch.setattr(type(registry.create("rwconv")), "inpaint", inpaint)
    write_report([tmp_path / n for n in runs], tmp_path / "rep", formats=("html",), log=lambda s: None)
    # two grids (random, worst) over the same pair: each runs each network once, the blended run reusing
    assert len(fills) == 4 and len(set(fills)) == 2, fills
    (key,) = {k for o in shown.values() for k in o}
    assert not np.array_equal(shown["full"][key], shown["standard"][key])
    assert not np.array_equal(shown["full"][key], shown["full_blended"][key])
    # each as the run scored it: its record's PSNR from the shown composite
    gt = get_dataset("demo").load(read_records(tmp_path / "full" / "records.jsonl")[0]["image_id"])
    for name in runs:
        rec = read_records(tmp_path / name / "records.jsonl")[0]
        err = ((shown[name][key].astype(float) - np.asarray(gt, float)) / 255) ** 2
        assert abs(10 * np.log10(1 / err.mean()) - rec["psnr"]) < 1e-4, name


def test_grids_of_a_method_a_script_registered_say_where_they_can_be_drawn(tmp_path, monkeypatch):
    """A method registered by a script (the README's meanfill) is known to that script alone: a
    report from the command line noted only "unknown method 'meanfill'", which the script had run."""
    from inpaintbench import registry
    from inpaintbench.method import InpaintingMethod

    class Grey(InpaintingMethod):
        name = "grey"

        def inpaint(self, masked, hole):
            return masked + 0.5 * hole

    one = dict(method="grey", limit=1, buckets=["10-20"], deep_metrics=False)
    monkeypatch.setitem(registry._runtime, "grey", Grey)
    run(RunConfig(**one), tmp_path / "r", log=lambda s: None)
    monkeypatch.delitem(registry._runtime, "grey")  # as in another process
    said = []
    write_report([tmp_path / "r"], tmp_path / "rep", formats=("html",), log=said.append)
    notes = [x for x in said if "not drawn" in x]
    assert len(notes) == 2 and all(f"{tmp_path / 'r'}: its method 'grey' is not registered here" in x and
                                   "write the report from the script that registers it (write_report)" in x and
                                   "--save-images" in x for x in notes), said
    monkeypatch.setitem(registry._runtime, "grey", Grey)
    run(RunConfig(**one, save_images=True), tmp_path / "r", log=lambda s: None)  # as the note says
    monkeypatch.delitem(registry._runtime, "grey")
    said.clear()
    write_report([tmp_path / "r"], tmp_path / "rep2", formats=("html",), log=said.append)
    assert not any("not drawn" in x for x in said) and (tmp_path / "rep2" / "grids" / "random.png").is_file(), said


def test_the_grids_draw_from_a_copy_still_there_and_not_from_images_edited_since(tmp_path):
    """The grids loaded the ground truth from the first run's folder only: runs over two copies of
    one dataset table together, and with the first copy gone no grid was drawn. An image edited
    since the runs was drawn, each method's fill made anew on pixels it was not scored on."""
    from skimage import data as skdata

    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir()
    Image.fromarray(skdata.coffee()).save(mine / "coffee.png")
    shutil.copytree(mine, theirs)
    common = {"dataset": "folder", "buckets": ["10-20"], "deep_metrics": False}
    run(RunConfig(method="telea", data_root=str(mine), **common), tmp_path / "a", log=lambda s: None)
    run(RunConfig(method="navier-stokes", data_root=str(theirs), **common), tmp_path / "b", log=lambda s: None)
    shutil.rmtree(mine)
    said = []
    write_report([tmp_path / "a", tmp_path / "b"], tmp_path / "rep", formats=("html",), log=said.append)
    assert not any("not drawn" in x for x in said) and (tmp_path / "rep" / "grids" / "random.png").is_file(), said
    Image.open(theirs / "coffee.png").rotate(180).save(theirs / "coffee.png")
    said.clear()
    write_report([tmp_path / "a", tmp_path / "b"], tmp_path / "rep2", formats=("html",), log=said.append)
    notes = [x for x in said if "not drawn" in x]
    assert len(notes) == 2 and all(f"{theirs}: image 'coffee.png' has other pixels than when it was scored" in x
                                   for x in notes), said


def test_a_report_whose_images_are_gone_says_so_instead_of_a_traceback(tmp_path):
    """The grids load a run's ground truth again: an image removed or renamed since the run ended
    the report with a KeyError traceback."""
    from inpaintbench.data import get_dataset

    demo, imgs = get_dataset("demo"), tmp_path / "imgs"
    imgs.mkdir()
    for name, i in zip("ab", demo.ids()):
        Image.fromarray(demo.load(i)).save(imgs / f"{name}.png")
    run(RunConfig(method="telea", dataset="folder", data_root=str(imgs), buckets=["10-20"], deep_metrics=False),
        tmp_path / "r", log=lambda s: None)
    (imgs / "a.png").rename(imgs / "c.png")
    (imgs / "b.png").unlink()
    said = []
    write_report([tmp_path / "r"], tmp_path / "rep", formats=("html",), log=said.append)
    notes = [x for x in said if "not drawn" in x]
    assert len(notes) == 2 and all(f"{imgs}: no image" in x and "removed or renamed since it was scored" in x
                                   for x in notes), said
    assert (tmp_path / "rep" / "index.html").is_file()
    with pytest.raises(InputError, match="the demo dataset has no image 'nope.png'"):
        demo.load("nope.png")


def _latex_of(two_runs, caption):
    df, _ = load_runs(two_runs)
    df["method"] = df.method.replace({"telea": "telea_v2"})  # a --label with LaTeX's subscript character
    t = table1(df, ["psnr", "l1"])
    return render(t, "latex", caption, None)


def test_the_latex_table_escapes_what_latex_reads_as_commands(two_runs):
    """The committed table1.tex did not compile: '0-10%' starts a LaTeX comment that ate the rest of
    each row, the caption's $TORCH_HOME opened math mode, and pdflatex stops at ↑ and ±. The output
    is checked here without LaTeX (ASCII only, every special character escaped) and compiled below
    where pdflatex is installed."""
    tex = _latex_of(two_runs, "weights under $TORCH_HOME/hub, 10% of pairs, mean ±h, made with --no-deep-metrics, N<5")
    assert tex.isascii(), sorted({c for c in tex if not c.isascii()})
    plain = re.sub(r"\$\\(pm|uparrow|downarrow|times)\$", "", tex)  # the symbols' own math mode
    assert not re.findall(r"(?<!\\)[%$#_]", plain), re.findall(r".{20}(?<!\\)[%$#_].{5}", plain)
    # TeX prints "--" as an en dash and OT1's "<" as "¡": the option name and the comparison survive
    assert "-{}-no-deep-metrics" in tex and r"N\textless{}5" in tex and "<" not in tex
    assert r"telea\_v2" in tex and r"10-20\%" in tex and r"\$TORCH\_HOME" in tex and r"(1e-3) $\downarrow$" in tex
    assert tex.count(r"\textbf{") == 4  # the best of each metric row (2 metrics x 2 buckets) still marked


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (apt-get install texlive-latex-extra)")
def test_the_latex_table_compiles(two_runs, tmp_path):
    caption = "weights under $TORCH_HOME, 10% of pairs, made with --no-deep-metrics, N<5 | x"
    (tmp_path / "table1.tex").write_text(_latex_of(two_runs, caption))
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\\usepackage{booktabs,multirow}\\begin{document}"
                                      "\\input{table1.tex}\\end{document}\n")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and (tmp_path / "doc.pdf").exists(), r.stdout[-1500:]
    if shutil.which("pdftotext"):  # the printed text, where poppler-utils is installed
        printed = subprocess.run(["pdftotext", "doc.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
        # what OT1 fonts print for "--", "<", ">", "|"; the text itself (line breaks hyphenate it, "\\_"
        # is drawn as a rule) is compared in parts
        assert not set("–—¡¿") & set(printed) and "--no-deep" in printed and "N<5 | x" in printed, printed[:400]


@pytest.mark.skipif(find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_the_page_renders_in_headless_chromium(two_runs, tmp_path):
    write_report(two_runs, tmp_path / "rep", formats=("html",), log=lambda s: None)
    png = screenshot(tmp_path / "rep" / "index.html", tmp_path / "shot.png", height=2000)
    img = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert img.shape == (2000, 1440) and img.std() > 10  # not a blank page


def test_refusals_name_what_differs(two_runs, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(two_runs[1], other)
    m = json.loads((other / "manifest.json").read_text())
    m["protocol"]["id"] = "ib1-00000000"
    (other / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InputError, match="protocol differs"):
        write_report([two_runs[0], other], tmp_path / "x")
    m = json.loads((two_runs[1] / "manifest.json").read_text())
    m["masks"]["id"] = "elsewhere@123"
    (other / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InputError, match="mask set differs"):
        write_report([two_runs[0], other], tmp_path / "x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a run directory"):
        write_report([tmp_path / "empty"], tmp_path / "x")
    (other / "records.jsonl").write_text("")
    with pytest.raises(InputError, match="no records yet"):
        write_report([other], tmp_path / "x")
    with pytest.raises(InputError, match="--reference 'nope' is not among the runs' methods: telea, biharmonic$"):
        write_report(two_runs, tmp_path / "x", reference="nope")
    # a name typed as the table's header shows it, or as the paper writes it, gets the run's name offered
    with pytest.raises(InputError, match=r"^--reference 'Telea' is not among the runs' methods \(did you mean 'telea'\?\): "):
        write_report(two_runs, tmp_path / "x", reference="Telea")
    with pytest.raises(InputError, match="--grid-rows must be at least 1, got 0"):  # was a numpy traceback
        write_report(two_runs, tmp_path / "rep0", grid_rows=0, log=lambda s: None)


def test_runs_of_one_folder_resized_otherwise_do_not_share_a_table(tmp_path):
    """`--resize center-crop` and `--resize resize-crop` give other ground truth from the same files;
    such runs were tabled side by side, each method's means over its own pixels."""
    from skimage import data as skdata

    (tmp_path / "photos").mkdir()
    for name in ("astronaut", "coffee"):  # not square: the two crops differ
        Image.fromarray(getattr(skdata, name)()[:, :400]).save(tmp_path / "photos" / f"{name}.png")
    common = {"dataset": "folder", "data_root": str(tmp_path / "photos"), "limit": 2, "buckets": ["10-20"], "deep_metrics": False}
    run(RunConfig(method="telea", resize="center-crop", **common), tmp_path / "cc", log=lambda s: None)
    run(RunConfig(method="navier-stokes", **common), tmp_path / "rc", log=lambda s: None)
    with pytest.raises(InputError, match=r"resizing of the images \(--resize\) differs \(resize-crop vs center-crop\)"):
        write_report([tmp_path / "cc", tmp_path / "rc"], tmp_path / "rep", formats=("md",))
    with pytest.raises(InputError, match=r"resizing of the images \(--resize\) differs"):
        load_table([tmp_path / "cc", tmp_path / "rc"])


def test_runs_are_tabled_by_their_images_pixels_not_the_folder_they_were_read_from(tmp_path):
    """Runs over two copies of one dataset (a colleague's, another machine's folder) were refused as
    "dataset folder differs"; runs over one folder with an image edited between them were tabled as
    the same data. Records carry each image's sha256 now, and the table compares those; runs made
    before they did are still told apart by their folder."""
    from skimage import data as skdata

    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir()
    for name in ("astronaut", "coffee"):
        Image.fromarray(getattr(skdata, name)()).save(mine / f"{name}.png")
    shutil.copytree(mine, theirs)
    common = {"dataset": "folder", "buckets": ["10-20"], "deep_metrics": False}
    run(RunConfig(method="telea", data_root=str(mine), **common), tmp_path / "a", log=lambda s: None)
    run(RunConfig(method="navier-stokes", data_root=str(theirs), **common), tmp_path / "b", log=lambda s: None)
    df, _, _ = load_table([tmp_path / "a", tmp_path / "b"])
    assert sorted(df.method.unique()) == ["navier-stokes", "telea"] and len(df) == 4
    Image.open(theirs / "coffee.png").convert("L").convert("RGB").save(theirs / "coffee.png")
    run(RunConfig(method="biharmonic", data_root=str(theirs), **common), tmp_path / "c", log=lambda s: None)
    with pytest.raises(InputError, match=rf"cannot table {tmp_path / 'c'} with {tmp_path / 'a'}: image 'coffee.png' has "
                                         r"other pixels in each \(sha256 [0-9a-f]{12} vs [0-9a-f]{12}\)"):
        write_report([tmp_path / "a", tmp_path / "c"], tmp_path / "rep", formats=("md",))
    for d in ("a", "b"):  # as runs made before records carried the hash
        recs = read_records(tmp_path / d / "records.jsonl")
        (tmp_path / d / "records.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if k != "gt_sha256"}) + "\n"
                                                          for r in recs))
    with pytest.raises(InputError, match=r"dataset folder \(--data-root\) differs"):
        load_table([tmp_path / "a", tmp_path / "b"])


def test_write_report_takes_all_and_names_a_metric_that_is_none(two_runs, tmp_path):
    """From Python, formats="all" was refused as an unknown format by a message that offered "all",
    and metrics=["PSNR"] was said to be "not scored by" each run (run with --no-deep-metrics)."""
    files = write_report(two_runs, tmp_path / "rep", formats="all", log=lambda s: None)
    assert {f.name for f in files} >= {"table1.md", "table1.csv", "table1.tex", "index.html"}
    with pytest.raises(InputError, match=r"^--metrics 'PSNR': no such metric \(did you mean 'psnr'\?\); metrics: psnr, ssim, "):
        write_report(two_runs, tmp_path / "rep2", formats=("md",), metrics=["PSNR"])
    with pytest.raises(InputError, match=r"^--metrics 'PSNR': no such metric"):
        load_table(two_runs, "PSNR")
    # a name the metrics of several networks start with names them all; one far from every name, none
    for typed, meant in (("lpips", " (did you mean 'lpips_alex' or 'lpips_vgg'?)"),
                         ("perceptual", " (did you mean 'perceptual_vgg16' or 'perceptual_inception'?)"),
                         ("pnsr", " (did you mean 'psnr'?)"), ("sharpness", "")):
        with pytest.raises(InputError) as e:
            load_table(two_runs, [typed])
        assert str(e.value).startswith(f"--metrics {typed!r}: no such metric{meant}; metrics: psnr, "), str(e.value)


def test_a_metric_asked_for_that_the_runs_lack_is_refused_with_the_reason(two_runs, tmp_path):
    """`report --metrics fid` of runs made without deep metrics printed a table of N rows only;
    `compare --metrics fid` (a set-level metric) or a metric one run lacks said the runs 'share no
    scored (image, mask) pair'."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    lp = tmp_path / "biharmonic"  # as if scored with LPIPS-alex, VGG16 absent
    shutil.copytree(two_runs[1], lp)
    m = json.loads((lp / "manifest.json").read_text())
    m["metrics"] = {"unavailable": {"lpips_vgg": "vgg16 ImageNet weights absent"}}
    (lp / "manifest.json").write_text(json.dumps(m))
    recs = read_records(lp / "records.jsonl")
    (lp / "records.jsonl").write_text("".join(json.dumps({**r, "lpips_alex": 0.1}) + "\n" for r in recs))

    def said(*args, code=2):
        r = CliRunner().invoke(app, [str(a) for a in args])
        assert r.exit_code == code, r.output
        return " ".join(r.output.split())

    # one reason said once for the runs it holds for
    assert (said("report", *two_runs, "--metrics", "fid")
            == "error: --metrics fid: not scored by telea, biharmonic (run with --no-deep-metrics)")
    assert ("--metrics lpips_vgg: not scored by telea (run with --no-deep-metrics); biharmonic (vgg16 ImageNet weights "
            "absent)" in said("report", two_runs[0], lp, "--metrics", "lpips_vgg"))
    with pytest.raises(InputError, match="--metrics fid: not scored by telea"):  # the folder formats too
        write_report(two_runs, tmp_path / "rep", metrics=["fid"], log=lambda s: None)
    # one run that has it is enough for a table (the other's cells are empty), not for a comparison
    assert "LPIPS alex" in said("report", two_runs[0], lp, "--metrics", "lpips_alex", code=0)
    assert ("--metrics lpips_alex: not scored by telea (run with --no-deep-metrics)"
            in said("compare", two_runs[0], lp, "--metrics", "lpips_alex"))
    assert "--metrics kid: scored over each bucket's set of images" in said("compare", *two_runs, "--metrics", "kid")


def test_a_label_tables_two_runs_of_one_method_side_by_side(two_runs, tmp_path):
    import shutil

    shutil.copytree(two_runs[0], tmp_path / "copy")
    with pytest.raises(InputError, match="'telea' appears in more than one run directory") as e:
        write_report([two_runs[0], tmp_path / "copy"], tmp_path / "x")
    assert f"({two_runs[0]}, {tmp_path / 'copy'})" in str(e.value) and "--label" in str(e.value)  # which runs, and the way out
    with pytest.raises(InputError, match=f"RUN_DIR gives {two_runs[0]} more than once"):  # one folder twice is another slip
        write_report([two_runs[0], two_runs[0]], tmp_path / "x")
    cfg = RunConfig(method="telea", limit=3, buckets=["10-20", "40-50"], deep_metrics=False, label="telea-again")
    run(cfg, tmp_path / "again", log=lambda s: None)
    df, manifests = load_runs([two_runs[0], tmp_path / "again"])
    assert list(dict.fromkeys(df.method)) == ["telea", "telea-again"]
    # one deterministic method twice: the labelled column repeats the first number for number
    t = table1(df)
    assert (t["telea"] == t["telea-again"]).all()
    assert "telea-again (method telea, weights: none)" in caption_for(manifests)
    # the way out the refusal names, on a run made without a label: the same command with one takes
    # the folder's scored pairs under the new name instead of scoring them again (Places2: hours)
    before = read_records(tmp_path / "copy" / "records.jsonl")
    said = []
    run(RunConfig(method="telea", limit=3, buckets=["10-20", "40-50"], deep_metrics=False, label="telea-copy"),
        tmp_path / "copy", log=said.append)
    after = read_records(tmp_path / "copy" / "records.jsonl")
    assert [{**r, "method": "telea-copy"} for r in before] == after  # renamed, not scored again (same seconds)
    assert any("is named telea-copy from now on (6 scored pairs kept)" in s for s in said)
    df, _ = load_runs([two_runs[0], tmp_path / "copy"])
    assert list(dict.fromkeys(df.method)) == ["telea", "telea-copy"]
    cfg.label = "telea-other"  # a labelled run renamed again
    run(cfg, tmp_path / "again", log=lambda s: None)
    assert {r["method"] for r in read_records(tmp_path / "again" / "records.jsonl")} == {"telea-other"}
    cfg.label = None  # resuming it without its label would take it back to the method's name: refused
    with pytest.raises(InputError, match="holds the run labelled 'telea-other': give --label telea-other"):
        run(cfg, tmp_path / "again", log=lambda s: None)
    with pytest.raises(InputError, match="different method"):  # a label renames; it does not make another method's numbers fit
        run(RunConfig(method="biharmonic", limit=3, buckets=["10-20", "40-50"], deep_metrics=False, label="telea-other"),
            tmp_path / "again", log=lambda s: None)


def test_html_colours_a_verdict_by_the_whole_method_name():
    """Against rwconv+poisson, "rwconv+poisson better" is a loss for rwconv, though it starts with "rwconv"."""
    from inpaintbench.html import _comparisons_html

    rows = [{"metric": "psnr", "bucket": b, "a": "rwconv", "b": "rwconv+poisson", "n_pairs": 32, "mean_diff": d,
             "ci_low": d - 0.1, "ci_high": d + 0.1, "n_a_better": 1, "n_b_better": 31, "wilcoxon_p": p, "verdict": v}
            for b, d, p, v in (("10-20", -0.2, 1e-5, "rwconv+poisson better"), ("20-30", 0.2, 1e-5, "rwconv better"),
                               ("30-40", 0.0, 0.5, "no difference"), ("40-50", 0.1, 0.25, "too few pairs"))]
    from inpaintbench.stats import with_fdr

    page = _comparisons_html(with_fdr(pd.DataFrame(rows)))
    assert "class='lose'>rwconv+poisson better" in page
    assert "class='win'>rwconv better" in page and "class='nodiff'>no difference" in page
    assert "class='nodiff'>too few pairs" in page  # undecided, as "no difference", not a loss
    # q of 1e-5 among four tests: 2e-5, both verdicts hold at a 5% false discovery rate
    assert ("rwconv+poisson better: 1 (1 at BH q &lt; 0.05), rwconv better: 1 (1 at BH q &lt; 0.05), no difference: 1, "
            "too few pairs: 1") in page


def _benjamini_hochberg(p):
    """By hand, as Benjamini & Hochberg (1995) step up: q_(i) = min over j >= i of p_(j) m / j."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    m = len(p)
    q_sorted = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1)
    return q


def test_comparisons_carry_benjamini_hochberg_q_over_the_whole_file(two_runs, tmp_path):
    """A report makes one test per metric, bucket and opponent (270 on the demo): at alpha 0.05 some
    verdicts are chance. comparisons.csv and `compare` give each p its BH q over every row they hold."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    write_report(two_runs, tmp_path / "rep", formats=("csv",), log=lambda s: None)
    cmp = pd.read_csv(tmp_path / "rep" / "comparisons.csv")
    assert len(cmp) > 4 and list(cmp.columns[cmp.columns.get_loc("wilcoxon_p"):][:2]) == ["wilcoxon_p", "wilcoxon_q"]
    assert np.allclose(cmp.wilcoxon_q, _benjamini_hochberg(cmp.wilcoxon_p), rtol=1e-12)
    assert (cmp.wilcoxon_q >= cmp.wilcoxon_p).all()
    r = CliRunner().invoke(app, ["compare", *map(str, two_runs), "--out", str(tmp_path / "ab.csv")])
    assert r.exit_code == 0, r.output
    ab = pd.read_csv(tmp_path / "ab.csv")
    assert np.allclose(ab.wilcoxon_q, _benjamini_hochberg(ab.wilcoxon_p), rtol=1e-12) and "BH q" in r.output


def test_the_kid_plot_draws_no_band_where_every_subset_is_the_whole_set():
    """Up to 1,000 images each of KID's 100 subsets is the whole set, its std 0 up to rounding
    (2.7e-16 on the demo's 32), and the plot's title promised '±1 std over KID subsets' over a band
    of no width: certainty that was never measured."""
    from inpaintbench.metrics.fid import kid_from_features
    from inpaintbench.plots import band_label, kid_spread

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(32, 8)), rng.normal(0.3, 1, size=(32, 8))
    assert kid_from_features(a, b)[1] < 1e-12  # why: the same 32 in every subset
    sets = pd.DataFrame({"kid": [0.1, 0.2], "kid_std": [2.7e-16, 0.01], "n_outputs": [32, 5000], "n_reference": [32, 5000]})
    spread = kid_spread(sets)
    assert np.isnan(spread[0]) and spread[1] == 0.01
    assert band_label("kid", False) == "no band: every subset is the whole set (≤1000)"
    assert band_label("kid", True) == "bands: ±1 std over KID subsets"


def test_the_page_carries_the_worst_pairs_of_a_run_too_large_to_list(monkeypatch):
    """Every per-image row went into index.html: a Places2 report (219,000 pairs per method) would
    be a page of gigabytes. Over PAGE_ROWS the page keeps each method's and bucket's lowest-PSNR
    pairs and says so; per_image.csv keeps every row."""
    from inpaintbench import html as page_html

    monkeypatch.setattr(page_html, "PAGE_ROWS", 8)
    df = pd.DataFrame([{"method": m, "bucket": b, "image_id": f"i{i}", "mask_file": f"{b}/{i}.png", "hole_ratio": 0.15,
                        "psnr": 20.0 + i + (m == "b"), "ssim": 0.9} for m in ("a", "b") for b in ("10-20", "20-30") for i in range(5)])
    text = page_html._per_image_html(df, ["psnr", "ssim"])
    rows = re.findall(r"<tr data-m='(\w)' data-b='([\d-]+)'><td>\w</td><td>[\d-]+</td><td>(i\d)</td>", text)
    assert sorted(rows) == sorted((m, b, f"i{i}") for m in "ab" for b in ("10-20", "20-30") for i in (0, 1))
    assert "8 of 20 per-image rows shown: the 2 lowest-PSNR pairs of each method and bucket" in text
    monkeypatch.setattr(page_html, "PAGE_ROWS", 20)
    assert "rows shown" not in page_html._per_image_html(df, ["psnr", "ssim"])


def test_a_label_with_a_slash_names_one_grid_file(tmp_path):
    """--label 'my method/v2' put the worst-case grid in a folder 'worst_my method' as 'v2.png'."""
    run(RunConfig(method="telea", label="my method/v2", limit=2, buckets=["10-20"], deep_metrics=False), tmp_path / "r",
        log=lambda s: None)
    write_report([tmp_path / "r"], tmp_path / "rep", formats=("html",), log=lambda s: None)
    assert sorted(p.name for p in (tmp_path / "rep" / "grids").iterdir()) == [
        "random.jpg", "random.png", "worst_my_method_v2.jpg", "worst_my_method_v2.png"]


def test_a_grid_at_a_larger_size_shows_each_panel_at_its_own_resolution(tmp_path):
    """Every panel was drawn about 256 px wide whatever `run --size` scored, so a 512x512 run's grid
    showed its outputs at half their resolution, in the PNG meant for papers too."""
    from inpaintbench.grids import outline
    from inpaintbench.masks.build import generate_set

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)).save(photos / "a.png")
    generate_set(tmp_path / "m512", per_bucket=1, size=512)
    run(RunConfig(method="telea", dataset="folder", data_root=str(photos), masks=str(tmp_path / "m512"), size=512,
                  buckets=["30-40"], deep_metrics=False), tmp_path / "telea", log=lambda s: None)
    write_report([tmp_path / "telea"], tmp_path / "rep", formats=("html",), log=lambda s: None)
    with Image.open(tmp_path / "rep" / "grids" / "random.png") as im:
        width = im.width
    assert 3 * 512 <= width < 3 * 512 * 1.3, width  # input | telea | ground truth, each near 512 px
    # the hole's outline keeps its width in proportion: 1 px at 256, 2 at 512
    hole = np.zeros((512, 512), bool)
    hole[100:300, 100:300] = True
    drawn = (outline(np.zeros((512, 512, 3), np.uint8), hole) != 0).any(axis=2)
    assert drawn[200, 100:104].tolist() == [True, True, False, False] and not drawn[~hole].any()


def test_the_plots_follow_the_metrics_asked_for(tmp_path):
    """`report --metrics fid --out DIR` ended in a KeyError traceback (no per-image metric left to
    plot), and `--metrics ssim` drew FID and KID plots beside the SSIM one the tables kept to."""
    for m in ("telea", "navier-stokes"):
        run(RunConfig(method=m, limit=2, buckets=["10-20"]), tmp_path / m, log=lambda s: None)
    runs = [tmp_path / "telea", tmp_path / "navier-stokes"]
    for metrics, drawn in ((["fid"], ["fid"]), (["ssim"], ["ssim"]), (["psnr", "kid"], ["kid", "psnr"])):
        out = tmp_path / "_".join(metrics)
        write_report(runs, out, formats=("html",), metrics=metrics, log=lambda s: None)
        assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(f"{m}.{e}" for m in drawn for e in ("pdf", "png"))


def test_a_report_written_over_an_earlier_ones_folder_holds_only_its_own_files(tmp_path):
    """A second report into one --out kept the first's files it did not write itself: the plots of
    metrics no longer asked for and the worst grid of the earlier --reference sat beside the new
    table; two reports at once left a folder of both's files; a refused --reference left an empty
    folder; and `-f md` over an earlier page said "open index.html", the earlier report's."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app
    from inpaintbench.lock import exclusive

    for m in ("telea", "navier-stokes"):
        run(RunConfig(method=m, limit=2, buckets=["10-20"]), tmp_path / m, log=lambda s: None)
    runs, out, said = [tmp_path / "telea", tmp_path / "navier-stokes"], tmp_path / "rep", []
    write_report(runs, out, log=lambda s: None)
    assert {"plots/fid.png", "grids/worst_navier-stokes.jpg", "set_metrics.csv"} <= {
        f.relative_to(out).as_posix() for f in out.rglob("*")}
    written = write_report(runs, out, formats=("csv", "html"), metrics=["psnr"], reference="telea", log=said.append)
    html_csv = {f.relative_to(out).as_posix() for f in out.rglob("*") if f.is_file() and f.name != ".lock"}
    assert html_csv == {f.relative_to(out).as_posix() for f in written} | {"table1.md", "table1.tex"}
    assert "plots/fid.png" not in html_csv and "grids/worst_telea.jpg" in html_csv
    assert not (out / "grids" / "worst_navier-stokes.jpg").exists()  # nor the plots of the six other metrics:
    assert any("note: removed 14 files of an earlier report" in s and "plots/fid.png" in s for s in said), said
    assert any("also holds an earlier report's table1.md, table1.tex (formats not asked for" in s for s in said), said
    r = CliRunner().invoke(app, ["report", *map(str, runs), "--out", str(out), "-f", "md"])
    assert r.exit_code == 0 and "open" not in r.output and (out / "index.html").exists(), r.output
    with exclusive(out, "inpaintbench report"), pytest.raises(InputError, match="another inpaintbench report is writing there now"):
        write_report(runs, out, formats=("md",), log=lambda s: None)
    with pytest.raises(InputError, match="--reference 'biharmonic' is not among"):
        write_report(runs, tmp_path / "refused", reference="biharmonic", log=lambda s: None)
    assert not (tmp_path / "refused").exists()


def test_a_single_pair_has_no_interval_and_says_so(tmp_path):
    """One pair has nothing to resample: compare printed "[+nan, +nan]" and the page "[+nan, +nan]"."""
    from typer.testing import CliRunner

    from inpaintbench.cli import app

    for m in ("telea", "navier-stokes"):
        run(RunConfig(method=m, limit=1, buckets=["10-20"], deep_metrics=False), tmp_path / m, log=lambda s: None)
    res = CliRunner().invoke(app, ["compare", str(tmp_path / "telea"), str(tmp_path / "navier-stokes"), "--metrics", "psnr"])
    rows = [s for s in res.output.splitlines() if "too few pairs" in s]
    assert res.exit_code == 0 and len(rows) == 2 and all("│ –" in s for s in rows) and "nan" not in res.output, res.output
    write_report([tmp_path / "telea", tmp_path / "navier-stokes"], tmp_path / "rep", formats=("html",), log=lambda s: None)
    assert "nan" not in (tmp_path / "rep" / "index.html").read_text().split("<details>", 1)[1].split("</details>")[0]


def test_the_best_cell_is_bold_as_shown_and_ties_as_shown_are_all_bold():
    """Bold went to the better unrounded mean: "0.798" beside "**0.798**" (the demo's SSIM at
    40-50%) claimed a difference the table does not show."""
    from inpaintbench.report import render

    idx = pd.MultiIndex.from_tuples([("SSIM ↑", "40-50%"), ("PSNR ↑", "40-50%"), ("l1 (1e-3) ↓", "40-50%"), ("N", "40-50%")],
                                    names=["metric", "mask"])
    t = pd.DataFrame({"a": [0.79840, 20.004, 31.0, 10], "b": [0.79821, 20.10, 30.996, 10], "c": [0.5, float("nan"), 40.0, 9]},
                     index=idx)
    md = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[3:6]]
          for line in render(t, "md").splitlines() if line.startswith("| ") and "%" in line}
    assert md["SSIM ↑"] == ["**0.798**", "**0.798**", "0.500"]
    assert md["PSNR ↑"] == ["20.00", "**20.10**", "–"]
    assert md["l1 (1e-3) ↓"] == ["**31.00**", "**31.00**", "40.00"]
    assert md["N"] == ["10", "10", "9"]
    assert render(t, "latex").count("\\textbf") == 5
    # a value with none to beat is not bold: a one-run report, or a bucket only one run scored
    lone = pd.DataFrame({"a": [0.79840, float("nan")], "b": [float("nan"), 20.1]}, index=idx[:2])
    assert "**" not in render(lone, "md") and "**" not in render(t[["a"]], "md")


def test_single_values_where_python_callers_give_lists_are_taken_as_one(two_runs, tmp_path):
    """From Python, buckets="10-20", formats="md", metrics="psnr" or one run as a str were read a
    character each: "unknown bucket '1'", "unknown report format(s) ['d', 'm']", runs named 'r', 'u'..."""
    run(RunConfig(method="telea", limit=1, buckets="10-20", deep_metrics=False), tmp_path / "one", log=lambda s: None)
    assert {r["bucket"] for r in read_records(tmp_path / "one")} == {"10-20"}
    files = write_report(str(two_runs[0]), tmp_path / "rep", formats="md", metrics="psnr", log=lambda s: None)
    assert [f.name for f in files] == ["table1.md"]
    rows = [s for s in files[0].read_text().splitlines() if s.startswith("| ")]
    assert rows[0].split("|")[3].strip() == "telea" and {s.split("|")[1].strip() for s in rows[2:]} == {"PSNR ↑", "N"}


def _drawn_figures(monkeypatch) -> list:
    """Every figure the report saves, as it is saved."""
    from matplotlib.figure import Figure

    figs, save = [], Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: (figs.append(fig), save(fig, *a, **k))[1])
    return figs


def test_a_plot_of_one_bucket_shows_its_interval(tmp_path, monkeypatch):
    """A band is drawn between buckets: over a run of one bucket it had no width, and the plot
    titled 'bands: 95% bootstrap CI' showed a bare point, however wide its interval."""
    from inpaintbench import plots

    figs = _drawn_figures(monkeypatch)
    summary = pd.DataFrame({"metric": "psnr", "bucket": ["30-40", "30-40"], "method": ["telea", "biharmonic"],
                            "mean": [20.0, 21.0], "ci_low": [12.0, 20.5], "ci_high": [29.0, 21.5]})
    plots.metric_plots(summary, tmp_path)
    (ax,) = figs[0].axes
    from matplotlib.collections import LineCollection

    # telea's interval as a line of its own (the band's polygon is there too, of no width)
    spans = [(seg[:, 1].min(), seg[:, 1].max()) for c in ax.collections if isinstance(c, LineCollection)
             for seg in c.get_segments()]
    assert (12.0, 29.0) in spans and (20.5, 21.5) in spans
    # and several buckets keep their band alone
    figs.clear()
    two = pd.concat([summary, summary.assign(bucket="40-50")])
    plots.metric_plots(two, tmp_path)
    assert not figs[0].axes[0].containers  # errorbar's containers: none beside the bands


def test_dollar_signs_in_image_names_and_labels_are_drawn_as_written(tmp_path, monkeypatch):
    """matplotlib reads `$...$` as TeX: an image named 'a$\\frac$b.png' ended the report in a
    ParseSyntaxException traceback, and one named 'x_$1$_y.png' was drawn as a formula."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text
    from skimage import data as skdata

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(skdata.coffee()[:256, :256]).save(photos / "a$\\frac$b.png")
    Image.fromarray(skdata.astronaut()[:256, :256]).save(photos / "x_$1$_y.png")
    run(RunConfig(method="telea", label="telea $\\sqrt$ v2", dataset="folder", data_root=str(photos),
                  buckets=["10-20", "40-50"], deep_metrics=False), tmp_path / "r", log=lambda s: None)
    figs = _drawn_figures(monkeypatch)
    write_report([tmp_path / "r"], tmp_path / "rep", formats=("html",), log=lambda s: None)
    assert (tmp_path / "rep" / "grids" / "random.png").is_file() and (tmp_path / "rep" / "plots" / "psnr.png").is_file()
    texts = [t for fig in figs for t in fig.findobj(Text) if "$" in t.get_text()]
    shown = {t.get_text() for t in texts}
    assert "telea $\\sqrt$ v2" in shown and any(s.endswith(("%\na$\\frac$b.png", "%\nx_$1$_y.png")) for s in shown), shown
    assert not any(t.get_parse_math() for t in texts)
    assert plt.rcParams["text.parse_math"]  # a caller's own figures keep TeX


def test_writing_a_report_leaves_the_callers_matplotlib_backend_alone(tmp_path):
    """plots.py and grids.py called matplotlib.use("Agg") on import: a notebook (its inline
    backend) or a GUI script that wrote a report from Python stopped showing its own plots."""
    run(RunConfig(method="telea", limit=1, buckets=["10-20"], deep_metrics=False), tmp_path / "r", log=lambda s: None)
    script = ("import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt\n"
              "from inpaintbench.report import write_report\n"
              f"write_report([{str(tmp_path / 'r')!r}], {str(tmp_path / 'rep')!r}, log=lambda s: None)\n"
              "print(matplotlib.get_backend())")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["svg"] and (tmp_path / "rep" / "plots" / "psnr.png").is_file()
